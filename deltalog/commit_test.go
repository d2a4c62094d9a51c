package deltalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

var fixedClock = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// newLocalStore returns a local store in a fresh temporary folder.
func newLocalStore(t *testing.T) *objstore.Local {
	t.Helper()
	store, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return store
}

func openWriteTable(store objstore.Store) *Table {
	return Open(store, Options{Clock: fixedClock})
}

func schemaOf(fields ...format.Field) *format.Schema { return &format.Schema{Fields: fields} }

func col(name, typ string) format.Field {
	return format.Field{Name: name, Type: format.Type{Name: typ}, Nullable: true}
}

// dataFile describes a data file that the log names; the object itself is
// never read by log replay, so the tests do not write it.
func dataFile(path string, rows int64, partitions map[string]*string) format.DataFile {
	return format.DataFile{
		Path:             path,
		Size:             100 + rows,
		ModificationTime: fixedClock(),
		NumRecords:       rows,
		PartitionValues:  partitions,
		Stats: &format.FileStats{
			NumRecords: rows,
			MinValues:  map[string]any{},
			MaxValues:  map[string]any{},
			NullCount:  map[string]int64{},
		},
	}
}

func strPtr(s string) *string { return &s }

// createTable creates a table with schema and returns the handle and snapshot.
func createTable(t *testing.T, store objstore.Store, in *format.Schema, opts format.AppendOptions, files ...format.DataFile) (*Table, *format.Snapshot) {
	t.Helper()
	ctx := context.Background()
	tbl := openWriteTable(store)
	snap, err := tbl.Load(ctx)
	if err != nil {
		t.Fatalf("Load of new table: %v", err)
	}
	_, setup, err := tbl.CheckAppend(ctx, snap, in, opts)
	if err != nil {
		t.Fatalf("CheckAppend: %v", err)
	}
	res, err := tbl.Commit(ctx, format.CommitRequest{
		BaseVersion: -1, TxnID: "txn-create", Setup: setup, Files: files,
		Operation: "WRITE", EngineInfo: "safewrite/test",
	})
	if err != nil {
		t.Fatalf("Commit create: %v", err)
	}
	if res.Version != 0 {
		t.Fatalf("create committed version %d, want 0", res.Version)
	}
	snap, err = tbl.Load(ctx)
	if err != nil {
		t.Fatalf("Load after create: %v", err)
	}
	return tbl, snap
}

func appendFiles(t *testing.T, tbl *Table, base int64, txnID string, files ...format.DataFile) format.CommitResult {
	t.Helper()
	res, err := tbl.Commit(context.Background(), format.CommitRequest{
		BaseVersion: base, TxnID: txnID, Files: files, Operation: "WRITE", EngineInfo: "safewrite/test",
	})
	if err != nil {
		t.Fatalf("Commit %s on base %d: %v", txnID, base, err)
	}
	return res
}

