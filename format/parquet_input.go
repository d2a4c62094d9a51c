package format

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"
	pformat "github.com/parquet-go/parquet-go/format"
)

// OpenParquetFile opens the Parquet file in in.ReaderAt, reading only its
// footer. A file that is not Parquet is an *InputError.
func OpenParquetFile(in Input) (f *parquet.File, err error) {
	if in.ReaderAt == nil {
		return nil, &InputError{Input: in.Name, Reason: "Parquet input needs random access (Input.ReaderAt and Input.Size)"}
	}
	// parquet-go panics on some malformed schemas (a DECIMAL without length).
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, &InputError{Input: in.Name, Reason: fmt.Sprintf("not a readable Parquet file: %v", p)}
		}
	}()
	f, err = parquet.OpenFile(in.ReaderAt, in.Size,
		parquet.SkipPageIndex(true),
		parquet.SkipBloomFilters(true),
		parquet.ReadBufferSize(1<<20),
	)
	if err != nil {
		return nil, &InputError{Input: in.Name, Reason: fmt.Sprintf("not a readable Parquet file: %v", err)}
	}
	return f, nil
}

// ParquetSchema maps the schema of a flat Parquet file to Delta types, in
// file column order. A nested column or a type without a Delta equivalent
// is an *InputError naming the column.
func ParquetSchema(f *parquet.File) (*Schema, error) {
	s, _, err := parquetColumns(f.Schema(), "")
	return s, err
}

// valueConverter turns one Parquet value of a column into the RowSource
// representation. It returns a reason when the value does not fit.
type valueConverter func(v parquet.Value, slab *byteSlab) (parquet.Value, string)

// parquetColumns maps the top-level fields of a Parquet schema to Delta
// fields and their value converters. name is the input name for errors.
func parquetColumns(schema *parquet.Schema, name string) (*Schema, []valueConverter, error) {
	out := &Schema{}
	var convs []valueConverter
	for _, field := range schema.Fields() {
		col := field.Name()
		if !field.Leaf() || field.Repeated() {
			return nil, nil, &InputError{Input: name, Column: col, Reason: "nested types are not supported yet: the column is a group, list or map; select flat columns or flatten it before loading"}
		}
		t, conv, err := parquetLeafType(field.Type())
		if err != nil {
			return nil, nil, &InputError{Input: name, Column: col, Reason: err.Error()}
		}
		out.Fields = append(out.Fields, Field{Name: col, Type: t, Nullable: field.Optional(), PhysicalName: col})
		convs = append(convs, conv)
	}
	return out, convs, nil
}

func keepValue(v parquet.Value, _ *byteSlab) (parquet.Value, string) { return v, "" }

func copyByteArray(v parquet.Value, slab *byteSlab) (parquet.Value, string) {
	return parquet.ByteArrayValue(slab.copyBytes(v.ByteArray())), ""
}

// parquetLeafType maps a Parquet leaf type to a Delta type.
func parquetLeafType(pt parquet.Type) (Type, valueConverter, error) {
	kind := pt.Kind()
	lt := pt.LogicalType()
	if lt != nil && lt.Value != nil {
		switch l := lt.Value.(type) {
		case *pformat.StringType, *pformat.EnumType, *pformat.JsonType:
			if kind == parquet.ByteArray {
				return Type{Name: TypeString}, copyByteArray, nil
			}
		case *pformat.BsonType:
			return Type{Name: TypeBinary}, copyByteArray, nil
		case *pformat.UUIDType:
			if kind == parquet.FixedLenByteArray && pt.Length() == 16 {
				return Type{Name: TypeString}, convertUUID, nil
			}
		case *pformat.DateType:
			if kind == parquet.Int32 {
				return Type{Name: TypeDate}, convertDate, nil
			}
		case *pformat.IntType:
			return parquetIntType(kind, l)
		case *pformat.TimestampType:
			return parquetTimestampType(kind, l)
		case *pformat.DecimalType:
			return parquetDecimalType(kind, l)
		case *pformat.Float16Type:
			if kind == parquet.FixedLenByteArray && pt.Length() == 2 {
				return Type{Name: TypeFloat}, convertFloat16, nil
			}
		case *pformat.ListType, *pformat.MapType:
			return Type{}, nil, errors.New("nested types are not supported yet: the column is a list or map; flatten it before loading")
		}
		return Type{}, nil, fmt.Errorf("Parquet type %s (logical type %s) has no Delta equivalent that safewrite writes; cast the column to a supported type before loading", kind, lt)
	}

	switch kind {
	case parquet.Boolean:
		return Type{Name: TypeBoolean}, keepValue, nil
	case parquet.Int32:
		return Type{Name: TypeInteger}, keepValue, nil
	case parquet.Int64:
		return Type{Name: TypeLong}, keepValue, nil
	case parquet.Int96:
		return Type{Name: TypeTimestamp}, convertInt96, nil
	case parquet.Float:
		return Type{Name: TypeFloat}, keepValue, nil
	case parquet.Double:
		return Type{Name: TypeDouble}, keepValue, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return Type{Name: TypeBinary}, copyByteArray, nil
	}
	return Type{}, nil, fmt.Errorf("Parquet physical type %s is not supported", kind)
}

