package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// defaultSampleRows is how many rows CSV and JSON type inference reads when
// InputOptions.SampleRows is 0.
const defaultSampleRows = 1000

// maxDecimalPrecision is the largest decimal precision Delta Lake accepts.
const maxDecimalPrecision = 38

// byteSlab copies byte-array values into shared blocks, so that rows stay
// valid after the next ReadRows call without one allocation per value.
// A block is never written again once a value points into it.
type byteSlab struct {
	buf []byte
}

const slabBlockSize = 64 << 10

func (s *byteSlab) reserve(n int) {
	if n > cap(s.buf)-len(s.buf) {
		s.buf = make([]byte, 0, max(slabBlockSize, n))
	}
}

func (s *byteSlab) copyBytes(b []byte) []byte {
	s.reserve(len(b))
	start := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[start:len(s.buf):len(s.buf)]
}

func (s *byteSlab) copyString(v string) []byte {
	s.reserve(len(v))
	start := len(s.buf)
	s.buf = append(s.buf, v...)
	return s.buf[start:len(s.buf):len(s.buf)]
}

// nullValue returns the null of column col.
func nullValue(col int) parquet.Value {
	return parquet.NullValue().Level(0, 0, col)
}

// definitionLevel is the Parquet definition level of a non-null value of a
// flat column: 1 when the column is nullable (OPTIONAL), 0 when it is REQUIRED.
func definitionLevel(nullable bool) int {
	if nullable {
		return 1
	}
	return 0
}

// textKinds is a set of the types that one text value parses as.
type textKinds uint8

const (
	kindBoolean textKinds = 1 << iota
	kindLong
	kindDouble
	kindDecimal
	kindDate
	kindTimestampNTZ
	kindTimestamp

	allTextKinds = kindBoolean | kindLong | kindDouble | kindDecimal | kindDate | kindTimestampNTZ | kindTimestamp
)

// maxDoubleDigits is the number of significant decimal digits that always
// survive a round trip from text through a double (DBL_DIG in C's float.h).
// Inference reads text with more digits as a double only when its value is
// exactly the shortest text of the nearest double ("0.016666666666666666",
// as float printers write it), because other digits would change.
const maxDoubleDigits = 15

// decimalShape counts the digits of plain decimal text such as "-012.50":
// integer digits without leading zeros (2) and digits after the point (2).
type decimalShape struct {
	intDigits, scale int
}

// textKindsOf returns every type that s parses as, and for decimal text its
// digit counts. A date is also a timestamp_ntz (midnight). A number is a
// long, double and decimal as far as each keeps its value exactly.
func textKindsOf(s string) (textKinds, decimalShape) {
	if strings.EqualFold(s, "true") || strings.EqualFold(s, "false") {
		return kindBoolean, decimalShape{}
	}
	if k, shape, ok := numberKinds(s); ok {
		return k, shape
	}
	if _, ok := parseDate(s); ok {
		return kindDate | kindTimestampNTZ, decimalShape{}
	}
	if _, zoned, ok := parseTimestamp(s); ok {
		if zoned {
			return kindTimestamp, decimalShape{}
		}
		return kindTimestampNTZ, decimalShape{}
	}
	return 0, decimalShape{}
}

// numberKinds returns the numeric types that keep the value of the number s
// and its digits, or ok == false when s is no decimal number. A number whose
// text a numeric type would change returns no kinds, so its column stays
// string: a leading "+" ("+15551234567"), a leading zero before more digits
// ("01234", "-01"), or more than maxDecimalPrecision digits.
func numberKinds(s string) (kinds textKinds, shape decimalShape, ok bool) {
	if !isNumberText(s) {
		return 0, decimalShape{}, false
	}
	f, floatErr := strconv.ParseFloat(s, 64)
	if floatErr != nil && !errors.Is(floatErr, strconv.ErrRange) {
		return 0, decimalShape{}, false
	}

	if s[0] == '+' || hasLeadingZero(s) {
		return 0, decimalShape{}, true
	}
	shape, plain := plainDecimalShape(s)
	if !plain {
		// Exponent notation ("1e3", "6.02E23") is read as a double when it is
		// in range; text out of double range stays string.
		if floatErr != nil {
			return 0, decimalShape{}, true
		}
		return kindDouble, decimalShape{}, true
	}

	if shape.intDigits+shape.scale <= maxDecimalPrecision {
		kinds |= kindDecimal
	}
	integer := !strings.Contains(s, ".")
	if integer {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			kinds |= kindLong
		}
	}

	// An integer out of long range is a decimal only, even when a double
	// would keep its value ("100000000000000000000").
	doubleCandidate := kinds&kindLong != 0 || (!integer && kinds&kindDecimal != 0)
	if doubleCandidate && floatErr == nil &&
		(significantDigits(s) <= maxDoubleDigits || isShortestFloatText(s, f)) {
		kinds |= kindDouble
	}
	return kinds, shape, true
}