func readCommitLines(t *testing.T, store objstore.Store, version int64) []map[string]json.RawMessage {
	t.Helper()
	data, err := objstore.ReadAll(context.Background(), store, CommitKey(version))
	if err != nil {
		t.Fatalf("read commit %d: %v", version, err)
	}
	var out []map[string]json.RawMessage
	for _, line := range strings.Split(string(data), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("commit %d line %q: %v", version, line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestCommitCreateAppendReload(t *testing.T) {
	ctx := context.Background()
	store := newLocalStore(t)
	in := schemaOf(col("id", format.TypeLong), col("city", format.TypeString))
	tbl, snap := createTable(t, store, in, format.AppendOptions{PartitionColumns: []string{"city"}},
		dataFile("city=Paris/part-0.parquet", 10, map[string]*string{"city": strPtr("Paris")}))

	if snap.Version != 0 || snap.NumFiles != 1 || snap.NumRecords != 10 {
		t.Errorf("after create: version %d files %d records %d, want 0, 1, 10", snap.Version, snap.NumFiles, snap.NumRecords)
	}
	if got := strings.Join(snap.PartitionColumns, ","); got != "city" {
		t.Errorf("partition columns %q, want city", got)
	}
	if snap.ColumnMapping != "none" {
		t.Errorf("column mapping %q, want none", snap.ColumnMapping)
	}

	res := appendFiles(t, tbl, 0, "txn-append",
		dataFile("city=New York/part-1.parquet", 5, map[string]*string{"city": strPtr("New York")}),
		dataFile("city=__HIVE_DEFAULT_PARTITION__/part-2.parquet", 2, map[string]*string{"city": nil}))
	if res.Version != 1 || res.Attempts != 1 || res.AlreadyApplied {
		t.Errorf("append result %+v, want version 1 in 1 attempt", res)
	}

	snap, err := openWriteTable(store).Load(ctx)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if snap.Version != 1 || snap.NumFiles != 3 || snap.NumRecords != 17 {
		t.Errorf("after append: version %d files %d records %d, want 1, 3, 17", snap.Version, snap.NumFiles, snap.NumRecords)
	}
	if snap.SizeBytes != 110+105+102 {
		t.Errorf("size %d, want %d", snap.SizeBytes, 110+105+102)
	}

	refs, err := tbl.ReferencedFiles(ctx)
	if err != nil {
		t.Fatalf("ReferencedFiles: %v", err)
	}
	if !refs["city=New York/part-1.parquet"] {
		t.Errorf("ReferencedFiles %v lacks the decoded key with a space", refs)
	}

	lines := readCommitLines(t, store, 1)
	var info CommitInfo
	if err := json.Unmarshal(lines[0]["commitInfo"], &info); err != nil {
		t.Fatalf("first action of commit 1 is not commitInfo: %v", err)
	}
	if info.TxnID != "txn-append" || info.SafewriteTxnID != "txn-append" {
		t.Errorf("commitInfo txn ids %q, %q, want txn-append", info.TxnID, info.SafewriteTxnID)
	}
	if info.ReadVersion == nil || *info.ReadVersion != 0 {
		t.Errorf("commitInfo readVersion %v, want 0", info.ReadVersion)
	}
	if got := info.OperationParameters["partitionBy"]; got != `["city"]` {
		t.Errorf("operationParameters.partitionBy %v, want [\"city\"] as a JSON string", got)
	}
	if got := info.OperationMetrics["numOutputRows"]; got != "7" {
		t.Errorf("operationMetrics.numOutputRows %v, want \"7\"", got)
	}
	var add Add
	if err := json.Unmarshal(lines[1]["add"], &add); err != nil {
		t.Fatalf("second action of commit 1 is not add: %v", err)
	}
	if add.Path != "city=New%20York/part-1.parquet" {
		t.Errorf("add path %q, want the space escaped as %%20", add.Path)
	}
	if !add.DataChange || add.Stats == "" {
		t.Errorf("add dataChange %v stats %q, want true and stats", add.DataChange, add.Stats)
	}
}

func TestCommitProtocolShape(t *testing.T) {
	cases := []struct {
		name           string
		in             *format.Schema
		mapping        string
		reader, writer int
		features       []string
	}{
		{"plain columns", schemaOf(col("a", format.TypeLong)), "", 1, 2, nil},
		{"timestamp_ntz column", schemaOf(col("ts", format.TypeTimestampNTZ)), "", 3, 7, []string{"timestampNtz"}},
		{"column mapping", schemaOf(col("a b", format.TypeLong)), "name", 3, 7, []string{"columnMapping"}},
		{"both", schemaOf(col("a b", format.TypeTimestampNTZ)), "name", 3, 7, []string{"columnMapping", "timestampNtz"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			createTable(t, store, c.in, format.AppendOptions{ColumnMapping: c.mapping})
			snap, err := LoadSnapshot(context.Background(), store, store.URI())
			if err != nil {
				t.Fatalf("LoadSnapshot: %v", err)
			}
			p := snap.Protocol
			if p.MinReaderVersion != c.reader || p.MinWriterVersion != c.writer {
				t.Errorf("protocol %d/%d, want %d/%d", p.MinReaderVersion, p.MinWriterVersion, c.reader, c.writer)
			}
			if fmt.Sprint(p.ReaderFeatures) != fmt.Sprint(c.features) {
				t.Errorf("reader features %v, want %v", p.ReaderFeatures, c.features)
			}
			if fmt.Sprint(p.WriterFeatures) != fmt.Sprint(c.features) {
				t.Errorf("writer features %v, want %v", p.WriterFeatures, c.features)
			}
			if err := CheckWriteSupported(p, snap.Metadata, store.URI()); err != nil {
				t.Errorf("safewrite cannot write the table it created: %v", err)
			}
		})
	}
}

func TestCommitColumnMappingPhysicalNames(t *testing.T) {
	ctx := context.Background()
	store := newLocalStore(t)
	in := schemaOf(col("Incident Date", format.TypeString), col("Speed (mph)", format.TypeLong))
	tbl, snap := createTable(t, store, in, format.AppendOptions{ColumnMapping: "name", PartitionColumns: []string{"Incident Date"}})

	if snap.ColumnMapping != "name" {
		t.Fatalf("column mapping %q, want name", snap.ColumnMapping)
	}
	if got := snap.Properties["delta.columnMapping.maxColumnId"]; got != "2" {
		t.Errorf("maxColumnId %q, want 2", got)
	}
	date := snap.Schema.Fields[0]
	if date.ID != 1 || !strings.HasPrefix(date.PhysicalName, "col-") {
		t.Errorf("first column id %d physical name %q, want 1 and col-<uuid>", date.ID, date.PhysicalName)
	}

	target, _, err := tbl.CheckAppend(ctx, snap, in, format.AppendOptions{})
	if err != nil {
		t.Fatalf("CheckAppend on existing table: %v", err)
	}
	if target.Fields[0].PhysicalName != date.PhysicalName {
		t.Errorf("target physical name %q, want the table's %q", target.Fields[0].PhysicalName, date.PhysicalName)
	}

	appendFiles(t, tbl, 0, "txn-1", dataFile("Incident Date=2020-01-01/part-0.parquet", 3,
		map[string]*string{"Incident Date": strPtr("2020-01-01")}))
	delta, err := tbl.DeltaSnapshot(ctx)
	if err != nil {
		t.Fatalf("DeltaSnapshot: %v", err)
	}
	for _, add := range delta.Files {
		if _, ok := add.PartitionValues[date.PhysicalName]; !ok {
			t.Errorf("add partitionValues %v are not keyed by the physical name %q", add.PartitionValues, date.PhysicalName)
		}
		if _, ok := add.PartitionValues["Incident Date"]; ok {
			t.Errorf("add partitionValues %v use the logical name", add.PartitionValues)
		}
	}
}

func TestCommitLostRaceRebases(t *testing.T) {
	store := newLocalStore(t)
	_, snap := createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})

	first := appendFiles(t, openWriteTable(store), snap.Version, "txn-first", dataFile("part-1.parquet", 1, nil))
	second := appendFiles(t, openWriteTable(store), snap.Version, "txn-second", dataFile("part-2.parquet", 1, nil))

	if first.Version != 1 || first.Attempts != 1 {
		t.Errorf("first writer %+v, want version 1 in 1 attempt", first)
	}
	if second.Version != 2 || second.Attempts != 2 {
		t.Errorf("second writer %+v, want version 2 in 2 attempts", second)
	}
	var info CommitInfo
	if err := json.Unmarshal(readCommitLines(t, store, 2)[0]["commitInfo"], &info); err != nil {
		t.Fatalf("commit 2 commitInfo: %v", err)
	}
	if info.ReadVersion == nil || *info.ReadVersion != 0 {
		t.Errorf("rebased commit readVersion %v, want the base 0", info.ReadVersion)
	}
	reloaded, err := openWriteTable(store).Load(context.Background())
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if reloaded.NumFiles != 2 {
		t.Errorf("files after both appends %d, want 2", reloaded.NumFiles)
	}
}

func TestCommitConflicts(t *testing.T) {
	metadataChange := func(t *testing.T, store objstore.Store) {
		snap, err := LoadSnapshot(context.Background(), store, store.URI())
		if err != nil {
			t.Fatalf("LoadSnapshot: %v", err)
		}
		meta := *snap.Metadata
		meta.Configuration = map[string]string{"delta.appendOnly": "false"}
		writeRawCommit(t, store, 1, Action{CommitInfo: &CommitInfo{Operation: "SET TBLPROPERTIES", TxnID: "other"}}, Action{MetaData: &meta})
	}
	protocolChange := func(t *testing.T, store objstore.Store) {
		writeRawCommit(t, store, 1, Action{CommitInfo: &CommitInfo{Operation: "UPGRADE PROTOCOL", TxnID: "other"}},
			Action{Protocol: &Protocol{MinReaderVersion: 1, MinWriterVersion: 4}})
	}
	cases := []struct {
		name   string
		winner func(*testing.T, objstore.Store)
		want   string
	}{
		{"winning metadata change", metadataChange, "changed the table metadata"},
		{"winning protocol change", protocolChange, "changed the table protocol"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			tbl, snap := createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
			c.winner(t, store)

			_, err := tbl.Commit(context.Background(), format.CommitRequest{
				BaseVersion: snap.Version, TxnID: "txn-late", Files: []format.DataFile{dataFile("part-1.parquet", 1, nil)},
			})
			if !errors.Is(err, format.ErrConflict) {
				t.Fatalf("Commit error %v, want ErrConflict", err)
			}
			if errors.Is(err, format.ErrCommitUnknown) {
				t.Errorf("conflict error %v also matches ErrCommitUnknown", err)
			}
			for _, want := range []string{c.want, "winning version 1", "nothing was published", store.URI()} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if _, err := store.Stat(context.Background(), CommitKey(2)); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("a conflicting commit wrote version 2 (stat error %v)", err)
			}
		})
	}
}