func parquetIntType(kind parquet.Kind, l *pformat.IntType) (Type, valueConverter, error) {
	switch {
	case kind == parquet.Int32 && l.IsSigned && l.BitWidth == 8:
		return Type{Name: TypeByte}, keepValue, nil
	case kind == parquet.Int32 && l.IsSigned && l.BitWidth == 16:
		return Type{Name: TypeShort}, keepValue, nil
	case kind == parquet.Int32 && l.IsSigned:
		return Type{Name: TypeInteger}, keepValue, nil
	case kind == parquet.Int64 && l.IsSigned:
		return Type{Name: TypeLong}, keepValue, nil
	// Unsigned types widen to the next signed type that holds every value.
	case kind == parquet.Int32 && l.BitWidth == 8:
		return Type{Name: TypeShort}, keepValue, nil
	case kind == parquet.Int32 && l.BitWidth == 16:
		return Type{Name: TypeInteger}, keepValue, nil
	case kind == parquet.Int32:
		return Type{Name: TypeLong}, func(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
			return parquet.Int64Value(int64(uint32(v.Int32()))), ""
		}, nil
	case kind == parquet.Int64:
		// NOTE: uint64 maps to long, so values above 2^63-1 fail on read
		// instead of widening every value to decimal(20,0).
		return Type{Name: TypeLong}, func(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
			if v.Uint64() > math.MaxInt64 {
				return v, "is an unsigned 64-bit value above 9223372036854775807, the maximum of long"
			}
			return v, ""
		}, nil
	}
	return Type{}, nil, fmt.Errorf("Parquet integer type %s on physical type %s is not supported", l, kind)
}

func parquetTimestampType(kind parquet.Kind, l *pformat.TimestampType) (Type, valueConverter, error) {
	if kind != parquet.Int64 {
		return Type{}, nil, fmt.Errorf("Parquet timestamp on physical type %s is not supported", kind)
	}
	t := Type{Name: TypeTimestampNTZ}
	if l.IsAdjustedToUTC {
		t.Name = TypeTimestamp
	}
	switch l.Unit.Value.(type) {
	case *pformat.MilliSeconds:
		return t, func(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
			ms := v.Int64()
			if ms > math.MaxInt64/1000 || ms < math.MinInt64/1000 {
				return v, "is a millisecond timestamp outside the microsecond range"
			}
			return parquet.Int64Value(ms * 1000), ""
		}, nil
	case *pformat.MicroSeconds:
		return t, keepValue, nil
	case *pformat.NanoSeconds:
		return t, func(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
			return parquet.Int64Value(floorDiv(v.Int64(), 1000)), ""
		}, nil
	}
	return Type{}, nil, fmt.Errorf("Parquet timestamp unit %s is not supported", &l.Unit)
}

func parquetDecimalType(kind parquet.Kind, l *pformat.DecimalType) (Type, valueConverter, error) {
	if l.Precision < 1 || l.Precision > maxDecimalPrecision {
		return Type{}, nil, fmt.Errorf("decimal precision %d is outside 1 to %d, the range Delta Lake accepts", l.Precision, maxDecimalPrecision)
	}
	t := Type{Name: TypeDecimal, Precision: int(l.Precision), Scale: int(l.Scale)}
	switch kind {
	case parquet.Int32:
		return t, func(v parquet.Value, slab *byteSlab) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(int64ToTwosComplement(int64(v.Int32())))), ""
		}, nil
	case parquet.Int64:
		return t, func(v parquet.Value, slab *byteSlab) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(int64ToTwosComplement(v.Int64()))), ""
		}, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return t, func(v parquet.Value, slab *byteSlab) (parquet.Value, string) {
			return parquet.ByteArrayValue(slab.copyBytes(trimTwosComplement(v.ByteArray()))), ""
		}, nil
	}
	return Type{}, nil, fmt.Errorf("Parquet decimal on physical type %s is not supported", kind)
}