// isNumberText reports whether s contains a digit and only characters of
// decimal and exponent notation, so that "NaN", "Infinity", hexadecimal
// ("0x1p-2") and underscores ("1_000"), which strconv.ParseFloat accepts, do
// not make a column numeric.
func isNumberText(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digit
}

// hasLeadingZero reports whether the number s, after an optional minus sign,
// starts with a zero followed by another digit ("0123", "-01", "00.5").
func hasLeadingZero(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return len(s) > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

// plainDecimalShape returns the digit counts of s when it is plain decimal
// text: an optional minus sign, digits, and an optional point with digits.
func plainDecimalShape(s string) (decimalShape, bool) {
	s = strings.TrimPrefix(s, "-")
	intPart, fraction, _ := strings.Cut(s, ".")
	if intPart == "" && fraction == "" {
		return decimalShape{}, false
	}
	if !allDigits(intPart) || !allDigits(fraction) {
		return decimalShape{}, false
	}
	return decimalShape{intDigits: len(strings.TrimLeft(intPart, "0")), scale: len(fraction)}, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// significantDigits counts the digits of plain decimal text from the first
// non-zero digit on, trailing zeros included because they are part of the text.
func significantDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || (n == 0 && c == '0') {
			continue
		}
		n++
	}
	return n
}

// isShortestFloatText reports whether the decimal text s has exactly the
// value of the shortest text that reads back as f, the double nearest to s.
func isShortestFloatText(s string, f float64) bool {
	exact, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	shortest, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return ok && exact.Cmp(shortest) == 0
}

// textGuess collects the kinds of a column's non-null sample values and the
// largest digit counts of its decimal values.
type textGuess struct {
	kinds     textKinds
	seen      bool
	intDigits int
	scale     int
}

func (g *textGuess) add(s string) {
	if !g.seen {
		g.kinds = allTextKinds
		g.seen = true
	}
	k, shape := textKindsOf(s)
	g.kinds &= k
	if k&kindDecimal != 0 {
		g.intDigits = max(g.intDigits, shape.intDigits)
		g.scale = max(g.scale, shape.scale)
	}
}

// guessedType returns the narrowest type that every sample value parses as
// without losing digits; string when the sample had no value or the values
// disagree.
func (g *textGuess) guessedType() Type {
	switch {
	case !g.seen:
		return Type{Name: TypeString}
	case g.kinds&kindBoolean != 0:
		return Type{Name: TypeBoolean}
	case g.kinds&kindLong != 0:
		return Type{Name: TypeLong}
	case g.kinds&kindDouble != 0:
		return Type{Name: TypeDouble}
	case g.kinds&kindDecimal != 0:
		// Precision 38, the maximum, leaves room for larger values in later
		// appends. The scale is the most fractional digits seen.
		if g.intDigits+g.scale <= maxDecimalPrecision {
			return Type{Name: TypeDecimal, Precision: maxDecimalPrecision, Scale: g.scale}
		}
		return Type{Name: TypeString}
	case g.kinds&kindDate != 0:
		return Type{Name: TypeDate}
	case g.kinds&kindTimestampNTZ != 0:
		return Type{Name: TypeTimestampNTZ}
	case g.kinds&kindTimestamp != 0:
		return Type{Name: TypeTimestamp}
	}
	return Type{Name: TypeString}
}

const unixEpochDays = 719162 // days from 0001-01-01 to 1970-01-01 in the proleptic Gregorian calendar