func writeRawCommit(t *testing.T, store objstore.Store, version int64, actions ...Action) {
	t.Helper()
	var lines []string
	for _, a := range actions {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("encode action: %v", err)
		}
		lines = append(lines, string(b))
	}
	if err := store.PutIfAbsent(context.Background(), CommitKey(version), []byte(strings.Join(lines, "\n"))); err != nil {
		t.Fatalf("write raw commit %d: %v", version, err)
	}
}

func TestCommitIdempotency(t *testing.T) {
	ctx := context.Background()
	key := &format.IdempotencyKey{AppID: "lambda-ingest", Version: 7}

	t.Run("applied before the base version", func(t *testing.T) {
		store := newLocalStore(t)
		tbl, _ := createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		res, err := tbl.Commit(ctx, format.CommitRequest{BaseVersion: 0, TxnID: "txn-1", Idempotency: key,
			Files: []format.DataFile{dataFile("part-1.parquet", 1, nil)}})
		if err != nil || res.Version != 1 {
			t.Fatalf("first request: %+v, %v; want version 1", res, err)
		}
		snap, err := tbl.Load(ctx)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if snap.AppVersions["lambda-ingest"] != 7 {
			t.Errorf("AppVersions %v, want lambda-ingest: 7", snap.AppVersions)
		}

		res, err = tbl.Commit(ctx, format.CommitRequest{BaseVersion: 1, TxnID: "txn-retry", Idempotency: key,
			Files: []format.DataFile{dataFile("part-2.parquet", 1, nil)}})
		if err != nil {
			t.Fatalf("retried request: %v", err)
		}
		if !res.AlreadyApplied {
			t.Errorf("retried request %+v, want AlreadyApplied", res)
		}
		if _, err := store.Stat(ctx, CommitKey(2)); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("the retried request wrote version 2 (stat error %v)", err)
		}
	})

	t.Run("applied by the winner of a race", func(t *testing.T) {
		store := newLocalStore(t)
		createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		req := format.CommitRequest{BaseVersion: 0, Idempotency: key, Files: []format.DataFile{dataFile("part-1.parquet", 1, nil)}}
		req.TxnID = "txn-attempt-1"
		if _, err := openWriteTable(store).Commit(ctx, req); err != nil {
			t.Fatalf("first attempt: %v", err)
		}
		req.TxnID = "txn-attempt-2"
		res, err := openWriteTable(store).Commit(ctx, req)
		if err != nil {
			t.Fatalf("second attempt: %v", err)
		}
		if !res.AlreadyApplied || res.Version != 1 {
			t.Errorf("second attempt %+v, want AlreadyApplied at version 1", res)
		}
	})
}

