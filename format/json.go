package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// jsonKind is the JSON type of one scalar field value.
type jsonKind uint8

const (
	jsonAbsent jsonKind = iota // key missing from the object, read as null
	jsonNull
	jsonNumber
	jsonString
	jsonBool
)

// jsonScalar is one field value: the number text, the string, or "true"/"false".
type jsonScalar struct {
	kind jsonKind
	text string
}

// jsonGuess collects the JSON types of a column's sample values.
type jsonGuess struct {
	numbers, strings, bools int
	number                  textGuess // the kinds of the number values
	text                    textGuess // the kinds of the string values
}

func (g *jsonGuess) add(v jsonScalar) {
	switch v.kind {
	case jsonNumber:
		g.numbers++
		g.number.add(v.text)
	case jsonString:
		g.strings++
		g.text.add(v.text)
	case jsonBool:
		g.bools++
	}
}

// guessedType returns long, double or decimal for numbers (string for
// numbers that none of them keeps, see numberKinds), boolean, date or
// timestamp for strings in those forms, and string for anything else,
// including a column that mixes JSON types or has only nulls.
func (g *jsonGuess) guessedType() Type {
	switch {
	case g.numbers > 0 && g.strings == 0 && g.bools == 0:
		return g.number.guessedType()
	case g.bools > 0 && g.numbers == 0 && g.strings == 0:
		return Type{Name: TypeBoolean}
	case g.strings > 0 && g.numbers == 0 && g.bools == 0:
		// Only date and timestamp text makes a JSON string column something else.
		g.text.kinds &= kindDate | kindTimestampNTZ | kindTimestamp
		return g.text.guessedType()
	}
	return Type{Name: TypeString}
}

// jsonSource reads JSON lines (one object per line, or any whitespace
// between objects) or one JSON array of objects, streaming tokens so that
// memory does not grow with the input.
type jsonSource struct {
	ctx     context.Context
	name    string
	dec     *json.Decoder
	array   bool
	schema  *Schema
	index   map[string]int
	sampled int

	origins []typeOrigin // origin of each column's type
	sample  [][]jsonScalar
	next    int
	record  int64 // 1-based number of the last object read
	fields  []jsonScalar
	object  map[string]json.RawMessage
	slab    byteSlab
	ended   bool // the decoder reached the end of the input
	done    bool // ReadRows returned the last row
}

