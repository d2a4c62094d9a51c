package deltalog

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

// openStore opens a local store rooted at dir.
func openStore(t *testing.T, dir string) objstore.Store {
	t.Helper()
	store, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatalf("open local store %s: %v", dir, err)
	}
	return store
}

// copyLog copies the _delta_log folder of a golden table into a temp
// table root, so a test can change it without touching the shared copy.
func copyLog(t *testing.T, table string) string {
	t.Helper()
	src := filepath.Join(testenv.GoldenTable(t, table), "_delta_log")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, "_delta_log", rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	return dst
}

// writeLogFile writes one file under _delta_log/ of root.
func writeLogFile(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, "_delta_log", filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	protocolLine = `{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}`
	metadataLine = `{"metaData":{"id":"t1","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}}`
)

func addLine(path string) string {
	return `{"add":{"path":"` + path + `","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}`
}

func commitInfoLine(txnID string) string {
	return `{"commitInfo":{"timestamp":1700000000000,"operation":"WRITE","safewrite.txnId":"` + txnID + `"}}`
}

// newTable writes commits 0..n-1; commit 0 creates the table and commit i
// adds file "f<i>".
func newTable(t *testing.T, n int) string {
	t.Helper()
	root := t.TempDir()
	for v := 0; v < n; v++ {
		lines := []string{commitInfoLine(txnName(v))}
		if v == 0 {
			lines = append(lines, protocolLine, metadataLine)
		}
		lines = append(lines, addLine(fileName(v)))
		writeLogFile(t, root, strings.TrimPrefix(CommitKey(int64(v)), LogDir), strings.Join(lines, "\n")+"\n")
	}
	return root
}

func txnName(v int) string  { return "txn-" + string(rune('a'+v)) }
func fileName(v int) string { return "f" + string(rune('a'+v)) + ".parquet" }

func TestLoadSnapshotGoldenTables(t *testing.T) {
	// Expected versions and active file counts were computed independently
	// with delta-rs (deltalake 1.x) and, for corrupted-last-checkpoint,
	// which delta-rs cannot read, by counting the add actions of its log.
	cases := []struct {
		table      string
		version    int64
		files      int
		checkpoint int64
	}{
		{"basic-with-inserts-overwrite-restore", 3, 4, 3},
		{"basic-with-vacuum-protocol-check-feature", 1, 2, -1},
		{"checkpoint", 14, 1, 10},
		{"corrupted-last-checkpoint", 10, 11, 10},
		{"corrupted-last-checkpoint-kernel", 11, 2, 10},
		{"data-reader-timestamp_ntz", 1, 4, -1},
		{"dv-partitioned-with-checkpoint", 15, 15, 10},
		{"dv-with-columnmapping", 15, 15, 10},
		{"log-replay-dv-key-cases", 3, 1, -1},
		{"multi-part-checkpoint", 1, 10, 1},
		{"only-checkpoint-files", 2, 7, 2},
		{"snapshot-vacuumed", 5, 2, -1},
		{"table-with-columnmapping-mode-id", 0, 2, -1},
		{"table-with-columnmapping-mode-name", 0, 2, -1},
		{"v2-checkpoint-json", 2, 4, 2},
		{"v2-checkpoint-parquet", 2, 4, 2},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			dir := testenv.GoldenTable(t, tc.table)
			snap, err := LoadSnapshot(ctx, openStore(t, dir), dir)
			if err != nil {
				t.Fatalf("LoadSnapshot: %v", err)
			}
			if snap.Version != tc.version {
				t.Errorf("version = %d, expected %d", snap.Version, tc.version)
			}
			if len(snap.Files) != tc.files {
				t.Errorf("active files = %d, expected %d", len(snap.Files), tc.files)
			}
			if snap.CheckpointVersion != tc.checkpoint {
				t.Errorf("checkpoint version = %d, expected %d", snap.CheckpointVersion, tc.checkpoint)
			}
			if snap.Timestamp.IsZero() {
				t.Error("timestamp is zero")
			}
			for key, add := range snap.Files {
				if key != add.Path || add.Path == "" {
					t.Errorf("file key %q holds add with path %q", key, add.Path)
				}
			}
		})
	}
}

func TestLoadSnapshotGoldenTablesRejected(t *testing.T) {
	cases := []struct {
		table    string
		sentinel error
		contains string
	}{
		{"deltalog-invalid-protocol-version", format.ErrUnsupportedFeature, "minReaderVersion=99"},
		{"versions-not-contiguous", format.ErrCorruptTable, "commit 1 "},
		{"deltalog-state-reconstruction-from-checkpoint-missing-protocol", format.ErrCorruptTable, "no protocol action"},
		{"deltalog-state-reconstruction-from-checkpoint-missing-metadata", format.ErrCorruptTable, "no metaData action"},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			dir := testenv.GoldenTable(t, tc.table)
			snap, err := LoadSnapshot(ctx, openStore(t, dir), dir)
			if err == nil {
				t.Fatalf("LoadSnapshot returned version %d, expected an error", snap.Version)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not mention %q", err, tc.contains)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the table %s", err, dir)
			}
		})
	}
}

