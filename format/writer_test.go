package format

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"

	"github.com/safewrite/safewrite/objstore"
)

// sliceSource is a RowSource over rows held in memory.
type sliceSource struct {
	schema *Schema
	rows   []parquet.Row
	pos    int
}

func (s *sliceSource) Schema() *Schema { return s.schema }
func (s *sliceSource) Close() error    { return nil }
func (s *sliceSource) ReadRows(rows []parquet.Row) (int, error) {
	n := 0
	for n < len(rows) && s.pos < len(s.rows) {
		rows[n] = append(rows[n][:0], s.rows[s.pos]...)
		n++
		s.pos++
	}
	if s.pos == len(s.rows) {
		return n, io.EOF
	}
	return n, nil
}

// row builds a RowSource row, setting each value's column index.
func row(values ...parquet.Value) parquet.Row {
	r := make(parquet.Row, len(values))
	for i, v := range values {
		r[i] = v.Level(0, 0, i)
	}
	return r
}

func str(s string) parquet.Value  { return parquet.ByteArrayValue([]byte(s)) }
func null() parquet.Value         { return parquet.NullValue() }
func i64(x int64) parquet.Value   { return parquet.Int64Value(x) }
func i32(x int32) parquet.Value   { return parquet.Int32Value(x) }
func dec(x int64) parquet.Value   { return parquet.ByteArrayValue(twosComplementBytes(big.NewInt(x))) }
func f32(x float32) parquet.Value { return parquet.FloatValue(x) }
func f64(x float64) parquet.Value { return parquet.DoubleValue(x) }

func newTestStore(t *testing.T) *objstore.Local {
	t.Helper()
	s, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return s
}

// keyNamer returns a NewFile that hands out numbered keys and records them.
func keyNamer(keys *[]string) func(context.Context, string) (string, error) {
	return func(_ context.Context, dir string) (string, error) {
		k := fmt.Sprintf("%spart-%05d.snappy.parquet", dir, len(*keys))
		*keys = append(*keys, k)
		return k, nil
	}
}

// openStored opens a stored data file with parquet-go.
func openStored(t *testing.T, store *objstore.Local, key string) *parquet.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(store.Root(), filepath.FromSlash(key)))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open %s as parquet: %v", key, err)
	}
	return f
}

func readAllRows(t *testing.T, f *parquet.File) []parquet.Row {
	t.Helper()
	r := parquet.NewReader(f)
	defer r.Close()
	var out []parquet.Row
	buf := make([]parquet.Row, 100)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			out = append(out, row.Clone())
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read rows: %v", err)
		}
	}
}

var allTypesSchema = &Schema{Fields: []Field{
	{Name: "s", Type: Type{Name: TypeString}, Nullable: true},
	{Name: "l", Type: Type{Name: TypeLong}, Nullable: false},
	{Name: "i", Type: Type{Name: TypeInteger}, Nullable: true},
	{Name: "sh", Type: Type{Name: TypeShort}, Nullable: true},
	{Name: "b", Type: Type{Name: TypeByte}, Nullable: true},
	{Name: "f", Type: Type{Name: TypeFloat}, Nullable: true},
	{Name: "d", Type: Type{Name: TypeDouble}, Nullable: true},
	{Name: "bo", Type: Type{Name: TypeBoolean}, Nullable: true},
	{Name: "bin", Type: Type{Name: TypeBinary}, Nullable: true},
	{Name: "dt", Type: Type{Name: TypeDate}, Nullable: true},
	{Name: "ts", Type: Type{Name: TypeTimestamp}, Nullable: true},
	{Name: "ntz", Type: Type{Name: TypeTimestampNTZ}, Nullable: true},
	{Name: "d9", Type: Type{Name: TypeDecimal, Precision: 9, Scale: 2}, Nullable: true},
	{Name: "d18", Type: Type{Name: TypeDecimal, Precision: 18, Scale: 3}, Nullable: true},
	{Name: "d38", Type: Type{Name: TypeDecimal, Precision: 38, Scale: 4}, Nullable: true, PhysicalName: "col-d38", ID: 7},
}}

