package format

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/parquet-go/parquet-go"
)

// arrowFileMagic starts and ends an Arrow IPC file; a stream has no magic.
var arrowFileMagic = []byte("ARROW1")

// arrowColumnReader returns the value of row i of one column of the current
// record batch, converted to the RowSource representation, or a reason
// when the value does not fit.
type arrowColumnReader func(i int) (parquet.Value, string)

// arrowSource converts Arrow record batches to rows.
type arrowSource struct {
	ctx    context.Context
	name   string
	schema *Schema
	fields []arrow.Field
	defs   []int

	// nextBatch returns the next record batch, owned by the caller until it
	// calls nextBatch again, or io.EOF.
	nextBatch func() (arrow.RecordBatch, error)
	release   func()

	batch   arrow.RecordBatch
	columns []arrowColumnReader
	offset  int   // next row within batch
	rowNum  int64 // rows returned so far
	slab    byteSlab
	done    bool
}

func openArrowInput(ctx context.Context, in Input) (RowSource, error) {
	if in.ReaderAt != nil {
		head := make([]byte, len(arrowFileMagic))
		if _, err := in.ReaderAt.ReadAt(head, 0); err == nil && bytes.Equal(head, arrowFileMagic) {
			fr, err := ipc.NewFileReader(io.NewSectionReader(in.ReaderAt, 0, in.Size))
			if err != nil {
				return nil, &InputError{Input: in.Name, Reason: fmt.Sprintf("not a readable Arrow IPC file: %v", err)}
			}
			next := func() (arrow.RecordBatch, error) {
				rec, err := fr.Read()
				if err != nil && err != io.EOF {
					err = &InputError{Input: in.Name, Reason: fmt.Sprintf("read Arrow record batch: %v", err)}
				}
				return rec, err
			}
			return newArrowSource(ctx, in.Name, fr.Schema(), next, func() { fr.Close() })
		}
	}
	r, err := sequentialReader(in)
	if err != nil {
		return nil, err
	}
	sr, err := ipc.NewReader(r)
	if err != nil {
		return nil, &InputError{Input: in.Name, Reason: fmt.Sprintf("not a readable Arrow IPC file or stream: %v", err)}
	}
	return newArrowReaderSource(ctx, in.Name, sr)
}

// NewArrowRecordSource returns the rows of record batches that all have
// schema, for appending arrow-go data through the Go API. The source
// retains the batches until Close.
func NewArrowRecordSource(schema *arrow.Schema, records []arrow.RecordBatch) (RowSource, error) {
	rr, err := array.NewRecordReader(schema, records)
	if err != nil {
		return nil, &InputError{Reason: fmt.Sprintf("invalid Arrow record batches: %v", err)}
	}
	defer rr.Release()
	return NewArrowReaderSource(rr)
}

// NewArrowReaderSource returns the rows of an Arrow record reader, such as
// an ipc.Reader or a Flight stream. The source retains the reader until Close.
func NewArrowReaderSource(rr array.RecordReader) (RowSource, error) {
	return newArrowReaderSource(context.Background(), "", rr)
}

func newArrowReaderSource(ctx context.Context, name string, rr array.RecordReader) (RowSource, error) {
	rr.Retain()
	next := func() (arrow.RecordBatch, error) {
		if rr.Next() {
			return rr.RecordBatch(), nil
		}
		if err := rr.Err(); err != nil {
			return nil, &InputError{Input: name, Reason: fmt.Sprintf("read Arrow record batch: %v", err)}
		}
		return nil, io.EOF
	}
	s, err := newArrowSource(ctx, name, rr.Schema(), next, rr.Release)
	if err != nil {
		rr.Release()
	}
	return s, err
}

func newArrowSource(ctx context.Context, name string, as *arrow.Schema, next func() (arrow.RecordBatch, error), release func()) (*arrowSource, error) {
	s := &arrowSource{ctx: ctx, name: name, schema: &Schema{}, nextBatch: next, release: release}
	for _, f := range as.Fields() {
		t, err := arrowType(f.Type)
		if err != nil {
			return nil, &InputError{Input: name, Column: f.Name, Reason: err.Error()}
		}
		s.schema.Fields = append(s.schema.Fields, Field{Name: f.Name, Type: t, Nullable: f.Nullable, PhysicalName: f.Name})
		s.fields = append(s.fields, f)
		s.defs = append(s.defs, definitionLevel(f.Nullable))
	}
	return s, nil
}