// parseDate parses "2006-01-02" into days since 1970-01-01.
func parseDate(s string) (int32, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return int32(floorDiv(t.Unix(), 86400)), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseTimestamp parses an RFC 3339 timestamp or "2006-01-02 15:04:05" with
// optional fractional seconds, with or without a zone offset ("Z", "+02:00").
// It returns microseconds since the epoch (the wall clock read as UTC when
// there is no zone) and whether the text had a zone.
func parseTimestamp(s string) (micros int64, zoned bool, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return 0, false, false
	}
	if s[10] != 'T' && s[10] != ' ' && s[10] != 't' {
		return 0, false, false
	}

	rest := s[19:]
	if rest != "" && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		rest = rest[i:]
	}
	zoned = rest != ""

	layout := "2006-01-02T15:04:05"
	if s[10] == ' ' {
		layout = "2006-01-02 15:04:05"
	}
	if zoned {
		layout += "Z07:00"
	}
	v := s
	if s[10] == 't' {
		v = s[:10] + "T" + s[11:]
	}
	t, err := time.Parse(layout, v)
	if err != nil {
		return 0, false, false
	}
	return t.UnixMicro(), zoned, true
}

// parseText converts the text s to a value of type t for column col with
// definition level def. It returns a reason when s does not parse as t.
// Binary text is taken as raw bytes.
func parseText(t Type, s string, col, def int, slab *byteSlab) (parquet.Value, string) {
	var v parquet.Value
	switch t.Name {
	case TypeString:
		v = parquet.ByteArrayValue(slab.copyString(s))
	case TypeBinary:
		v = parquet.ByteArrayValue(slab.copyString(s))
	case TypeBoolean:
		switch {
		case strings.EqualFold(s, "true"):
			v = parquet.BooleanValue(true)
		case strings.EqualFold(s, "false"):
			v = parquet.BooleanValue(false)
		default:
			return v, "is not a boolean (true or false)"
		}
	case TypeLong, TypeInteger, TypeShort, TypeByte:
		bits := integerBits(t.Name)
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return v, fmt.Sprintf("is out of range for %s", t.Name)
			}
			return v, fmt.Sprintf("is not an integer, so it does not fit %s", t.Name)
		}
		if t.Name == TypeLong {
			v = parquet.Int64Value(n)
		} else {
			v = parquet.Int32Value(int32(n))
		}
	case TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return v, "is not a number"
		}
		v = parquet.DoubleValue(f)
	case TypeFloat:
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return v, "is not a number in float range"
		}
		v = parquet.FloatValue(float32(f))
	case TypeDate:
		d, ok := parseDate(s)
		if !ok {
			return v, "is not a date (2006-01-02)"
		}
		v = parquet.Int32Value(d)
	case TypeTimestamp, TypeTimestampNTZ:
		if d, ok := parseDate(s); ok {
			v = parquet.Int64Value(int64(d) * 86400_000_000)
			break
		}
		micros, zoned, ok := parseTimestamp(s)
		if !ok {
			return v, "is not a timestamp (RFC 3339, or 2006-01-02 15:04:05 with optional fractional seconds)"
		}
		if zoned && t.Name == TypeTimestampNTZ {
			return v, "has a time zone offset, but the column is timestamp_ntz (no time zone); remove the offset or make the column timestamp"
		}
		v = parquet.Int64Value(micros)
	case TypeDecimal:
		b, reason := parseDecimal(s, t.Precision, t.Scale)
		if reason != "" {
			return v, reason
		}
		v = parquet.ByteArrayValue(b)
	default:
		return v, fmt.Sprintf("has type %s, which this input format cannot read", t)
	}
	return v.Level(0, def, col), ""
}

// parseDecimal converts decimal text to the big-endian two's complement
// unscaled value of decimal(precision, scale). Text with more fractional
// digits than scale is rejected rather than rounded.
func parseDecimal(s string, precision, scale int) ([]byte, string) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsAny(s, "/") {
		return nil, "is not a decimal number"
	}
	pow := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	r.Mul(r, new(big.Rat).SetInt(pow))
	if !r.IsInt() {
		return nil, fmt.Sprintf("has more than %d digits after the decimal point; round it or widen the scale", scale)
	}
	unscaled := r.Num()
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	if new(big.Int).Abs(unscaled).Cmp(limit) >= 0 {
		return nil, fmt.Sprintf("has more than %d digits, the precision of decimal(%d,%d)", precision, precision, scale)
	}
	return bigToTwosComplement(unscaled), ""
}

