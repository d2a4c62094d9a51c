package format

import (
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func openCSV(t *testing.T, text string, opts InputOptions) RowSource {
	t.Helper()
	src, err := openBytes("test.csv", []byte(text), opts)
	if err != nil {
		t.Fatalf("open CSV: %v", err)
	}
	return src
}

func TestCSVAirports(t *testing.T) {
	src := openDataFile(t, "airports.csv", InputOptions{})
	want := "iata:string,name:string,city:string,state:string,country:string,latitude:double,longitude:double"
	if got := schemaTypes(src.Schema()); got != want {
		t.Errorf("schema = %s, want %s", got, want)
	}
	rows := readAll(t, src)
	if len(rows) != 3376 {
		t.Errorf("rows = %d, want 3376", len(rows))
	}
	checkColumnIndexes(t, rows)
	first := rows[0]
	if got := first[0].String(); got != "00M" {
		t.Errorf("iata = %q, want 00M", got)
	}
	if got := first[5].Double(); got != 31.95376472 {
		t.Errorf("latitude = %v, want 31.95376472", got)
	}
	if got := first[6].Double(); got != -89.23450472 {
		t.Errorf("longitude = %v, want -89.23450472", got)
	}
}

func TestCSVBirdstrikes(t *testing.T) {
	src := openDataFile(t, "birdstrikes.csv", InputOptions{})
	want := "Airport Name:string,Aircraft Make Model:string,Effect Amount of damage:string,Flight Date:date," +
		"Aircraft Airline Operator:string,Origin State:string,Phase of flight:string,Wildlife Size:string," +
		"Wildlife Species:string,Time of day:string,Cost Other:long,Cost Repair:long,Cost Total $:long,Speed IAS in knots:long"
	if got := schemaTypes(src.Schema()); got != want {
		t.Errorf("schema = %s\nwant %s", got, want)
	}
	rows := readAll(t, src)
	if len(rows) != 10000 {
		t.Errorf("rows = %d, want 10000", len(rows))
	}
	first := rows[0]
	wantDay := int32(time.Date(1990, 1, 8, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	if got := first[3].Int32(); got != wantDay {
		t.Errorf("Flight Date = %d days, want %d (1990-01-08)", got, wantDay)
	}
	if got := first[13].Int64(); got != 300 {
		t.Errorf("Speed IAS in knots = %d, want 300", got)
	}
}

func TestCSVInference(t *testing.T) {
	cases := []struct {
		name, column, want string
		values             []string
	}{
		{"booleans any case", "b", "boolean", []string{"true", "FALSE", "True"}},
		{"integers", "n", "long", []string{"1", "-20", "9223372036854775807"}},
		{"integers and fractions", "x", "double", []string{"1", "2.5", "-3e4"}},
		{"zero and fractions below one", "x", "double", []string{"0", "0.5", "-0.25", ".5"}},
		{"zero alone", "n", "long", []string{"0", "-0"}},
		{"integer too large for long", "x", "decimal(38,0)", []string{"1", "9223372036854775808"}},
		{"round integer too large for long", "x", "decimal(38,0)", []string{"100000000000000000000"}},
		{"integer with 38 digits", "x", "decimal(38,0)", []string{"99999999999999999999999999999999999999"}},
		{"integer with 39 digits", "x", "string", []string{"999999999999999999999999999999999999999"}},
		{"fraction with 19 digits", "x", "decimal(38,2)", []string{"12345678901234567.25", "1.5"}},
		{"long with 19 digits and a fraction", "x", "decimal(38,1)", []string{"1234567890123456789", "1.5"}},
		{"fraction with 19 digits after the point", "x", "decimal(38,19)", []string{"0.1234567890123456789", "1.5"}},
		{"fraction with 16 digits a double keeps", "x", "double", []string{"1.000000000000001"}},
		{"shortest text of a double", "x", "double", []string{"0.016666666666666666", "0.1"}},
		{"decimals over 38 digits together", "x", "string", []string{"12345678901234567890123456789012345678", "0.5"}},
		{"exponent out of double range", "x", "string", []string{"1e400"}},
		{"hexadecimal float", "x", "string", []string{"0x1p-2"}},
		{"digits with underscores", "x", "string", []string{"1_000"}},
		{"dates", "d", "date", []string{"2024-01-31", "1969-12-31"}},
		{"dates and local times", "t", "timestamp_ntz", []string{"2024-01-31", "2024-01-31 10:00:00.123"}},
		{"local times", "t", "timestamp_ntz", []string{"2024-01-31T10:00:00", "2024-02-01 11:00:00"}},
		{"zoned times", "t", "timestamp", []string{"2024-01-31T10:00:00Z", "2024-02-01T11:00:00.5+02:00"}},
		{"zoned and local times", "t", "string", []string{"2024-01-31T10:00:00Z", "2024-02-01 11:00:00"}},
		{"numbers and words", "s", "string", []string{"1", "one"}},
		{"NaN alone", "s", "string", []string{"NaN", "Infinity"}},
		{"nulls and integers", "n", "long", []string{"", "7", ""}},
		{"only nulls", "e", "string", []string{"", ""}},
		{"zip codes with leading zero", "zip", "string", []string{"02134", "10001"}},
		{"negative with leading zero", "n", "string", []string{"-01", "5"}},
		{"fraction with leading zeros", "x", "string", []string{"00.5"}},
		{"leading plus sign", "ph", "string", []string{"+15551234567", "15551234567"}},
		{"fraction with leading plus sign", "x", "string", []string{"+1.5"}},
		{"dates in year 1", "d", "date", []string{"0001-01-01", "0099-12-31"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A second column keeps rows of one empty field from being blank lines.
			text := c.column + ",k\n" + strings.Join(c.values, ",k\n") + ",k\n"
			src := openCSV(t, text, InputOptions{})
			got := src.Schema().Fields[0].Type.String()
			if got != c.want {
				t.Errorf("inferred %s for %q, want %s", got, c.values, c.want)
			}
			rows := readAll(t, src)
			if len(rows) != len(c.values) {
				t.Errorf("rows = %d, want %d", len(rows), len(c.values))
			}
		})
	}
}

func TestCSVValues(t *testing.T) {
	text := "s,n,x,b,d,ts,tsz\n" +
		"hello,42,2.5,true,2024-03-01,2024-03-01 12:30:00.25,2024-03-01T12:30:00+01:00\n" +
		",,,,,,\n" +
		"\"quoted, with comma\",-1,1e3,false,1970-01-01,1970-01-01T00:00:00,1970-01-01T00:00:00Z\n"
	src := openCSV(t, text, InputOptions{})
	if got := schemaTypes(src.Schema()); got != "s:string,n:long,x:double,b:boolean,d:date,ts:timestamp_ntz,tsz:timestamp" {
		t.Fatalf("schema = %s", got)
	}
	rows := readAll(t, src)
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want 3", len(rows))
	}
	checkColumnIndexes(t, rows)

	r := rows[0]
	march1 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"string", r[0].String(), "hello"},
		{"long", r[1].Int64(), int64(42)},
		{"double", r[2].Double(), 2.5},
		{"boolean", r[3].Boolean(), true},
		{"date", r[4].Int32(), int32(march1.Unix() / 86400)},
		{"timestamp_ntz", r[5].Int64(), march1.Add(12*time.Hour + 30*time.Minute + 250*time.Millisecond).UnixMicro()},
		{"timestamp", r[6].Int64(), march1.Add(11*time.Hour + 30*time.Minute).UnixMicro()},
		{"quoted string", rows[2][0].String(), "quoted, with comma"},
		{"exponent double", rows[2][2].Double(), 1000.0},
		{"epoch timestamp", rows[2][6].Int64(), int64(0)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for i, v := range rows[1] {
		if !v.IsNull() {
			t.Errorf("empty field %d is %v, want null", i, v)
		}
	}
}

func TestCSVNumbersKeepTheirText(t *testing.T) {
	text := "zip,big,ph,price\n01234,99999999999999999999,+15551234567,12345678901234567.25\n00501,1,0044,-0.5\n"
	src := openCSV(t, text, InputOptions{})
	if got := schemaTypes(src.Schema()); got != "zip:string,big:decimal(38,0),ph:string,price:decimal(38,2)" {
		t.Fatalf("schema = %s", got)
	}
	rows := readAll(t, src)
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	checks := []struct {
		name      string
		got, want string
	}{
		{"zip 01234", rows[0][0].String(), "01234"},
		{"zip 00501", rows[1][0].String(), "00501"},
		{"big 99999999999999999999", decimalText(rows[0][1].ByteArray(), 0), "99999999999999999999"},
		{"big 1", decimalText(rows[1][1].ByteArray(), 0), "1"},
		{"phone +15551234567", rows[0][2].String(), "+15551234567"},
		{"phone 0044", rows[1][2].String(), "0044"},
		{"price 12345678901234567.25", decimalText(rows[0][3].ByteArray(), 2), "12345678901234567.25"},
		{"price -0.5", decimalText(rows[1][3].ByteArray(), 2), "-0.50"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s reads back as %s", c.name, c.got)
		}
	}
}

// decimalText formats a big-endian two's complement unscaled decimal value.
func decimalText(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).FloatString(scale)
}

func TestCSVTypeHints(t *testing.T) {
	hints := &Schema{Fields: []Field{
		{Name: "s", Type: Type{Name: TypeString}, Nullable: true},
		{Name: "x", Type: Type{Name: TypeDouble}, Nullable: true},
		{Name: "N", Type: Type{Name: TypeInteger}, Nullable: true},
		{Name: "d", Type: Type{Name: TypeDate}, Nullable: true},
		{Name: "ts", Type: Type{Name: TypeTimestampNTZ}, Nullable: true},
		{Name: "price", Type: Type{Name: TypeDecimal, Precision: 10, Scale: 2}, Nullable: true},
		{Name: "not_in_input", Type: Type{Name: TypeLong}, Nullable: false},
	}}
	cases := []struct {
		name       string
		text       string
		opts       InputOptions
		wantSchema string
	}{
		{"hinted and inferred columns", "s,x,n,d,ts,price,extra\n1,2,1000,2024-01-02,2024-01-02 03:04:05,1.5,7\n",
			InputOptions{TypeHints: hints},
			"s:string,x:double,n:integer,d:date,ts:timestamp_ntz,price:decimal(10,2),extra:long"},
		{"header only", "s,x,n,d,ts\n", InputOptions{TypeHints: hints},
			"s:string,x:double,n:integer,d:date,ts:timestamp_ntz"},
		{"unhinted header only", "s,other\n", InputOptions{TypeHints: hints}, "s:string,other:string"},
		{"schema before hints", "s,x\n1,2\n", InputOptions{TypeHints: hints, Schema: &Schema{Fields: []Field{{Name: "x", Type: Type{Name: TypeLong}}}}},
			"s:string,x:long"},
		{"exact name before case-insensitive match", "id\n1\n", InputOptions{TypeHints: &Schema{Fields: []Field{
			{Name: "ID", Type: Type{Name: TypeLong}}, {Name: "id", Type: Type{Name: TypeString}}}}}, "id:string"},
		{"case-insensitive match", "Id\n1\n", InputOptions{TypeHints: &Schema{Fields: []Field{
			{Name: "ID", Type: Type{Name: TypeShort}}, {Name: "id", Type: Type{Name: TypeString}}}}}, "Id:short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := openCSV(t, c.text, c.opts)
			if got := schemaTypes(src.Schema()); got != c.wantSchema {
				t.Errorf("schema = %s, want %s", got, c.wantSchema)
			}
			readAll(t, src)
		})
	}

	t.Run("hinted values", func(t *testing.T) {
		src := openCSV(t, "x,n,s\n1,1000,007\n", InputOptions{TypeHints: hints})
		rows := readAll(t, src)
		if got := rows[0][0].Double(); got != 1 {
			t.Errorf("double x = %v, want 1", got)
		}
		if got := rows[0][1].Int32(); got != 1000 {
			t.Errorf("integer n = %v, want 1000", got)
		}
		if got := rows[0][2].String(); got != "007" {
			t.Errorf("string s = %q, want 007", got)
		}
	})
}

