package conformance

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// fixtureMeta is testdata/<case>/meta.json, written by gen_fixtures.py from
// Spark's DESCRIBE HISTORY and DESCRIBE DETAIL.
type fixtureMeta struct {
	Version          int64    `json:"version"`
	NumFiles         int      `json:"numFiles"`
	NumRows          int      `json:"numRows"`
	PartitionColumns []string `json:"partitionColumns"`
}

// rowsSkipped names the fixtures whose rows this test does not compare yet,
// with the missing piece.
var rowsSkipped = map[string]string{
	"deletion-vectors": "TODO: reading deletion vectors (RoaringBitmapArray files deletion_vector_*.bin) is not implemented, so rows deleted by a DV would be counted",
	"nested-types":     "TODO: format.Schema has top-level primitive columns only, so struct, array and map values cannot be read back",
}

func TestSparkFixtures(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "*", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 12 {
		t.Fatalf("found %d fixtures under testdata/, want 12: run gen_fixtures.py", len(cases))
	}
	for _, metaPath := range cases {
		dir := filepath.Dir(metaPath)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			checkFixture(t, name, dir)
		})
	}
}

func checkFixture(t *testing.T, name, dir string) {
	ctx := context.Background()
	var meta fixtureMeta
	readJSON(t, filepath.Join(dir, "meta.json"), &meta)
	tableDir, err := filepath.Abs(filepath.Join(dir, "table"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.NewLocal(tableDir)
	if err != nil {
		t.Fatal(err)
	}

	snap, err := deltalog.LoadSnapshot(ctx, store, store.URI())
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	if snap.Version != meta.Version {
		t.Errorf("snapshot version = %d, Spark's DESCRIBE HISTORY says %d", snap.Version, meta.Version)
	}
	if len(snap.Files) != meta.NumFiles {
		t.Errorf("snapshot has %d active files, Spark's DESCRIBE DETAIL says %d", len(snap.Files), meta.NumFiles)
	}
	if !slices.Equal(nonNil(snap.Metadata.PartitionColumns), nonNil(meta.PartitionColumns)) {
		t.Errorf("partition columns = %q, Spark says %q", snap.Metadata.PartitionColumns, meta.PartitionColumns)
	}

	table, err := safewrite.Open(ctx, tableDir, safewrite.Options{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	info, err := table.Inspect(ctx)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if info.Version != meta.Version || info.NumFiles != int64(meta.NumFiles) {
		t.Errorf("Inspect: version %d, %d files; want version %d, %d files", info.Version, info.NumFiles, meta.Version, meta.NumFiles)
	}

	if live, ok := liveRecords(t, snap); ok && live != int64(meta.NumRows) {
		t.Errorf("stats numRecords minus deletion vector cardinality = %d, Spark returns %d rows", live, meta.NumRows)
	}

	if reason, ok := rowsSkipped[name]; ok {
		t.Skip(reason)
	}
	schema, err := deltalog.SchemaFromJSON(snap.Metadata.SchemaString)
	if err != nil {
		t.Fatalf("SchemaFromJSON: %v", err)
	}
	var got []string
	for _, add := range snap.Files {
		got = append(got, readDataFile(t, tableDir, add, schema)...)
	}
	slices.Sort(got)
	want := readLines(t, filepath.Join(dir, "expected.json"))
	if len(want) != meta.NumRows {
		t.Fatalf("expected.json has %d rows, meta.json says %d", len(want), meta.NumRows)
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows differ from Spark's\ngot:\n%s\nwant:\n%s", joinLines(got), joinLines(want))
	}
}

// liveRecords returns the sum over active files of stats numRecords minus
// the deletion vector's cardinality; ok is false when a file has no stats.
func liveRecords(t *testing.T, snap *deltalog.Snapshot) (live int64, ok bool) {
	t.Helper()
	for _, add := range snap.Files {
		if add.Stats == "" {
			return 0, false
		}
		var stats struct {
			NumRecords *int64 `json:"numRecords"`
		}
		if err := json.Unmarshal([]byte(add.Stats), &stats); err != nil {
			t.Fatalf("stats of %s: %v", add.Path, err)
		}
		if stats.NumRecords == nil {
			return 0, false
		}
		live += *stats.NumRecords
		if add.DeletionVector != nil {
			live -= add.DeletionVector.Cardinality
		}
	}
	return live, true
}

// readDataFile returns the rows of one data file as canonical JSON objects
// (the form gen_fixtures.py writes), with partition values from add and
// columns the file lacks (added by a later schema change) as null.
func readDataFile(t *testing.T, tableDir string, add *deltalog.Add, schema *format.Schema) []string {
	t.Helper()
	rel, err := url.PathUnescape(add.Path)
	if err != nil {
		t.Fatalf("add path %q: %v", add.Path, err)
	}
	f, err := os.Open(filepath.Join(tableDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	src, err := format.OpenInput(context.Background(), format.Input{Name: rel, ReaderAt: f, Size: st.Size()}, format.InputOptions{Format: format.FormatParquet})
	if err != nil {
		t.Fatalf("OpenInput %s: %v", rel, err)
	}
	defer src.Close()
	fileColumn := make(map[string]int)
	for i, field := range src.Schema().Fields {
		fileColumn[field.Name] = i
	}

	var out []string
	buf := make([]parquet.Row, 16)
	for {
		n, err := src.ReadRows(buf)
		for _, row := range buf[:n] {
			obj := make(map[string]any, len(schema.Fields))
			for _, field := range schema.Fields {
				obj[field.Name] = columnValue(t, field, row, fileColumn, add.PartitionValues)
			}
			text, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, canonicalJSON(t, text))
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("ReadRows %s: %v", rel, err)
		}
	}
}

func columnValue(t *testing.T, field format.Field, row parquet.Row, fileColumn map[string]int, partitions map[string]*string) any {
	t.Helper()
	physical := field.PhysicalName
	if physical == "" {
		physical = field.Name
	}
	for _, key := range []string{physical, field.Name} {
		if v, ok := partitions[key]; ok {
			if v == nil {
				return nil
			}
			return partitionValue(t, field, *v)
		}
	}
	i, ok := fileColumn[physical]
	if !ok || row[i].IsNull() {
		return nil
	}
	return renderValue(t, field.Type, row[i])
}

// renderValue renders v, in the RowSource representation of typ, as
// gen_fixtures.py's canonical() renders Spark's value.
func renderValue(t *testing.T, typ format.Type, v parquet.Value) any {
	t.Helper()
	switch typ.Name {
	case format.TypeString:
		return string(v.ByteArray())
	case format.TypeBinary:
		return base64.StdEncoding.EncodeToString(v.ByteArray())
	case format.TypeLong:
		return v.Int64()
	case format.TypeInteger, format.TypeShort, format.TypeByte:
		return v.Int32()
	case format.TypeFloat:
		return float64(v.Float())
	case format.TypeDouble:
		return v.Double()
	case format.TypeBoolean:
		return v.Boolean()
	case format.TypeDate:
		return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
	case format.TypeTimestamp, format.TypeTimestampNTZ:
		return time.UnixMicro(v.Int64()).UTC().Format("2006-01-02T15:04:05.000000")
	case format.TypeDecimal:
		return decimalString(v.ByteArray(), typ.Scale)
	}
	t.Fatalf("no rendering for column type %s", typ)
	return nil
}

// partitionValue converts a Delta partition value string to the canonical form.
func partitionValue(t *testing.T, field format.Field, s string) any {
	t.Helper()
	switch field.Type.Name {
	case format.TypeLong, format.TypeInteger, format.TypeShort, format.TypeByte:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("partition value %q of %s: %v", s, field.Name, err)
		}
		return n
	case format.TypeString, format.TypeDate:
		return s
	}
	t.Fatalf("no rendering for partition column %s of type %s", field.Name, field.Type)
	return nil
}

// decimalString renders a big-endian two's complement unscaled value with
// scale digits after the point, as Python's str(Decimal) does.
func decimalString(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	sign := ""
	if n.Sign() < 0 {
		sign = "-"
		n.Neg(n)
	}
	digits := n.String()
	if scale == 0 {
		return sign + digits
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

func TestDecimalString(t *testing.T) {
	tests := []struct {
		name  string
		value int64
		scale int
		want  string
	}{
		{"positive with scale", 1230, 2, "12.30"},
		{"negative with scale", -9999999999, 2, "-99999999.99"},
		{"below one", 5, 3, "0.005"},
		{"scale zero", -42, 0, "-42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, 8)
			binary.BigEndian.PutUint64(b, uint64(tt.value))
			if got := decimalString(b, tt.scale); got != tt.want {
				t.Errorf("decimalString(%d, %d) = %q, want %q", tt.value, tt.scale, got, tt.want)
			}
		})
	}
}

// canonicalJSON decodes one JSON object and encodes it again, so rows from
// Python and from Go compare byte for byte: sorted keys, and every number
// formatted from a float64 (exact for the fixtures' values).
func canonicalJSON(t *testing.T, text []byte) string {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(text, &obj); err != nil {
		t.Fatalf("row %s: %v", text, err)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// readLines returns expected.json's rows in canonical form, sorted.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		lines = append(lines, canonicalJSON(t, scanner.Bytes()))
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return lines
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