// 2021-11-18T02:30:00.123456Z in microseconds.
const tsMicros = 1637202600123456

func allTypesRows() []parquet.Row {
	return []parquet.Row{
		row(str("b"), i64(-5), i32(7), i32(-300), i32(-8), f32(1.5), f64(2.25), parquet.BooleanValue(true),
			parquet.ByteArrayValue([]byte{0, 1}), i32(18949), i64(tsMicros), i64(tsMicros), dec(-12345), dec(1234567890123), dec(-99999999999999)),
		row(str("a"), i64(9), i32(-7), i32(300), i32(127), f32(float32(math.NaN())), f64(-1e300), parquet.BooleanValue(false),
			parquet.ByteArrayValue([]byte{9}), i32(-1), i64(-1), i64(0), dec(999999999), dec(-1), dec(12)),
		row(null(), i64(0), null(), null(), null(), null(), null(), null(), null(), null(), null(), null(), null(), null(), null()),
	}
}

func TestWriteDataFilesRoundTrip(t *testing.T) {
	store := newTestStore(t)
	var keys []string
	rows := allTypesRows()
	files, err := WriteDataFiles(context.Background(), &sliceSource{schema: allTypesSchema, rows: rows},
		WriterOptions{Schema: allTypesSchema, Store: store, NewFile: keyNamer(&keys)})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	if len(files) != 1 {
		t.Fatalf("got %d files, want 1", len(files))
	}
	df := files[0]
	if df.Path != keys[0] || df.NumRecords != 3 {
		t.Errorf("DataFile = %+v, want path %s and 3 records", df, keys[0])
	}
	info, err := store.Stat(context.Background(), df.Path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if info.Size != df.Size {
		t.Errorf("DataFile.Size = %d, stored object is %d bytes", df.Size, info.Size)
	}

	f := openStored(t, store, df.Path)
	t.Run("schema types", func(t *testing.T) {
		want := map[string]string{
			"s":       "optional binary s (STRING)",
			"l":       "required int64 l",
			"i":       "optional int32 i",
			"sh":      "optional int32 sh (INT(16,true))",
			"b":       "optional int32 b (INT(8,true))",
			"f":       "optional float f",
			"d":       "optional double d",
			"bo":      "optional boolean bo",
			"bin":     "optional binary bin",
			"dt":      "optional int32 dt (DATE)",
			"ts":      "optional int64 ts (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS))",
			"ntz":     "optional int64 ntz (TIMESTAMP(isAdjustedToUTC=false,unit=MICROS))",
			"d9":      "optional int32 d9 (DECIMAL(9,2))",
			"d18":     "optional int64 d18 (DECIMAL(18,3))",
			"col-d38": "optional fixed_len_byte_array(16) col-d38 (DECIMAL(38,4))",
		}
		schemaText := f.Schema().String()
		for name, line := range want {
			if !strings.Contains(schemaText, line) {
				t.Errorf("column %s: schema lacks %q:\n%s", name, line, schemaText)
			}
		}
		cols := f.Root().Columns()
		for i, field := range allTypesSchema.Fields {
			if cols[i].Name() != physicalName(field) {
				t.Errorf("column %d is %q, want %q (field order kept)", i, cols[i].Name(), physicalName(field))
			}
		}
		for _, el := range f.Metadata().Schema {
			switch el.Name {
			case "ntz":
				if ct, ok := el.ConvertedType.Get(); ok {
					t.Errorf("timestamp_ntz column has converted type %d, want none", ct)
				}
			case "ts":
				if ct, ok := el.ConvertedType.Get(); !ok || ct != deprecated.TimestampMicros {
					t.Errorf("timestamp column converted type = %d (set %v), want TIMESTAMP_MICROS", ct, ok)
				}
			}
		}
		if id := f.Root().Column("col-d38").ID(); id != 7 {
			t.Errorf("field id of col-d38 = %d, want 7", id)
		}
	})

	t.Run("values", func(t *testing.T) {
		got := readAllRows(t, f)
		if len(got) != len(rows) {
			t.Fatalf("read %d rows, want %d", len(got), len(rows))
		}
		for r := range rows {
			for c, field := range allTypesSchema.Fields {
				want := rows[r][c]
				gv := got[r][c]
				if want.IsNull() != gv.IsNull() {
					t.Errorf("row %d column %s: null = %v, want %v", r, field.Name, gv.IsNull(), want.IsNull())
					continue
				}
				if want.IsNull() {
					continue
				}
				if field.Type.Name == TypeDecimal {
					wantN := setTwosComplement(new(big.Int), want.ByteArray())
					var gotN *big.Int
					switch gv.Kind() {
					case parquet.Int32:
						gotN = big.NewInt(int64(gv.Int32()))
					case parquet.Int64:
						gotN = big.NewInt(gv.Int64())
					default:
						gotN = setTwosComplement(new(big.Int), gv.ByteArray())
					}
					if wantN.Cmp(gotN) != 0 {
						t.Errorf("row %d column %s = %s, want %s", r, field.Name, gotN, wantN)
					}
					continue
				}
				if field.Type.Name == TypeFloat && math.IsNaN(float64(want.Float())) {
					if !math.IsNaN(float64(gv.Float())) {
						t.Errorf("row %d column f = %v, want NaN", r, gv.Float())
					}
					continue
				}
				if !parquet.Equal(want.Level(0, 0, 0), gv.Level(0, 0, 0)) {
					t.Errorf("row %d column %s = %v, want %v", r, field.Name, gv, want)
				}
			}
		}
	})
}

func TestWriteDataFilesStats(t *testing.T) {
	store := newTestStore(t)
	var keys []string
	files, err := WriteDataFiles(context.Background(), &sliceSource{schema: allTypesSchema, rows: allTypesRows()},
		WriterOptions{Schema: allTypesSchema, Store: store, NewFile: keyNamer(&keys)})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	st := files[0].Stats
	if st.NumRecords != 3 {
		t.Errorf("numRecords = %d, want 3", st.NumRecords)
	}
	cases := []struct {
		column   string
		min, max any // nil: no min/max expected
		nulls    int64
	}{
		{"s", "a", "b", 1},
		{"l", int64(-5), int64(9), 0},
		{"i", int64(-7), int64(7), 1},
		{"sh", int64(-300), int64(300), 1},
		{"b", int64(-8), int64(127), 1},
		{"f", float32(1.5), float32(1.5), 1}, // NaN skipped
		{"d", -1e300, 2.25, 1},
		{"bo", nil, nil, 1},
		{"bin", nil, nil, 1},
		{"dt", "1969-12-31", "2021-11-18", 1},
		{"ts", "1969-12-31T23:59:59.999Z", "2021-11-18T02:30:00.123Z", 1},
		{"ntz", "1970-01-01T00:00:00.000", "2021-11-18T02:30:00.123", 1},
		{"d9", "-123.45", "9999999.99", 1},
		{"d18", "-0.001", "1234567890.123", 1},
		{"col-d38", "-9999999999.9999", "0.0012", 1},
	}
	for _, tc := range cases {
		t.Run(tc.column, func(t *testing.T) {
			if got := st.NullCount[tc.column]; got != tc.nulls {
				t.Errorf("nullCount = %d, want %d", got, tc.nulls)
			}
			gotMin, hasMin := st.MinValues[tc.column]
			gotMax, hasMax := st.MaxValues[tc.column]
			if tc.min == nil {
				if hasMin || hasMax {
					t.Errorf("min/max = %v/%v, want none", gotMin, gotMax)
				}
				return
			}
			if fmt.Sprint(gotMin) != fmt.Sprint(tc.min) {
				t.Errorf("min = %v (%T), want %v", gotMin, gotMin, tc.min)
			}
			if fmt.Sprint(gotMax) != fmt.Sprint(tc.max) {
				t.Errorf("max = %v (%T), want %v", gotMax, gotMax, tc.max)
			}
		})
	}

	t.Run("footer stats match", func(t *testing.T) {
		footer, err := ParquetFooterStats(openStored(t, store, files[0].Path), allTypesSchema)
		if err != nil {
			t.Fatalf("ParquetFooterStats: %v", err)
		}
		if footer.NumRecords != st.NumRecords {
			t.Errorf("footer numRecords = %d, want %d", footer.NumRecords, st.NumRecords)
		}
		for _, tc := range cases {
			if footer.NullCount[tc.column] != st.NullCount[tc.column] {
				t.Errorf("%s: footer nullCount = %d, writer %d", tc.column, footer.NullCount[tc.column], st.NullCount[tc.column])
			}
			if fmt.Sprint(footer.MinValues[tc.column]) != fmt.Sprint(st.MinValues[tc.column]) {
				t.Errorf("%s: footer min = %v, writer %v", tc.column, footer.MinValues[tc.column], st.MinValues[tc.column])
			}
			if fmt.Sprint(footer.MaxValues[tc.column]) != fmt.Sprint(st.MaxValues[tc.column]) {
				t.Errorf("%s: footer max = %v, writer %v", tc.column, footer.MaxValues[tc.column], st.MaxValues[tc.column])
			}
		}
	})
}

func TestStringStatsTruncation(t *testing.T) {
	long := strings.Repeat("x", 40)
	cases := []struct {
		name, in, wantMin, wantMax string
	}{
		{"short string kept", "abc", "abc", "abc"},
		{"exactly 32 kept", strings.Repeat("y", 32), strings.Repeat("y", 32), strings.Repeat("y", 32)},
		{"long ascii", long, long[:32], long[:32] + "\uFFFD"},
		{"multibyte counted as characters", strings.Repeat("é", 40), strings.Repeat("é", 32), strings.Repeat("é", 32) + "\uFFFD"},
		{"max extends over high characters", strings.Repeat("a", 32) + "\uFFFF\U0001F600b", strings.Repeat("a", 32), strings.Repeat("a", 32) + "\uFFFF\U0001F600\uFFFD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncateMinString(tc.in); got != tc.wantMin {
				t.Errorf("min = %q, want %q", got, tc.wantMin)
			}
			got := truncateMaxString(tc.in)
			if got != tc.wantMax {
				t.Errorf("max = %q, want %q", got, tc.wantMax)
			}
			if got < tc.in {
				t.Errorf("max %q sorts below the value %q", got, tc.in)
			}
		})
	}
}