func TestLoadSnapshotAtGoldenVersions(t *testing.T) {
	// Expected counts computed with delta-rs DeltaTable(path, version=v).
	cases := []struct {
		table   string
		version int64
		files   int
	}{
		{"checkpoint", 5, 1},
		{"checkpoint", 10, 1},
		{"only-checkpoint-files", 0, 10},
		{"only-checkpoint-files", 1, 5},
		{"basic-with-inserts-overwrite-restore", 1, 4},
		{"basic-with-inserts-overwrite-restore", 2, 2},
		{"dv-with-columnmapping", 12, 16},
		{"log-replay-dv-key-cases", 1, 1},
		{"snapshot-vacuumed", 3, 4},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.table+"@"+strconv.FormatInt(tc.version, 10), func(t *testing.T) {
			dir := testenv.GoldenTable(t, tc.table)
			snap, err := LoadSnapshotAt(ctx, openStore(t, dir), dir, tc.version)
			if err != nil {
				t.Fatalf("LoadSnapshotAt: %v", err)
			}
			if snap.Version != tc.version {
				t.Errorf("version = %d, expected %d", snap.Version, tc.version)
			}
			if len(snap.Files) != tc.files {
				t.Errorf("active files = %d, expected %d", len(snap.Files), tc.files)
			}
		})
	}
}

func TestLoadSnapshotAtVersionNotFound(t *testing.T) {
	root := newTable(t, 3)
	_, err := LoadSnapshotAt(context.Background(), openStore(t, root), root, 7)
	if !errors.Is(err, ErrVersionNotFound) {
		t.Fatalf("error = %v, expected ErrVersionNotFound", err)
	}
}

// TestCheckpointMatchesJSONReplay removes the checkpoints of golden tables
// whose JSON commits are all present and checks that replaying the JSON
// commits alone gives the same file set.
func TestCheckpointMatchesJSONReplay(t *testing.T) {
	tables := []string{"checkpoint", "multi-part-checkpoint", "dv-partitioned-with-checkpoint", "dv-with-columnmapping", "basic-with-inserts-overwrite-restore", "v2-checkpoint-json", "v2-checkpoint-parquet", "only-checkpoint-files"}
	ctx := context.Background()
	for _, table := range tables {
		t.Run(table, func(t *testing.T) {
			dir := testenv.GoldenTable(t, table)
			withCheckpoint, err := LoadSnapshot(ctx, openStore(t, dir), dir)
			if err != nil {
				t.Fatalf("LoadSnapshot: %v", err)
			}

			root := copyLog(t, table)
			matches, _ := filepath.Glob(filepath.Join(root, "_delta_log", "*.checkpoint*"))
			if len(matches) == 0 {
				t.Fatal("golden table has no checkpoint file")
			}
			for _, m := range matches {
				if err := os.Remove(m); err != nil {
					t.Fatal(err)
				}
			}
			jsonOnly, err := LoadSnapshot(ctx, openStore(t, root), root)
			if err != nil {
				t.Fatalf("LoadSnapshot without checkpoints: %v", err)
			}
			if jsonOnly.CheckpointVersion != -1 {
				t.Errorf("checkpoint version = %d, expected -1", jsonOnly.CheckpointVersion)
			}
			if jsonOnly.Version != withCheckpoint.Version {
				t.Errorf("version = %d without checkpoints, %d with", jsonOnly.Version, withCheckpoint.Version)
			}
			for p := range withCheckpoint.Files {
				if _, ok := jsonOnly.Files[p]; !ok {
					t.Errorf("file %s is active with the checkpoint but not in JSON replay", p)
				}
			}
			for p := range jsonOnly.Files {
				if _, ok := withCheckpoint.Files[p]; !ok {
					t.Errorf("file %s is active in JSON replay but not with the checkpoint", p)
				}
			}
			if jsonOnly.Metadata.SchemaString != withCheckpoint.Metadata.SchemaString {
				t.Errorf("schema differs: %s vs %s", jsonOnly.Metadata.SchemaString, withCheckpoint.Metadata.SchemaString)
			}
			if jsonOnly.Protocol.MinWriterVersion != withCheckpoint.Protocol.MinWriterVersion {
				t.Errorf("writer version differs: %d vs %d", jsonOnly.Protocol.MinWriterVersion, withCheckpoint.Protocol.MinWriterVersion)
			}
		})
	}
}

