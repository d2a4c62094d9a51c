package deltalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

func TestCheckpointWrittenAtInterval(t *testing.T) {
	ctx := context.Background()
	store := newLocalStore(t)
	in := schemaOf(col("id", format.TypeLong), col("day", format.TypeDate), col("ts", format.TypeTimestampNTZ))
	tbl, _ := createTable(t, store, in, format.AppendOptions{PartitionColumns: []string{"day"}, ColumnMapping: "name"},
		dataFile("day=2020-01-01/part-0.parquet", 3, map[string]*string{"day": strPtr("2020-01-01")}))

	for v := int64(1); v <= 10; v++ {
		req := format.CommitRequest{
			BaseVersion: v - 1,
			TxnID:       fmt.Sprintf("txn-%d", v),
			Files:       []format.DataFile{dataFile(fmt.Sprintf("day=2020-01-%02d/part-%d.parquet", v, v), v, map[string]*string{"day": strPtr(fmt.Sprintf("2020-01-%02d", v))})},
			Idempotency: &format.IdempotencyKey{AppID: fmt.Sprintf("app-%d", v%3), Version: v},
		}
		if _, err := tbl.Commit(ctx, req); err != nil {
			t.Fatalf("commit %d: %v", v, err)
		}
		_, err := store.Stat(ctx, CheckpointKey(v))
		if v < 10 && !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("checkpoint at version %d, before the interval (stat error %v)", v, err)
		}
	}

	data, err := objstore.ReadAll(ctx, store, LastCheckpointKey)
	if err != nil {
		t.Fatalf("read _last_checkpoint: %v", err)
	}
	var last lastCheckpoint
	if err := json.Unmarshal(data, &last); err != nil {
		t.Fatalf("_last_checkpoint %q: %v", data, err)
	}
	// protocol + metaData + 3 txn + 11 add
	if last.Version != 10 || last.Size != 16 || last.NumOfAddFiles != 11 {
		t.Errorf("_last_checkpoint %+v, want version 10, size 16, 11 add files", last)
	}
	assertCheckpointMatchesReplay(t, store, 10)
}

// assertCheckpointMatchesReplay checks that the snapshot of version read
// from its checkpoint equals the one replayed without that checkpoint.
func assertCheckpointMatchesReplay(t *testing.T, store objstore.Store, version int64) {
	t.Helper()
	ctx := context.Background()
	key := CheckpointKey(version)
	fromCheckpoint, err := LoadSnapshotAt(ctx, store, store.URI(), version)
	if err != nil {
		t.Fatalf("load version %d from its checkpoint: %v", version, err)
	}
	if fromCheckpoint.CheckpointVersion != version {
		t.Fatalf("replay of version %d started from checkpoint %d, want the written checkpoint %d", version, fromCheckpoint.CheckpointVersion, version)
	}

	data, err := objstore.ReadAll(ctx, store, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if err := store.Delete(ctx, key); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
	defer func() {
		if err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Errorf("restore %s: %v", key, err)
		}
	}()
	fromLog, err := LoadSnapshotAt(ctx, store, store.URI(), version)
	if err != nil {
		t.Fatalf("load version %d without the checkpoint: %v", version, err)
	}

	if got, want := describeProtocol(fromCheckpoint.Protocol), describeProtocol(fromLog.Protocol); got != want {
		t.Errorf("checkpoint protocol %s, replay %s", got, want)
	}
	if got, want := describeMetadata(fromCheckpoint.Metadata), describeMetadata(fromLog.Metadata); got != want {
		t.Errorf("checkpoint metadata %s\nreplay metadata %s", got, want)
	}
	if got, want := fmt.Sprint(fromCheckpoint.AppVersions), fmt.Sprint(fromLog.AppVersions); got != want {
		t.Errorf("checkpoint app versions %s, replay %s", got, want)
	}
	if len(fromCheckpoint.Files) != len(fromLog.Files) {
		t.Errorf("checkpoint has %d files, replay %d", len(fromCheckpoint.Files), len(fromLog.Files))
	}
	for path, want := range fromLog.Files {
		got, ok := fromCheckpoint.Files[path]
		if !ok {
			t.Errorf("checkpoint lacks file %s", path)
			continue
		}
		if describeAdd(got) != describeAdd(want) {
			t.Errorf("file %s: checkpoint %s, replay %s", path, describeAdd(got), describeAdd(want))
		}
	}
}

func describeProtocol(p *Protocol) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%d/%d %v %v", p.MinReaderVersion, p.MinWriterVersion, p.ReaderFeatures, p.WriterFeatures)
}

