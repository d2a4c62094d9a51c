package format

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/parquet-go/parquet-go"
)

func TestArrowFlights200k(t *testing.T) {
	src := openDataFile(t, "flights-200k.arrow", InputOptions{})
	// The file stores delay and distance as int16 and time as float32.
	if got := schemaTypes(src.Schema()); got != "delay:short,distance:short,time:float" {
		t.Errorf("schema = %s, want delay:short,distance:short,time:float", got)
	}
	first := make([]parquet.Row, 2)
	if n, err := src.ReadRows(first); n != 2 || err != nil {
		t.Fatalf("ReadRows = %d, %v", n, err)
	}
	if got := first[1][0].Int32(); got != 171 {
		t.Errorf("row 2 delay = %d, want 171", got)
	}
	if got := first[1][1].Int32(); got != 2227 {
		t.Errorf("row 2 distance = %d, want 2227", got)
	}
	if got := countRows(t, src) + 2; got != 200000 {
		t.Errorf("rows = %d, want 200000", got)
	}
}

var arrowTestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString},
	{Name: "bin", Type: arrow.BinaryTypes.Binary},
	{Name: "d32", Type: arrow.FixedWidthTypes.Date32},
	{Name: "d64", Type: arrow.FixedWidthTypes.Date64},
	{Name: "ts_ms_utc", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
	{Name: "ts_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}},
	{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

const arrowTestTypes = "i8:byte,u32:long,f64:double,s:string,ls:string,bin:binary,d32:date,d64:date," +
	"ts_ms_utc:timestamp,ts_ns:timestamp_ntz,dec:decimal(10,2),dict:string,b:boolean"

var arrowTestTime = time.Date(2023, 2, 3, 4, 5, 6, 789_000_000, time.UTC)

// arrowTestBatch builds two rows: one of values and one with nulls in the nullable columns.
func arrowTestBatch(t *testing.T) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.NewGoAllocator(), arrowTestSchema)
	defer b.Release()
	b.Field(0).(*array.Int8Builder).AppendValues([]int8{-1, 2}, nil)
	b.Field(1).(*array.Uint32Builder).AppendValues([]uint32{math.MaxUint32, 0}, nil)
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.25, 0}, []bool{true, false})
	b.Field(3).(*array.StringBuilder).AppendValues([]string{"x", ""}, []bool{true, false})
	b.Field(4).(*array.LargeStringBuilder).AppendValues([]string{"large", "y"}, nil)
	b.Field(5).(*array.BinaryBuilder).AppendValues([][]byte{{9, 8}, {}}, nil)
	b.Field(6).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32FromTime(arrowTestTime), -1}, nil)
	b.Field(7).(*array.Date64Builder).AppendValues([]arrow.Date64{arrow.Date64FromTime(arrowTestTime), -1}, nil)
	b.Field(8).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(arrowTestTime.UnixMilli()), 0}, nil)
	b.Field(9).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(arrowTestTime.UnixNano()), -1}, nil)
	b.Field(10).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(-1)}, nil)
	dict := b.Field(11).(*array.BinaryDictionaryBuilder)
	if err := dict.AppendString("red"); err != nil {
		t.Fatal(err)
	}
	if err := dict.AppendString("blue"); err != nil {
		t.Fatal(err)
	}
	b.Field(12).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	return b.NewRecordBatch()
}

