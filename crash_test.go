package safewrite_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/internal/tablecheck"
	"github.com/safewrite/safewrite/objstore"
)

// csvRows makes a CSV input with n rows spread over three partitions.
func csvRows(n, offset int) string {
	var b strings.Builder
	b.WriteString("id,region,amount\n")
	regions := []string{"north", "south", "east west"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,%s,%d.5\n", offset+i, regions[i%len(regions)], i)
	}
	return b.String()
}

// tableState is what an independent reader sees: records, versions and
// every object that is neither referenced nor protocol metadata.
type tableState struct {
	version  int64
	records  int64
	strays   []string
	intents  int
	outcomes int
}

func readState(t *testing.T, store objstore.Store) tableState {
	t.Helper()
	st, err := tablecheck.Read(context.Background(), store)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	return tableState{
		version: st.Version, records: st.Records, strays: st.Strays,
		intents: len(st.Intents), outcomes: len(st.Outcomes),
	}
}

// TestAppendCrashAtEveryOperation runs an append that "dies" at its i-th
// store operation (every later operation fails, as after a SIGKILL), for
// i = 1, 2, … until the append completes untouched. After each death one
// recovery must leave the table with none or all of the append's rows,
// earlier rows intact, no stray object and no intent (I1, I2, I5, I6).
func TestAppendCrashAtEveryOperation(t *testing.T) {
	modes := []struct {
		name   string
		inject func(n int) objstore.Injector
		// dies: the writer runs nothing after the fault (a kill), so only
		// recovery cleans up.
		dies bool
	}{
		{"killed at op", objstore.FailFrom, true},
		{"single failed op", objstore.FailNth, false},
		{"lost response", objstore.LoseResponseNth, false},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			for n := 1; ; n++ {
				done := crashOnce(t, n, mode.inject(n), mode.dies)
				if done {
					if n < 6 {
						t.Fatalf("append finished after only %d operations: the loop never injected into it", n)
					}
					break
				}
				if n > 400 {
					t.Fatalf("append still hits injected faults after %d operations", n)
				}
			}
		})
	}
}

// crashOnce runs one trial and reports whether nothing was injected.
func crashOnce(t *testing.T, n int, inj objstore.Injector, dies bool) bool {
	t.Helper()
	ctx := context.Background()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	base, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local})
	if err != nil {
		t.Fatal(err)
	}
	_, err = base.AppendReader(ctx, strings.NewReader(csvRows(30, 0)), "csv", safewrite.AppendOptions{PartitionBy: []string{"region"}})
	if err != nil {
		t.Fatalf("op %d: first append: %v", n, err)
	}

	faulty := objstore.NewFaulty(local, inj)
	writer, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: faulty})
	if err != nil {
		t.Fatal(err)
	}
	_, appendErr := writer.AppendReader(ctx, strings.NewReader(csvRows(600, 1000)), "csv", safewrite.AppendOptions{
		PartitionBy:    []string{"region"},
		TargetFileSize: 1024, // several files per partition, so the intent is extended
		Timeout:        time.Hour,
	})
	injected := faulty.Injected() > 0
	if !injected && appendErr != nil {
		t.Fatalf("op %d: append failed with nothing injected: %v", n, appendErr)
	}

	// Recovery runs later, on a healthy store, after the writer's deadline.
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	recoverer, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local, Clock: later})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := recoverer.Recover(ctx, commit.RecoverOptions{}); err != nil {
		t.Fatalf("op %d: recover: %v", n, err)
	}

	st := readState(t, local)
	switch st.records {
	case 30:
		if appendErr == nil {
			t.Errorf("op %d: append reported success but the table has only the first append's rows", n)
		}
	case 630:
		if appendErr != nil && !dies && !errors.Is(appendErr, safewrite.ErrCommitUnknown) {
			t.Errorf("op %d: append failed with %v, but its rows are in the table", n, appendErr)
		}
	default:
		t.Errorf("op %d: table has %d records, want 30 (rolled back) or 630 (committed)", n, st.records)
	}
	if len(st.strays) > 0 {
		t.Errorf("op %d: objects left that no version references: %v", n, st.strays)
	}
	if st.intents > 0 {
		t.Errorf("op %d: %d intents left after recovery", n, st.intents)
	}
	if st.records == 30 && injected && st.version != 0 {
		t.Errorf("op %d: rolled-back append changed the version to %d", n, st.version)
	}
	if st.records == 30 && injected && st.outcomes == 0 && wroteIntent(faulty) {
		t.Errorf("op %d: rollback of a transaction with an intent left no outcome record", n)
	}
	return !injected
}

// wroteIntent reports whether the faulty store applied an intent write.
func wroteIntent(f *objstore.Faulty) bool {
	for _, key := range f.Written() {
		if path.Dir(key) == "_safewrite/intents" {
			return true
		}
	}
	return false
}
