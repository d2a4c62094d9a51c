package format

import (
	"fmt"
	"time"
)

// Type names follow the Delta Lake protocol's primitive types, which is also
// the vocabulary of Spark SQL: "string", "long", "integer", "short", "byte",
// "float", "double", "boolean", "binary", "date", "timestamp" (UTC-adjusted,
// microseconds), "timestamp_ntz" (no time zone, microseconds) and "decimal".
const (
	TypeString       = "string"
	TypeLong         = "long"
	TypeInteger      = "integer"
	TypeShort        = "short"
	TypeByte         = "byte"
	TypeFloat        = "float"
	TypeDouble       = "double"
	TypeBoolean      = "boolean"
	TypeBinary       = "binary"
	TypeDate         = "date"
	TypeTimestamp    = "timestamp"
	TypeTimestampNTZ = "timestamp_ntz"
	TypeDecimal      = "decimal"
)

// Type is a primitive column type. Precision and Scale apply to decimal only.
type Type struct {
	Name      string
	Precision int
	Scale     int
}

// String returns the Delta type string: "long", "decimal(10,2)".
func (t Type) String() string {
	if t.Name == TypeDecimal {
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	}
	return t.Name
}

// Field is one top-level column. Nested types are not supported yet.
type Field struct {
	Name     string // logical name, as users and readers see it
	Type     Type
	Nullable bool
	// PhysicalName is the column name inside data files; equal to Name
	// unless column mapping is on.
	PhysicalName string
	// ID is the column mapping id (Delta) or field id (Iceberg); 0 when unset.
	ID int
	// Metadata is the Delta field metadata, kept as read so a rewrite of the
	// schema does not lose it.
	Metadata map[string]any
}

// Schema is an ordered list of top-level columns.
type Schema struct {
	Fields []Field
}

// Index returns the position of the column with the logical name, or -1.
func (s *Schema) Index(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// DataFile describes one data file that a transaction wrote.
type DataFile struct {
	// Path is the key relative to the table root, not URL-escaped.
	Path             string
	Size             int64
	ModificationTime time.Time
	NumRecords       int64
	// PartitionValues maps a logical partition column name to its value
	// serialized as the Delta protocol does; nil means null.
	PartitionValues map[string]*string
	// Stats is nil when the file has no statistics.
	Stats *FileStats
}

// FileStats are per-file column statistics keyed by physical column name.
// Values are JSON-ready: numbers, strings, booleans, and dates or timestamps
// already formatted as Delta stats expect.
type FileStats struct {
	NumRecords int64
	MinValues  map[string]any
	MaxValues  map[string]any
	NullCount  map[string]int64
}
