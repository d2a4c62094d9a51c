package format

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func TestJSONFlights200k(t *testing.T) {
	src := openDataFile(t, "flights-200k.json", InputOptions{})
	if got := schemaTypes(src.Schema()); got != "delay:long,distance:long,time:double" {
		t.Errorf("schema = %s, want delay:long,distance:long,time:double", got)
	}
	first := make([]parquet.Row, 2)
	if n, err := src.ReadRows(first); n != 2 || err != nil {
		t.Fatalf("ReadRows = %d, %v", n, err)
	}
	if got := first[1][0].Int64(); got != 171 {
		t.Errorf("row 2 delay = %d, want 171", got)
	}
	if got := first[1][1].Int64(); got != 2227 {
		t.Errorf("row 2 distance = %d, want 2227", got)
	}
	if got := first[1][2].Double(); got != 0 {
		t.Errorf("row 2 time = %v, want 0", got)
	}
	if got := countRows(t, src) + 2; got != 200000 {
		t.Errorf("rows = %d, want 200000", got)
	}
}

func TestJSONShapes(t *testing.T) {
	cases := []struct{ name, text string }{
		{"array", `[{"a":1,"b":"x"},{"a":2,"b":"y"}]`},
		{"array with white space", " \n[ {\"a\":1, \"b\":\"x\"} ,\n {\"a\":2,\"b\":\"y\"} ]\n"},
		{"lines", "{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"y\"}\n"},
		{"lines without final newline", "{\"a\":1,\"b\":\"x\"}\r\n{\"a\":2,\"b\":\"y\"}"},
		{"concatenated objects", `{"a":1,"b":"x"} {"a":2,"b":"y"}`},
		{"byte order mark", "\xEF\xBB\xBF[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":\"y\"}]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := openBytes("t.json", []byte(c.text), InputOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaTypes(src.Schema()); got != "a:long,b:string" {
				t.Errorf("schema = %s", got)
			}
			rows := readAll(t, src)
			if len(rows) != 2 {
				t.Fatalf("rows = %d, want 2", len(rows))
			}
			if rows[1][0].Int64() != 2 || rows[1][1].String() != "y" {
				t.Errorf("row 2 = %v, want [2 y]", rows[1])
			}
		})
	}
}

func TestJSONInference(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		want   string
	}{
		{"integers", []string{"1", "-2", "9223372036854775807"}, "long"},
		{"integers and fractions", []string{"1", "2.5"}, "double"},
		{"exponent", []string{"1", "1e3"}, "double"},
		{"integer too large for long", []string{"1", "99999999999999999999"}, "decimal(38,0)"},
		{"integer with 39 digits", []string{"999999999999999999999999999999999999999"}, "string"},
		{"fraction with 19 digits", []string{"12345678901234567.25", "1"}, "decimal(38,2)"},
		{"shortest text of a double", []string{"0.016666666666666666", "0"}, "double"},
		{"exponent out of double range", []string{"1e400"}, "string"},
		{"leading-zero strings stay strings", []string{`"01234"`}, "string"},
		{"booleans", []string{"true", "false"}, "boolean"},
		{"strings", []string{`"a"`, `"b"`}, "string"},
		{"numeric strings stay strings", []string{`"1"`, `"2"`}, "string"},
		{"dates", []string{`"2024-01-01"`, `"2024-12-31"`}, "date"},
		{"local timestamps", []string{`"2024-01-01 10:00:00"`, `"2024-01-01"`}, "timestamp_ntz"},
		{"zoned timestamps", []string{`"2024-01-01T10:00:00Z"`}, "timestamp"},
		{"numbers and strings", []string{"1", `"a"`}, "string"},
		{"numbers and booleans", []string{"1", "true"}, "string"},
		{"nulls and integers", []string{"null", "3"}, "long"},
		{"only nulls", []string{"null", "null"}, "string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			for _, v := range c.values {
				fmt.Fprintf(&b, "{\"v\":%s}\n", v)
			}
			src, err := openBytes("t.jsonl", []byte(b.String()), InputOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := src.Schema().Fields[0].Type.String(); got != c.want {
				t.Errorf("inferred %s for %v, want %s", got, c.values, c.want)
			}
			if rows := readAll(t, src); len(rows) != len(c.values) {
				t.Errorf("rows = %d, want %d", len(rows), len(c.values))
			}
		})
	}
}

