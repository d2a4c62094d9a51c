package format

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	pformat "github.com/parquet-go/parquet-go/format"
)

// StringStatsPrefixLength is how many characters of a string min or max
// value the stats keep, as Delta's dataSkippingStringPrefixLength default.
const StringStatsPrefixLength = 32

// maxStringTieBreaker is appended to a truncated string max so that it stays
// greater than or equal to every value with that prefix. Delta (Spark
// StatisticsCollection.truncateMaxStringAgg) uses U+FFFD.
const maxStringTieBreaker = '\uFFFD'

// statKind is the comparison used for the min and max of a column, chosen
// from its physical type and Delta type.
type statKind int

const (
	statNone        statKind = iota // null count only: boolean, binary, INT96
	statInt32                       // signed 32-bit
	statInt64                       // signed 64-bit
	statFloat                       // float32, NaN skipped
	statDouble                      // float64, NaN skipped
	statBytes                       // unsigned byte order: UTF-8 strings
	statSignedBytes                 // big-endian two's complement: decimals in byte arrays
)

// columnStats accumulates the statistics of one column.
type columnStats struct {
	field Field
	kind  statKind
	nulls int64
	// seen is true once a non-null, non-NaN value was recorded.
	seen bool
	// unknown is true when min and max cannot be known, for example when a
	// footer lacks them for a row group that holds values.
	unknown    bool
	minI, maxI int64
	minF, maxF float64
	minB, maxB []byte
}

// statsCollector computes Delta file statistics for the data columns of one
// file from the physical values written to it.
type statsCollector struct {
	numRecords int64
	columns    []columnStats
}

// newStatsCollector prepares statistics for fields, whose values arrive in
// the physical representation this package writes (see physicalKind).
func newStatsCollector(fields []Field) *statsCollector {
	c := &statsCollector{columns: make([]columnStats, len(fields))}
	for i, f := range fields {
		c.columns[i] = columnStats{field: f, kind: statKindFor(f.Type, writerPhysicalKind(f.Type))}
	}
	return c
}

// statKindFor returns how values of Delta type t stored with physical kind
// kind are compared; statNone means min and max are not collected.
func statKindFor(t Type, kind parquet.Kind) statKind {
	switch t.Name {
	case TypeBoolean, TypeBinary:
		return statNone
	case TypeString:
		if kind == parquet.ByteArray || kind == parquet.FixedLenByteArray {
			return statBytes
		}
		return statNone
	case TypeDecimal:
		switch kind {
		case parquet.ByteArray, parquet.FixedLenByteArray:
			return statSignedBytes
		}
	}
	switch kind {
	case parquet.Int32:
		return statInt32
	case parquet.Int64:
		return statInt64
	case parquet.Float:
		return statFloat
	case parquet.Double:
		return statDouble
	}
	return statNone
}

// observe records one physical value.
func (c *columnStats) observe(v parquet.Value) {
	if v.IsNull() {
		c.nulls++
		return
	}
	switch c.kind {
	case statInt32:
		c.observeInt(int64(v.Int32()))
	case statInt64:
		c.observeInt(v.Int64())
	case statFloat:
		c.observeFloat(float64(v.Float()))
	case statDouble:
		c.observeFloat(v.Double())
	case statBytes, statSignedBytes:
		c.observeBytes(v.ByteArray())
	}
}

func (c *columnStats) observeInt(x int64) {
	if !c.seen {
		c.minI, c.maxI, c.seen = x, x, true
		return
	}
	if x < c.minI {
		c.minI = x
	}
	if x > c.maxI {
		c.maxI = x
	}
}

func (c *columnStats) observeFloat(x float64) {
	if math.IsNaN(x) {
		return
	}
	if !c.seen {
		c.minF, c.maxF, c.seen = x, x, true
		return
	}
	if x < c.minF {
		c.minF = x
	}
	if x > c.maxF {
		c.maxF = x
	}
}

func (c *columnStats) observeBytes(b []byte) {
	if !c.seen {
		c.minB = append(c.minB[:0], b...)
		c.maxB = append(c.maxB[:0], b...)
		c.seen = true
		return
	}
	if c.compareBytes(b, c.minB) < 0 {
		c.minB = append(c.minB[:0], b...)
	}
	if c.compareBytes(b, c.maxB) > 0 {
		c.maxB = append(c.maxB[:0], b...)
	}
}