// sequenceSource generates n rows of (id long, name string, score double).
type sequenceSource struct {
	schema *Schema
	n, pos int
	group  func(i int) parquet.Value
}

func (s *sequenceSource) Schema() *Schema { return s.schema }
func (s *sequenceSource) Close() error    { return nil }
func (s *sequenceSource) ReadRows(rows []parquet.Row) (int, error) {
	k := 0
	for k < len(rows) && s.pos < s.n {
		i := s.pos
		r := append(rows[k][:0],
			parquet.Int64Value(int64(i)).Level(0, 0, 0),
			parquet.ByteArrayValue(fmt.Appendf(nil, "name-%07d", i)).Level(0, 0, 1),
			parquet.DoubleValue(float64(i)/7).Level(0, 0, 2),
		)
		if s.group != nil {
			r = append(r, s.group(i).Level(0, 0, 3))
		}
		rows[k] = r
		k++
		s.pos++
	}
	if s.pos == s.n {
		return k, io.EOF
	}
	return k, nil
}

var seqSchema = &Schema{Fields: []Field{
	{Name: "id", Type: Type{Name: TypeLong}},
	{Name: "name", Type: Type{Name: TypeString}, Nullable: true},
	{Name: "score", Type: Type{Name: TypeDouble}, Nullable: true},
}}