func checkArrowTestRows(t *testing.T, src RowSource) {
	t.Helper()
	if got := schemaTypes(src.Schema()); got != arrowTestTypes {
		t.Fatalf("schema = %s\nwant %s", got, arrowTestTypes)
	}
	rows := readAll(t, src)
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	checkColumnIndexes(t, rows)
	r := rows[0]
	day := int32(arrowTestTime.Unix() / 86400)
	checks := []struct {
		name      string
		got, want any
	}{
		{"int8", r[0].Int32(), int32(-1)},
		{"uint32 widened", r[1].Int64(), int64(math.MaxUint32)},
		{"double", r[2].Double(), 0.25},
		{"string", r[3].String(), "x"},
		{"large string", r[4].String(), "large"},
		{"binary", string(r[5].ByteArray()), "\x09\x08"},
		{"date32", r[6].Int32(), day},
		{"date64", r[7].Int32(), day},
		{"timestamp millis", r[8].Int64(), arrowTestTime.UnixMicro()},
		{"timestamp nanos", r[9].Int64(), arrowTestTime.UnixMicro()},
		{"decimal", string(r[10].ByteArray()), "\x30\x39"},
		{"dictionary", r[11].String(), "red"},
		{"dictionary second", rows[1][11].String(), "blue"},
		{"boolean", r[12].Boolean(), true},
		{"null double", rows[1][2].IsNull(), true},
		{"null string", rows[1][3].IsNull(), true},
		{"negative date64", rows[1][7].Int32(), int32(-1)},
		{"negative nanos round down", rows[1][9].Int64(), int64(-1)},
		{"negative decimal", string(rows[1][10].ByteArray()), "\xff"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestArrowRecordSource(t *testing.T) {
	rec := arrowTestBatch(t)
	defer rec.Release()
	src, err := NewArrowRecordSource(arrowTestSchema, []arrow.RecordBatch{rec, rec})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows := readAll(t, src)
	if len(rows) != 4 {
		t.Errorf("rows = %d, want 4 from two batches", len(rows))
	}
}

func TestArrowTypes(t *testing.T) {
	rec := arrowTestBatch(t)
	defer rec.Release()

	t.Run("record batches", func(t *testing.T) {
		src, err := NewArrowRecordSource(arrowTestSchema, []arrow.RecordBatch{rec})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		checkArrowTestRows(t, src)
	})
	t.Run("IPC file", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(arrowTestSchema))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		src, err := openBytes("t.arrow", buf.Bytes(), InputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		checkArrowTestRows(t, src)
	})
	t.Run("IPC stream", func(t *testing.T) {
		var buf bytes.Buffer
		w := ipc.NewWriter(&buf, ipc.WithSchema(arrowTestSchema))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		src, err := OpenInput(t.Context(), Input{Name: "t.arrows", Reader: &buf}, InputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		checkArrowTestRows(t, src)
	})
}

func TestArrowUint64Overflow(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "u", Type: arrow.PrimitiveTypes.Uint64}}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	b.Field(0).(*array.Uint64Builder).AppendValues([]uint64{1, math.MaxUint64}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	src, err := NewArrowRecordSource(schema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAllErr(src)
	ie := wantInputError(t, err, `column "u"`, "maximum of long")
	if ie.Row != 2 {
		t.Errorf("Row = %d, want 2", ie.Row)
	}
}

func TestArrowUnsupportedTypes(t *testing.T) {
	cases := []struct {
		name string
		typ  arrow.DataType
		want string
	}{
		{"struct", arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}), "nested types are not supported yet"},
		{"list", arrow.ListOf(arrow.PrimitiveTypes.Int64), "nested types are not supported yet"},
		{"map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), "nested types are not supported yet"},
		{"time of day", arrow.FixedWidthTypes.Time32ms, "no Delta equivalent"},
		{"decimal too wide", &arrow.Decimal256Type{Precision: 60, Scale: 0}, "precision 60"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema := arrow.NewSchema([]arrow.Field{{Name: "ok", Type: arrow.PrimitiveTypes.Int64}, {Name: "col", Type: c.typ}}, nil)
			_, err := NewArrowRecordSource(schema, nil)
			ie := wantInputError(t, err, c.want)
			if ie.Column != "col" {
				t.Errorf("Column = %q, want col", ie.Column)
			}
		})
	}
}

func TestArrowNotArrow(t *testing.T) {
	_, err := openBytes("fake.arrow", []byte(strings.Repeat("x", 64)), InputOptions{})
	wantInputError(t, err, "fake.arrow", "not a readable Arrow IPC")
}

func BenchmarkArrowFlights200k(b *testing.B) {
	var rows int64
	for b.Loop() {
		rows += countRows(b, openDataFile(b, "flights-200k.arrow", InputOptions{}))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