func TestJSONValues(t *testing.T) {
	text := `[
{"s":"hi","n":5,"x":0.5,"b":true,"d":"2024-03-01","t":"2024-03-01T01:00:00+01:00","mixed":1},
{"n":null,"b":false,"mixed":"one"},
{"later":"k","s":"é \"quoted\"","mixed":true}
]`
	src, err := openBytes("v.json", []byte(text), InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(src.Schema()); got != "s:string,n:long,x:double,b:boolean,d:date,t:timestamp,mixed:string,later:string" {
		t.Fatalf("schema = %s (columns are in first-seen order)", got)
	}
	rows := readAll(t, src)
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want 3", len(rows))
	}
	checkColumnIndexes(t, rows)
	march1 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	checks := []struct {
		name      string
		got, want any
	}{
		{"string", rows[0][0].String(), "hi"},
		{"long", rows[0][1].Int64(), int64(5)},
		{"double", rows[0][2].Double(), 0.5},
		{"boolean", rows[0][3].Boolean(), true},
		{"date", rows[0][4].Int32(), int32(march1.Unix() / 86400)},
		{"timestamp at UTC", rows[0][5].Int64(), march1.UnixMicro()},
		{"number in string column", rows[0][6].String(), "1"},
		{"boolean in string column", rows[2][6].String(), "true"},
		{"escaped string", rows[2][0].String(), `é "quoted"`},
		{"null value", rows[1][1].IsNull(), true},
		{"missing key", rows[1][0].IsNull(), true},
		{"key first seen later, earlier row", rows[0][7].IsNull(), true},
		{"key first seen later", rows[2][7].String(), "k"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestJSONSchemaOption(t *testing.T) {
	schema, err := ParseSchemaSpec("id:string,price:decimal(5,2),extra:long,blob:binary")
	if err != nil {
		t.Fatal(err)
	}
	src, err := openBytes("s.jsonl", []byte(`{"id":7,"price":1.25,"blob":"AAE="}`+"\n"+`{"id":"x","extra":3}`), InputOptions{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(src.Schema()); got != "id:string,price:decimal(5,2),blob:binary,extra:long" {
		t.Fatalf("schema = %s", got)
	}
	rows := readAll(t, src)
	if got := rows[0][0].String(); got != "7" {
		t.Errorf("id = %q, want 7", got)
	}
	if got := rows[0][1].ByteArray(); string(got) != "\x7d" {
		t.Errorf("price 1.25 = %x, want 7d (125)", got)
	}
	if got := rows[0][2].ByteArray(); string(got) != "\x00\x01" {
		t.Errorf("blob = %x, want 0001 from base64", got)
	}
	if got := rows[1][3].Int64(); got != 3 {
		t.Errorf("extra = %d, want 3", got)
	}
}

func TestJSONNumbersKeepTheirText(t *testing.T) {
	text := `{"big":99999999999999999999,"price":12345678901234567.25,"huge":1e400}` + "\n" + `{"big":-1,"price":0.5,"huge":2}`
	src, err := openBytes("n.jsonl", []byte(text), InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaTypes(src.Schema()); got != "big:decimal(38,0),price:decimal(38,2),huge:string" {
		t.Fatalf("schema = %s", got)
	}
	rows := readAll(t, src)
	checks := []struct {
		name      string
		got, want string
	}{
		{"big 99999999999999999999", decimalText(rows[0][0].ByteArray(), 0), "99999999999999999999"},
		{"big -1", decimalText(rows[1][0].ByteArray(), 0), "-1"},
		{"price 12345678901234567.25", decimalText(rows[0][1].ByteArray(), 2), "12345678901234567.25"},
		{"huge 1e400", rows[0][2].String(), "1e400"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s reads back as %s", c.name, c.got)
		}
	}
}

func TestJSONTypeHints(t *testing.T) {
	hints := &Schema{Fields: []Field{
		{Name: "s", Type: Type{Name: TypeString}, Nullable: true},
		{Name: "x", Type: Type{Name: TypeDouble}, Nullable: true},
		{Name: "N", Type: Type{Name: TypeInteger}, Nullable: true},
		{Name: "d", Type: Type{Name: TypeDate}, Nullable: true},
		{Name: "ts", Type: Type{Name: TypeTimestampNTZ}, Nullable: true},
		{Name: "required", Type: Type{Name: TypeLong}, Nullable: false},
	}}
	cases := []struct {
		name       string
		text       string
		opts       InputOptions
		wantSchema string
	}{
		{"hinted and inferred keys",
			`{"s":1,"x":2,"n":1000,"d":"2024-01-02","ts":"2024-01-02 03:04:05","extra":7}`,
			InputOptions{TypeHints: hints},
			"s:string,x:double,n:integer,d:date,ts:timestamp_ntz,extra:long"},
		{"hinted keys missing from the sample come last", `{"x":2.5}`, InputOptions{TypeHints: hints},
			"x:double,s:string,N:integer,d:date,ts:timestamp_ntz"},
		{"empty input", `[]`, InputOptions{TypeHints: hints}, "s:string,x:double,N:integer,d:date,ts:timestamp_ntz"},
		{"schema before hints", `{"x":2}`, InputOptions{TypeHints: hints, Schema: &Schema{Fields: []Field{{Name: "x", Type: Type{Name: TypeLong}}}}},
			"x:long,s:string,N:integer,d:date,ts:timestamp_ntz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := openBytes("h.json", []byte(c.text), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaTypes(src.Schema()); got != c.wantSchema {
				t.Errorf("schema = %s, want %s", got, c.wantSchema)
			}
			readAll(t, src)
		})
	}

	t.Run("hinted key first seen after the sample", func(t *testing.T) {
		src, err := openBytes("h.jsonl", []byte("{\"x\":1}\n{\"x\":2,\"s\":\"late\"}\n"), InputOptions{TypeHints: hints, SampleRows: 1})
		if err != nil {
			t.Fatal(err)
		}
		rows := readAll(t, src)
		if got := rows[0][0].Double(); got != 1 {
			t.Errorf("double x = %v, want 1", got)
		}
		if got := rows[1][1].String(); got != "late" {
			t.Errorf("s in row 2 = %q, want late", got)
		}
	})
}

func TestJSONEmptyInput(t *testing.T) {
	for _, text := range []string{"[]", " [ ] ", "", "\n\n"} {
		t.Run(fmt.Sprintf("%q", text), func(t *testing.T) {
			_, err := openBytes("empty.json", []byte(text), InputOptions{})
			wantInputError(t, err, "empty.json", "no objects", "schema")
		})
	}
	t.Run("empty array with schema", func(t *testing.T) {
		schema, _ := ParseSchemaSpec("a:long")
		src, err := openBytes("empty.json", []byte("[]"), InputOptions{Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaTypes(src.Schema()); got != "a:long" {
			t.Errorf("schema = %s", got)
		}
		if n, err := src.ReadRows(make([]parquet.Row, 1)); n != 0 || err != io.EOF {
			t.Errorf("ReadRows = %d, %v; want 0, io.EOF", n, err)
		}
	})
	t.Run("objects without keys", func(t *testing.T) {
		_, err := openBytes("e.json", []byte("[{},{}]"), InputOptions{})
		wantInputError(t, err, "no keys")
	})
}

func TestJSONErrors(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		opts    InputOptions
		wantRow int64
		want    []string
	}{
		{"nested object", `[{"a":1},{"a":2,"geo":{"lat":1}}]`, InputOptions{}, 2, []string{`column "geo"`, "nested types are not supported yet", "object"}},
		{"nested array", `{"a":[1,2]}`, InputOptions{}, 1, []string{`column "a"`, "nested types are not supported yet", "array"}},
		{"nested after the sample", "{\"a\":1}\n{\"a\":{}}\n", InputOptions{SampleRows: 1}, 2, []string{"nested types"}},
		{"new key after the sample", "{\"a\":1}\n{\"a\":2}\n{\"a\":3,\"b\":4}\n", InputOptions{SampleRows: 2}, 3,
			[]string{`column "b"`, "not in the first 2 rows"}},
		{"bad value after the sample", "{\"a\":1}\n{\"a\":2.5}\n", InputOptions{SampleRows: 1}, 2,
			[]string{`column "a"`, `value "2.5"`, "inferred from the first 1 rows", `"a:string"`}},
		{"string in a long column", "{\"a\":1}\n{\"a\":\"x\"}\n", InputOptions{SampleRows: 1}, 2, []string{"not an integer"}},
		{"boolean in a long column", "{\"a\":1}\n{\"a\":true}\n", InputOptions{SampleRows: 1}, 2, []string{"JSON boolean"}},
		{"value that does not parse as the hinted type", "{\"d\":\"2024-01-01\"}\n{\"d\":\"soon\"}\n",
			InputOptions{TypeHints: &Schema{Fields: []Field{{Name: "d", Type: Type{Name: TypeDate}, Nullable: true}}}}, 2,
			[]string{`column "d"`, `value "soon"`, "not a date", "table column has type date"}},
		{"duplicate key", `{"a":1,"a":2}`, InputOptions{}, 1, []string{"twice"}},
		{"keys differing in case", `{"a":1,"A":2}`, InputOptions{}, 0, []string{"case-insensitive"}},
		{"top-level number", "1\n2\n", InputOptions{}, 1, []string{"expected a JSON object"}},
		{"array of numbers", "[1,2]", InputOptions{}, 1, []string{"expected a JSON object"}},
		{"malformed", `{"a":1,}`, InputOptions{}, 1, []string{"malformed JSON"}},
		{"truncated", `[{"a":1},{"a":`, InputOptions{}, 2, []string{"ends in the middle"}},
		{"data after the array", `[{"a":1}] {"a":2}`, InputOptions{}, 0, []string{"unexpected data after the last object"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, err := openBytes("bad.json", []byte(c.text), c.opts)
			if err == nil {
				_, err = readAllErr(src)
			}
			ie := wantInputError(t, err, c.want...)
			if ie.Row != c.wantRow {
				t.Errorf("Row = %d, want %d (error: %v)", ie.Row, c.wantRow, err)
			}
		})
	}
}

func BenchmarkJSONFlights200k(b *testing.B) {
	var rows int64
	for b.Loop() {
		rows += countRows(b, openDataFile(b, "flights-200k.json", InputOptions{}))
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