func TestWriteDataFilesRollsAtTargetSize(t *testing.T) {
	store := newTestStore(t)
	var keys []string
	var progress []int64
	const n = 200_000
	files, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema, n: n},
		WriterOptions{
			Schema: seqSchema, Store: store, NewFile: keyNamer(&keys),
			TargetFileSize: 512 << 10, Codec: "zstd",
			Progress: func(b int64) { progress = append(progress, b) },
		})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	if len(files) < 3 {
		t.Fatalf("got %d files, want several with a 512 KiB target", len(files))
	}

	var total, totalSize int64
	for i, df := range files {
		total += df.NumRecords
		totalSize += df.Size
		f := openStored(t, store, df.Path)
		if f.NumRows() != df.NumRecords {
			t.Errorf("file %d: footer has %d rows, DataFile says %d", i, f.NumRows(), df.NumRecords)
		}
		if df.Stats.MinValues["id"] == nil {
			t.Errorf("file %d: no id min", i)
		}
		// One row group of overshoot at most.
		if df.Size > 2*(512<<10) {
			t.Errorf("file %d is %d bytes, far past the 512 KiB target", i, df.Size)
		}
	}
	if total != n {
		t.Errorf("files hold %d rows, want %d", total, n)
	}
	if len(progress) == 0 || progress[len(progress)-1] != totalSize {
		t.Errorf("last progress report = %v, want %d", progress[len(progress)-1:], totalSize)
	}
	if len(keys) != len(files) {
		t.Errorf("NewFile called %d times for %d files", len(keys), len(files))
	}
}