func (c *columnStats) compareBytes(a, b []byte) int {
	if c.kind == statSignedBytes {
		return compareTwosComplement(a, b)
	}
	return bytes.Compare(a, b)
}

// compareTwosComplement compares big-endian two's complement integers of
// any lengths.
func compareTwosComplement(a, b []byte) int {
	negA := len(a) > 0 && a[0]&0x80 != 0
	negB := len(b) > 0 && b[0]&0x80 != 0
	if negA != negB {
		if negA {
			return -1
		}
		return 1
	}
	// Same sign: sign-extend the shorter one, then compare as unsigned.
	pad := byte(0)
	if negA {
		pad = 0xFF
	}
	n := max(len(a), len(b))
	for i := range n {
		x, y := pad, pad
		if j := i - (n - len(a)); j >= 0 {
			x = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			y = b[j]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// minMax renders min and max as Delta stats values; ok is false when the
// column gets no min and max.
func (c *columnStats) minMax() (minValue, maxValue any, ok bool) {
	if !c.seen || c.unknown {
		return nil, nil, false
	}
	t := c.field.Type
	switch c.kind {
	case statInt32, statInt64:
		return renderInt(t, c.minI), renderInt(t, c.maxI), true
	case statFloat, statDouble:
		// JSON has no infinity; Spark would write a non-standard token.
		if math.IsInf(c.minF, 0) || math.IsInf(c.maxF, 0) {
			return nil, nil, false
		}
		if c.kind == statFloat {
			return float32(c.minF), float32(c.maxF), true
		}
		return c.minF, c.maxF, true
	case statSignedBytes:
		var n big.Int
		return json.Number(decimalString(&n, c.minB, t.Scale)), json.Number(decimalString(&n, c.maxB, t.Scale)), true
	case statBytes:
		// A JSON encoder would replace invalid UTF-8, which could turn the
		// bound into a wrong one, so such bounds are left out.
		if !utf8.Valid(c.minB) || !utf8.Valid(c.maxB) {
			return nil, nil, false
		}
		return truncateMinString(string(c.minB)), truncateMaxString(string(c.maxB)), true
	}
	return nil, nil, false
}

// renderInt renders an integer-backed value of Delta type t.
func renderInt(t Type, x int64) any {
	switch t.Name {
	case TypeDate:
		return dateString(int32(x))
	case TypeTimestamp:
		return statsTimestamp(x).Format("2006-01-02T15:04:05.000Z")
	case TypeTimestampNTZ:
		return statsTimestamp(x).Format("2006-01-02T15:04:05.000")
	case TypeDecimal:
		return json.Number(scaledString(big.NewInt(x), t.Scale))
	}
	return x
}

// statsTimestamp truncates microseconds to the millisecond below, as Spark
// writes timestamp stats. Delta readers add 1 ms to a timestamp max for this.
func statsTimestamp(us int64) time.Time {
	ms := us / 1000
	if us%1000 < 0 {
		ms--
	}
	return microsTime(ms * 1000)
}

// truncateMinString keeps the first StringStatsPrefixLength characters, as
// Spark's substring(min, 0, 32) does.
func truncateMinString(s string) string {
	n := 0
	for i := range s {
		if n == StringStatsPrefixLength {
			return s[:i]
		}
		n++
	}
	return s
}

// truncateMaxString keeps the first StringStatsPrefixLength characters and
// appends U+FFFD, after extending the prefix over every following character
// that is not below U+FFFD, so the result is still >= s in UTF-8 byte order.
// NOTE: Delta counts UTF-16 code units where this counts code points, so
// the two differ for strings with characters outside the BMP; both are
// valid upper bounds.
func truncateMaxString(s string) string {
	n := 0
	cut := -1
	for i := range s {
		if n == StringStatsPrefixLength {
			cut = i
			break
		}
		n++
	}
	if cut < 0 {
		return s
	}
	for cut < len(s) {
		r, size := utf8.DecodeRuneInString(s[cut:])
		if r < maxStringTieBreaker {
			break
		}
		cut += size
	}
	return s[:cut] + string(maxStringTieBreaker)
}

// stats returns the collected statistics keyed by physical column name.
func (sc *statsCollector) stats() *FileStats {
	st := &FileStats{
		NumRecords: sc.numRecords,
		MinValues:  map[string]any{},
		MaxValues:  map[string]any{},
		NullCount:  map[string]int64{},
	}
	for i := range sc.columns {
		c := &sc.columns[i]
		name := physicalName(c.field)
		st.NullCount[name] = c.nulls
		if lo, hi, ok := c.minMax(); ok {
			st.MinValues[name] = lo
			st.MaxValues[name] = hi
		}
	}
	return st
}

func physicalName(f Field) string {
	if f.PhysicalName != "" {
		return f.PhysicalName
	}
	return f.Name
}

// ParquetFooterStats builds Delta file statistics for the fields of schema
// from the column chunk statistics in an existing file's footer, merged over
// its row groups. A column whose min or max is missing from any row group
// that holds values gets no min and max. A column missing from the file is
// all nulls.
func ParquetFooterStats(f *parquet.File, schema *Schema) (*FileStats, error) {
	meta := f.Metadata()
	sc := &statsCollector{numRecords: meta.NumRows, columns: make([]columnStats, len(schema.Fields))}
	for i, field := range schema.Fields {
		c := &sc.columns[i]
		c.field = field
		col := f.Root().Column(physicalName(field))
		if col == nil {
			c.nulls = meta.NumRows
			continue
		}
		if !col.Leaf() {
			return nil, fmt.Errorf("%w: column %q in the parquet file is nested; only flat columns are supported", ErrBadInput, physicalName(field))
		}
		c.kind = statKindFor(field.Type, col.Type().Kind())
		if err := c.mergeFooter(meta, col.Index(), col.Type().Kind()); err != nil {
			return nil, fmt.Errorf("column %q: %w", physicalName(field), err)
		}
	}
	return sc.stats(), nil
}

// mergeFooter adds the statistics of one leaf column over every row group.
func (c *columnStats) mergeFooter(meta *pformat.FileMetaData, leaf int, kind parquet.Kind) error {
	for _, rg := range meta.RowGroups {
		if leaf >= len(rg.Columns) {
			return fmt.Errorf("%w: row group has %d columns, expected column %d", ErrBadInput, len(rg.Columns), leaf)
		}
		md := rg.Columns[leaf].MetaData
		st := md.Statistics
		c.nulls += st.NullCount
		if md.NumValues-st.NullCount <= 0 || c.kind == statNone {
			continue
		}
		lo, hi := st.MinValue, st.MaxValue
		if lo == nil || hi == nil {
			// The deprecated fields were computed with signed comparison,
			// which is only right for numbers.
			if c.kind == statBytes || c.kind == statSignedBytes || st.Min == nil || st.Max == nil {
				c.unknown = true
				continue
			}
			lo, hi = st.Min, st.Max
		}
		loValue, okLo := decodeStatValue(kind, lo)
		hiValue, okHi := decodeStatValue(kind, hi)
		if !okLo || !okHi {
			c.unknown = true
			continue
		}
		if isNaNValue(loValue) || isNaNValue(hiValue) {
			c.unknown = true
			continue
		}
		c.observe(loValue)
		c.observe(hiValue)
	}
	return nil
}

// decodeStatValue decodes a PLAIN-encoded statistics value.
func decodeStatValue(kind parquet.Kind, b []byte) (parquet.Value, bool) {
	switch kind {
	case parquet.Int32:
		if len(b) != 4 {
			return parquet.Value{}, false
		}
		return parquet.Int32Value(int32(binary.LittleEndian.Uint32(b))), true
	case parquet.Int64:
		if len(b) != 8 {
			return parquet.Value{}, false
		}
		return parquet.Int64Value(int64(binary.LittleEndian.Uint64(b))), true
	case parquet.Float:
		if len(b) != 4 {
			return parquet.Value{}, false
		}
		return parquet.FloatValue(math.Float32frombits(binary.LittleEndian.Uint32(b))), true
	case parquet.Double:
		if len(b) != 8 {
			return parquet.Value{}, false
		}
		return parquet.DoubleValue(math.Float64frombits(binary.LittleEndian.Uint64(b))), true
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return parquet.ByteArrayValue(b), true
	}
	return parquet.Value{}, false
}

func isNaNValue(v parquet.Value) bool {
	switch v.Kind() {
	case parquet.Float:
		return math.IsNaN(float64(v.Float()))
	case parquet.Double:
		return math.IsNaN(v.Double())
	}
	return false
}