// unknownStore returns ErrUnknownOutcome from PutIfAbsent without writing,
// like a request that timed out before it reached the server.
type unknownStore struct{ objstore.Store }

func (s unknownStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	return fmt.Errorf("%w: simulated timeout on %s", objstore.ErrUnknownOutcome, key)
}

func TestCommitUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	files := []format.DataFile{dataFile("part-1.parquet", 1, nil)}

	t.Run("response lost after the put landed", func(t *testing.T) {
		store := newLocalStore(t)
		createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		faulty := objstore.NewFaulty(store, objstore.LoseResponseKey(CommitKey(1), objstore.OpPutIfAbsent))
		res, err := openWriteTable(faulty).Commit(ctx, format.CommitRequest{BaseVersion: 0, TxnID: "txn-lost", Files: files})
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if res.Version != 1 {
			t.Errorf("version %d, want 1", res.Version)
		}
		if faulty.Injected() != 1 {
			t.Errorf("injected %d faults, want 1", faulty.Injected())
		}
	})

	t.Run("response lost on a taken version", func(t *testing.T) {
		store := newLocalStore(t)
		createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		appendFiles(t, openWriteTable(store), 0, "txn-winner", dataFile("part-0.parquet", 1, nil))
		faulty := objstore.NewFaulty(store, objstore.LoseResponseKey(CommitKey(1), objstore.OpPutIfAbsent))
		res, err := openWriteTable(faulty).Commit(ctx, format.CommitRequest{BaseVersion: 0, TxnID: "txn-loser", Files: files})
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if res.Version != 2 {
			t.Errorf("version %d, want 2 after rebasing past the winner", res.Version)
		}
	})

	t.Run("read back fails", func(t *testing.T) {
		store := newLocalStore(t)
		createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		faulty := objstore.NewFaulty(store,
			objstore.LoseResponseKey(CommitKey(1), objstore.OpPutIfAbsent),
			objstore.FailKey(CommitKey(1), objstore.OpGet))
		_, err := openWriteTable(faulty).Commit(ctx, format.CommitRequest{BaseVersion: 0, TxnID: "txn-unknown", Files: files})
		assertCommitUnknown(t, err, store.URI())
	})

	t.Run("put never landed", func(t *testing.T) {
		store := newLocalStore(t)
		createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
		_, err := openWriteTable(unknownStore{store}).Commit(ctx, format.CommitRequest{BaseVersion: 0, TxnID: "txn-unknown", Files: files})
		assertCommitUnknown(t, err, store.URI())
	})
}

