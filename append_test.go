package safewrite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

func openLocal(t *testing.T, dir string) *safewrite.Table {
	t.Helper()
	tbl, err := safewrite.Open(context.Background(), dir, safewrite.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return tbl
}

func inspect(t *testing.T, tbl *safewrite.Table) *safewrite.Info {
	t.Helper()
	info, err := tbl.Inspect(context.Background())
	if err != nil {
		t.Fatalf("inspect %s: %v", tbl.URI(), err)
	}
	return info
}

func TestAppendFlights3mTwice(t *testing.T) {
	input := testenv.DataFile(t, "flights-3m.parquet")
	tbl := openLocal(t, t.TempDir())
	ctx := context.Background()
	for i, wantRecords := range []int64{3_000_000, 6_000_000} {
		res, err := tbl.AppendFiles(ctx, []string{input}, safewrite.AppendOptions{})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if res.Version != int64(i) {
			t.Errorf("append %d: version %d, want %d", i, res.Version, i)
		}
		if res.PassedThrough != 1 {
			t.Errorf("append %d: %d inputs uploaded unchanged, want 1", i, res.PassedThrough)
		}
		info := inspect(t, tbl)
		if info.NumRecords != wantRecords {
			t.Errorf("after append %d: numRecords %d, want %d", i, info.NumRecords, wantRecords)
		}
		if info.PendingIntents != 0 {
			t.Errorf("after append %d: %d pending intents", i, info.PendingIntents)
		}
	}
	info := inspect(t, tbl)
	if info.Columns[0].Name != "date" || info.Columns[0].Type != format.TypeTimestampNTZ {
		t.Errorf("first column %+v, want date timestamp_ntz", info.Columns[0])
	}
	if p := info.Protocol; p == nil || p.MinReaderVersion != 3 || p.MinWriterVersion != 7 {
		t.Errorf("protocol %+v, want reader 3 writer 7 for timestampNtz", info.Protocol)
	}
}

func TestAppendRewriteMatchesSource(t *testing.T) {
	input := testenv.DataFile(t, "flights-3m.parquet")
	tbl := openLocal(t, t.TempDir())
	res, err := tbl.AppendFiles(context.Background(), []string{input}, safewrite.AppendOptions{Rewrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.PassedThrough != 0 {
		t.Errorf("--rewrite uploaded %d inputs unchanged", res.PassedThrough)
	}
	want := sumColumn(t, []string{input}, "delay")
	got := sumColumn(t, dataFiles(t, tbl), "delay")
	if got != want {
		t.Errorf("sum of delay in the table %d, in the input %d", got, want)
	}
	if res.NumRecords != 3_000_000 {
		t.Errorf("records %d, want 3000000", res.NumRecords)
	}
}

func TestAppendEachInputFormat(t *testing.T) {
	cases := []struct {
		file    string
		records int64
		column  string // an integer column whose sum is compared with the input's
	}{
		{"flights-200k.json", 200_000, "delay"},
		{"flights-200k.arrow", 200_000, "delay"},
		{"airports.csv", 3376, ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			input := testenv.DataFile(t, c.file)
			tbl := openLocal(t, t.TempDir())
			res, err := tbl.AppendFiles(context.Background(), []string{input}, safewrite.AppendOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.NumRecords != c.records {
				t.Errorf("records %d, want %d", res.NumRecords, c.records)
			}
			if got := inspect(t, tbl).NumRecords; got != c.records {
				t.Errorf("inspect numRecords %d, want %d", got, c.records)
			}
			if c.column != "" {
				want := sumColumn(t, []string{input}, c.column)
				got := sumColumn(t, dataFiles(t, tbl), c.column)
				if got != want {
					t.Errorf("sum of %s: table %d, input %d", c.column, got, want)
				}
			}
		})
	}
}

func TestBirdstrikesNeedsColumnMapping(t *testing.T) {
	input := testenv.DataFile(t, "birdstrikes.csv")
	dir := t.TempDir()
	tbl := openLocal(t, dir)
	ctx := context.Background()
	_, err := tbl.AppendFiles(ctx, []string{input}, safewrite.AppendOptions{})
	if !errors.Is(err, safewrite.ErrBadInput) {
		t.Fatalf("append without column mapping: %v, want ErrBadInput", err)
	}
	for _, want := range []string{`"Airport Name"`, "--column-mapping name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	assertEmptyFolder(t, dir)

	res, err := tbl.AppendFiles(ctx, []string{input}, safewrite.AppendOptions{ColumnMapping: "name"})
	if err != nil {
		t.Fatalf("append with column mapping: %v", err)
	}
	if res.NumRecords != 10_000 {
		t.Errorf("records %d, want 10000", res.NumRecords)
	}
	info := inspect(t, tbl)
	if info.Properties["delta.columnMapping.mode"] != "name" {
		t.Errorf("delta.columnMapping.mode = %q, want name", info.Properties["delta.columnMapping.mode"])
	}
	for _, c := range info.Columns {
		if c.PhysicalName == "" || c.PhysicalName == c.Name {
			t.Errorf("column %q has physical name %q, want a generated one", c.Name, c.PhysicalName)
		}
	}
}

func TestAppendPartitionedTable(t *testing.T) {
	dir := t.TempDir()
	tbl := openLocal(t, dir)
	ctx := context.Background()
	res, err := tbl.AppendReader(ctx, strings.NewReader(csvRows(90, 0)), "csv", safewrite.AppendOptions{PartitionBy: []string{"region"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 3 {
		t.Errorf("%d files, want one per region (3)", len(res.Files))
	}
	for _, want := range []string{"region=north", "region=south", "region=east west"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("partition folder %s: %v", want, err)
		}
	}
	// A second append without --partition-by keeps the table's partitioning.
	if _, err := tbl.AppendReader(ctx, strings.NewReader(csvRows(9, 100)), "csv", safewrite.AppendOptions{}); err != nil {
		t.Fatalf("second append: %v", err)
	}
	if got := inspect(t, tbl).NumRecords; got != 99 {
		t.Errorf("records %d, want 99", got)
	}
}

func TestAppendIdempotencyKeySkipsRetry(t *testing.T) {
	tbl := openLocal(t, t.TempDir())
	ctx := context.Background()
	key, err := safewrite.ParseIdempotencyKey("loader:7")
	if err != nil {
		t.Fatal(err)
	}
	opts := safewrite.AppendOptions{IdempotencyKey: key}
	first, err := tbl.AppendReader(ctx, strings.NewReader(csvRows(10, 0)), "csv", opts)
	if err != nil || first.AlreadyApplied {
		t.Fatalf("first append: %+v, %v", first, err)
	}
	retry, err := tbl.AppendReader(ctx, strings.NewReader(csvRows(10, 0)), "csv", opts)
	if err != nil {
		t.Fatalf("retried append: %v", err)
	}
	if !retry.AlreadyApplied {
		t.Errorf("retried append was applied again")
	}
	if got := inspect(t, tbl).NumRecords; got != 10 {
		t.Errorf("records %d after a retry, want 10", got)
	}
}

// TestBadInputLeavesNothing checks that each kind of bad input ends with an
// error that names the problem, and with the table and folder unchanged.
func TestBadInputLeavesNothing(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(t *testing.T, dir string) // prepares the table folder
		input   string                         // file content; the name comes from file
		file    string
		wantErr error
		wantMsg string
	}{
		{
			name: "ragged csv", file: "in.csv", input: "a,b\n1,2\n3\n",
			wantErr: safewrite.ErrBadInput, wantMsg: "row 3",
		},
		{
			name: "value after the inference sample", file: "in.csv",
			input:   "id,n\n" + strings.Repeat("1,2\n", 1500) + "2,not-a-number\n",
			wantErr: safewrite.ErrBadInput, wantMsg: "not-a-number",
		},
		{
			name: "value that does not fit the table type", file: "in.csv",
			setup: func(t *testing.T, dir string) {
				appendCSV(t, dir, "id,n\n1,2\n")
			},
			input:   "id,n\n1,abc\n",
			wantErr: safewrite.ErrBadInput, wantMsg: `"n"`,
		},
		{
			name: "unknown extension", file: "in.xlsx", input: "x",
			wantErr: safewrite.ErrBadInput, wantMsg: ".xlsx",
		},
		{
			name: "missing input file", file: "",
			wantErr: safewrite.ErrNotFound, wantMsg: "does-not-exist.csv",
		},
		{
			name: "folder that is not a delta table", file: "in.csv", input: "a\n1\n",
			setup: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: safewrite.ErrNotTable, wantMsg: "_delta_log",
		},
		{
			name: "unsupported reader version", file: "in.csv", input: "a\n1\n",
			setup: func(t *testing.T, dir string) {
				copyTree(t, testenv.GoldenTable(t, "deltalog-invalid-protocol-version"), dir)
			},
			wantErr: safewrite.ErrUnsupportedFeature, wantMsg: "minReaderVersion",
		},
		{
			name: "check constraint", file: "in.csv", input: "id\n1\n",
			setup: func(t *testing.T, dir string) {
				writeLog(t, dir, `{"protocol":{"minReaderVersion":1,"minWriterVersion":3}}`,
					`{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{"delta.constraints.positive":"id > 0"}}}`)
			},
			wantErr: safewrite.ErrUnsupportedFeature, wantMsg: "checkConstraints",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			before := listTree(t, dir)
			input := filepath.Join(t.TempDir(), "does-not-exist.csv")
			if c.file != "" {
				input = filepath.Join(t.TempDir(), c.file)
				if err := os.WriteFile(input, []byte(c.input), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := openLocal(t, dir).AppendFiles(context.Background(), []string{input}, safewrite.AppendOptions{})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want one matching %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not name %s", err, c.wantMsg)
			}
			after := listTree(t, dir)
			var added []string
			for _, p := range after {
				if !contains(before, p) && !strings.HasPrefix(p, "_safewrite/outcomes/") {
					added = append(added, p)
				}
			}
			if len(added) > 0 {
				t.Errorf("bad input left objects behind: %v", added)
			}
		})
	}
}

func TestAppendMissingBucket(t *testing.T) {
	testenv.S3Endpoint(t)
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, "s3://safewrite-no-such-bucket/t", safewrite.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	_, err = tbl.AppendReader(ctx, strings.NewReader("a\n1\n"), "csv", safewrite.AppendOptions{})
	if !errors.Is(err, safewrite.ErrNotFound) {
		t.Fatalf("error %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "safewrite-no-such-bucket") {
		t.Errorf("error %q does not name the bucket", err)
	}
}

func TestAppendFlights3mToMinIO(t *testing.T) {
	input := testenv.DataFile(t, "flights-3m.parquet")
	bucket := testenv.NewBucket(t)
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, "s3://"+bucket+"/tables/flights", safewrite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{3_000_000, 6_000_000} {
		opts := safewrite.AppendOptions{Rewrite: i == 1, TargetFileSize: 8 << 20}
		res, err := tbl.AppendFiles(ctx, []string{input}, opts)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if res.Version != int64(i) {
			t.Errorf("append %d: version %d", i, res.Version)
		}
		if got := inspect(t, tbl).NumRecords; got != want {
			t.Errorf("after append %d: numRecords %d, want %d", i, got, want)
		}
	}
	// The same data read back through S3 by an independent reader.
	snap, err := deltalog.LoadSnapshot(ctx, tbl.Store(), tbl.URI())
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != 1 {
		t.Errorf("independent reader: version %d, want 1", snap.Version)
	}
	if len(snap.Files) < 3 {
		t.Errorf("independent reader: %d files, want the passthrough file plus several rewritten ones", len(snap.Files))
	}
}

// helpers

func appendCSV(t *testing.T, dir, content string) {
	t.Helper()
	_, err := openLocal(t, dir).AppendReader(context.Background(), strings.NewReader(content), "csv", safewrite.AppendOptions{})
	if err != nil {
		t.Fatalf("set-up append: %v", err)
	}
}

func writeLog(t *testing.T, dir string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "_delta_log"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, deltalog.CommitKey(0)), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func assertEmptyFolder(t *testing.T, dir string) {
	t.Helper()
	if files := listTree(t, dir); len(files) > 0 {
		t.Errorf("folder %s is not empty: %v", dir, files)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// dataFiles returns the absolute paths of the table's active data files.
func dataFiles(t *testing.T, tbl *safewrite.Table) []string {
	t.Helper()
	local, ok := tbl.Store().(*objstore.Local)
	if !ok {
		t.Fatalf("table %s is not local", tbl.URI())
	}
	snap, err := deltalog.LoadSnapshot(context.Background(), local, tbl.URI())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range snap.Files {
		out = append(out, filepath.Join(local.Root(), filepath.FromSlash(strings.ReplaceAll(p, "%20", " "))))
	}
	return out
}

// sumColumn adds up an integer column over Parquet, JSON, CSV or Arrow
// files, read with safewrite's own input readers.
func sumColumn(t *testing.T, files []string, column string) int64 {
	t.Helper()
	var total int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := f.Stat()
		src, err := format.OpenInput(context.Background(), format.Input{Name: name, Reader: f, ReaderAt: f, Size: info.Size()}, format.InputOptions{})
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		col := src.Schema().Index(column)
		if col < 0 {
			t.Fatalf("%s has no column %s", name, column)
		}
		rows := make([]parquet.Row, 1024)
		for {
			n, err := src.ReadRows(rows)
			for _, r := range rows[:n] {
				if v := r[col]; !v.IsNull() {
					total += v.Int64()
				}
			}
			if err != nil {
				break
			}
		}
		src.Close()
		f.Close()
	}
	return total
}