func openJSONInput(ctx context.Context, in Input, opts InputOptions) (RowSource, error) {
	r, err := sequentialReader(in)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 256<<10)
	if head, _ := br.Peek(3); bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	s := &jsonSource{ctx: ctx, name: in.Name, index: map[string]int{}}
	first, err := firstNonSpace(br)
	if err != nil {
		return nil, fmt.Errorf("read JSON %s: %w", in.Name, err)
	}
	s.dec = json.NewDecoder(br)
	s.dec.UseNumber()
	if first == '[' {
		s.array = true
		if _, err := s.dec.Token(); err != nil {
			return nil, s.syntaxError(err)
		}
	}

	// Sample: learn the columns in first-seen order and collect their values.
	var names []string
	var guesses []jsonGuess
	var rawSample [][]jsonScalar
	limit := sampleSize(opts)
	for len(rawSample) < limit {
		var rec []jsonScalar
		more, err := s.readObject(func(key string, v jsonScalar) error {
			i, ok := s.index[key]
			if !ok {
				i = len(names)
				s.index[key] = i
				names = append(names, key)
				guesses = append(guesses, jsonGuess{})
			}
			for len(rec) <= i {
				rec = append(rec, jsonScalar{})
			}
			if rec[i].kind != jsonAbsent {
				return &InputError{Input: s.name, Row: s.record, Column: key, Reason: "the key appears twice in the object"}
			}
			rec[i] = v
			guesses[i].add(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		rawSample = append(rawSample, rec)
	}
	s.sampled = len(rawSample)

	// Columns the given schema names but the sample did not have come last,
	// and so do nullable hinted columns, so that their keys may first appear
	// after the sample. A non-nullable hinted column that the sample lacks
	// stays missing, and appending reports it as missing from the input.
	var extra []Field
	if opts.Schema != nil {
		extra = append(extra, opts.Schema.Fields...)
	}
	if opts.TypeHints != nil {
		for _, f := range opts.TypeHints.Fields {
			if f.Nullable {
				extra = append(extra, f)
			}
		}
	}
	for _, f := range extra {
		if _, ok := s.index[f.Name]; !ok && indexFold(names, f.Name) < 0 {
			s.index[f.Name] = len(names)
			names = append(names, f.Name)
			guesses = append(guesses, jsonGuess{})
		}
	}
	if len(names) == 0 {
		reason := "the JSON input has no objects to infer column types from; give a schema or add data"
		if s.sampled > 0 {
			reason = "the objects in the first rows have no keys, so there are no columns; give a schema or add data"
		}
		return nil, &InputError{Input: in.Name, Reason: reason}
	}
	if err := checkHeader(in.Name, names, "keys", 0); err != nil {
		return nil, err
	}

	types := newColumnTypes(opts)
	s.schema = &Schema{Fields: make([]Field, len(names))}
	s.origins = make([]typeOrigin, len(names))
	for i, name := range names {
		t, origin, ok := types.lookup(name)
		if !ok {
			t = guesses[i].guessedType()
		}
		s.origins[i] = origin
		s.schema.Fields[i] = Field{Name: name, Type: t, Nullable: true, PhysicalName: name}
	}
	s.sample = rawSample
	s.fields = make([]jsonScalar, len(names))
	return s, nil
}

// firstNonSpace returns the first byte after white space without consuming it, or 0 at EOF.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// readObject reads the next object and calls field for each key. It
// returns false at the end of the input or of the array.
func (s *jsonSource) readObject(field func(key string, v jsonScalar) error) (bool, error) {
	if s.ended {
		return false, nil
	}
	if !s.dec.More() {
		s.ended = true
		return false, s.finish()
	}
	s.record++
	tok, err := s.dec.Token()
	if err != nil {
		return false, s.syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return false, &InputError{Input: s.name, Row: s.record, Value: fmt.Sprint(tok),
			Reason: "expected a JSON object; the input must be JSON lines of objects or one array of objects"}
	}
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return false, s.syntaxError(err)
		}
		key := tok.(string) // the decoder allows only string keys inside an object
		tok, err = s.dec.Token()
		if err != nil {
			return false, s.syntaxError(err)
		}
		var v jsonScalar
		switch t := tok.(type) {
		case nil:
			v.kind = jsonNull
		case json.Number:
			v = jsonScalar{kind: jsonNumber, text: string(t)}
		case string:
			v = jsonScalar{kind: jsonString, text: t}
		case bool:
			v = jsonScalar{kind: jsonBool, text: strconv.FormatBool(t)}
		case json.Delim:
			nestedKind := "an object"
			if t == '[' {
				nestedKind = "an array"
			}
			return false, &InputError{Input: s.name, Row: s.record, Column: key,
				Reason: fmt.Sprintf("nested types are not supported yet: the value is %s; flatten it or encode it as a string before loading", nestedKind)}
		}
		if err := field(key, v); err != nil {
			return false, err
		}
	}
	if _, err := s.dec.Token(); err != nil { // the closing '}'
		return false, s.syntaxError(err)
	}
	return true, nil
}

// finish checks what follows the last object: the closing bracket of an
// array and then nothing, or nothing for JSON lines.
func (s *jsonSource) finish() error {
	if s.array {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntaxError(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != ']' {
			return &InputError{Input: s.name, Row: s.record + 1, Reason: "expected ',' or ']' in the JSON array"}
		}
	}
	tok, err := s.dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return s.syntaxError(err)
	}
	return &InputError{Input: s.name, Value: fmt.Sprint(tok), Reason: fmt.Sprintf("unexpected data after the last object (byte offset %d)", s.dec.InputOffset())}
}

func (s *jsonSource) syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &InputError{Input: s.name, Row: s.record, Reason: fmt.Sprintf("malformed JSON at byte offset %d: %v", se.Offset, se)}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &InputError{Input: s.name, Row: s.record, Reason: "the JSON input ends in the middle of a value"}
	}
	return fmt.Errorf("read JSON %s: %w", s.name, err)
}

func (s *jsonSource) Schema() *Schema { return s.schema }