func TestLastCheckpointHintIgnored(t *testing.T) {
	cases := []struct {
		name       string
		table      string
		hint       string
		version    int64
		checkpoint int64
		files      int
	}{
		{"empty file", "checkpoint", "", 14, 10, 1},
		{"invalid JSON", "checkpoint", "{not json", 14, 10, 1},
		{"dangling to missing checkpoint", "checkpoint", `{"version":12,"size":13}`, 14, 10, 1},
		{"dangling past latest version", "checkpoint", `{"version":40,"size":13}`, 14, 10, 1},
		{"stale older checkpoint", "only-checkpoint-files", `{"version":1,"size":12}`, 2, 2, 7},
		{"wrong part count", "multi-part-checkpoint", `{"version":1,"size":12,"parts":3}`, 1, 1, 10},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := copyLog(t, tc.table)
			writeLogFile(t, root, "_last_checkpoint", tc.hint)
			snap, err := LoadSnapshot(ctx, openStore(t, root), root)
			if err != nil {
				t.Fatalf("LoadSnapshot: %v", err)
			}
			if snap.Version != tc.version {
				t.Errorf("version = %d, expected %d", snap.Version, tc.version)
			}
			if snap.CheckpointVersion != tc.checkpoint {
				t.Errorf("checkpoint version = %d, expected %d", snap.CheckpointVersion, tc.checkpoint)
			}
			if len(snap.Files) != tc.files {
				t.Errorf("active files = %d, expected %d", len(snap.Files), tc.files)
			}
		})
	}
}

func TestLoadSnapshotMissingLastCheckpoint(t *testing.T) {
	root := copyLog(t, "checkpoint")
	if err := os.Remove(filepath.Join(root, "_delta_log", "_last_checkpoint")); err != nil {
		t.Fatal(err)
	}
	snap, err := LoadSnapshot(context.Background(), openStore(t, root), root)
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	if snap.Version != 14 || snap.CheckpointVersion != 10 {
		t.Errorf("version %d from checkpoint %d, expected 14 from 10", snap.Version, snap.CheckpointVersion)
	}
}

func TestIncompleteMultiPartCheckpointSkipped(t *testing.T) {
	root := copyLog(t, "multi-part-checkpoint")
	part := filepath.Join(root, "_delta_log", "00000000000000000001.checkpoint.0000000002.0000000002.parquet")
	if err := os.Remove(part); err != nil {
		t.Fatal(err)
	}
	snap, err := LoadSnapshot(context.Background(), openStore(t, root), root)
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	if snap.CheckpointVersion != -1 {
		t.Errorf("checkpoint version = %d, expected -1 (the checkpoint lacks part 2)", snap.CheckpointVersion)
	}
	if snap.Version != 1 || len(snap.Files) != 10 {
		t.Errorf("version %d with %d files, expected version 1 with 10 files", snap.Version, len(snap.Files))
	}
}

func TestMissingSidecarRejected(t *testing.T) {
	root := copyLog(t, "v2-checkpoint-parquet")
	sidecars, _ := filepath.Glob(filepath.Join(root, "_delta_log", "_sidecars", "*.parquet"))
	if len(sidecars) == 0 {
		t.Fatal("golden table has no sidecar")
	}
	if err := os.Remove(sidecars[0]); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSnapshot(context.Background(), openStore(t, root), root)
	if !errors.Is(err, format.ErrCorruptTable) {
		t.Fatalf("error = %v, expected ErrCorruptTable", err)
	}
	if !strings.Contains(err.Error(), filepath.Base(sidecars[0])) {
		t.Errorf("error %q does not name the missing sidecar", err)
	}
}

func TestTempFilesIgnored(t *testing.T) {
	root := newTable(t, 2)
	junk := map[string]string{
		".00000000000000000002.json.tmp-4f1c":                addLine("tmp.parquet"),
		"00000000000000000002.json.tmp":                      addLine("tmp.parquet"),
		"00000000000000000002.json.crc":                      "{}",
		".00000000000000000001.json.crc":                     "{}",
		"00000000000000000002.crc":                           "{}",
		"_commits/00000000000000000002.uuid.json":            addLine("staged.parquet"),
		"0000000000000000002.json":                           addLine("short.parquet"),
		"00000000000000000002.checkpoint.parquet.x":          "x",
		"00000000000000000002.checkpoint.0000000001.parquet": "x",
	}
	for name, content := range junk {
		writeLogFile(t, root, name, content)
	}
	snap, err := LoadSnapshot(context.Background(), openStore(t, root), root)
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	if snap.Version != 1 {
		t.Errorf("version = %d, expected 1", snap.Version)
	}
	if len(snap.Files) != 2 {
		t.Errorf("active files = %d, expected 2", len(snap.Files))
	}
}