func TestCSVValuesStayValid(t *testing.T) {
	// Byte-array values must not change when later rows are read.
	var b strings.Builder
	b.WriteString("s\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "value-%d\n", i)
	}
	src := openCSV(t, b.String(), InputOptions{SampleRows: 10})
	first := make([]parquet.Row, 1)
	if _, err := src.ReadRows(first); err != nil {
		t.Fatal(err)
	}
	readAll(t, src)
	if got := first[0][0].String(); got != "value-0" {
		t.Errorf("first value after reading the rest = %q, want value-0", got)
	}
}

func TestCSVSchemaOption(t *testing.T) {
	schema, err := ParseSchemaSpec("ZIP:string,price:decimal(6,2),when:timestamp")
	if err != nil {
		t.Fatal(err)
	}
	text := "zip,price,when,n\n02134,12.5,2024-01-01 00:00:00,1\n10001,-0.01,2024-01-01T00:00:00Z,2\n"
	src := openCSV(t, text, InputOptions{Schema: schema})
	if got := schemaTypes(src.Schema()); got != "zip:string,price:decimal(6,2),when:timestamp,n:long" {
		t.Fatalf("schema = %s", got)
	}
	rows := readAll(t, src)
	if got := rows[0][0].String(); got != "02134" {
		t.Errorf("zip = %q, want 02134 with its leading zero", got)
	}
	if got := rows[0][1].ByteArray(); string(got) != string([]byte{0x04, 0xe2}) {
		t.Errorf("price 12.5 = %x, want 04e2 (1250)", got)
	}
	if got := rows[1][1].ByteArray(); string(got) != string([]byte{0xff}) {
		t.Errorf("price -0.01 = %x, want ff (-1)", got)
	}
	if rows[0][2].Int64() != rows[1][2].Int64() {
		t.Errorf("a timestamp without zone reads as UTC: %d != %d", rows[0][2].Int64(), rows[1][2].Int64())
	}
}

