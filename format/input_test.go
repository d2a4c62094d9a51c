package format

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/internal/testenv"
)

// openDataFile opens a shared sample file with OpenInput.
func openDataFile(t testing.TB, name string, opts InputOptions) RowSource {
	t.Helper()
	path := testenv.DataFile(t, name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open sample file: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	src, err := OpenInput(context.Background(), Input{Name: name, ReaderAt: f, Size: st.Size()}, opts)
	if err != nil {
		t.Fatalf("OpenInput(%s): %v", name, err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// openBytes opens in-memory input data; the format comes from name.
func openBytes(name string, data []byte, opts InputOptions) (RowSource, error) {
	return OpenInput(context.Background(), Input{Name: name, ReaderAt: bytes.NewReader(data), Size: int64(len(data))}, opts)
}

// readAll reads every row of src, in batches of 7 so that batch edges are exercised.
func readAll(t testing.TB, src RowSource) []parquet.Row {
	t.Helper()
	rows, err := readAllErr(src)
	if err != nil {
		t.Fatalf("ReadRows: %v", err)
	}
	return rows
}

func readAllErr(src RowSource) ([]parquet.Row, error) {
	var all []parquet.Row
	buf := make([]parquet.Row, 7)
	for {
		n, err := src.ReadRows(buf)
		for _, r := range buf[:n] {
			all = append(all, r.Clone())
		}
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// countRows reads src to the end and checks each row's shape.
func countRows(t testing.TB, src RowSource) int64 {
	t.Helper()
	width := len(src.Schema().Fields)
	buf := make([]parquet.Row, 1024)
	var total int64
	for {
		n, err := src.ReadRows(buf)
		for _, r := range buf[:n] {
			if len(r) != width {
				t.Fatalf("row %d has %d values, want %d", total+1, len(r), width)
			}
		}
		total += int64(n)
		if err == io.EOF {
			return total
		}
		if err != nil {
			t.Fatalf("ReadRows after %d rows: %v", total, err)
		}
	}
}

// schemaTypes returns "name:type" for every field, for compact comparisons.
func schemaTypes(s *Schema) string {
	var parts []string
	for _, f := range s.Fields {
		parts = append(parts, f.Name+":"+f.Type.String())
	}
	return strings.Join(parts, ",")
}

// wantInputError checks that err is an *InputError matching ErrBadInput
// whose message contains every fragment.
func wantInputError(t *testing.T, err error, fragments ...string) *InputError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want an InputError containing %q", fragments)
	}
	if !errors.Is(err, ErrBadInput) {
		t.Errorf("error %v does not match ErrBadInput", err)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %T %v is not an *InputError", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
	return ie
}

// checkColumnIndexes checks that value i of every row has column index i.
func checkColumnIndexes(t *testing.T, rows []parquet.Row) {
	t.Helper()
	for r, row := range rows {
		for i, v := range row {
			if v.Column() != i {
				t.Fatalf("row %d value %d has column index %d", r+1, i, v.Column())
			}
		}
	}
}

func TestDetectFormat(t *testing.T) {
	cases := []struct{ name, want string }{
		{"flights.parquet", FormatParquet},
		{"part-0.PQ", FormatParquet},
		{"s3://bucket/dir/data.csv", FormatCSV},
		{"events.json", FormatJSON},
		{"events.jsonl", FormatJSON},
		{"events.ndjson", FormatJSON},
		{"batch.arrow", FormatArrow},
		{"batch.feather", FormatArrow},
		{"batch.ipc", FormatArrow},
		{"batch.arrows", FormatArrow},
		{"https://host/x.csv?version=3", FormatCSV},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DetectFormat(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("DetectFormat(%q) = %q, want %q", c.name, got, c.want)
			}
		})
	}
}

func TestDetectFormatUnknownExtension(t *testing.T) {
	for _, name := range []string{"data.xlsx", "README", "data.csv.gz"} {
		t.Run(name, func(t *testing.T) {
			_, err := DetectFormat(name)
			ie := wantInputError(t, err, name, ".parquet", ".csv", ".jsonl", ".arrow", "--input-format")
			if ie.Input != name {
				t.Errorf("Input = %q, want %q", ie.Input, name)
			}
		})
	}
}

func TestOpenInputFormatOption(t *testing.T) {
	t.Run("format overrides extension", func(t *testing.T) {
		src, err := openBytes("upload.bin", []byte("a,b\n1,x\n"), InputOptions{Format: "csv"})
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaTypes(src.Schema()); got != "a:long,b:string" {
			t.Errorf("schema = %s", got)
		}
	})
	t.Run("unknown extension", func(t *testing.T) {
		_, err := openBytes("upload.bin", []byte("a\n1\n"), InputOptions{})
		wantInputError(t, err, "upload.bin", "--input-format")
	})
	t.Run("unknown format option", func(t *testing.T) {
		_, err := openBytes("upload.csv", []byte("a\n1\n"), InputOptions{Format: "xml"})
		wantInputError(t, err, `"xml"`, "parquet, csv, json or arrow")
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		src, err := OpenInput(ctx, Input{Name: "a.csv", Reader: strings.NewReader("a\n1\n2\n")}, InputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		_, err = src.ReadRows(make([]parquet.Row, 1))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("ReadRows after cancel: %v, want context.Canceled", err)
		}
	})
}

func TestParseSchemaSpec(t *testing.T) {
	s, err := ParseSchemaSpec("iata:string, latitude:double,when:timestamp_ntz,price:decimal(10,2),Cost Total $:bigint,n:int")
	if err != nil {
		t.Fatal(err)
	}
	want := "iata:string,latitude:double,when:timestamp_ntz,price:decimal(10,2),Cost Total $:long,n:integer"
	if got := schemaTypes(s); got != want {
		t.Errorf("schema = %s, want %s", got, want)
	}
	for _, f := range s.Fields {
		if !f.Nullable {
			t.Errorf("field %s is not nullable", f.Name)
		}
	}
}

func TestParseSchemaSpecErrors(t *testing.T) {
	cases := []struct{ name, spec, want string }{
		{"missing type", "iata", "no type"},
		{"unknown type", "iata:text", "unknown type"},
		{"empty name", ":string", "empty column name"},
		{"duplicate name", "a:string,A:long", "twice"},
		{"decimal precision too large", "p:decimal(39,2)", "precision must be 1 to 38"},
		{"decimal scale above precision", "p:decimal(5,6)", "scale"},
		{"decimal bad number", "p:decimal(x,2)", "precision must be an integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSchemaSpec(c.spec)
			wantInputError(t, err, c.want)
		})
	}
}

func TestParseType(t *testing.T) {
	cases := map[string]string{
		"long": "long", "BIGINT": "long", "int": "integer", "smallint": "short", "tinyint": "byte",
		"real": "float", "double": "double", "boolean": "boolean", "binary": "binary", "date": "date",
		"timestamp": "timestamp", "timestamp_ntz": "timestamp_ntz", "decimal": "decimal(10,0)",
		"decimal(38, 10)": "decimal(38,10)", "decimal(5)": "decimal(5,0)",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			got, err := ParseType(in)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want {
				t.Errorf("ParseType(%q) = %s, want %s", in, got, want)
			}
		})
	}
}
