package format

import (
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func field(name, typ string, nullable bool) Field {
	return Field{Name: name, Type: Type{Name: typ}, Nullable: nullable}
}

func readConformed(t *testing.T, src RowSource) ([]parquet.Row, error) {
	t.Helper()
	var out []parquet.Row
	buf := make([]parquet.Row, 2)
	for {
		n, err := src.ReadRows(buf)
		for _, r := range buf[:n] {
			out = append(out, r.Clone())
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestConformUnchangedReturnsSource(t *testing.T) {
	schema := &Schema{Fields: []Field{field("a", TypeLong, true), field("b", TypeString, true)}}
	src := &sliceSource{schema: schema}
	got, err := Conform(src, schema, "in.csv")
	if err != nil {
		t.Fatalf("Conform: %v", err)
	}
	if got != RowSource(src) {
		t.Errorf("Conform wrapped a source that needed no change")
	}
}

func TestConformMapsColumns(t *testing.T) {
	source := &Schema{Fields: []Field{
		field("NAME", TypeString, true),
		field("id", TypeInteger, true),
		field("score", TypeFloat, true),
		{Name: "amount", Type: Type{Name: TypeDecimal, Precision: 5, Scale: 1}, Nullable: true},
	}}
	target := &Schema{Fields: []Field{
		field("id", TypeLong, false),
		field("name", TypeString, true),
		field("score", TypeDouble, true),
		{Name: "amount", Type: Type{Name: TypeDecimal, Precision: 10, Scale: 3}, Nullable: true},
		field("extra", TypeDate, true),
	}}
	rows := []parquet.Row{
		row(str("x"), i32(1), f32(0.5), dec(-125)),
		row(null(), i32(-2), null(), null()),
	}
	c, err := Conform(&sliceSource{schema: source, rows: rows}, target, "in.json")
	if err != nil {
		t.Fatalf("Conform: %v", err)
	}
	if c.Schema() != target {
		t.Errorf("Schema() is not the target schema")
	}

	got, err := readConformed(t, c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2", len(got))
	}

	first := got[0]
	if first[0].Kind() != parquet.Int64 || first[0].Int64() != 1 {
		t.Errorf("id = %v, want long 1", first[0])
	}
	if string(first[1].ByteArray()) != "x" {
		t.Errorf("name = %v, want x (matched case-insensitively)", first[1])
	}
	if first[2].Kind() != parquet.Double || first[2].Double() != 0.5 {
		t.Errorf("score = %v, want double 0.5", first[2])
	}
	if n := setTwosComplement(new(big.Int), first[3].ByteArray()); n.Int64() != -12500 {
		t.Errorf("amount unscaled = %s, want -12500 (scale 1 → 3)", n)
	}
	if !first[4].IsNull() {
		t.Errorf("extra = %v, want null fill", first[4])
	}
	for j, v := range first {
		if v.Column() != j {
			t.Errorf("value %d has column index %d", j, v.Column())
		}
	}
	if !got[1][1].IsNull() || got[1][0].Int64() != -2 {
		t.Errorf("second row = %v, want id -2 and null name", got[1])
	}
}

func TestConformErrors(t *testing.T) {
	cases := []struct {
		name       string
		source     []Field
		target     []Field
		rows       []parquet.Row
		wantColumn string
		wantRow    int64
		wantText   string
	}{
		{
			name:       "missing non-nullable column",
			source:     []Field{field("a", TypeLong, true)},
			target:     []Field{field("a", TypeLong, true), field("b", TypeLong, false)},
			wantColumn: "b", wantText: "missing",
		},
		{
			name:       "extra source column",
			source:     []Field{field("a", TypeLong, true), field("zzz", TypeLong, true)},
			target:     []Field{field("a", TypeLong, true)},
			wantColumn: "zzz", wantText: "no column",
		},
		{
			name:       "incompatible type",
			source:     []Field{field("a", TypeString, true)},
			target:     []Field{field("a", TypeLong, true)},
			wantColumn: "a", wantText: "string",
		},
		{
			name:       "timestamp kinds differ",
			source:     []Field{field("a", TypeTimestamp, true)},
			target:     []Field{field("a", TypeTimestampNTZ, true)},
			wantColumn: "a", wantText: "timestamp",
		},
		{
			name:       "first extra column named",
			source:     []Field{field("A", TypeLong, true), field("a ", TypeLong, true), field("a", TypeLong, true)},
			target:     []Field{field("x", TypeLong, true)},
			wantColumn: "A", wantText: "no column",
		},
		{
			name:       "long out of integer range",
			source:     []Field{field("a", TypeLong, true)},
			target:     []Field{field("a", TypeInteger, true)},
			rows:       []parquet.Row{row(i64(5)), row(i64(1 << 40))},
			wantColumn: "a", wantRow: 2, wantText: "out of range",
		},
		{
			name:       "null into non-nullable column",
			source:     []Field{field("a", TypeLong, true)},
			target:     []Field{field("a", TypeLong, false)},
			rows:       []parquet.Row{row(i64(1)), row(i64(2)), row(null())},
			wantColumn: "a", wantRow: 3, wantText: "null",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &sliceSource{schema: &Schema{Fields: tc.source}, rows: tc.rows}
			c, err := Conform(src, &Schema{Fields: tc.target}, "in.csv")
			if err == nil {
				_, err = readConformed(t, c)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want *InputError", err)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("error does not match ErrBadInput")
			}
			if ie.Column != tc.wantColumn || ie.Row != tc.wantRow || ie.Input != "in.csv" {
				t.Errorf("error names input %q column %q row %d, want in.csv, %q, %d", ie.Input, ie.Column, ie.Row, tc.wantColumn, tc.wantRow)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not mention %q", err, tc.wantText)
			}
		})
	}
}

func TestConformAmbiguousNames(t *testing.T) {
	src := &sliceSource{schema: &Schema{Fields: []Field{field("ID", TypeLong, true), field("Id", TypeLong, true)}}}
	_, err := Conform(src, &Schema{Fields: []Field{field("id", TypeLong, true)}}, "in.csv")
	if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "case") {
		t.Errorf("error = %v, want ErrBadInput about case", err)
	}
}
