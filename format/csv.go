package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// csvSource reads CSV with a header line. Column types come from
// InputOptions.Schema or InputOptions.TypeHints by header name, or are
// inferred from the first sampleRows records, which are buffered and then
// returned as rows.
type csvSource struct {
	ctx     context.Context
	name    string
	reader  *csv.Reader
	schema  *Schema
	origins []typeOrigin // origin of each column's type
	sampled int          // the number of rows inference read

	sample      [][]string
	sampleLines []int
	next        int // index of the next sample record to return
	slab        byteSlab
	done        bool
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func openCSVInput(ctx context.Context, in Input, opts InputOptions) (RowSource, error) {
	r, err := sequentialReader(in)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 256<<10)
	if head, _ := br.Peek(3); bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	// NOTE: encoding/csv skips blank lines, so in a one-column file an empty
	// line is no row rather than a null (pandas does the same by default).
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // ragged rows are reported with line and counts below

	s := &csvSource{ctx: ctx, name: in.Name, reader: cr}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &InputError{Input: in.Name, Reason: "the CSV input is empty; it needs a header line with the column names"}
	}
	if err != nil {
		return nil, s.readError(err)
	}
	header = append([]string(nil), header...)
	if err := checkHeader(in.Name, header, "header fields", 1); err != nil {
		return nil, err
	}

	types := newColumnTypes(opts)
	if opts.Schema != nil {
		for _, f := range opts.Schema.Fields {
			if indexFold(header, f.Name) < 0 {
				return nil, &InputError{Input: in.Name, Column: f.Name, Reason: fmt.Sprintf("the schema names a column that is not in the CSV header (%s)", strings.Join(header, ", "))}
			}
		}
	}

	limit := sampleSize(opts)
	for len(s.sample) < limit {
		rec, line, err := s.readRecord(len(header))
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s.sample = append(s.sample, append([]string(nil), rec...))
		s.sampleLines = append(s.sampleLines, line)
	}
	s.sampled = len(s.sample)

	s.schema = &Schema{Fields: make([]Field, len(header))}
	s.origins = make([]typeOrigin, len(header))
	for i, name := range header {
		t, origin, ok := types.lookup(name)
		if !ok {
			var g textGuess
			for _, rec := range s.sample {
				if rec[i] != "" {
					g.add(rec[i])
				}
			}
			t = g.guessedType()
		}
		s.origins[i] = origin
		s.schema.Fields[i] = Field{Name: name, Type: t, Nullable: true, PhysicalName: name}
	}
	return s, nil
}

// checkHeader rejects empty and duplicate column names. Names compare
// without case because Delta Lake column names are case-insensitive.
// listName names the list in messages ("header fields" or "keys"), and row is
// the line of the header, 0 when there is none.
func checkHeader(name string, header []string, listName string, row int64) error {
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			return &InputError{Input: name, Row: row, Reason: fmt.Sprintf("%s %d is empty; every column needs a name", strings.TrimSuffix(listName, "s"), i+1)}
		}
		key := strings.ToLower(h)
		if j, ok := seen[key]; ok {
			return &InputError{Input: name, Row: row, Column: h, Reason: fmt.Sprintf("%s %d and %d have the same name (column names are case-insensitive); rename one", listName, j+1, i+1)}
		}
		seen[key] = i
	}
	return nil
}

func indexFold(names []string, name string) int {
	for i, n := range names {
		if strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

// readRecord reads the next record and its line number, checking its field count.
func (s *csvSource) readRecord(width int) ([]string, int, error) {
	rec, err := s.reader.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, s.readError(err)
	}
	line, _ := s.reader.FieldPos(0)
	if len(rec) != width {
		return nil, 0, &InputError{Input: s.name, Row: int64(line), Reason: fmt.Sprintf("line has %d fields but the header has %d; every line needs one field per header column", len(rec), width)}
	}
	return rec, line, nil
}

// readError turns a csv.ParseError into an *InputError and wraps I/O errors.
func (s *csvSource) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{Input: s.name, Row: int64(pe.Line), Reason: fmt.Sprintf("malformed CSV at column %d: %v", pe.Column, pe.Err)}
	}
	return fmt.Errorf("read CSV %s: %w", s.name, err)
}

func (s *csvSource) Schema() *Schema { return s.schema }

func (s *csvSource) ReadRows(rows []parquet.Row) (int, error) {
	if err := checkContext(s.ctx, s.name); err != nil {
		return 0, err
	}
	n := 0
	for n < len(rows) && !s.done {
		var rec []string
		var line int
		if s.next < len(s.sample) {
			rec, line = s.sample[s.next], s.sampleLines[s.next]
			s.sample[s.next] = nil
			s.next++
			if s.next == len(s.sample) {
				s.sample, s.sampleLines = nil, nil
				s.next = 0
			}
		} else {
			var err error
			rec, line, err = s.readRecord(len(s.schema.Fields))
			if err == io.EOF {
				s.done = true
				break
			}
			if err != nil {
				return 0, err
			}
		}
		row, err := s.convert(rows[n][:0], rec, line)
		if err != nil {
			return 0, err
		}
		rows[n] = row
		n++
	}
	if n == 0 && s.done {
		return 0, io.EOF
	}
	return n, nil
}

func (s *csvSource) convert(row parquet.Row, rec []string, line int) (parquet.Row, error) {
	for i, text := range rec {
		if text == "" {
			row = append(row, nullValue(i))
			continue
		}
		f := &s.schema.Fields[i]
		v, reason := parseText(f.Type, text, i, 1, &s.slab)
		if reason != "" {
			return row, &InputError{Input: s.name, Row: int64(line), Column: f.Name, Value: text,
				Reason: badValueReason(reason, f.Type, f.Name, s.origins[i], s.sampled)}
		}
		row = append(row, v)
	}
	return row, nil
}

func (s *csvSource) Close() error { return nil }
