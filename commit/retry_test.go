package commit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

func csvSource(n int) commit.Source {
	var b strings.Builder
	b.WriteString("id,amount\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,%d.5\n", i, i)
	}
	return commit.Source{
		Input:        &format.Input{Name: "rows.csv", Reader: strings.NewReader(b.String())},
		InputOptions: format.InputOptions{Format: "csv"},
	}
}

func newWriter(store objstore.Store, clock func() time.Time) *commit.Writer {
	return commit.NewWriter(deltalog.Open(store, deltalog.Options{}), store, commit.Options{Clock: clock, Grace: time.Second})
}

// commitSeq returns the number of the store operation that publishes the
// append's commit, from a run on a throwaway table.
func commitSeq(t *testing.T, req func() commit.AppendRequest) int {
	t.Helper()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := newWriter(local, nil).Append(ctx, commit.AppendRequest{Sources: []commit.Source{csvSource(3)}}); err != nil {
		t.Fatal(err)
	}
	recorder := objstore.NewFaulty(local)
	if _, err := newWriter(recorder, nil).Append(ctx, req()); err != nil {
		t.Fatal(err)
	}
	for _, c := range recorder.Calls() {
		if c.Op == objstore.OpPutIfAbsent && strings.HasPrefix(c.Keys[0], "_delta_log/") {
			return c.Seq
		}
	}
	t.Fatal("the append made no put-if-absent under _delta_log/")
	return 0
}

// TestRetryAfterKillPastCommit kills a writer at the operation right after
// its commit's put-if-absent, so the commit is published and its intent is
// still there, then retries the same request with the same idempotency key
// (I4): the retry returns success without a second commit, both while the
// killed writer's intent is live (I2) and after recovery finalized it.
func TestRetryAfterKillPastCommit(t *testing.T) {
	key := &format.IdempotencyKey{AppID: "orders-loader", Version: 42}
	req := func() commit.AppendRequest {
		return commit.AppendRequest{Sources: []commit.Source{csvSource(5)}, Idempotency: key, Deadline: time.Now().Add(time.Hour)}
	}
	killAt := commitSeq(t, req) + 1

	cases := []struct {
		name string
		// recoverFirst runs recovery after the deadline before the retry.
		recoverFirst bool
	}{
		{"retry while the intent is live", false},
		{"retry after recovery", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			local, err := objstore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := newWriter(local, nil).Append(ctx, commit.AppendRequest{Sources: []commit.Source{csvSource(3)}}); err != nil {
				t.Fatal(err)
			}

			killed := objstore.NewFaulty(local, objstore.FailFrom(killAt))
			_, _ = newWriter(killed, nil).Append(ctx, req())
			if killed.Injected() == 0 {
				t.Fatalf("the kill at operation %d hit nothing", killAt)
			}
			intents, _, err := commit.ListIntents(ctx, local)
			if err != nil || len(intents) != 1 {
				t.Fatalf("after the kill: %d intents (%v), want the killed writer's 1", len(intents), err)
			}
			after := history(t, local)
			if after != 2 {
				t.Fatalf("after the kill the table has %d versions, want 2: the commit did not land", after)
			}

			if tc.recoverFirst {
				later := func() time.Time { return time.Now().Add(2 * time.Hour) }
				report, err := newWriter(local, later).Recover(ctx, commit.RecoverOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if report.Committed != 1 {
					t.Errorf("recovery report %+v, want 1 committed transaction finalized", report)
				}
			}

			res, err := newWriter(local, nil).Append(ctx, req())
			if err != nil {
				t.Fatalf("retry failed: %v", err)
			}
			if !res.AlreadyApplied {
				t.Errorf("retry result %+v, want AlreadyApplied", res)
			}
			if got := history(t, local); got != after {
				t.Errorf("retry made the table %d versions, want %d: a second commit", got, after)
			}
			if res.Version != 1 {
				t.Errorf("retry reports version %d, want 1, the killed writer's commit", res.Version)
			}
		})
	}
}

// history returns the number of versions of the table in store.
func history(t *testing.T, store objstore.Store) int {
	t.Helper()
	entries, err := deltalog.Open(store, deltalog.Options{}).History(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