func TestCSVEmptyInput(t *testing.T) {
	t.Run("header only", func(t *testing.T) {
		src := openCSV(t, "a,b,c\n", InputOptions{})
		if got := schemaTypes(src.Schema()); got != "a:string,b:string,c:string" {
			t.Errorf("schema = %s", got)
		}
		n, err := src.ReadRows(make([]parquet.Row, 4))
		if n != 0 || err != io.EOF {
			t.Errorf("ReadRows = %d, %v; want 0, io.EOF", n, err)
		}
	})
	t.Run("header only with schema", func(t *testing.T) {
		schema, _ := ParseSchemaSpec("a:long")
		src := openCSV(t, "a,b\n", InputOptions{Schema: schema})
		if got := schemaTypes(src.Schema()); got != "a:long,b:string" {
			t.Errorf("schema = %s", got)
		}
	})
	t.Run("no header", func(t *testing.T) {
		_, err := openBytes("empty.csv", nil, InputOptions{})
		wantInputError(t, err, "empty.csv", "empty", "header")
	})
}

func TestCSVErrors(t *testing.T) {
	longSchema, _ := ParseSchemaSpec("n:long")
	missingSchema, _ := ParseSchemaSpec("m:long")
	cases := []struct {
		name    string
		text    string
		opts    InputOptions
		wantRow int64
		want    []string
	}{
		{"row with more fields", "a,b\n1,2\n1,2,3\n", InputOptions{}, 3, []string{"3 fields", "header has 2"}},
		{"row with fewer fields", "a,b\n1,2\n1,2\n4\n", InputOptions{}, 4, []string{"1 fields", "header has 2"}},
		{"ragged row after the sample", "a,b\n1,2\n3,4\n5\n", InputOptions{SampleRows: 1}, 4, []string{"1 fields"}},
		{"bad value after the sample", "n\n1\n2\nthree\n", InputOptions{SampleRows: 2}, 4,
			[]string{`column "n"`, `value "three"`, "inferred from the first 2 rows", `"n:string"`}},
		{"value out of range", "n\n1\n99999999999999999999\n", InputOptions{Schema: longSchema}, 3,
			[]string{"out of range for long", "given schema"}},
		{"bad boolean after the sample", "b\ntrue\nyes\n", InputOptions{SampleRows: 1}, 3, []string{"not a boolean"}},
		{"zoned value in a local timestamp column", "t\n2024-01-01 00:00:00\n2024-01-01T00:00:00Z\n", InputOptions{SampleRows: 1}, 3,
			[]string{"time zone offset", "timestamp_ntz"}},
		{"duplicate header", "a,b,A\n1,2,3\n", InputOptions{}, 1, []string{`"A"`, "1 and 3", "case-insensitive"}},
		{"empty header name", "a,,c\n1,2,3\n", InputOptions{}, 1, []string{"header field 2 is empty"}},
		{"schema column not in header", "a\n1\n", InputOptions{Schema: missingSchema}, 0, []string{`column "m"`, "not in the CSV header"}},
		{"value that does not parse as the hinted type", "n,x\n1,2\n3,abc\n", InputOptions{TypeHints: &Schema{Fields: []Field{{Name: "x", Type: Type{Name: TypeDouble}}}}}, 3,
			[]string{`column "x"`, `value "abc"`, "not a number", "table column has type double"}},
		{"date that does not parse as the hinted type", "d\n2024-13-01\n", InputOptions{TypeHints: &Schema{Fields: []Field{{Name: "d", Type: Type{Name: TypeDate}}}}}, 2,
			[]string{`column "d"`, `value "2024-13-01"`, "not a date", "table column has type date"}},
		{"unterminated quote", "a\n\"open\n", InputOptions{}, 2, []string{"malformed CSV"}},
		{"bare quote", "a,b\n1,x\"y\n", InputOptions{}, 2, []string{"malformed CSV"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := openBytes("bad.csv", []byte(c.text), c.opts)
			if err == nil {
				_, err = readAllErr(src)
			}
			ie := wantInputError(t, err, c.want...)
			if ie.Row != c.wantRow {
				t.Errorf("Row = %d, want %d (error: %v)", ie.Row, c.wantRow, err)
			}
			if ie.Input != "bad.csv" {
				t.Errorf("Input = %q, want bad.csv", ie.Input)
			}
		})
	}
}

func TestCSVBlankLinesSkipped(t *testing.T) {
	rows := readAll(t, openCSV(t, "a\n1\n\n2\n", InputOptions{}))
	if len(rows) != 2 {
		t.Errorf("rows = %d, want 2: a blank line is not a row", len(rows))
	}
}

func TestCSVByteOrderMark(t *testing.T) {
	src := openCSV(t, "\xEF\xBB\xBFid,name\n1,x\n", InputOptions{})
	if got := src.Schema().Fields[0].Name; got != "id" {
		t.Errorf("first column = %q, want id without the byte order mark", got)
	}
}

func BenchmarkCSVBirdstrikes(b *testing.B) {
	var rows int64
	for b.Loop() {
		rows += countRows(b, openDataFile(b, "birdstrikes.csv", InputOptions{}))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