// julianDayOfEpoch is the Julian day number of 1970-01-01, the day origin of INT96 timestamps.
const julianDayOfEpoch = 2440588

// convertInt96 reads an INT96 timestamp (nanoseconds of the day in the low
// 8 bytes, Julian day in the high 4 bytes, as Impala and Spark write it).
func convertInt96(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
	i := v.Int96()
	nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
	days := int64(i[2]) - julianDayOfEpoch
	return parquet.Int64Value(days*86400_000_000 + floorDiv(nanos, 1000)), ""
}

// convertDate keeps INT32 days. NOTE: parquet-go v0.32.1 deconstructs a
// time.Time field tagged "date" into INT64 Unix nanoseconds instead of
// days, so an INT64 value here is read as nanoseconds.
func convertDate(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
	if v.Kind() == parquet.Int64 {
		return parquet.Int32Value(int32(floorDiv(v.Int64(), 86400_000_000_000))), ""
	}
	return v, ""
}

func convertUUID(v parquet.Value, slab *byteSlab) (parquet.Value, string) {
	id, err := uuid.FromBytes(v.ByteArray())
	if err != nil {
		return v, "is not a 16-byte UUID"
	}
	return parquet.ByteArrayValue(slab.copyString(id.String())), ""
}

func convertFloat16(v parquet.Value, _ *byteSlab) (parquet.Value, string) {
	b := v.ByteArray()
	if len(b) != 2 {
		return v, "is not a 2-byte float16"
	}
	return parquet.FloatValue(float16.FromBits(binary.LittleEndian.Uint16(b)).Float32()), ""
}

// parquetSource reads a flat Parquet file row group by row group.
type parquetSource struct {
	ctx    context.Context
	name   string
	file   *parquet.File
	schema *Schema
	convs  []valueConverter
	defs   []int

	groups []parquet.RowGroup
	next   int // index of the next row group to open
	rows   parquet.Rows
	rowNum int64 // rows returned so far
	slab   byteSlab
	done   bool
}

func openParquetInput(ctx context.Context, in Input) (RowSource, error) {
	f, err := OpenParquetFile(in)
	if err != nil {
		return nil, err
	}
	return newParquetFileSource(ctx, in.Name, f)
}

func newParquetFileSource(ctx context.Context, name string, f *parquet.File) (*parquetSource, error) {
	schema, convs, err := parquetColumns(f.Schema(), name)
	if err != nil {
		return nil, err
	}
	defs := make([]int, len(schema.Fields))
	for i, fl := range schema.Fields {
		defs[i] = definitionLevel(fl.Nullable)
	}
	return &parquetSource{ctx: ctx, name: name, file: f, schema: schema, convs: convs, defs: defs, groups: f.RowGroups()}, nil
}

func (s *parquetSource) Schema() *Schema { return s.schema }

func (s *parquetSource) ReadRows(rows []parquet.Row) (int, error) {
	if err := checkContext(s.ctx, s.name); err != nil {
		return 0, err
	}
	for !s.done {
		if s.rows == nil {
			if s.next == len(s.groups) {
				s.done = true
				break
			}
			s.rows = s.groups[s.next].Rows()
			s.next++
		}
		n, err := s.rows.ReadRows(rows)
		if n > 0 {
			if cerr := s.convert(rows[:n]); cerr != nil {
				return 0, cerr
			}
		}
		if err == io.EOF {
			s.rows.Close()
			s.rows = nil
		} else if err != nil {
			return 0, fmt.Errorf("read Parquet %s row group %d: %w", s.name, s.next-1, err)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

func (s *parquetSource) convert(rows []parquet.Row) error {
	for r, row := range rows {
		s.rowNum++
		if len(row) != len(s.convs) {
			return &InputError{Input: s.name, Row: s.rowNum, Reason: fmt.Sprintf("row has %d values for %d columns; only flat schemas are supported", len(row), len(s.convs))}
		}
		for i, v := range row {
			col := v.Column()
			if v.IsNull() {
				row[i] = nullValue(col)
				continue
			}
			out, reason := s.convs[col](v, &s.slab)
			if reason != "" {
				return &InputError{Input: s.name, Row: s.rowNum, Column: s.schema.Fields[col].Name, Value: v.String(), Reason: reason}
			}
			row[i] = out.Level(0, s.defs[col], col)
		}
		rows[r] = row
	}
	return nil
}

func (s *parquetSource) Close() error {
	if s.rows != nil {
		err := s.rows.Close()
		s.rows = nil
		return err
	}
	return nil
}