func TestWriteDataFilesEmptyInput(t *testing.T) {
	var keys []string
	files, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema},
		WriterOptions{Schema: seqSchema, Store: newTestStore(t), NewFile: keyNamer(&keys)})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	if len(files) != 0 {
		t.Errorf("got %d files for no rows, want none", len(files))
	}
	if len(keys) != 0 {
		t.Errorf("NewFile called %d times for no rows", len(keys))
	}
}

func TestWriteDataFilesPartitioned(t *testing.T) {
	schema := &Schema{Fields: []Field{
		{Name: "id", Type: Type{Name: TypeLong}},
		{Name: "name", Type: Type{Name: TypeString}, Nullable: true},
		{Name: "score", Type: Type{Name: TypeDouble}, Nullable: true},
		{Name: "region", Type: Type{Name: TypeString}, Nullable: true},
	}}
	regions := []parquet.Value{str("a/b"), str("x=y"), str("new york"), null(), str("")}
	store := newTestStore(t)
	var keys []string
	const n = 5000
	files, err := WriteDataFiles(context.Background(),
		&sequenceSource{schema: schema, n: n, group: func(i int) parquet.Value { return regions[i%len(regions)] }},
		WriterOptions{Schema: schema, Store: store, NewFile: keyNamer(&keys), PartitionColumns: []string{"region"}})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	wantDirs := map[string]*string{
		"region=a%2Fb/":                      ptr("a/b"),
		"region=x%3Dy/":                      ptr("x=y"),
		"region=new york/":                   ptr("new york"),
		"region=__HIVE_DEFAULT_PARTITION__/": nil,
	}

	rowsPerDir := map[string]int64{}
	for _, df := range files {
		dir := df.Path[:strings.LastIndex(df.Path, "/")+1]
		want, ok := wantDirs[dir]
		if !ok {
			t.Errorf("unexpected folder %q", dir)
			continue
		}
		got := df.PartitionValues["region"]
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("folder %q: partition value %v, want %v", dir, deref(got), deref(want))
		}
		rowsPerDir[dir] += df.NumRecords
		f := openStored(t, store, df.Path)
		if f.Root().Column("region") != nil {
			t.Errorf("file %s still holds the partition column", df.Path)
		}
		if len(f.Root().Columns()) != 3 {
			t.Errorf("file %s has %d columns, want 3", df.Path, len(f.Root().Columns()))
		}
	}
	if got := rowsPerDir["region=__HIVE_DEFAULT_PARTITION__/"]; got != 2*n/5 {
		t.Errorf("null and empty partition hold %d rows, want %d", got, 2*n/5)
	}
	if got := rowsPerDir["region=a%2Fb/"]; got != n/5 {
		t.Errorf("region a/b holds %d rows, want %d", got, n/5)
	}
}