func describeMetadata(m *Metadata) string {
	if m == nil {
		return "<nil>"
	}
	created := "<nil>"
	if m.CreatedTime != nil {
		created = fmt.Sprint(*m.CreatedTime)
	}
	return fmt.Sprintf("id=%s provider=%s options=%v schema=%s partitions=%v conf=%v created=%s",
		m.ID, m.Format.Provider, m.Format.Options, m.SchemaString, m.PartitionColumns, m.Configuration, created)
}

// describeAdd lists the fields a checkpoint keeps; dataChange is false in
// checkpoints by design.
func describeAdd(a *Add) string {
	values := make(map[string]string, len(a.PartitionValues))
	for k, v := range a.PartitionValues {
		values[k] = "<null>"
		if v != nil {
			values[k] = *v
		}
	}
	return fmt.Sprintf("path=%s values=%v size=%d mtime=%d stats=%s tags=%v", a.Path, values, a.Size, a.ModificationTime, a.Stats, a.Tags)
}

// TestCheckpointSchemaMatchesSpark compares the Parquet schema of a written
// checkpoint with the one Spark (Delta 3.0) wrote in the golden table
// "checkpoint", group by group.
func TestCheckpointSchemaMatchesSpark(t *testing.T) {
	golden := testenv.GoldenTable(t, "checkpoint") + "/_delta_log/00000000000000000010.checkpoint.parquet"
	sparkData, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read Spark checkpoint: %v", err)
	}
	spark, err := parquet.OpenFile(bytes.NewReader(sparkData), int64(len(sparkData)))
	if err != nil {
		t.Fatalf("open Spark checkpoint: %v", err)
	}
	ours, err := encodeCheckpoint(nil)
	if err != nil {
		t.Fatalf("encode empty checkpoint: %v", err)
	}
	written, err := parquet.OpenFile(bytes.NewReader(ours), int64(len(ours)))
	if err != nil {
		t.Fatalf("open written checkpoint: %v", err)
	}
	if written.Schema().Name() != "spark_schema" {
		t.Errorf("root name %q, want spark_schema", written.Schema().Name())
	}

	sparkGroups := map[string]parquet.Field{}
	for _, f := range spark.Schema().Fields() {
		sparkGroups[f.Name()] = f
	}
	for _, f := range written.Schema().Fields() {
		t.Run(f.Name(), func(t *testing.T) {
			want, ok := sparkGroups[f.Name()]
			if !ok {
				t.Fatalf("Spark's checkpoint has no top-level field %q", f.Name())
			}
			if got, want := describeNode(f), describeNode(want); got != want {
				t.Errorf("schema differs from Spark's\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// describeNode renders a Parquet schema node: name, repetition, physical
// and logical type, and children in order.
func describeNode(f parquet.Field) string {
	rep := "required"
	switch {
	case f.Optional():
		rep = "optional"
	case f.Repeated():
		rep = "repeated"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", rep, f.Name())
	if f.Leaf() {
		fmt.Fprintf(&b, " %s", f.Type().Kind())
	}
	if lt := f.Type().LogicalType(); lt != nil {
		fmt.Fprintf(&b, " (%s)", lt)
	}
	if !f.Leaf() {
		b.WriteString(" {")
		for _, c := range f.Fields() {
			b.WriteString(" " + describeNode(c) + ";")
		}
		b.WriteString(" }")
	}
	return b.String()
}

func TestCheckpointFailureKeepsCommit(t *testing.T) {
	ctx := context.Background()
	store := newLocalStore(t)
	createTable(t, store, schemaOf(col("a", format.TypeLong)), format.AppendOptions{})
	faulty := objstore.NewFaulty(store, objstore.FailKey(CheckpointKey(2), objstore.OpPut))
	var logs bytes.Buffer
	tbl := Open(faulty, Options{Clock: fixedClock, CheckpointInterval: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	for v := int64(1); v <= 2; v++ {
		res, err := tbl.Commit(ctx, format.CommitRequest{BaseVersion: v - 1, TxnID: fmt.Sprintf("txn-%d", v),
			Files: []format.DataFile{dataFile(fmt.Sprintf("part-%d.parquet", v), 1, nil)}})
		if err != nil {
			t.Fatalf("commit %d failed with the checkpoint: %v", v, err)
		}
		if res.Version != v {
			t.Errorf("commit %d landed at version %d", v, res.Version)
		}
	}
	if faulty.Injected() != 1 {
		t.Errorf("injected %d faults, want 1 on the checkpoint put", faulty.Injected())
	}
	if !strings.Contains(logs.String(), "delta checkpoint failed") || !strings.Contains(logs.String(), "version=2") {
		t.Errorf("log %q does not report the failed checkpoint of version 2", logs.String())
	}
	if _, err := store.Stat(ctx, LastCheckpointKey); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("_last_checkpoint written although the checkpoint failed (stat error %v)", err)
	}
}
