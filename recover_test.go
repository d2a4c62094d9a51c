package safewrite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/objstore"
)

// killedAppend leaves the state of a writer killed after its uploads and
// before its commit: intent plus staged data files, nothing in the log.
// It returns the store and the killed transaction's intent.
func killedAppend(t *testing.T, timeout time.Duration) (*objstore.Local, *commit.Intent) {
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
	if _, err := base.AppendReader(ctx, strings.NewReader(csvRows(10, 0)), "csv", safewrite.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	// Every operation from the commit's put-if-absent on fails: the writer
	// is dead from there.
	faulty := objstore.NewFaulty(local, objstore.FailIf(func(c objstore.Call) bool {
		return c.Op == objstore.OpPutIfAbsent || c.Op == objstore.OpDelete || (c.Op == objstore.OpPut && strings.HasPrefix(c.Keys[0], "_safewrite/outcomes/"))
	}))
	writer, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: faulty})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.AppendReader(ctx, strings.NewReader(csvRows(50, 100)), "csv", safewrite.AppendOptions{Timeout: timeout}); err == nil {
		t.Fatal("append succeeded although its commit could not be written")
	}
	intents, _, err := commit.ListIntents(ctx, local)
	if err != nil || len(intents) != 1 {
		t.Fatalf("want one intent left by the killed writer, got %d (%v)", len(intents), err)
	}
	return local, intents[0]
}

func stagedCount(t *testing.T, local *objstore.Local, in *commit.Intent) int {
	t.Helper()
	n := 0
	for _, key := range in.Objects {
		if _, err := os.Stat(filepath.Join(local.Root(), filepath.FromSlash(key))); err == nil {
			n++
		}
	}
	return n
}

func TestRecoverLeavesLiveIntentAlone(t *testing.T) {
	local, in := killedAppend(t, time.Hour)
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local})
	if err != nil {
		t.Fatal(err)
	}
	staged := stagedCount(t, local, in)
	if staged == 0 {
		t.Fatal("the killed writer staged no data file")
	}
	report, err := tbl.Recover(context.Background(), commit.RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if report.Live != 1 || report.RolledBack != 0 {
		t.Errorf("I2: recovery before the deadline: %+v, want the intent left live", report)
	}
	if got := stagedCount(t, local, in); got != staged {
		t.Errorf("I2: recovery deleted %d staged files of a live writer", staged-got)
	}
}

func TestRecoverDryRunChangesNothing(t *testing.T) {
	local, in := killedAppend(t, time.Hour)
	before := listTree(t, local.Root())
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local, Clock: afterDeadline})
	if err != nil {
		t.Fatal(err)
	}
	report, err := tbl.Recover(context.Background(), commit.RecoverOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.RolledBack != 1 || len(report.Actions) != 1 || len(report.Actions[0].Objects) != stagedCount(t, local, in) {
		t.Errorf("dry run report %+v does not list the staged files of %s", report, in.TxnID)
	}
	if after := listTree(t, local.Root()); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("dry run changed the folder:\nbefore %v\nafter  %v", before, after)
	}
}

func TestRecoverRollsBackExpiredIntent(t *testing.T) {
	local, in := killedAppend(t, time.Hour)
	var events []commit.Event
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{
		Store: local, Clock: afterDeadline,
		OnEvent: func(ev commit.Event) { events = append(events, ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	report, err := tbl.Recover(context.Background(), commit.RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if report.RolledBack != 1 {
		t.Fatalf("report %+v, want one rollback", report)
	}
	if got := stagedCount(t, local, in); got != 0 {
		t.Errorf("I6: %d staged files left after recovery", got)
	}
	st := readState(t, local)
	if st.records != 10 || st.version != 0 || st.intents != 0 || len(st.strays) != 0 {
		t.Errorf("I6: table after recovery %+v, want version 0 with 10 records and nothing else", st)
	}
	outcome, err := commit.ReadOutcome(context.Background(), local, in.TxnID)
	if err != nil {
		t.Fatalf("I6: outcome record: %v", err)
	}
	if outcome.Outcome != "rolled-back" || outcome.Reason != "expired" {
		t.Errorf("outcome record %+v, want rolled-back for reason expired", outcome)
	}
	if len(events) != 1 || events[0].Kind != commit.EventRollback || events[0].TxnID != in.TxnID {
		t.Errorf("I6: events %+v, want one rollback event for %s", events, in.TxnID)
	}
}

func TestRecoverKeepsReferencedFile(t *testing.T) {
	// I5: an intent that names a file the table references (here, forged to
	// name the committed data file) must not make recovery delete it.
	ctx := context.Background()
	local, in := killedAppend(t, time.Hour)
	committed := dataFiles(t, openLocalStore(t, local))
	if len(committed) == 0 {
		t.Fatal("no committed data file")
	}
	rel, _ := filepath.Rel(local.Root(), committed[0])
	in.Objects = append(in.Objects, filepath.ToSlash(rel))
	data, _ := json.Marshal(in)
	if err := local.Put(ctx, "_safewrite/intents/"+in.TxnID+".json", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local, Clock: afterDeadline})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Recover(ctx, commit.RecoverOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(committed[0]); err != nil {
		t.Errorf("I5: recovery deleted a referenced file: %v", err)
	}
	if st := readState(t, local); st.records != 10 {
		t.Errorf("table has %d records after recovery, want 10", st.records)
	}
}

func TestRecoverLeavesUnreadableIntent(t *testing.T) {
	ctx := context.Background()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "_safewrite/intents/broken.json"
	if err := local.Put(ctx, key, strings.NewReader("{not json"), -1); err != nil {
		t.Fatal(err)
	}
	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local})
	if err != nil {
		t.Fatal(err)
	}
	report, err := tbl.Recover(ctx, commit.RecoverOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.Unreadable != 1 {
		t.Errorf("report %+v, want one unreadable intent", report)
	}
	if _, err := local.Stat(ctx, key); err != nil {
		t.Errorf("unreadable intent was removed: %v", err)
	}
}

// afterDeadline is a recoverer's clock, past the writers' one-hour deadline
// and the default grace.
func afterDeadline() time.Time { return time.Now().Add(2 * time.Hour) }

func openLocalStore(t *testing.T, local *objstore.Local) *safewrite.Table {
	t.Helper()
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func TestRecoverTempIntentByDeadline(t *testing.T) {
	// A writer killed between writing its intent's temp file and renaming
	// it leaves the temp file. Recovery keeps a complete one until the
	// deadline inside it has passed (I2) and removes a partial one by age.
	ctx := context.Background()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	live := commit.Intent{TxnID: "live", Deadline: time.Now().Add(time.Hour), Objects: []string{"part-00000-live-c000.parquet"}}
	data, _ := json.Marshal(live)
	dir := filepath.Join(local.Root(), "_safewrite", "intents")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	complete := filepath.Join(dir, ".live.json.tmp-1")
	partial := filepath.Join(dir, ".dead.json.tmp-2")
	if err := os.WriteFile(complete, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial, data[:10], 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute)
	for _, p := range []string{complete, partial} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local, Grace: commit.NoGrace})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Recover(ctx, commit.RecoverOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(complete); err != nil {
		t.Errorf("I2: recovery removed the temp intent of a live writer: %v", err)
	}
	if _, err := os.Stat(partial); err == nil {
		t.Errorf("recovery kept a partial temp intent a minute old")
	}

	if _, err := tbl.Recover(ctx, commit.RecoverOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(complete); err == nil {
		t.Errorf("recover --force kept a temp intent")
	}
}