func (s *jsonSource) ReadRows(rows []parquet.Row) (int, error) {
	if err := checkContext(s.ctx, s.name); err != nil {
		return 0, err
	}
	n := 0
	for n < len(rows) && !s.done {
		var rec []jsonScalar
		var rowNum int64
		if s.next < len(s.sample) {
			rec = s.sample[s.next]
			s.sample[s.next] = nil
			s.next++
			rowNum = int64(s.next)
			if s.next == len(s.sample) {
				s.sample, s.next = nil, 0
			}
		} else {
			more, err := s.readKnownObject()
			if err != nil {
				return 0, err
			}
			if !more {
				s.done = true
				break
			}
			rec, rowNum = s.fields, s.record
		}
		row, err := s.convert(rows[n][:0], rec, rowNum)
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

// readKnownObject reads the next object after the sample into s.fields.
// It decodes whole objects, which is several times faster than the token
// stream that sampling needs to see keys in order.
// NOTE: a key repeated in one object is not detected here; the last value wins.
func (s *jsonSource) readKnownObject() (bool, error) {
	if s.ended {
		return false, nil
	}
	if !s.dec.More() {
		s.ended = true
		return false, s.finish()
	}
	s.record++
	clear(s.object)
	if s.object == nil {
		s.object = make(map[string]json.RawMessage, len(s.fields))
	}
	if err := s.dec.Decode(&s.object); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return false, &InputError{Input: s.name, Row: s.record, Value: te.Value,
				Reason: "expected a JSON object; the input must be JSON lines of objects or one array of objects"}
		}
		return false, s.syntaxError(err)
	}
	clear(s.fields)
	for key, raw := range s.object {
		i, ok := s.index[key]
		if !ok {
			return false, &InputError{Input: s.name, Row: s.record, Column: key,
				Reason: fmt.Sprintf("the key is not in the first %d rows, which set the columns; give a schema that names it or raise the sample size", s.sampled)}
		}
		v, err := s.rawScalar(key, raw)
		if err != nil {
			return false, err
		}
		s.fields[i] = v
	}
	return true, nil
}

// rawScalar reads one field value that Decode left as raw JSON text.
func (s *jsonSource) rawScalar(key string, raw json.RawMessage) (jsonScalar, error) {
	switch raw[0] {
	case '{', '[':
		nestedKind := "an object"
		if raw[0] == '[' {
			nestedKind = "an array"
		}
		return jsonScalar{}, &InputError{Input: s.name, Row: s.record, Column: key,
			Reason: fmt.Sprintf("nested types are not supported yet: the value is %s; flatten it or encode it as a string before loading", nestedKind)}
	case 'n':
		return jsonScalar{kind: jsonNull}, nil
	case 't', 'f':
		return jsonScalar{kind: jsonBool, text: string(raw)}, nil
	case '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return jsonScalar{kind: jsonString, text: string(raw[1 : len(raw)-1])}, nil
		}
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return jsonScalar{}, s.syntaxError(err)
		}
		return jsonScalar{kind: jsonString, text: text}, nil
	}
	return jsonScalar{kind: jsonNumber, text: string(raw)}, nil
}

func (s *jsonSource) convert(row parquet.Row, rec []jsonScalar, rowNum int64) (parquet.Row, error) {
	for i := range s.schema.Fields {
		var v jsonScalar
		if i < len(rec) {
			v = rec[i]
		}
		if v.kind == jsonAbsent || v.kind == jsonNull {
			row = append(row, nullValue(i))
			continue
		}
		f := &s.schema.Fields[i]
		out, reason := s.convertScalar(f.Type, v, i)
		if reason != "" {
			return row, &InputError{Input: s.name, Row: rowNum, Column: f.Name, Value: v.text,
				Reason: badValueReason(reason, f.Type, f.Name, s.origins[i], s.sampled)}
		}
		row = append(row, out)
	}
	return row, nil
}

// convertScalar reads a JSON scalar as type t: numbers and booleans by
// their JSON text, binary from base64 (as encoding/json writes []byte).
func (s *jsonSource) convertScalar(t Type, v jsonScalar, col int) (parquet.Value, string) {
	switch {
	case t.Name == TypeBoolean && v.kind != jsonBool:
		return parquet.Value{}, "is not a JSON boolean"
	case t.Name == TypeBinary:
		if v.kind != jsonString {
			return parquet.Value{}, "is not a base64 string"
		}
		b, err := base64.StdEncoding.DecodeString(v.text)
		if err != nil {
			return parquet.Value{}, "is not valid base64"
		}
		return parquet.ByteArrayValue(s.slab.copyBytes(b)).Level(0, 1, col), ""
	case v.kind == jsonBool && t.Name != TypeBoolean && t.Name != TypeString:
		return parquet.Value{}, fmt.Sprintf("is a JSON boolean, not a %s", t.Name)
	case t.Name == TypeLong && v.kind == jsonNumber:
		// The common case skips the generic text path.
		n, err := strconv.ParseInt(v.text, 10, 64)
		if err == nil {
			return parquet.Int64Value(n).Level(0, 1, col), ""
		}
	case t.Name == TypeDouble && v.kind == jsonNumber:
		f, err := strconv.ParseFloat(v.text, 64)
		if err == nil {
			return parquet.DoubleValue(f).Level(0, 1, col), ""
		}
	}
	return parseText(t, v.text, col, 1, &s.slab)
}

func (s *jsonSource) Close() error { return nil }