func assertCommitUnknown(t *testing.T, err error, uri string) {
	t.Helper()
	if !errors.Is(err, format.ErrCommitUnknown) {
		t.Fatalf("error %v, want ErrCommitUnknown", err)
	}
	if errors.Is(err, format.ErrConflict) {
		t.Errorf("unknown outcome %v also matches ErrConflict", err)
	}
	for _, want := range []string{uri, "version 1", CommitKey(1), "may have been published"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestCommitRejectsInvalidRequest(t *testing.T) {
	setup := &format.TableSetup{Schema: schemaOf(col("a", format.TypeLong)), ColumnMapping: "none"}
	cases := []struct {
		name string
		req  format.CommitRequest
	}{
		{"create without setup", format.CommitRequest{BaseVersion: -1, TxnID: "t"}},
		{"setup on existing table", format.CommitRequest{BaseVersion: 0, TxnID: "t", Setup: setup}},
		{"missing transaction id", format.CommitRequest{BaseVersion: -1, Setup: setup}},
		{"path escaping the root", format.CommitRequest{BaseVersion: -1, TxnID: "t", Setup: setup,
			Files: []format.DataFile{dataFile("../outside.parquet", 1, nil)}}},
		{"partition value for a data column", format.CommitRequest{BaseVersion: -1, TxnID: "t", Setup: setup,
			Files: []format.DataFile{dataFile("a=1/part-0.parquet", 1, map[string]*string{"a": strPtr("1")})}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			_, err := openWriteTable(store).Commit(context.Background(), c.req)
			if !errors.Is(err, format.ErrBadInput) {
				t.Fatalf("error %v, want ErrBadInput", err)
			}
			if objects, _ := store.List(context.Background(), "", true); len(objects) != 0 {
				t.Errorf("a rejected request wrote %v", objects)
			}
		})
	}
}

func TestLoadMissingTable(t *testing.T) {
	cases := []struct {
		name    string
		objects []string
		wantErr error
	}{
		{"empty root", nil, nil},
		{"only safewrite records", []string{"_safewrite/intent-1.json"}, nil},
		{"staged files of a killed first write", []string{"_safewrite/intent-1.json", "part-0.parquet"}, nil},
		{"temp file of a killed first commit", []string{"_delta_log/.00000000000000000000.json.tmp-123"}, nil},
		{"folder of loose files", []string{"data.csv", "sub/part-0.parquet"}, format.ErrNotTable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			for _, key := range c.objects {
				if err := store.Put(context.Background(), key, strings.NewReader("x"), 1); err != nil {
					t.Fatalf("Put %s: %v", key, err)
				}
			}
			snap, err := openWriteTable(store).Load(context.Background())
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("Load error %v, want %v", err, c.wantErr)
				}
				if !strings.Contains(err.Error(), "no _delta_log") || !strings.Contains(err.Error(), store.URI()) {
					t.Errorf("error %q does not name the URI and the missing _delta_log", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if snap.Version != -1 {
				t.Errorf("version %d, want -1", snap.Version)
			}
		})
	}
}

func TestReferencedFilesOutsideRoot(t *testing.T) {
	store := newLocalStore(t)
	tbl, _ := createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
	root := strings.TrimPrefix(store.URI(), "file://")
	writeRawCommit(t, store, 1,
		Action{CommitInfo: &CommitInfo{Operation: "WRITE"}},
		Action{Add: &Add{Path: "s3://other-bucket/part-0.parquet", PartitionValues: map[string]*string{}}},
		Action{Add: &Add{Path: "/abs/part-1.parquet", PartitionValues: map[string]*string{}}},
		Action{Add: &Add{Path: "..%2Fescape.parquet", PartitionValues: map[string]*string{}}},
		Action{Add: &Add{Path: "file:" + root + "/../escape-2.parquet", PartitionValues: map[string]*string{}}},
		Action{Add: &Add{Path: "a%3Ab.parquet", PartitionValues: map[string]*string{}}},
		Action{Add: &Add{Path: "file:" + root + "/in%20root.parquet", PartitionValues: map[string]*string{}}},
	)
	refs, err := tbl.ReferencedFiles(context.Background())
	if err != nil {
		t.Fatalf("ReferencedFiles: %v", err)
	}
	want := map[string]bool{"a:b.parquet": true, "in root.parquet": true}
	if fmt.Sprint(refs) != fmt.Sprint(want) {
		t.Errorf("ReferencedFiles %v, want %v", refs, want)
	}
}

// copyGoldenTable copies a Spark-written golden table into a temporary
// folder so that a test can append to it.
func copyGoldenTable(t *testing.T, name string) *objstore.Local {
	t.Helper()
	src := testenv.GoldenTable(t, name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatalf("copy golden table %s: %v", name, err)
	}
	store, err := objstore.NewLocal(dst)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return store
}

func TestAppendToGoldenTables(t *testing.T) {
	for _, name := range []string{"checkpoint", "multi-part-checkpoint"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := copyGoldenTable(t, name)
			// Interval 2 forces a checkpoint of the appended version or the
			// one after it, so the writer checkpoints a Spark-written table.
			tbl := Open(store, Options{Clock: fixedClock, CheckpointInterval: 2})
			before, err := tbl.Load(ctx)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if name == "checkpoint" && before.NumRecords != -1 {
				t.Errorf("NumRecords %d, want -1 because the table's add actions have no stats", before.NumRecords)
			}
			target, setup, err := tbl.CheckAppend(ctx, before, before.Schema, format.AppendOptions{})
			if err != nil {
				t.Fatalf("CheckAppend with the table's own schema: %v", err)
			}
			if setup != nil || len(target.Fields) != len(before.Schema.Fields) {
				t.Errorf("CheckAppend returned setup %v and %d fields, want no setup and %d", setup, len(target.Fields), len(before.Schema.Fields))
			}

			version := before.Version
			for i := range 2 {
				res := appendFiles(t, tbl, version, fmt.Sprintf("txn-%d", i), dataFile(fmt.Sprintf("part-safewrite-%d.parquet", i), 4, nil))
				if res.Version != version+1 {
					t.Fatalf("append %d committed version %d, want %d", i, res.Version, version+1)
				}
				version = res.Version
			}

			after, err := openWriteTable(store).Load(ctx)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if after.Version != before.Version+2 || after.NumFiles != before.NumFiles+2 {
				t.Errorf("after appends: version %d files %d, want %d and %d", after.Version, after.NumFiles, before.Version+2, before.NumFiles+2)
			}
			assertCheckpointMatchesReplay(t, store, version-version%2)
		})
	}
}

