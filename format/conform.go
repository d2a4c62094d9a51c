package format

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Conform maps the columns of src onto target by logical name (an exact
// match first, then a case-insensitive one, as Spark resolves names),
// reorders them, fills missing nullable columns with nulls and converts
// between compatible types. It returns src itself when nothing needs to
// change.
//
// Allowed conversions: integer widening (byte → short → integer → long),
// float → double, decimal widening that keeps every digit, and integer
// narrowing with a range check on every value. A missing non-nullable
// column, a source column the target lacks, any other type pair, and later
// an out-of-range value or a null in a non-nullable column are InputErrors
// that name the input, column and, for values, the row.
func Conform(src RowSource, target *Schema, inputName string) (RowSource, error) {
	source := src.Schema()
	plan := make([]conformColumn, len(target.Fields))
	used := make([]bool, len(source.Fields))
	identity := len(source.Fields) == len(target.Fields)

	for i, tf := range target.Fields {
		j, err := findSourceColumn(source, tf.Name, inputName)
		if err != nil {
			return nil, err
		}
		if j < 0 {
			if !tf.Nullable {
				return nil, &InputError{Input: inputName, Column: tf.Name, Reason: "column is missing from the input and the table does not allow nulls in it"}
			}
			plan[i] = conformColumn{source: -1, target: tf}
			identity = false
			continue
		}
		used[j] = true
		sf := source.Fields[j]
		conv, err := conversionFor(sf.Type, tf.Type)
		if err != nil {
			return nil, &InputError{Input: inputName, Column: tf.Name, Reason: err.Error()}
		}
		col := conformColumn{source: j, target: tf, convert: conv}
		col.checkNull = !tf.Nullable && sf.Nullable
		if j != i || sf.Name != tf.Name || conv != nil || col.checkNull {
			identity = false
		}
		plan[i] = col
	}
	for j, sf := range source.Fields {
		if !used[j] {
			return nil, &InputError{Input: inputName, Column: sf.Name, Reason: "the table has no column of that name; remove the column from the input or add it to the table"}
		}
	}
	if identity {
		return src, nil
	}
	return &conformedSource{src: src, target: target, plan: plan, input: inputName}, nil
}

// findSourceColumn returns the index of the source column for a target
// name, or -1 when there is none.
func findSourceColumn(source *Schema, name, inputName string) (int, error) {
	if i := source.Index(name); i >= 0 {
		return i, nil
	}
	found := -1
	for i, f := range source.Fields {
		if strings.EqualFold(f.Name, name) {
			if found >= 0 {
				return -1, &InputError{Input: inputName, Column: name, Reason: fmt.Sprintf("input columns %q and %q both match the column when case is ignored; rename one", source.Fields[found].Name, f.Name)}
			}
			found = i
		}
	}
	return found, nil
}

type conformColumn struct {
	source    int // -1: fill with null
	target    Field
	convert   func(parquet.Value) (parquet.Value, error)
	checkNull bool
}

var intBits = map[string]int{TypeByte: 8, TypeShort: 16, TypeInteger: 32, TypeLong: 64}

// conversionFor returns the value conversion from type from to type to, nil
// when the values need none, or an error when the types are incompatible.
func conversionFor(from, to Type) (func(parquet.Value) (parquet.Value, error), error) {
	if from == to {
		return nil, nil
	}
	fromBits, fromInt := intBits[from.Name]
	toBits, toInt := intBits[to.Name]
	switch {
	case fromInt && toInt:
		return intConversion(fromBits, toBits, to), nil
	case from.Name == TypeFloat && to.Name == TypeDouble:
		return func(v parquet.Value) (parquet.Value, error) {
			return parquet.DoubleValue(float64(v.Float())), nil
		}, nil
	case from.Name == TypeDecimal && to.Name == TypeDecimal:
		if to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale {
			factor := pow10(to.Scale - from.Scale)
			return func(v parquet.Value) (parquet.Value, error) {
				n := setTwosComplement(new(big.Int), v.ByteArray())
				n.Mul(n, factor)
				return parquet.ByteArrayValue(twosComplementBytes(n)), nil
			}, nil
		}
	}
	return nil, fmt.Errorf("input type %s cannot be written to a column of type %s", from, to)
}

// intConversion converts between integer types of the RowSource
// representation (Int64 for long, Int32 for the others), checking the range
// when narrowing.
func intConversion(fromBits, toBits int, to Type) func(parquet.Value) (parquet.Value, error) {
	lo, hi := int64(-1)<<(toBits-1), int64(1)<<(toBits-1)-1
	return func(v parquet.Value) (parquet.Value, error) {
		var x int64
		if fromBits == 64 {
			x = v.Int64()
		} else {
			x = int64(v.Int32())
		}
		if toBits < fromBits && (x < lo || x > hi) {
			return v, fmt.Errorf("value out of range for %s (%d to %d)", to, lo, hi)
		}
		if toBits == 64 {
			return parquet.Int64Value(x), nil
		}
		return parquet.Int32Value(int32(x)), nil
	}
}

// twosComplementBytes returns the shortest big-endian two's complement
// encoding of n.
func twosComplementBytes(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// For negative n, encode 2^(8k) + n with k bytes, k large enough.
	k := (n.BitLen())/8 + 1
	m := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
	m.Add(m, n)
	b := make([]byte, k)
	m.FillBytes(b)
	return b
}

// conformedSource is the RowSource that Conform returns when columns move,
// appear or change type.
type conformedSource struct {
	src    RowSource
	target *Schema
	plan   []conformColumn
	input  string
	buf    []parquet.Row
	rowNum int64
}

func (c *conformedSource) Schema() *Schema { return c.target }

func (c *conformedSource) Close() error { return c.src.Close() }

func (c *conformedSource) ReadRows(rows []parquet.Row) (int, error) {
	if cap(c.buf) < len(rows) {
		c.buf = make([]parquet.Row, len(rows))
	}
	buf := c.buf[:len(rows)]
	n, err := c.src.ReadRows(buf)
	for i := range n {
		c.rowNum++
		out := rows[i][:0]
		for j, col := range c.plan {
			if col.source < 0 {
				out = append(out, parquet.NullValue().Level(0, 0, j))
				continue
			}
			v := buf[i][col.source]
			if v.IsNull() {
				if col.checkNull {
					return i, &InputError{Input: c.input, Row: c.rowNum, Column: col.target.Name, Reason: "null in a column that the table declares non-nullable"}
				}
				out = append(out, parquet.NullValue().Level(0, 0, j))
				continue
			}
			if col.convert != nil {
				cv, convErr := col.convert(v)
				if convErr != nil {
					return i, &InputError{Input: c.input, Row: c.rowNum, Column: col.target.Name, Value: v.String(), Reason: convErr.Error()}
				}
				v = cv
			}
			out = append(out, v.Level(v.RepetitionLevel(), v.DefinitionLevel(), j))
		}
		rows[i] = out
	}
	return n, err
}
