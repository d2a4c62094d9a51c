package format

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// structSource returns Go values as rows through parquet-go's schema of T.
type structSource[T any] struct {
	items  []T
	pq     *parquet.Schema
	schema *Schema
	convs  []valueConverter
	defs   []int
	next   int
	slab   byteSlab
}

// NewStructSource returns the rows of Go struct values. Columns and types
// follow parquet-go's schema of T, so `parquet:"name"` tags, pointers for
// nullable columns and options such as `parquet:",date"` apply; time.Time
// becomes timestamp (UTC-adjusted). Nested fields (structs, slices, maps)
// are not supported yet.
func NewStructSource[T any](rows []T) (src RowSource, err error) {
	defer func() {
		// parquet.SchemaOf panics on types it cannot map, such as a non-struct T.
		if p := recover(); p != nil {
			src, err = nil, &InputError{Reason: fmt.Sprintf("Go type %T has no Parquet schema: %v", *new(T), p)}
		}
	}()
	pq := parquet.SchemaOf(new(T))
	schema, convs, err := parquetColumns(pq, fmt.Sprintf("Go type %T", *new(T)))
	if err != nil {
		return nil, err
	}
	defs := make([]int, len(schema.Fields))
	for i, f := range schema.Fields {
		defs[i] = definitionLevel(f.Nullable)
	}
	return &structSource[T]{items: rows, pq: pq, schema: schema, convs: convs, defs: defs}, nil
}

func (s *structSource[T]) Schema() *Schema { return s.schema }

func (s *structSource[T]) ReadRows(rows []parquet.Row) (int, error) {
	n := 0
	for n < len(rows) && s.next < len(s.items) {
		row := s.pq.Deconstruct(rows[n][:0], &s.items[s.next])
		s.next++
		for i, v := range row {
			col := v.Column()
			if v.IsNull() {
				row[i] = nullValue(col)
				continue
			}
			out, reason := s.convs[col](v, &s.slab)
			if reason != "" {
				return 0, &InputError{Input: fmt.Sprintf("Go type %T", *new(T)), Row: int64(s.next), Column: s.schema.Fields[col].Name, Value: v.String(), Reason: reason}
			}
			row[i] = out.Level(0, s.defs[col], col)
		}
		rows[n] = row
		n++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (s *structSource[T]) Close() error { return nil }