func TestCommitConcurrentWriters(t *testing.T) {
	const writers = 4
	store := newLocalStore(t)
	_, snap := createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})

	type outcome struct {
		res format.CommitResult
		err error
	}
	results := make(chan outcome, writers)
	for i := range writers {
		go func() {
			res, err := openWriteTable(store).Commit(context.Background(), format.CommitRequest{
				BaseVersion: snap.Version,
				TxnID:       fmt.Sprintf("txn-writer-%d", i),
				Files:       []format.DataFile{dataFile(fmt.Sprintf("part-%d.parquet", i), 1, nil)},
			})
			results <- outcome{res, err}
		}()
	}
	versions := map[int64]bool{}
	for range writers {
		o := <-results
		if o.err != nil {
			t.Errorf("writer failed: %v", o.err)
			continue
		}
		if versions[o.res.Version] {
			t.Errorf("two writers reported version %d", o.res.Version)
		}
		versions[o.res.Version] = true
	}
	reloaded, err := openWriteTable(store).Load(context.Background())
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if reloaded.Version != writers || reloaded.NumFiles != writers {
		t.Errorf("after %d writers: version %d files %d, want %d and %d", writers, reloaded.Version, reloaded.NumFiles, writers, writers)
	}
}

// prepareCreate returns a handle and the TableSetup of a create on the
// still empty store, as a writer has them before it commits version 0.
func prepareCreate(t *testing.T, store objstore.Store, in *format.Schema, opts format.AppendOptions) (*Table, *format.TableSetup) {
	t.Helper()
	ctx := context.Background()
	tbl := openWriteTable(store)
	snap, err := tbl.Load(ctx)
	if err != nil {
		t.Fatalf("Load of new table: %v", err)
	}
	if snap.Version != -1 {
		t.Fatalf("Load returned version %d, want -1 for a new table", snap.Version)
	}
	_, setup, err := tbl.CheckAppend(ctx, snap, in, opts)
	if err != nil {
		t.Fatalf("CheckAppend: %v", err)
	}
	if setup == nil {
		t.Fatalf("CheckAppend returned no TableSetup for a new table")
	}
	return tbl, setup
}

// writeRawCreate writes version 0 as another engine would create the
// table: a protocol and a metaData action with schema and partitions.
func writeRawCreate(t *testing.T, store objstore.Store, proto *Protocol, schema *format.Schema, partitions []string) {
	t.Helper()
	schemaString, err := SchemaToJSON(schema)
	if err != nil {
		t.Fatalf("SchemaToJSON: %v", err)
	}
	meta := &Metadata{
		ID:               "winner-table-id",
		Format:           Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     schemaString,
		PartitionColumns: nonNil(partitions),
		Configuration:    map[string]string{},
	}
	writeRawCommit(t, store, 0, Action{CommitInfo: &CommitInfo{Operation: "CREATE TABLE", TxnID: "other"}},
		Action{Protocol: proto}, Action{MetaData: meta})
}

