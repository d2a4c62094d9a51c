package format

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// HiveDefaultPartition is the folder name Spark and Hive use for a null
// partition value.
const HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"

// PartitionDir builds the Hive-style folder "col=value/…/" for one set of
// partition values, escaping names and values as Spark does
// (ExternalCatalogUtils.escapePathName). A nil value is a null and becomes
// __HIVE_DEFAULT_PARTITION__. No columns give "".
func PartitionDir(columns []string, values []*string) string {
	var b strings.Builder
	for i, col := range columns {
		b.WriteString(escapePathName(col))
		b.WriteByte('=')
		if i < len(values) && values[i] != nil && *values[i] != "" {
			b.WriteString(escapePathName(*values[i]))
		} else {
			b.WriteString(HiveDefaultPartition)
		}
		b.WriteByte('/')
	}
	return b.String()
}

// escapePathName escapes the ASCII characters that Hive escapes in partition
// folder names as %XX with upper-case hex. Bytes of multi-byte UTF-8
// characters are >= 0x80 and stay as they are, as in Spark, whose escape set
// only covers code points below 128.
func escapePathName(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsPathEscape(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsPathEscape(c byte) bool {
	if c >= 0x01 && c <= 0x1F {
		return true
	}
	switch c {
	case '"', '#', '%', '\'', '*', '/', ':', '=', '?', '\\', 0x7F, '{', '[', ']', '^':
		return true
	}
	return false
}

// SerializePartitionValue serializes one partition value as the Delta
// protocol stores it in add.partitionValues, from the RowSource
// representation documented in rows.go. A null gives nil. An empty string
// also gives nil, because Spark writes empty-string partition values as null.
func SerializePartitionValue(t Type, v parquet.Value) (*string, error) {
	if v.IsNull() {
		return nil, nil
	}
	var s string
	switch t.Name {
	case TypeString:
		s = string(v.ByteArray())
		if s == "" {
			return nil, nil
		}
	case TypeBinary:
		s = string(v.ByteArray())
	case TypeLong:
		s = strconv.FormatInt(v.Int64(), 10)
	case TypeInteger, TypeShort, TypeByte:
		s = strconv.FormatInt(int64(v.Int32()), 10)
	case TypeBoolean:
		s = strconv.FormatBool(v.Boolean())
	case TypeFloat:
		s = javaFloatString(float64(v.Float()), 32)
	case TypeDouble:
		s = javaFloatString(v.Double(), 64)
	case TypeDate:
		s = dateString(v.Int32())
	case TypeTimestamp, TypeTimestampNTZ:
		// Spark writes timestamp partition values in the session time zone;
		// safewrite always uses UTC, and timestamp_ntz is the wall clock.
		s = microsTime(v.Int64()).Format("2006-01-02 15:04:05.999999")
	case TypeDecimal:
		s = decimalString(new(big.Int), v.ByteArray(), t.Scale)
	default:
		return nil, fmt.Errorf("%w: partition column of type %s is not supported", ErrBadInput, t)
	}
	return &s, nil
}

// dateString formats days since 1970-01-01 as "2006-01-02".
func dateString(days int32) string {
	return time.Unix(int64(days)*86400, 0).UTC().Format("2006-01-02")
}

// microsTime converts microseconds since the epoch to a UTC time.
func microsTime(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}

// decimalString formats a big-endian two's complement unscaled value with
// scale digits after the point ("-1.50" for -150 with scale 2). The scratch
// big.Int is overwritten.
func decimalString(scratch *big.Int, unscaled []byte, scale int) string {
	setTwosComplement(scratch, unscaled)
	return scaledString(scratch, scale)
}

// scaledString formats n·10^-scale in plain notation.
func scaledString(n *big.Int, scale int) string {
	digits := new(big.Int).Abs(n).String()
	sign := ""
	if n.Sign() < 0 {
		sign = "-"
	}
	if scale <= 0 {
		return sign + digits + strings.Repeat("0", -scale)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	point := len(digits) - scale
	return sign + digits[:point] + "." + digits[point:]
}

// setTwosComplement sets n to the big-endian two's complement integer b.
func setTwosComplement(n *big.Int, b []byte) *big.Int {
	n.SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		// Subtract 2^(8·len) to apply the sign.
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}

// javaFloatString formats f as Java's Float.toString or Double.toString
// does, which is how Spark casts floating-point values to strings: "1.0",
// "0.001", "1.0E7", "1.5E-4", "NaN", "Infinity", "-Infinity".
func javaFloatString(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bitSize)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	// Scientific notation with at least one digit after the point and no
	// plus sign or leading zeros in the exponent.
	s := strconv.FormatFloat(f, 'E', -1, bitSize)
	mantissa, exponent, _ := strings.Cut(s, "E")
	if !strings.Contains(mantissa, ".") {
		mantissa += ".0"
	}
	exp, _ := strconv.Atoi(exponent)
	return mantissa + "E" + strconv.Itoa(exp)
}
