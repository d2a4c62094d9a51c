package format

import (
	"testing"

	"github.com/parquet-go/parquet-go"
)

func TestPartitionDir(t *testing.T) {
	cases := []struct {
		name    string
		columns []string
		values  []*string
		want    string
	}{
		{"no columns", nil, nil, ""},
		{"plain value", []string{"date"}, []*string{ptr("2020-01-01")}, "date=2020-01-01/"},
		{"slash and equals escaped", []string{"p"}, []*string{ptr("a/b=c")}, "p=a%2Fb%3Dc/"},
		{"space kept", []string{"city"}, []*string{ptr("new york")}, "city=new york/"},
		{"colon escaped like Spark timestamps", []string{"ts"}, []*string{ptr("2013-07-05 17:01:00.123456")}, "ts=2013-07-05 17%3A01%3A00.123456/"},
		{"hive special characters", []string{"p"}, []*string{ptr("\"#%'*:?\\{[]^\x7f\x01")}, "p=%22%23%25%27%2A%3A%3F%5C%7B%5B%5D%5E%7F%01/"},
		{"non-ascii kept", []string{"p"}, []*string{ptr("Zürich")}, "p=Zürich/"},
		{"null", []string{"p"}, []*string{nil}, "p=__HIVE_DEFAULT_PARTITION__/"},
		{"empty string is null", []string{"p"}, []*string{ptr("")}, "p=__HIVE_DEFAULT_PARTITION__/"},
		{"column name escaped", []string{"a=b"}, []*string{ptr("1")}, "a%3Db=1/"},
		{"two levels", []string{"y", "m"}, []*string{ptr("2024"), ptr("05")}, "y=2024/m=05/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PartitionDir(tc.columns, tc.values); got != tc.want {
				t.Errorf("PartitionDir = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSerializePartitionValue(t *testing.T) {
	cases := []struct {
		name string
		typ  Type
		v    parquet.Value
		want *string
	}{
		{"string", Type{Name: TypeString}, str("a b"), ptr("a b")},
		{"empty string is null", Type{Name: TypeString}, str(""), nil},
		{"null", Type{Name: TypeLong}, null(), nil},
		{"long", Type{Name: TypeLong}, i64(-42), ptr("-42")},
		{"integer", Type{Name: TypeInteger}, i32(7), ptr("7")},
		{"byte", Type{Name: TypeByte}, i32(-8), ptr("-8")},
		{"boolean", Type{Name: TypeBoolean}, parquet.BooleanValue(true), ptr("true")},
		{"double whole", Type{Name: TypeDouble}, f64(1), ptr("1.0")},
		{"double fraction", Type{Name: TypeDouble}, f64(0.25), ptr("0.25")},
		{"double large", Type{Name: TypeDouble}, f64(1.5e10), ptr("1.5E10")},
		{"double small", Type{Name: TypeDouble}, f64(1e-4), ptr("1.0E-4")},
		{"double NaN", Type{Name: TypeDouble}, f64(nan()), ptr("NaN")},
		{"float", Type{Name: TypeFloat}, f32(0.1), ptr("0.1")},
		{"date", Type{Name: TypeDate}, i32(18949), ptr("2021-11-18")},
		{"date before epoch", Type{Name: TypeDate}, i32(-1), ptr("1969-12-31")},
		{"timestamp micros", Type{Name: TypeTimestamp}, i64(tsMicros), ptr("2021-11-18 02:30:00.123456")},
		{"timestamp whole second", Type{Name: TypeTimestampNTZ}, i64(1637202600000000), ptr("2021-11-18 02:30:00")},
		{"decimal", Type{Name: TypeDecimal, Precision: 10, Scale: 2}, dec(-150), ptr("-1.50")},
		{"decimal below one", Type{Name: TypeDecimal, Precision: 10, Scale: 3}, dec(5), ptr("0.005")},
		{"binary raw bytes", Type{Name: TypeBinary}, parquet.ByteArrayValue([]byte("ab")), ptr("ab")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SerializePartitionValue(tc.typ, tc.v)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if deref(got) != deref(tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("got %s, want %s", deref(got), deref(tc.want))
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
