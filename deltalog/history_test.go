package deltalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/testenv"
)

func loadGolden(t *testing.T, table string) *Snapshot {
	t.Helper()
	dir := testenv.GoldenTable(t, table)
	snap, err := LoadSnapshot(context.Background(), openStore(t, dir), dir)
	if err != nil {
		t.Fatalf("LoadSnapshot %s: %v", table, err)
	}
	return snap
}

func TestHistoryGolden(t *testing.T) {
	dir := testenv.GoldenTable(t, "basic-with-inserts-overwrite-restore")
	h, err := History(context.Background(), openStore(t, dir), 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	// Expected from delta-rs DeltaTable.history().
	expected := []struct {
		version   int64
		operation string
		millis    int64
	}{
		{3, "RESTORE", 1697588691204},
		{2, "WRITE", 1697588681190},
		{1, "WRITE", 1697588676444},
		{0, "WRITE", 1697588664008},
	}
	if len(h) != len(expected) {
		t.Fatalf("entries = %d, expected %d", len(h), len(expected))
	}
	for i, e := range expected {
		if h[i].Version != e.version || h[i].Operation != e.operation || h[i].Timestamp.UnixMilli() != e.millis {
			t.Errorf("entry %d = version %d %s at %d, expected version %d %s at %d",
				i, h[i].Version, h[i].Operation, h[i].Timestamp.UnixMilli(), e.version, e.operation, e.millis)
		}
	}
}

func TestHistoryLimitAndCleanedLog(t *testing.T) {
	root := newTable(t, 5)
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(CommitKey(0)))); err != nil {
		t.Fatal(err)
	}
	store := openStore(t, root)

	all, err := History(context.Background(), store, 0)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(all) != 4 || all[0].Version != 4 || all[3].Version != 1 {
		t.Fatalf("history = %+v, expected versions 4 down to 1", all)
	}
	if all[0].TxnID != txnName(4) {
		t.Errorf("txn id = %q, expected %q", all[0].TxnID, txnName(4))
	}

	two, err := History(context.Background(), store, 2)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(two) != 2 || two[1].Version != 3 {
		t.Errorf("history with limit 2 = %+v, expected versions 4 and 3", two)
	}
}

func TestFindTxn(t *testing.T) {
	root := newTable(t, 6)
	store := openStore(t, root)
	cases := []struct {
		name    string
		txn     string
		after   int64
		version int64
		found   bool
	}{
		{"in first commit", txnName(0), -1, 0, true},
		{"in last commit", txnName(5), 2, 5, true},
		{"right after base", txnName(3), 2, 3, true},
		{"at base version is not after it", txnName(2), 2, 0, false},
		{"unknown id", "txn-zzz", -1, 0, false},
		{"base is latest", txnName(5), 5, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, found, err := FindTxn(context.Background(), store, tc.txn, tc.after)
			if err != nil {
				t.Fatalf("FindTxn: %v", err)
			}
			if found != tc.found || v != tc.version {
				t.Errorf("FindTxn = (%d, %v), expected (%d, %v)", v, found, tc.version, tc.found)
			}
		})
	}
}

func TestFindTxnSparkTxnID(t *testing.T) {
	dir := testenv.GoldenTable(t, "log-replay-dv-key-cases")
	v, found, err := FindTxn(context.Background(), openStore(t, dir), "1d19dc4c-3b35-4417-845a-0f44acef5056", -1)
	if err != nil {
		t.Fatalf("FindTxn: %v", err)
	}
	if !found || v != 0 {
		t.Errorf("FindTxn = (%d, %v), expected (0, true)", v, found)
	}
}

func TestFindTxnMissingCommitIsUnknown(t *testing.T) {
	root := newTable(t, 5)
	if err := os.Remove(filepath.Join(root, filepath.FromSlash(CommitKey(2)))); err != nil {
		t.Fatal(err)
	}
	_, found, err := FindTxn(context.Background(), openStore(t, root), "txn-not-there", 0)
	if !errors.Is(err, format.ErrCommitUnknown) {
		t.Fatalf("error = %v (found %v), expected ErrCommitUnknown", err, found)
	}
}
