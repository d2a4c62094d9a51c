package safewrite_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/format"
)

// typedColumns are the table columns that the type hint tests append to.
const typedColumns = "s:string,x:double,n:integer,d:date,ts:timestamp_ntz"

// createTypedTable creates a table with typedColumns and no rows.
func createTypedTable(t *testing.T) *safewrite.Table {
	t.Helper()
	schema, err := format.ParseSchemaSpec(typedColumns)
	if err != nil {
		t.Fatal(err)
	}
	tbl := openLocal(t, t.TempDir())
	_, err = tbl.AppendReader(context.Background(), strings.NewReader("s,x,n,d,ts\n"), "csv", safewrite.AppendOptions{Schema: schema})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	return tbl
}

// tableRows reads every row of the table's data files, keyed by column name.
func tableRows(t *testing.T, tbl *safewrite.Table) []map[string]parquet.Value {
	t.Helper()
	var out []map[string]parquet.Value
	for _, name := range dataFiles(t, tbl) {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		src, err := format.OpenInput(context.Background(), format.Input{Name: name, ReaderAt: f, Size: info.Size()}, format.InputOptions{})
		if err != nil {
			t.Fatalf("open data file %s: %v", name, err)
		}
		fields := src.Schema().Fields
		rows := make([]parquet.Row, 64)
		for {
			n, err := src.ReadRows(rows)
			for _, r := range rows[:n] {
				row := map[string]parquet.Value{}
				for i, f := range fields {
					row[f.Name] = r[i].Clone()
				}
				out = append(out, row)
			}
			if err != nil {
				break
			}
		}
		src.Close()
		f.Close()
	}
	return out
}

func TestAppendUsesTableTypes(t *testing.T) {
	day := int32(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	micros := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro()
	cases := []struct {
		name   string
		format string
		input  string
		want   map[string]any // nil is null
	}{
		{"csv", "csv", "s,x,n,d,ts\n007,1,1000,2024-01-02,2024-01-02 03:04:05\n",
			map[string]any{"s": "007", "x": 1.0, "n": int32(1000), "d": day, "ts": micros}},
		{"csv columns in another order and case", "csv", "TS,D,N,X,S\n2024-01-02 03:04:05,2024-01-02,1000,1,007\n",
			map[string]any{"s": "007", "x": 1.0, "n": int32(1000), "d": day, "ts": micros}},
		{"csv without some columns", "csv", "x,s\n1,+1555\n",
			map[string]any{"s": "+1555", "x": 1.0, "n": nil, "d": nil, "ts": nil}},
		{"json", "json", `{"s":"007","x":1,"n":1000,"d":"2024-01-02","ts":"2024-01-02 03:04:05"}`,
			map[string]any{"s": "007", "x": 1.0, "n": int32(1000), "d": day, "ts": micros}},
		{"json number into string column", "json", `{"s":7,"x":1,"n":1000}`,
			map[string]any{"s": "7", "x": 1.0, "n": int32(1000), "d": nil, "ts": nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := createTypedTable(t)
			res, err := tbl.AppendReader(context.Background(), strings.NewReader(c.input), c.format, safewrite.AppendOptions{})
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if res.Version != 1 {
				t.Errorf("version = %d, want 1", res.Version)
			}
			rows := tableRows(t, tbl)
			if len(rows) != 1 {
				t.Fatalf("rows = %d, want 1", len(rows))
			}
			for column, want := range c.want {
				if got := plainValue(rows[0][column], want); got != want {
					t.Errorf("column %s = %v, want %v", column, got, want)
				}
			}
		})
	}
}

// plainValue returns v as a Go value of the same type as like, or nil for a null.
func plainValue(v parquet.Value, like any) any {
	if v.IsNull() {
		return nil
	}
	switch like.(type) {
	case string:
		return v.String()
	case float64:
		return v.Double()
	case int32:
		return v.Int32()
	case int64:
		return v.Int64()
	}
	return v.String()
}

func TestAppendAfterHeaderOnlyCSV(t *testing.T) {
	cases := []struct {
		format, input string
		wantA, wantB  string
	}{
		{"csv", "a,b\n1,2\n", "1", "2"},
		{"json", `{"a":1,"b":2.5}`, "1", "2.5"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			tbl := openLocal(t, t.TempDir())
			ctx := context.Background()
			if _, err := tbl.AppendReader(ctx, strings.NewReader("a,b\n"), "csv", safewrite.AppendOptions{}); err != nil {
				t.Fatalf("create from a header-only CSV: %v", err)
			}
			if _, err := tbl.AppendReader(ctx, strings.NewReader(c.input), c.format, safewrite.AppendOptions{}); err != nil {
				t.Fatalf("append to the all-string table: %v", err)
			}
			rows := tableRows(t, tbl)
			if len(rows) != 1 {
				t.Fatalf("rows = %d, want 1", len(rows))
			}
			if got := rows[0]["a"].String(); got != c.wantA {
				t.Errorf("a = %q, want %q", got, c.wantA)
			}
			if got := rows[0]["b"].String(); got != c.wantB {
				t.Errorf("b = %q, want %q", got, c.wantB)
			}
		})
	}
}

func TestAppendBadValueForTableType(t *testing.T) {
	cases := []struct {
		name   string
		format string
		input  string
		want   []string
	}{
		{"csv word in double column", "csv", "s,x\nok,1.5\nbad,abc\n",
			[]string{"row 3", `column "x"`, `value "abc"`, "table column has type double"}},
		{"csv fraction in integer column", "csv", "n\n2.5\n",
			[]string{"row 2", `column "n"`, `value "2.5"`, "table column has type integer"}},
		{"json word in date column", "json", "{\"d\":\"2024-01-01\"}\n{\"d\":\"soon\"}\n",
			[]string{"row 2", `column "d"`, `value "soon"`, "table column has type date"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := createTypedTable(t)
			_, err := tbl.AppendReader(context.Background(), strings.NewReader(c.input), c.format, safewrite.AppendOptions{})
			if err == nil {
				t.Fatal("append succeeded, want an error for the bad value")
			}
			if !errors.Is(err, format.ErrBadInput) {
				t.Errorf("error %v does not match format.ErrBadInput", err)
			}
			for _, fragment := range c.want {
				if !strings.Contains(err.Error(), fragment) {
					t.Errorf("error %q does not contain %q", err, fragment)
				}
			}
			if got := inspect(t, tbl).Version; got != 0 {
				t.Errorf("version after the failed append = %d, want 0", got)
			}
		})
	}
}