func TestLoadSnapshotNoTable(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
	}{
		{"empty root", nil},
		{"only last checkpoint hint", map[string]string{"_last_checkpoint": `{"version":3,"size":4}`}},
		{"only temp commit", map[string]string{".00000000000000000000.json.tmp": protocolLine}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tc.files {
				writeLogFile(t, root, name, content)
			}
			snap, err := LoadSnapshot(context.Background(), openStore(t, root), root)
			if !errors.Is(err, ErrNoTable) {
				t.Fatalf("error = %v, expected ErrNoTable", err)
			}
			if snap != nil {
				t.Errorf("snapshot = %+v, expected nil", snap)
			}
		})
	}
}

func TestLoadSnapshotGaps(t *testing.T) {
	cases := []struct {
		name    string
		remove  []int64
		missing string
	}{
		{"gap in the middle", []int64{2}, "commit 2 "},
		{"commit 0 missing", []int64{0}, "commit 0 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := newTable(t, 4)
			for _, v := range tc.remove {
				if err := os.Remove(filepath.Join(root, filepath.FromSlash(CommitKey(v)))); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadSnapshot(context.Background(), openStore(t, root), root)
			if !errors.Is(err, format.ErrCorruptTable) {
				t.Fatalf("error = %v, expected ErrCorruptTable", err)
			}
			if !strings.Contains(err.Error(), tc.missing) {
				t.Errorf("error %q does not name %q", err, tc.missing)
			}
		})
	}
}

func TestReplayRemoveAndTxn(t *testing.T) {
	root := newTable(t, 2)
	writeLogFile(t, root, "00000000000000000002.json", strings.Join([]string{
		commitInfoLine("txn-c"),
		`{"remove":{"path":"` + fileName(0) + `","deletionTimestamp":5,"dataChange":true}}`,
		`{"txn":{"appId":"app-1","version":4}}`,
		`{"txn":{"appId":"app-2","version":9}}`,
	}, "\n"))
	writeLogFile(t, root, "00000000000000000003.json", `{"txn":{"appId":"app-1","version":5}}`+"\n"+addLine("g.parquet"))

	snap, err := LoadSnapshot(context.Background(), openStore(t, root), root)
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	if _, ok := snap.Files[fileName(0)]; ok {
		t.Errorf("removed file %s is still active", fileName(0))
	}
	if len(snap.Files) != 2 {
		t.Errorf("active files = %d, expected 2", len(snap.Files))
	}
	if snap.AppVersions["app-1"] != 5 {
		t.Errorf("app-1 version = %d, expected 5", snap.AppVersions["app-1"])
	}
	if snap.AppVersions["app-2"] != 9 {
		t.Errorf("app-2 version = %d, expected 9", snap.AppVersions["app-2"])
	}
}

func TestReadCommitInvalidJSON(t *testing.T) {
	root := newTable(t, 1)
	writeLogFile(t, root, "00000000000000000001.json", addLine("ok.parquet")+"\n{\"add\": {broken\n")
	_, err := ReadCommit(context.Background(), openStore(t, root), 1)
	if !errors.Is(err, format.ErrCorruptTable) {
		t.Fatalf("error = %v, expected ErrCorruptTable", err)
	}
	for _, want := range []string{CommitKey(1), "line 2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestReadCommitLenientCommitInfo(t *testing.T) {
	root := newTable(t, 1)
	writeLogFile(t, root, "00000000000000000001.json",
		`{"commitInfo":{"timestamp":"yesterday","operation":"WRITE","txnId":"abc","isBlindAppend":"yes"}}`+"\n"+addLine("ok.parquet"))
	actions, err := ReadCommit(context.Background(), openStore(t, root), 1)
	if err != nil {
		t.Fatalf("ReadCommit: %v", err)
	}
	if len(actions) != 2 {
		t.Fatalf("actions = %d, expected 2", len(actions))
	}
	if actions[0].CommitInfo == nil || actions[0].CommitInfo.TxnID != "abc" {
		t.Errorf("commitInfo = %+v, expected txnId abc", actions[0].CommitInfo)
	}
	if actions[1].Add == nil || actions[1].Add.Path != "ok.parquet" {
		t.Errorf("second action = %+v, expected add ok.parquet", actions[1])
	}
}

func TestReadCommitMissing(t *testing.T) {
	root := newTable(t, 1)
	_, err := ReadCommit(context.Background(), openStore(t, root), 5)
	if !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("error = %v, expected ErrNotFound", err)
	}
}