// bigToTwosComplement returns the shortest big-endian two's complement bytes of x.
func bigToTwosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		b := x.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// For x < 0 the n-byte form is 2^(8n) + x, where n fits |x+1| plus a sign bit.
	magnitude := new(big.Int).Neg(x)
	magnitude.Sub(magnitude, big.NewInt(1))
	n := magnitude.BitLen()/8 + 1
	v := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	v.Add(v, x)
	b := v.Bytes()
	for len(b) < n {
		b = append([]byte{0}, b...)
	}
	return b
}

// int64ToTwosComplement returns the shortest big-endian two's complement bytes of v.
func int64ToTwosComplement(v int64) []byte {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(v))
	return trimTwosComplement(buf[:])
}

// trimTwosComplement drops leading bytes that only repeat the sign.
func trimTwosComplement(b []byte) []byte {
	for len(b) > 1 && ((b[0] == 0 && b[1]&0x80 == 0) || (b[0] == 0xff && b[1]&0x80 != 0)) {
		b = b[1:]
	}
	return b
}

// typeNames maps the type names ParseType accepts, Spark SQL aliases
// included, to Delta type names.
var typeNames = map[string]string{
	"string":        TypeString,
	"long":          TypeLong,
	"bigint":        TypeLong,
	"integer":       TypeInteger,
	"int":           TypeInteger,
	"short":         TypeShort,
	"smallint":      TypeShort,
	"byte":          TypeByte,
	"tinyint":       TypeByte,
	"float":         TypeFloat,
	"real":          TypeFloat,
	"double":        TypeDouble,
	"boolean":       TypeBoolean,
	"binary":        TypeBinary,
	"date":          TypeDate,
	"timestamp":     TypeTimestamp,
	"timestamp_ntz": TypeTimestampNTZ,
}

const typeNameList = "string, long (bigint), integer (int), short (smallint), byte (tinyint), float, double, boolean, binary, date, timestamp, timestamp_ntz, decimal(p,s)"

// ParseType parses a Delta or Spark SQL type name such as "long", "int",
// "timestamp_ntz" or "decimal(10,2)". A bare "decimal" is decimal(10,0), as in Spark.
func ParseType(name string) (Type, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if t, ok := typeNames[n]; ok {
		return Type{Name: t}, nil
	}
	if n == "decimal" || n == "numeric" || n == "dec" {
		return Type{Name: TypeDecimal, Precision: 10, Scale: 0}, nil
	}
	open := strings.IndexByte(n, '(')
	if open > 0 && strings.HasSuffix(n, ")") {
		switch strings.TrimSpace(n[:open]) {
		case "decimal", "numeric", "dec":
		default:
			return Type{}, fmt.Errorf("unknown type %q; use one of %s", name, typeNameList)
		}
		args := strings.Split(n[open+1:len(n)-1], ",")
		precision, err := strconv.Atoi(strings.TrimSpace(args[0]))
		if err != nil {
			return Type{}, fmt.Errorf("invalid decimal type %q: precision must be an integer", name)
		}
		scale := 0
		if len(args) == 2 {
			if scale, err = strconv.Atoi(strings.TrimSpace(args[1])); err != nil {
				return Type{}, fmt.Errorf("invalid decimal type %q: scale must be an integer", name)
			}
		} else if len(args) > 2 {
			return Type{}, fmt.Errorf("invalid decimal type %q: write decimal(precision,scale)", name)
		}
		if precision < 1 || precision > maxDecimalPrecision || scale < 0 || scale > precision {
			return Type{}, fmt.Errorf("invalid decimal type %q: precision must be 1 to %d and scale 0 to the precision", name, maxDecimalPrecision)
		}
		return Type{Name: TypeDecimal, Precision: precision, Scale: scale}, nil
	}
	return Type{}, fmt.Errorf("unknown type %q; use one of %s", name, typeNameList)
}