func TestCommitCreateRaceJoinsSameTable(t *testing.T) {
	ctx := context.Background()
	in := schemaOf(col("id", format.TypeLong), col("city", format.TypeString))
	opts := format.AppendOptions{PartitionColumns: []string{"city"}}
	safewriteWinner := func(t *testing.T, store objstore.Store) {
		createTable(t, store, in, opts, dataFile("city=Paris/part-0.parquet", 10, map[string]*string{"city": strPtr("Paris")}))
	}
	sparkWinner := func(t *testing.T, store objstore.Store) {
		// A create with deletion vectors enabled writes reader 3 / writer 7
		// even for plain columns.
		writeRawCreate(t, store, &Protocol{MinReaderVersion: 3, MinWriterVersion: 7,
			ReaderFeatures: []string{"deletionVectors"}, WriterFeatures: []string{"appendOnly", "invariants", "deletionVectors"}},
			schemaOf(col("id", format.TypeLong), col("city", format.TypeString)), []string{"city"})
	}
	cases := []struct {
		name      string
		winner    func(*testing.T, objstore.Store)
		wantFiles int64
	}{
		{"identical safewrite create", safewriteWinner, 2},
		{"spark create with more features", sparkWinner, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			loser, setup := prepareCreate(t, store, in, opts)
			c.winner(t, store)

			res, err := loser.Commit(ctx, format.CommitRequest{
				BaseVersion: -1, TxnID: "txn-loser", Setup: setup,
				Idempotency: &format.IdempotencyKey{AppID: "lambda-ingest", Version: 3},
				Files:       []format.DataFile{dataFile("city=Rome/part-1.parquet", 5, map[string]*string{"city": strPtr("Rome")})},
			})
			if err != nil {
				t.Fatalf("losing create: %v", err)
			}
			if res.Version != 1 || res.Attempts != 2 || res.AlreadyApplied {
				t.Errorf("losing create %+v, want version 1 in 2 attempts", res)
			}

			lines := readCommitLines(t, store, 1)
			for i, line := range lines {
				if _, ok := line["protocol"]; ok {
					t.Errorf("commit 1 line %d is a protocol action", i)
				}
				if _, ok := line["metaData"]; ok {
					t.Errorf("commit 1 line %d is a metaData action", i)
				}
			}
			var info CommitInfo
			if err := json.Unmarshal(lines[0]["commitInfo"], &info); err != nil {
				t.Fatalf("first action of commit 1 is not commitInfo: %v", err)
			}
			if info.TxnID != "txn-loser" || info.SafewriteTxnID != "txn-loser" {
				t.Errorf("commitInfo txn ids %q, %q, want txn-loser", info.TxnID, info.SafewriteTxnID)
			}
			if info.ReadVersion == nil || *info.ReadVersion != 0 {
				t.Errorf("commitInfo readVersion %v, want 0", info.ReadVersion)
			}
			if _, ok := lines[1]["txn"]; !ok {
				t.Errorf("commit 1 line 1 is %v, want the txn action", lines[1])
			}
			var add Add
			if err := json.Unmarshal(lines[2]["add"], &add); err != nil {
				t.Fatalf("third action of commit 1 is not add: %v", err)
			}
			if v, ok := add.PartitionValues["city"]; !ok || v == nil || *v != "Rome" {
				t.Errorf("add partitionValues %v, want city: Rome", add.PartitionValues)
			}

			reloaded, err := openWriteTable(store).Load(ctx)
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if reloaded.Version != 1 || reloaded.NumFiles != c.wantFiles {
				t.Errorf("after both creates: version %d files %d, want 1 and %d", reloaded.Version, reloaded.NumFiles, c.wantFiles)
			}
			if reloaded.AppVersions["lambda-ingest"] != 3 {
				t.Errorf("AppVersions %v, want lambda-ingest: 3", reloaded.AppVersions)
			}
		})
	}
}

