package format

import (
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	pformat "github.com/parquet-go/parquet-go/format"
)

// CanPassThrough reports whether an existing Parquet file can be uploaded as
// a data file of a table with schema target unchanged. The file must be
// flat and have exactly the target's columns under their physical names.
// Each column must have a physical and logical type that Spark reads as the
// Delta type, and no partition column may need splitting out. Otherwise
// reason explains why the file must be re-encoded.
func CanPassThrough(f *parquet.File, target *Schema, partitionColumns []string) (ok bool, reason string) {
	if len(partitionColumns) > 0 {
		return false, "the table is partitioned, so partition columns must be split out of the file"
	}
	columns := f.Root().Columns()
	if len(columns) != len(target.Fields) {
		return false, fmt.Sprintf("the file has %d top-level columns and the table %d", len(columns), len(target.Fields))
	}
	for _, field := range target.Fields {
		name := physicalName(field)
		col := f.Root().Column(name)
		if col == nil {
			return false, fmt.Sprintf("column %q is not in the file under that name", name)
		}
		if !col.Leaf() || col.Repeated() {
			return false, fmt.Sprintf("column %q is nested or repeated in the file", name)
		}
		if col.Optional() && !field.Nullable {
			return false, fmt.Sprintf("column %q is optional in the file but not nullable in the table", name)
		}
		if field.ID != 0 && col.ID() != field.ID {
			return false, fmt.Sprintf("column %q has field id %d in the file, the table expects %d", name, col.ID(), field.ID)
		}
		if mismatch := typeMismatch(col.Type(), field.Type); mismatch != "" {
			return false, fmt.Sprintf("column %q: %s", name, mismatch)
		}
	}
	return true, ""
}

// typeMismatch returns why a column of parquet type pt does not read as
// Delta type t in Spark, or "" when it does.
func typeMismatch(pt parquet.Type, t Type) string {
	kind := pt.Kind()
	var logical pformat.LogicalTypeValue
	if lt := pt.LogicalType(); lt != nil {
		logical = lt.Value
	}
	var converted *deprecated.ConvertedType
	if logical == nil {
		converted = pt.ConvertedType()
	}
	got := describeParquetType(pt)
	mismatch := fmt.Sprintf("parquet type %s does not read as %s", got, t)

	switch t.Name {
	case TypeString:
		if kind == parquet.ByteArray && (isLogical[*pformat.StringType](logical) || isConverted(converted, deprecated.UTF8)) {
			return ""
		}
	case TypeBinary:
		if kind == parquet.ByteArray && logical == nil && converted == nil {
			return ""
		}
	case TypeLong:
		if kind == parquet.Int64 && isSignedInt(logical, converted, 64) {
			return ""
		}
	case TypeInteger:
		if kind == parquet.Int32 && isSignedInt(logical, converted, 32) {
			return ""
		}
	case TypeShort:
		if kind == parquet.Int32 && (isIntLogical(logical, 16) || isConverted(converted, deprecated.Int16)) {
			return ""
		}
	case TypeByte:
		if kind == parquet.Int32 && (isIntLogical(logical, 8) || isConverted(converted, deprecated.Int8)) {
			return ""
		}
	case TypeFloat:
		if kind == parquet.Float && logical == nil {
			return ""
		}
	case TypeDouble:
		if kind == parquet.Double && logical == nil {
			return ""
		}
	case TypeBoolean:
		if kind == parquet.Boolean {
			return ""
		}
	case TypeDate:
		if kind == parquet.Int32 && (isLogical[*pformat.DateType](logical) || isConverted(converted, deprecated.Date)) {
			return ""
		}
	case TypeTimestamp, TypeTimestampNTZ:
		return timestampMismatch(kind, logical, converted, t, mismatch)
	case TypeDecimal:
		d, ok := logical.(*pformat.DecimalType)
		if !ok {
			return mismatch
		}
		if int(d.Precision) != t.Precision || int(d.Scale) != t.Scale {
			return fmt.Sprintf("parquet decimal(%d,%d) differs from %s", d.Precision, d.Scale, t)
		}
		switch kind {
		case parquet.Int32, parquet.Int64, parquet.FixedLenByteArray, parquet.ByteArray:
			return ""
		}
	}
	return mismatch
}

func timestampMismatch(kind parquet.Kind, logical pformat.LogicalTypeValue, converted *deprecated.ConvertedType, t Type, mismatch string) string {
	utc := t.Name == TypeTimestamp
	if kind == parquet.Int96 {
		// Spark reads the legacy INT96 encoding as a UTC timestamp.
		if utc {
			return ""
		}
		return "INT96 timestamps read as timestamp, not timestamp_ntz"
	}
	if kind != parquet.Int64 {
		return mismatch
	}
	if ts, ok := logical.(*pformat.TimestampType); ok {
		switch ts.Unit.Value.(type) {
		case *pformat.MilliSeconds:
			return "timestamp in milliseconds; Delta stores microseconds, so the values are re-encoded"
		case *pformat.NanoSeconds:
			return "timestamp in nanoseconds; Spark does not read them as timestamps, so the values are re-encoded"
		}
		if ts.IsAdjustedToUTC != utc {
			if utc {
				return "timestamp without time zone (isAdjustedToUTC=false) does not read as timestamp; use timestamp_ntz"
			}
			return "timestamp with time zone (isAdjustedToUTC=true) does not read as timestamp_ntz; use timestamp"
		}
		return ""
	}
	if converted != nil {
		switch *converted {
		case deprecated.TimestampMicros:
			if utc {
				return ""
			}
			return "TIMESTAMP_MICROS is adjusted to UTC and does not read as timestamp_ntz"
		case deprecated.TimestampMillis:
			return "timestamp in milliseconds; Delta stores microseconds, so the values are re-encoded"
		}
	}
	return mismatch
}

func isLogical[T pformat.LogicalTypeValue](v pformat.LogicalTypeValue) bool {
	_, ok := v.(T)
	return ok
}

func isConverted(c *deprecated.ConvertedType, want deprecated.ConvertedType) bool {
	return c != nil && *c == want
}

func isIntLogical(v pformat.LogicalTypeValue, bits int) bool {
	it, ok := v.(*pformat.IntType)
	return ok && it.IsSigned && int(it.BitWidth) == bits
}

// isSignedInt accepts an unannotated integer or a signed INT annotation of
// the physical width.
func isSignedInt(v pformat.LogicalTypeValue, c *deprecated.ConvertedType, bits int) bool {
	if v == nil {
		if c == nil {
			return true
		}
		return (bits == 64 && *c == deprecated.Int64) || (bits == 32 && *c == deprecated.Int32)
	}
	return isIntLogical(v, bits)
}

func describeParquetType(pt parquet.Type) string {
	s := pt.Kind().String()
	if lt := pt.LogicalType(); lt != nil && lt.Value != nil {
		s += " " + lt.String()
	} else if c := pt.ConvertedType(); c != nil {
		s += fmt.Sprintf(" (converted type %d)", int32(*c))
	}
	return s
}