// arrowType maps an Arrow data type to a Delta type. Unsigned integers
// widen to the next signed type; uint64 maps to long and its values above
// the long maximum fail on read.
func arrowType(dt arrow.DataType) (Type, error) {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return arrowType(t.ValueType)
	case *arrow.TimestampType:
		if t.TimeZone != "" {
			return Type{Name: TypeTimestamp}, nil
		}
		return Type{Name: TypeTimestampNTZ}, nil
	case arrow.DecimalType:
		if t.GetPrecision() < 1 || t.GetPrecision() > maxDecimalPrecision {
			return Type{}, fmt.Errorf("decimal precision %d is outside 1 to %d, the range Delta Lake accepts", t.GetPrecision(), maxDecimalPrecision)
		}
		return Type{Name: TypeDecimal, Precision: int(t.GetPrecision()), Scale: int(t.GetScale())}, nil
	}
	switch dt.ID() {
	case arrow.INT8:
		return Type{Name: TypeByte}, nil
	case arrow.INT16, arrow.UINT8:
		return Type{Name: TypeShort}, nil
	case arrow.INT32, arrow.UINT16:
		return Type{Name: TypeInteger}, nil
	case arrow.INT64, arrow.UINT32, arrow.UINT64:
		return Type{Name: TypeLong}, nil
	case arrow.FLOAT16, arrow.FLOAT32:
		return Type{Name: TypeFloat}, nil
	case arrow.FLOAT64:
		return Type{Name: TypeDouble}, nil
	case arrow.BOOL:
		return Type{Name: TypeBoolean}, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return Type{Name: TypeString}, nil
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return Type{Name: TypeBinary}, nil
	case arrow.DATE32, arrow.DATE64:
		return Type{Name: TypeDate}, nil
	case arrow.STRUCT, arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW,
		arrow.LARGE_LIST_VIEW, arrow.MAP, arrow.SPARSE_UNION, arrow.DENSE_UNION, arrow.RUN_END_ENCODED:
		return Type{}, fmt.Errorf("nested types are not supported yet: the column is Arrow %s; flatten it before loading", dt)
	}
	return Type{}, fmt.Errorf("Arrow type %s has no Delta equivalent that safewrite writes; cast the column to a supported type before loading", dt)
}

func (s *arrowSource) Schema() *Schema { return s.schema }

func (s *arrowSource) ReadRows(rows []parquet.Row) (int, error) {
	if err := checkContext(s.ctx, s.name); err != nil {
		return 0, err
	}
	n := 0
	for n < len(rows) && !s.done {
		if s.batch == nil || s.offset == int(s.batch.NumRows()) {
			rec, err := s.nextBatch()
			if err == io.EOF {
				s.done = true
				break
			}
			if err != nil {
				return 0, err
			}
			if err := s.startBatch(rec); err != nil {
				return 0, err
			}
			continue
		}
		row := rows[n][:0]
		s.rowNum++
		for c, read := range s.columns {
			if s.batch.Column(c).IsNull(s.offset) {
				row = append(row, nullValue(c))
				continue
			}
			v, reason := read(s.offset)
			if reason != "" {
				return 0, &InputError{Input: s.name, Row: s.rowNum, Column: s.fields[c].Name, Value: s.batch.Column(c).ValueStr(s.offset), Reason: reason}
			}
			row = append(row, v.Level(0, s.defs[c], c))
		}
		rows[n] = row
		s.offset++
		n++
	}
	if n == 0 && s.done {
		return 0, io.EOF
	}
	return n, nil
}

func (s *arrowSource) startBatch(rec arrow.RecordBatch) error {
	if int(rec.NumCols()) != len(s.fields) {
		return &InputError{Input: s.name, Reason: fmt.Sprintf("record batch has %d columns but the schema has %d", rec.NumCols(), len(s.fields))}
	}
	s.batch, s.offset = rec, 0
	s.columns = s.columns[:0]
	for c := range s.fields {
		read, err := s.columnReader(rec.Column(c))
		if err != nil {
			return &InputError{Input: s.name, Column: s.fields[c].Name, Reason: err.Error()}
		}
		s.columns = append(s.columns, read)
	}
	return nil
}