func TestWriteDataFilesManyPartitions(t *testing.T) {
	schema := &Schema{Fields: []Field{
		{Name: "id", Type: Type{Name: TypeLong}},
		{Name: "name", Type: Type{Name: TypeString}, Nullable: true},
		{Name: "score", Type: Type{Name: TypeDouble}, Nullable: true},
		{Name: "bucket", Type: Type{Name: TypeInteger}},
	}}
	store := newTestStore(t)
	var keys []string
	const n, buckets = 20_000, 3 * maxOpenFiles
	files, err := WriteDataFiles(context.Background(),
		&sequenceSource{schema: schema, n: n, group: func(i int) parquet.Value { return i32(int32(i % buckets)) }},
		WriterOptions{Schema: schema, Store: store, NewFile: keyNamer(&keys), PartitionColumns: []string{"bucket"}})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}

	var total int64
	seen := map[string]bool{}
	for _, df := range files {
		total += df.NumRecords
		seen[*df.PartitionValues["bucket"]] = true
	}
	if total != n {
		t.Errorf("files hold %d rows, want %d", total, n)
	}
	if len(seen) != buckets {
		t.Errorf("got %d partitions, want %d", len(seen), buckets)
	}
	// Rows of partitions past the open-file cap are held in memory, so
	// interleaved rows still give one file per partition.
	if len(files) != buckets {
		t.Errorf("got %d files for %d partitions, want one per partition", len(files), buckets)
	}
}

// failingStore fails Put after reading failAfter bytes.
type failingStore struct {
	*objstore.Local
	failAfter int64
	puts      atomic.Int64
}

var errInjected = errors.New("injected upload failure")

func (s *failingStore) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	s.puts.Add(1)
	if _, err := io.CopyN(io.Discard, body, s.failAfter); err != nil {
		return err
	}
	return errInjected
}

func TestWriteDataFilesErrors(t *testing.T) {
	t.Run("upload failure names key", func(t *testing.T) {
		store := &failingStore{Local: newTestStore(t), failAfter: 1000}
		var keys []string
		_, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema, n: 100_000},
			WriterOptions{Schema: seqSchema, Store: store, NewFile: keyNamer(&keys), TargetFileSize: 256 << 10})
		if !errors.Is(err, errInjected) {
			t.Fatalf("error = %v, want the injected failure", err)
		}
		if !strings.Contains(err.Error(), keys[0]) {
			t.Errorf("error %q does not name key %s", err, keys[0])
		}
	})
	t.Run("cancelled context stops", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var keys []string
		_, err := WriteDataFiles(ctx, &sequenceSource{schema: seqSchema, n: 10},
			WriterOptions{Schema: seqSchema, Store: newTestStore(t), NewFile: keyNamer(&keys)})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
	t.Run("null in non-nullable column", func(t *testing.T) {
		rows := []parquet.Row{row(null(), str("x"), f64(1))}
		var keys []string
		_, err := WriteDataFiles(context.Background(), &sliceSource{schema: seqSchema, rows: rows},
			WriterOptions{Schema: seqSchema, Store: newTestStore(t), NewFile: keyNamer(&keys)})
		var ie *InputError
		if !errors.As(err, &ie) || ie.Column != "id" || ie.Row != 1 {
			t.Errorf("error = %v, want InputError for row 1 column id", err)
		}
	})
	t.Run("decimal over precision", func(t *testing.T) {
		schema := &Schema{Fields: []Field{{Name: "d", Type: Type{Name: TypeDecimal, Precision: 3, Scale: 1}}}}
		var keys []string
		_, err := WriteDataFiles(context.Background(), &sliceSource{schema: schema, rows: []parquet.Row{row(dec(1000))}},
			WriterOptions{Schema: schema, Store: newTestStore(t), NewFile: keyNamer(&keys)})
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "100.0") {
			t.Errorf("error = %v, want ErrBadInput naming 100.0", err)
		}
	})
	t.Run("unknown codec", func(t *testing.T) {
		_, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema},
			WriterOptions{Schema: seqSchema, Store: newTestStore(t), NewFile: keyNamer(new([]string)), Codec: "lz5"})
		if !errors.Is(err, ErrBadInput) {
			t.Errorf("error = %v, want ErrBadInput", err)
		}
	})
}

// trackingStore counts Put calls that have not returned yet.
type trackingStore struct {
	*objstore.Local
	active atomic.Int64
	failOn string
}

