package format

import (
	"context"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/objstore"
)

// RowSource is a stream of rows from one input.
//
// Each row holds one parquet.Value per schema field, in field order, with the
// value's column index set to the field index. Values use one representation
// per type whatever the input format:
//
//	string, binary            ByteArray
//	long                      Int64
//	integer, short, byte      Int32
//	float                     Float
//	double                    Double
//	boolean                   Boolean
//	date                      Int32, days since 1970-01-01
//	timestamp, timestamp_ntz  Int64, microseconds since 1970-01-01 00:00:00
//	decimal                   ByteArray, big-endian two's complement unscaled value
//
// A null is parquet.NullValue() with the column index set.
type RowSource interface {
	// Schema is the schema of the rows; it does not change while reading.
	Schema() *Schema
	// ReadRows fills rows[0:n] and returns io.EOF after the last row, like
	// parquet.RowReader. Errors on bad values wrap ErrBadInput.
	ReadRows(rows []parquet.Row) (n int, err error)
	Close() error
}

// Input is one input object. Parquet and Arrow IPC files need ReaderAt and
// Size; the other formats read Reader (ReaderAt is used when Reader is nil).
type Input struct {
	// Name is the file name or URI, used for the format's extension and in
	// error messages.
	Name     string
	Reader   io.Reader
	ReaderAt io.ReaderAt
	Size     int64
}

// InputOptions are the choices for reading an input.
type InputOptions struct {
	// Format is "parquet", "csv", "json" (JSON lines or a JSON array of
	// objects), or "arrow" (Arrow IPC file or stream); "" takes it from the
	// extension of Input.Name.
	Format string
	// Schema, when set, gives the CSV and JSON column types instead of
	// inferring them. Every column it names must be in the input.
	Schema *Schema
	// TypeHints, when set, gives the CSV and JSON types of the input
	// columns it names (an exact name match first, then one without case),
	// usually the schema of the table that the input is appended to. Unlike
	// Schema, a hinted column that the input lacks is no error, and Schema
	// takes precedence for the columns that both name. Columns without a
	// hint are still inferred. Errors on values that do not parse as the
	// hinted type call it the table column's type.
	TypeHints *Schema
	// SampleRows is how many rows type inference reads; 0 means 1000.
	SampleRows int
}

// WriterOptions are the choices for writing data files.
type WriterOptions struct {
	// Schema is the target schema from Table.CheckAppend.
	Schema *Schema
	// PartitionColumns are logical names; their values go into the folder
	// name and DataFile.PartitionValues, not into the data file.
	PartitionColumns []string
	// TargetFileSize rolls to a new file once a file reaches it; 0 means 128 MiB.
	TargetFileSize int64
	// Codec is "snappy" (default), "zstd", "gzip" or "uncompressed".
	Codec string
	// Store receives the data files.
	Store objstore.Store
	// NewFile returns the key for the next data file in the partition folder
	// dir ("" or "col=value/…/"). It is called before the first byte of that
	// file is uploaded, so the caller can record the key in its intent first.
	NewFile func(ctx context.Context, dir string) (string, error)
	// Progress, when set, is called with the number of bytes uploaded so far.
	Progress func(uploaded int64)
}