func TestCommitCreateRaceConflicts(t *testing.T) {
	ctx := context.Background()
	plain := schemaOf(col("id", format.TypeLong), col("city", format.TypeString))
	createdBy := func(in *format.Schema, opts format.AppendOptions) func(*testing.T, objstore.Store) {
		return func(t *testing.T, store objstore.Store) { createTable(t, store, in, opts) }
	}
	notNullWinner := func(t *testing.T, store objstore.Store) {
		id := col("id", format.TypeLong)
		id.Nullable = false
		writeRawCreate(t, store, &Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, schemaOf(id, col("city", format.TypeString)), nil)
	}
	legacyNTZWinner := func(t *testing.T, store objstore.Store) {
		writeRawCreate(t, store, &Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, schemaOf(col("ts", format.TypeTimestampNTZ)), nil)
	}
	rowTrackingWinner := func(t *testing.T, store objstore.Store) {
		writeRawCreate(t, store, &Protocol{MinReaderVersion: 1, MinWriterVersion: 7, WriterFeatures: []string{"rowTracking"}}, plain, nil)
	}
	cases := []struct {
		name        string
		winner      func(*testing.T, objstore.Store)
		in          *format.Schema
		opts        format.AppendOptions
		want        []string
		unsupported bool
	}{
		{
			name:   "different column type",
			winner: createdBy(schemaOf(col("id", format.TypeLong), col("city", format.TypeLong)), format.AppendOptions{}),
			in:     plain,
			want:   []string{"with a different schema", `column 2 is "city" long there and "city" string in this append`},
		},
		{
			name:   "different column count",
			winner: createdBy(schemaOf(col("id", format.TypeLong)), format.AppendOptions{}),
			in:     plain,
			want:   []string{"with a different schema", "column count 1 there, 2 in this append"},
		},
		{
			name:   "different nullability",
			winner: notNullWinner,
			in:     plain,
			want:   []string{"with a different schema", `"id" long NOT NULL there`},
		},
		{
			name:   "different partition columns",
			winner: createdBy(plain, format.AppendOptions{PartitionColumns: []string{"city"}}),
			in:     plain,
			opts:   format.AppendOptions{PartitionColumns: []string{"id"}},
			want:   []string{"with different partition columns ([city] there, [id] in this append)"},
		},
		{
			name:   "partitioned and unpartitioned",
			winner: createdBy(plain, format.AppendOptions{}),
			in:     plain,
			opts:   format.AppendOptions{PartitionColumns: []string{"city"}},
			want:   []string{"with different partition columns ([] there, [city] in this append)"},
		},
		{
			name:   "column mapping on both sides",
			winner: createdBy(plain, format.AppendOptions{ColumnMapping: "name"}),
			in:     plain,
			opts:   format.AppendOptions{ColumnMapping: "name"},
			want:   []string{`with column mapping (mode "name" there, "name" in this append)`},
		},
		{
			name:   "column mapping on the winner only",
			winner: createdBy(plain, format.AppendOptions{ColumnMapping: "name"}),
			in:     plain,
			want:   []string{`with column mapping (mode "name" there, "none" in this append)`},
		},
		{
			name:   "winner protocol lacks timestampNtz",
			winner: legacyNTZWinner,
			in:     schemaOf(col("ts", format.TypeTimestampNTZ)),
			want:   []string{"with protocol reader 1 / writer 2", `lacks table feature "timestampNtz"`},
		},
		{
			name:        "winner protocol safewrite cannot write",
			winner:      rowTrackingWinner,
			in:          plain,
			want:        []string{"safewrite cannot write", `"rowTracking"`},
			unsupported: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			loser, setup := prepareCreate(t, store, c.in, c.opts)
			c.winner(t, store)

			partitionValues := map[string]*string{}
			for _, name := range c.opts.PartitionColumns {
				partitionValues[name] = strPtr("1")
			}
			_, err := loser.Commit(ctx, format.CommitRequest{
				BaseVersion: -1, TxnID: "txn-loser", Setup: setup,
				Files: []format.DataFile{dataFile("part-1.parquet", 1, partitionValues)},
			})
			if !errors.Is(err, format.ErrConflict) {
				t.Fatalf("losing create error %v, want ErrConflict", err)
			}
			if errors.Is(err, format.ErrCommitUnknown) {
				t.Errorf("conflict error %v also matches ErrCommitUnknown", err)
			}
			if got := errors.Is(err, format.ErrUnsupportedFeature); got != c.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupportedFeature) = %v, want %v (error %v)", got, c.unsupported, err)
			}
			common := []string{"another writer created table " + store.URI() + " at version 0 first", "nothing was published"}
			if !c.unsupported {
				common = append(common, "the files of this append do not fit it; retry the append")
			}
			for _, want := range append(common, c.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if _, err := store.Stat(ctx, CommitKey(1)); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("a conflicting create wrote version 1 (stat error %v)", err)
			}
		})
	}
}

func TestCommitConcurrentCreates(t *testing.T) {
	const writers = 8
	ctx := context.Background()
	store := newLocalStore(t)
	in := schemaOf(col("id", format.TypeLong), col("city", format.TypeString))
	opts := format.AppendOptions{PartitionColumns: []string{"city"}}

	// Every writer loads the empty table and checks its input before any of
	// them commits, as parallel Lambda invocations for a new table do.
	tables := make([]*Table, writers)
	setups := make([]*format.TableSetup, writers)
	for i := range writers {
		tables[i], setups[i] = prepareCreate(t, store, in, opts)
	}

	type outcome struct {
		res format.CommitResult
		err error
	}
	results := make(chan outcome, writers)
	for i := range writers {
		go func() {
			res, err := tables[i].Commit(ctx, format.CommitRequest{
				BaseVersion: -1,
				TxnID:       fmt.Sprintf("txn-create-%d", i),
				Setup:       setups[i],
				Files: []format.DataFile{dataFile(fmt.Sprintf("city=Paris/part-%d.parquet", i), 1,
					map[string]*string{"city": strPtr("Paris")})},
			})
			results <- outcome{res, err}
		}()
	}
	versions := map[int64]bool{}
	for range writers {
		o := <-results
		if o.err != nil {
			t.Errorf("writer failed: %v", o.err)
			continue
		}
		if versions[o.res.Version] {
			t.Errorf("two writers reported version %d", o.res.Version)
		}
		versions[o.res.Version] = true
	}
	for v := range int64(writers) {
		if !versions[v] {
			t.Errorf("no writer reported version %d", v)
		}
	}

	for v := int64(1); v < writers; v++ {
		for i, line := range readCommitLines(t, store, v) {
			if _, ok := line["protocol"]; ok {
				t.Errorf("commit %d line %d is a protocol action", v, i)
			}
			if _, ok := line["metaData"]; ok {
				t.Errorf("commit %d line %d is a metaData action", v, i)
			}
		}
	}
	reloaded, err := openWriteTable(store).Load(ctx)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if reloaded.Version != writers-1 || reloaded.NumFiles != writers {
		t.Errorf("after %d creates: version %d files %d, want %d and %d", writers, reloaded.Version, reloaded.NumFiles, writers-1, writers)
	}
}