func (s *trackingStore) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	s.active.Add(1)
	defer s.active.Add(-1)
	if strings.Contains(key, s.failOn) {
		_, _ = io.CopyN(io.Discard, body, 100)
		return errInjected
	}
	return s.Local.Put(ctx, key, body, size)
}

func TestWriteDataFilesJoinsUploadsOnError(t *testing.T) {
	schema := &Schema{Fields: []Field{
		{Name: "id", Type: Type{Name: TypeLong}},
		{Name: "name", Type: Type{Name: TypeString}, Nullable: true},
		{Name: "score", Type: Type{Name: TypeDouble}, Nullable: true},
		{Name: "bucket", Type: Type{Name: TypeInteger}},
	}}

	store := &trackingStore{Local: newTestStore(t), failOn: "bucket=7/"}
	var keys []string
	_, err := WriteDataFiles(context.Background(),
		&sequenceSource{schema: schema, n: 200_000, group: func(i int) parquet.Value { return i32(int32(i % 10)) }},
		WriterOptions{Schema: schema, Store: store, NewFile: keyNamer(&keys), PartitionColumns: []string{"bucket"}, TargetFileSize: 64 << 10})
	if !errors.Is(err, errInjected) {
		t.Fatalf("error = %v, want the injected failure", err)
	}

	if !strings.Contains(err.Error(), "bucket=7/") {
		t.Errorf("error %q does not name the failed key", err)
	}
	if n := store.active.Load(); n != 0 {
		t.Errorf("%d uploads still running after WriteDataFiles returned", n)
	}
	// An aborted upload must not leave a partial object: every stored key
	// is a whole parquet file.
	stored := 0
	for _, k := range keys {
		_, statErr := store.Stat(context.Background(), k)
		if errors.Is(statErr, objstore.ErrNotFound) {
			continue
		}
		if statErr != nil {
			t.Fatalf("stat %s: %v", k, statErr)
		}
		stored++
		openStored(t, store.Local, k)
	}
	if stored == len(keys) {
		t.Errorf("all %d keys were stored, want the failed and aborted ones missing", len(keys))
	}
}

func TestWriteDataFilesCodecs(t *testing.T) {
	for _, codec := range []struct{ name, want string }{
		{"", "SNAPPY"}, {"zstd", "ZSTD"}, {"gzip", "GZIP"}, {"uncompressed", "UNCOMPRESSED"},
	} {
		t.Run(codec.want, func(t *testing.T) {
			store := newTestStore(t)
			var keys []string
			files, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema, n: 100},
				WriterOptions{Schema: seqSchema, Store: store, NewFile: keyNamer(&keys), Codec: codec.name})
			if err != nil {
				t.Fatalf("WriteDataFiles: %v", err)
			}
			f := openStored(t, store, files[0].Path)
			got := f.Metadata().RowGroups[0].Columns[0].MetaData.Codec
			if got.String() != codec.want {
				t.Errorf("codec = %s, want %s", got, codec.want)
			}
			if n := len(readAllRows(t, f)); n != 100 {
				t.Errorf("read %d rows, want 100", n)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// discardStore reads and drops every body, to measure the writer alone.
type discardStore struct{ *objstore.Local }

func (discardStore) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	_, err := io.Copy(io.Discard, body)
	return err
}

// BenchmarkWriteDataFiles writes 1M generated rows (long, 12-byte string,
// double). MB/s counts 28 input bytes per row.
func BenchmarkWriteDataFiles(b *testing.B) {
	const n = 1_000_000
	stores := []struct {
		name string
		make func(b *testing.B) objstore.Store
	}{
		{"local store", func(b *testing.B) objstore.Store {
			s, err := objstore.NewLocal(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"discard store", func(b *testing.B) objstore.Store { return discardStore{} }},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			b.SetBytes(n * 28)
			for b.Loop() {
				var keys []string
				_, err := WriteDataFiles(context.Background(), &sequenceSource{schema: seqSchema, n: n},
					WriterOptions{Schema: seqSchema, Store: st.make(b), NewFile: keyNamer(&keys)})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