// ParseSchemaSpec parses a column list such as
// "iata:string,latitude:double,when:timestamp_ntz,price:decimal(10,2)" into
// a schema of nullable columns, for InputOptions.Schema. A column name may
// contain spaces and any character but a comma; the type follows its last colon.
func ParseSchemaSpec(spec string) (*Schema, error) {
	var parts []string
	depth, start := 0, 0
	for i, c := range spec {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, spec[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, spec[start:])

	s := &Schema{}
	seen := map[string]bool{}
	for _, part := range parts {
		colon := strings.LastIndexByte(part, ':')
		if colon < 0 {
			return nil, &InputError{Value: part, Reason: `schema entry has no type; write "name:type", for example "price:decimal(10,2)"`}
		}
		name := strings.TrimSpace(part[:colon])
		if name == "" {
			return nil, &InputError{Value: part, Reason: "schema entry has an empty column name"}
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, &InputError{Column: name, Reason: "column appears twice in the schema (column names are case-insensitive)"}
		}
		seen[key] = true
		t, err := ParseType(part[colon+1:])
		if err != nil {
			return nil, &InputError{Column: name, Value: part[colon+1:], Reason: err.Error()}
		}
		s.Fields = append(s.Fields, Field{Name: name, Type: t, Nullable: true, PhysicalName: name})
	}
	return s, nil
}

// typeOrigin is where the type of an input column came from.
type typeOrigin uint8

const (
	typeInferred   typeOrigin = iota // inferred from the sample rows
	typeFromSchema                   // InputOptions.Schema
	typeFromHint                     // InputOptions.TypeHints
)

// columnTypes is a lookup of the column types that InputOptions gives.
type columnTypes struct {
	schema    map[string]Type // InputOptions.Schema by lower-case name
	hints     map[string]Type // InputOptions.TypeHints by exact name
	foldHints map[string]Type // InputOptions.TypeHints by lower-case name, first field wins
}

func newColumnTypes(opts InputOptions) columnTypes {
	var g columnTypes
	if opts.Schema != nil {
		g.schema = make(map[string]Type, len(opts.Schema.Fields))
		for _, f := range opts.Schema.Fields {
			g.schema[strings.ToLower(f.Name)] = f.Type
		}
	}
	if opts.TypeHints != nil {
		g.hints = make(map[string]Type, len(opts.TypeHints.Fields))
		g.foldHints = make(map[string]Type, len(opts.TypeHints.Fields))
		for _, f := range opts.TypeHints.Fields {
			g.hints[f.Name] = f.Type
			if _, ok := g.foldHints[strings.ToLower(f.Name)]; !ok {
				g.foldHints[strings.ToLower(f.Name)] = f.Type
			}
		}
	}
	return g
}

// lookup returns the type for the input column name: from Schema (names
// compared without case), else from TypeHints (an exact name first, then
// without case), else ok == false and the caller infers it.
func (g columnTypes) lookup(name string) (Type, typeOrigin, bool) {
	if t, ok := g.schema[strings.ToLower(name)]; ok {
		return t, typeFromSchema, true
	}
	if t, ok := g.hints[name]; ok {
		return t, typeFromHint, true
	}
	if t, ok := g.foldHints[strings.ToLower(name)]; ok {
		return t, typeFromHint, true
	}
	return Type{}, typeInferred, false
}

// badValueReason explains a value that does not parse as its column's type.
func badValueReason(reason string, t Type, column string, origin typeOrigin, sampleRows int) string {
	switch origin {
	case typeFromSchema:
		return fmt.Sprintf("%s (column type %s from the given schema)", reason, t)
	case typeFromHint:
		return fmt.Sprintf("%s, but the table column has type %s; correct the value or make it null", reason, t)
	}
	return fmt.Sprintf("%s, but the column type %s was inferred from the first %d rows; give the column's type in a schema, for example %q",
		reason, t, sampleRows, column+":string")
}

func sampleSize(opts InputOptions) int {
	if opts.SampleRows > 0 {
		return opts.SampleRows
	}
	return defaultSampleRows
}

// integerBits returns the width of the integer type name.
func integerBits(name string) int {
	switch name {
	case TypeByte:
		return 8
	case TypeShort:
		return 16
	case TypeInteger:
		return 32
	}
	return 64
}
