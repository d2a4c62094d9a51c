package format

import (
	"fmt"
	"io"
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
		{"integer too large for long", "x", "double", []string{"1", "9223372036854775808"}},
		{"dates", "d", "date", []string{"2024-01-31", "1969-12-31"}},
		{"dates and local times", "t", "timestamp_ntz", []string{"2024-01-31", "2024-01-31 10:00:00.123"}},
		{"local times", "t", "timestamp_ntz", []string{"2024-01-31T10:00:00", "2024-02-01 11:00:00"}},
		{"zoned times", "t", "timestamp", []string{"2024-01-31T10:00:00Z", "2024-02-01T11:00:00.5+02:00"}},
		{"zoned and local times", "t", "string", []string{"2024-01-31T10:00:00Z", "2024-02-01 11:00:00"}},
		{"numbers and words", "s", "string", []string{"1", "one"}},
		{"NaN alone", "s", "string", []string{"NaN", "Infinity"}},
		{"nulls and integers", "n", "long", []string{"", "7", ""}},
		{"only nulls", "e", "string", []string{"", ""}},
		{"zip codes with leading zero", "zip", "long", []string{"02134", "10001"}},
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
