package deltalog

import (
	"context"
	"testing"
)

func TestParseLogName(t *testing.T) {
	cases := []struct {
		name    string
		ok      bool
		kind    EntryKind
		version int64
		part    int
		parts   int
	}{
		{"00000000000000000007.json", true, KindCommit, 7, 0, 0},
		{"00000000000000000010.checkpoint.parquet", true, KindCheckpoint, 10, 0, 0},
		{"00000000000000000010.checkpoint.0000000002.0000000003.parquet", true, KindCheckpointPart, 10, 2, 3},
		{"00000000000000000002.checkpoint.6374b053-df23-479b-b2cf-c9c550132b49.json", true, KindCheckpointV2, 2, 0, 0},
		{"00000000000000000002.checkpoint.e8fa2696-9728-4e9c-b285-634743fdd4fb.parquet", true, KindCheckpointV2, 2, 0, 0},
		{"00000000000000000010.checkpoint.0000000004.0000000003.parquet", false, 0, 0, 0, 0},
		{"00000000000000000010.checkpoint.0000000000.0000000003.parquet", false, 0, 0, 0, 0},
		{".00000000000000000001.json.tmp-77ac", false, 0, 0, 0, 0},
		{"00000000000000000001.json.tmp", false, 0, 0, 0, 0},
		{".00000000000000000001.json.crc", false, 0, 0, 0, 0},
		{"00000000000000000001.crc", false, 0, 0, 0, 0},
		{"0000000000000000001.json", false, 0, 0, 0, 0},
		{"_last_checkpoint", false, 0, 0, 0, 0},
		{"00000000000000000001.compacted.json", false, 0, 0, 0, 0},
		{"00000000000000000002.checkpoint.NOT-A-UUID.json", false, 0, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := ParseLogName(tc.name)
			if ok != tc.ok {
				t.Fatalf("ok = %v, expected %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if e.Kind != tc.kind || e.Version != tc.version || e.Part != tc.part || e.Parts != tc.parts {
				t.Errorf("entry = %+v, expected kind %v version %d part %d of %d", e, tc.kind, tc.version, tc.part, tc.parts)
			}
			if e.Key != LogDir+tc.name {
				t.Errorf("key = %q, expected %q", e.Key, LogDir+tc.name)
			}
		})
	}
}

func TestCommitKey(t *testing.T) {
	if got := CommitKey(42); got != "_delta_log/00000000000000000042.json" {
		t.Errorf("CommitKey(42) = %q", got)
	}
}

func TestListCommitsOrderAndSubfolders(t *testing.T) {
	root := newTable(t, 3)
	writeLogFile(t, root, "00000000000000000001.checkpoint.parquet", "x")
	writeLogFile(t, root, "_sidecars/00000000000000000001.checkpoint.0000000001.0000000001.parquet", "x")
	writeLogFile(t, root, "_commits/00000000000000000003.json", "x")
	entries, err := ListCommits(context.Background(), openStore(t, root))
	if err != nil {
		t.Fatalf("ListCommits: %v", err)
	}
	expected := []struct {
		version int64
		kind    EntryKind
	}{{0, KindCommit}, {1, KindCommit}, {1, KindCheckpoint}, {2, KindCommit}}
	if len(entries) != len(expected) {
		t.Fatalf("entries = %+v, expected %d", entries, len(expected))
	}
	for i, e := range expected {
		if entries[i].Version != e.version || entries[i].Kind != e.kind {
			t.Errorf("entry %d = %d %v, expected %d %v", i, entries[i].Version, entries[i].Kind, e.version, e.kind)
		}
	}
}