// columnReader returns the converter for one column array of the current batch.
func (s *arrowSource) columnReader(arr arrow.Array) (arrowColumnReader, error) {
	slab := &s.slab
	switch a := arr.(type) {
	case *array.Dictionary:
		values, err := s.columnReader(a.Dictionary())
		if err != nil {
			return nil, err
		}
		return func(i int) (parquet.Value, string) { return values(a.GetValueIndex(i)) }, nil
	case *array.Int8:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(int32(a.Value(i))), "" }, nil
	case *array.Int16:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(int32(a.Value(i))), "" }, nil
	case *array.Int32:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(a.Value(i)), "" }, nil
	case *array.Int64:
		return func(i int) (parquet.Value, string) { return parquet.Int64Value(a.Value(i)), "" }, nil
	case *array.Uint8:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(int32(a.Value(i))), "" }, nil
	case *array.Uint16:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(int32(a.Value(i))), "" }, nil
	case *array.Uint32:
		return func(i int) (parquet.Value, string) { return parquet.Int64Value(int64(a.Value(i))), "" }, nil
	case *array.Uint64:
		return func(i int) (parquet.Value, string) {
			v := a.Value(i)
			if v > math.MaxInt64 {
				return parquet.Value{}, "is an unsigned 64-bit value above 9223372036854775807, the maximum of long"
			}
			return parquet.Int64Value(int64(v)), ""
		}, nil
	case *array.Float16:
		return func(i int) (parquet.Value, string) { return parquet.FloatValue(a.Value(i).Float32()), "" }, nil
	case *array.Float32:
		return func(i int) (parquet.Value, string) { return parquet.FloatValue(a.Value(i)), "" }, nil
	case *array.Float64:
		return func(i int) (parquet.Value, string) { return parquet.DoubleValue(a.Value(i)), "" }, nil
	case *array.Boolean:
		return func(i int) (parquet.Value, string) { return parquet.BooleanValue(a.Value(i)), "" }, nil
	case *array.String:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyString(a.Value(i))), "" }, nil
	case *array.LargeString:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyString(a.Value(i))), "" }, nil
	case *array.StringView:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyString(a.Value(i))), "" }, nil
	case *array.Binary:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyBytes(a.Value(i))), "" }, nil
	case *array.LargeBinary:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyBytes(a.Value(i))), "" }, nil
	case *array.BinaryView:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyBytes(a.Value(i))), "" }, nil
	case *array.FixedSizeBinary:
		return func(i int) (parquet.Value, string) { return parquet.ByteArrayValue(slab.copyBytes(a.Value(i))), "" }, nil
	case *array.Date32:
		return func(i int) (parquet.Value, string) { return parquet.Int32Value(int32(a.Value(i))), "" }, nil
	case *array.Date64:
		return func(i int) (parquet.Value, string) {
			return parquet.Int32Value(int32(floorDiv(int64(a.Value(i)), 86400_000))), ""
		}, nil
	case *array.Timestamp:
		return timestampReader(a)
	case *array.Decimal32:
		return func(i int) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(int64ToTwosComplement(int64(a.Value(i))))), ""
		}, nil
	case *array.Decimal64:
		return func(i int) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(int64ToTwosComplement(int64(a.Value(i))))), ""
		}, nil
	case *array.Decimal128:
		return func(i int) (parquet.Value, string) {
			n := a.Value(i)
			var buf [16]byte
			binary.BigEndian.PutUint64(buf[:8], uint64(n.HighBits()))
			binary.BigEndian.PutUint64(buf[8:], n.LowBits())
			return parquet.ByteArrayValue(slab.copyBytes(trimTwosComplement(buf[:]))), ""
		}, nil
	case *array.Decimal256:
		return func(i int) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(bigToTwosComplement(a.Value(i).BigInt()))), ""
		}, nil
	}
	return nil, fmt.Errorf("Arrow array %s is not supported", arr.DataType())
}

// timestampReader converts any Arrow timestamp unit to microseconds,
// rounding nanoseconds down.
func timestampReader(a *array.Timestamp) (arrowColumnReader, error) {
	unit := a.DataType().(*arrow.TimestampType).Unit
	switch unit {
	case arrow.Second, arrow.Millisecond:
		factor := int64(1_000_000)
		if unit == arrow.Millisecond {
			factor = 1000
		}
		return func(i int) (parquet.Value, string) {
			v := int64(a.Value(i))
			if v > math.MaxInt64/factor || v < math.MinInt64/factor {
				return parquet.Value{}, "is a timestamp outside the microsecond range"
			}
			return parquet.Int64Value(v * factor), ""
		}, nil
	case arrow.Microsecond:
		return func(i int) (parquet.Value, string) { return parquet.Int64Value(int64(a.Value(i))), "" }, nil
	case arrow.Nanosecond:
		return func(i int) (parquet.Value, string) { return parquet.Int64Value(floorDiv(int64(a.Value(i)), 1000)), "" }, nil
	}
	return nil, errors.New("unknown Arrow timestamp unit")
}

func (s *arrowSource) Close() error {
	if s.release != nil {
		s.release()
		s.release = nil
	}
	return nil
}
