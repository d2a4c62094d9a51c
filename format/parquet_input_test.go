package format

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
)

func TestParquetFlights3M(t *testing.T) {
	src := openDataFile(t, "flights-3m.parquet", InputOptions{})
	want := "date:timestamp_ntz,delay:long,distance:long,origin:string,destination:string"
	if got := schemaTypes(src.Schema()); got != want {
		t.Errorf("schema = %s, want %s", got, want)
	}
	first := make([]parquet.Row, 1)
	if n, err := src.ReadRows(first); n != 1 || err != nil {
		t.Fatalf("ReadRows = %d, %v", n, err)
	}
	row := first[0]
	wantDate := time.Date(2001, 1, 1, 0, 1, 0, 0, time.UTC).UnixMicro()
	checks := []struct {
		name      string
		got, want any
	}{
		{"date", row[0].Int64(), wantDate},
		{"delay", row[1].Int64(), int64(33)},
		{"distance", row[2].Int64(), int64(2176)},
		{"origin", row[3].String(), "LAS"},
		{"destination", row[4].String(), "PHL"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("first row %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := countRows(t, src) + 1; got != 3_000_000 {
		t.Errorf("rows = %d, want 3000000", got)
	}
}

// parquetTypes has one column per Parquet type that the reader maps.
type parquetTypes struct {
	I8     int8      `parquet:"i8"`
	I16    int16     `parquet:"i16"`
	I32    int32     `parquet:"i32"`
	I64    int64     `parquet:"i64"`
	U8     uint8     `parquet:"u8"`
	U16    uint16    `parquet:"u16"`
	U32    uint32    `parquet:"u32"`
	U64    uint64    `parquet:"u64"`
	F32    float32   `parquet:"f32"`
	F64    float64   `parquet:"f64"`
	B      bool      `parquet:"b"`
	S      string    `parquet:"s"`
	Enum   string    `parquet:"enum,enum"`
	JSON   string    `parquet:"json,json"`
	Bin    []byte    `parquet:"bin"`
	D      int32     `parquet:"d,date"` // time.Time with "date" is written wrong by parquet-go v0.32.1
	TsMs   time.Time `parquet:"ts_ms,timestamp(millisecond)"`
	TsUs   time.Time `parquet:"ts_us,timestamp(microsecond:local)"`
	TsNs   time.Time `parquet:"ts_ns,timestamp(nanosecond)"`
	Dec32  int32     `parquet:"dec32,decimal(2:9)"`
	Dec64  int64     `parquet:"dec64,decimal(3:18)"`
	DecFix [16]byte  `parquet:"decfix,decimal(0:38)"`
	Opt    *int64    `parquet:"opt,optional"`
}

const parquetTypesSchema = "i8:byte,i16:short,i32:integer,i64:long,u8:short,u16:integer,u32:long,u64:long," +
	"f32:float,f64:double,b:boolean,s:string,enum:string,json:string,bin:binary,d:date," +
	"ts_ms:timestamp,ts_us:timestamp_ntz,ts_ns:timestamp," +
	"dec32:decimal(9,2),dec64:decimal(18,3),decfix:decimal(38,0),opt:long"

func writeParquet[T any](t *testing.T, rows []T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatalf("write Parquet: %v", err)
	}
	return buf.Bytes()
}

func TestParquetTypes(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	seven := int64(7)
	var fix [16]byte
	fix[15] = 0xfe // -2 as 16-byte two's complement once the rest is 0xff
	for i := range 15 {
		fix[i] = 0xff
	}
	in := []parquetTypes{
		{I8: -8, I16: -16, I32: -32, I64: -64, U8: 255, U16: 65535, U32: math.MaxUint32, U64: math.MaxInt64,
			F32: 1.5, F64: 2.25, B: true, S: "text", Enum: "RED", JSON: `{"k":1}`, Bin: []byte{0, 1, 2},
			D: 19849, TsMs: when, TsUs: when, TsNs: when, Dec32: 12345, Dec64: -1, DecFix: fix, Opt: &seven},
		{},
	}
	src, err := openBytes("types.parquet", writeParquet(t, in), InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(src.Schema()); got != parquetTypesSchema {
		t.Fatalf("schema = %s\nwant %s", got, parquetTypesSchema)
	}
	if !src.Schema().Fields[22].Nullable || src.Schema().Fields[0].Nullable {
		t.Errorf("only the optional column should be nullable")
	}
	rows := readAll(t, src)
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	checkColumnIndexes(t, rows)
	r := rows[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"byte", r[0].Int32(), int32(-8)},
		{"short", r[1].Int32(), int32(-16)},
		{"uint8", r[4].Int32(), int32(255)},
		{"uint16", r[5].Int32(), int32(65535)},
		{"uint32 widened", r[6].Int64(), int64(math.MaxUint32)},
		{"uint64", r[7].Int64(), int64(math.MaxInt64)},
		{"float", r[8].Float(), float32(1.5)},
		{"string", r[11].String(), "text"},
		{"enum", r[12].String(), "RED"},
		{"binary", string(r[14].ByteArray()), "\x00\x01\x02"},
		{"date", r[15].Int32(), int32(19849)},
		{"timestamp millis", r[16].Int64(), when.Truncate(time.Millisecond).UnixMicro()},
		{"timestamp micros", r[17].Int64(), when.UnixMicro()},
		{"timestamp nanos", r[18].Int64(), when.UnixMicro()},
		{"decimal int32", string(r[19].ByteArray()), "\x30\x39"},
		{"decimal int64", string(r[20].ByteArray()), "\xff"},
		{"decimal fixed", string(r[21].ByteArray()), "\xfe"},
		{"optional", r[22].Int64(), int64(7)},
		{"null", rows[1][22].IsNull(), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParquetUint64Overflow(t *testing.T) {
	type row struct {
		U uint64 `parquet:"u"`
	}
	src, err := openBytes("u.parquet", writeParquet(t, []row{{1}, {math.MaxUint64}}), InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAllErr(src)
	ie := wantInputError(t, err, `column "u"`, "maximum of long")
	if ie.Row != 2 {
		t.Errorf("Row = %d, want 2", ie.Row)
	}
}

func TestParquetInt96(t *testing.T) {
	schema := parquet.NewSchema("spark", parquet.Group{"ts": parquet.Leaf(parquet.Int96Type)})
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema)
	// 2000-01-01T00:00:01.5Z: Julian day 2451545, 1.5 s into the day.
	nanos := uint64(1_500_000_000)
	v := deprecated.Int96{uint32(nanos), uint32(nanos >> 32), 2451545}
	if _, err := w.WriteRows([]parquet.Row{{parquet.Int96Value(v).Level(0, 0, 0)}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := openBytes("int96.parquet", buf.Bytes(), InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(src.Schema()); got != "ts:timestamp" {
		t.Errorf("schema = %s, want ts:timestamp", got)
	}
	rows := readAll(t, src)
	want := time.Date(2000, 1, 1, 0, 0, 1, 500_000_000, time.UTC).UnixMicro()
	if got := rows[0][0].Int64(); got != want {
		t.Errorf("ts = %d, want %d", got, want)
	}
}

func TestParquetNestedColumns(t *testing.T) {
	type inner struct {
		X int64 `parquet:"x"`
	}
	type withStruct struct {
		ID  int64 `parquet:"id"`
		Geo inner `parquet:"geo"`
	}
	type withList struct {
		ID   int64    `parquet:"id"`
		Tags []string `parquet:"tags,list"`
	}
	type withMap struct {
		ID    int64            `parquet:"id"`
		Attrs map[string]int64 `parquet:"attrs"`
	}
	type withRepeated struct {
		ID   int64   `parquet:"id"`
		Nums []int64 `parquet:"nums"`
	}
	cases := []struct {
		name, column string
		data         []byte
	}{
		{"struct", "geo", writeParquet(t, []withStruct{{ID: 1}})},
		{"list", "tags", writeParquet(t, []withList{{ID: 1, Tags: []string{"a"}}})},
		{"map", "attrs", writeParquet(t, []withMap{{ID: 1, Attrs: map[string]int64{"a": 1}}})},
		{"repeated", "nums", writeParquet(t, []withRepeated{{ID: 1, Nums: []int64{1}}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := openBytes("nested.parquet", c.data, InputOptions{})
			ie := wantInputError(t, err, "nested.parquet", "nested types are not supported yet")
			if ie.Column != c.column {
				t.Errorf("Column = %q, want %q", ie.Column, c.column)
			}
		})
	}
}

func TestParquetNotParquet(t *testing.T) {
	_, err := openBytes("fake.parquet", []byte("a,b\n1,2\n"), InputOptions{})
	wantInputError(t, err, "fake.parquet", "not a readable Parquet file")
}

func TestParquetSchemaExport(t *testing.T) {
	type row struct {
		A int32  `parquet:"a"`
		B string `parquet:"b,optional"`
	}
	data := writeParquet(t, []row{{1, "x"}})
	f, err := OpenParquetFile(Input{Name: "x.parquet", ReaderAt: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParquetSchema(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(s); got != "a:integer,b:string" {
		t.Errorf("schema = %s", got)
	}
}

func BenchmarkParquetFlights3M(b *testing.B) {
	var rows int64
	for b.Loop() {
		rows += countRows(b, openDataFile(b, "flights-3m.parquet", InputOptions{}))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
