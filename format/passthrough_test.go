package format

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/internal/testenv"
)

// parquetFileWith writes an empty file with the given root group and opens it.
func parquetFileWith(t *testing.T, group parquet.Group) *parquet.File {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, parquet.NewSchema("root", group))
	if err := w.Close(); err != nil {
		t.Fatalf("write test file: %v", err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("open test file: %v", err)
	}
	return f
}

func openParquetPath(t *testing.T, path string) *parquet.File {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	f, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatalf("open %s as parquet: %v", path, err)
	}
	return f
}

var flightsSchema = &Schema{Fields: []Field{
	field("date", TypeTimestampNTZ, true),
	field("delay", TypeLong, true),
	field("distance", TypeLong, true),
	field("origin", TypeString, true),
	field("destination", TypeString, true),
}}

func TestCanPassThroughFlights(t *testing.T) {
	f := openParquetPath(t, testenv.DataFile(t, "flights-3m.parquet"))

	t.Run("timestamp_ntz target passes", func(t *testing.T) {
		ok, reason := CanPassThrough(f, flightsSchema, nil)
		if !ok {
			t.Errorf("CanPassThrough = false (%s), want true", reason)
		}
	})
	t.Run("timestamp target is re-encoded", func(t *testing.T) {
		schema := &Schema{Fields: append([]Field{field("date", TypeTimestamp, true)}, flightsSchema.Fields[1:]...)}
		ok, reason := CanPassThrough(f, schema, nil)
		if ok || !strings.Contains(reason, "isAdjustedToUTC=false") {
			t.Errorf("CanPassThrough = %v (%q), want false naming isAdjustedToUTC", ok, reason)
		}
	})
	t.Run("partitioned table is re-encoded", func(t *testing.T) {
		ok, reason := CanPassThrough(f, flightsSchema, []string{"origin"})
		if ok || !strings.Contains(reason, "partition") {
			t.Errorf("CanPassThrough = %v (%q), want false about partitions", ok, reason)
		}
	})
	t.Run("non-nullable target rejects optional column", func(t *testing.T) {
		schema := &Schema{Fields: append([]Field{field("date", TypeTimestampNTZ, false)}, flightsSchema.Fields[1:]...)}
		ok, reason := CanPassThrough(f, schema, nil)
		if ok || !strings.Contains(reason, "optional") {
			t.Errorf("CanPassThrough = %v (%q), want false about optional", ok, reason)
		}
	})
	t.Run("footer stats", func(t *testing.T) {
		st, err := ParquetFooterStats(f, flightsSchema)
		if err != nil {
			t.Fatalf("ParquetFooterStats: %v", err)
		}
		if st.NumRecords != 3_000_000 {
			t.Errorf("numRecords = %d, want 3000000", st.NumRecords)
		}
		for _, name := range []string{"date", "delay", "distance", "origin", "destination"} {
			if st.MinValues[name] == nil || st.MaxValues[name] == nil {
				t.Errorf("column %s has no min/max", name)
			}
			if _, ok := st.NullCount[name]; !ok {
				t.Errorf("column %s has no nullCount", name)
			}
		}
		// A full scan of the delay column gives -1116…1688; the first row
		// group alone holds -80…1575, so this checks the merge too.
		if st.MinValues["delay"] != int64(-1116) || st.MaxValues["delay"] != int64(1688) {
			t.Errorf("delay min/max = %v/%v, want -1116/1688", st.MinValues["delay"], st.MaxValues["delay"])
		}
		if st.MinValues["origin"] != "ABE" || st.MaxValues["origin"] != "YAK" {
			t.Errorf("origin min/max = %v/%v, want ABE/YAK", st.MinValues["origin"], st.MaxValues["origin"])
		}
		if s, _ := st.MinValues["date"].(string); len(s) != len("2006-01-02T15:04:05.000") {
			t.Errorf("date min = %v, want a timestamp_ntz stats string", st.MinValues["date"])
		}
	})
}

func TestCanPassThroughTypes(t *testing.T) {
	cases := []struct {
		name     string
		node     parquet.Node
		field    Field
		wantOK   bool
		wantText string
	}{
		{"string", parquet.Optional(parquet.String()), field("c", TypeString, true), true, ""},
		{"required for nullable", parquet.String(), field("c", TypeString, true), true, ""},
		{"binary is not string", parquet.Leaf(parquet.ByteArrayType), field("c", TypeString, true), false, "does not read as string"},
		{"int32 is not long", parquet.Leaf(parquet.Int32Type), field("c", TypeLong, true), false, "does not read as long"},
		{"int16 as short", parquet.Int(16), field("c", TypeShort, true), true, ""},
		{"int8 as byte", parquet.Int(8), field("c", TypeByte, true), true, ""},
		{"date", parquet.Date(), field("c", TypeDate, true), true, ""},
		{"timestamp micros utc", parquet.Timestamp(parquet.Microsecond), field("c", TypeTimestamp, true), true, ""},
		{"timestamp millis", parquet.Timestamp(parquet.Millisecond), field("c", TypeTimestamp, true), false, "milliseconds"},
		{"timestamp nanos", parquet.Timestamp(parquet.Nanosecond), field("c", TypeTimestamp, true), false, "nanoseconds"},
		{"int96 as timestamp", parquet.Leaf(parquet.Int96Type), field("c", TypeTimestamp, true), true, ""},
		{"int96 not ntz", parquet.Leaf(parquet.Int96Type), field("c", TypeTimestampNTZ, true), false, "INT96"},
		{"decimal match", parquet.Decimal(2, 10, parquet.Int64Type), Field{Name: "c", Type: Type{Name: TypeDecimal, Precision: 10, Scale: 2}, Nullable: true}, true, ""},
		{"decimal scale differs", parquet.Decimal(3, 10, parquet.Int64Type), Field{Name: "c", Type: Type{Name: TypeDecimal, Precision: 10, Scale: 2}, Nullable: true}, false, "decimal(10,3)"},
		{"field id differs", parquet.FieldID(parquet.String(), 3), Field{Name: "c", Type: Type{Name: TypeString}, Nullable: true, ID: 4}, false, "field id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := parquetFileWith(t, parquet.Group{"c": tc.node})
			ok, reason := CanPassThrough(f, &Schema{Fields: []Field{tc.field}}, nil)
			if ok != tc.wantOK {
				t.Errorf("CanPassThrough = %v (%q), want %v", ok, reason, tc.wantOK)
			}
			if !strings.Contains(reason, tc.wantText) {
				t.Errorf("reason %q does not mention %q", reason, tc.wantText)
			}
		})
	}
}

func TestCanPassThroughColumnSet(t *testing.T) {
	f := parquetFileWith(t, parquet.Group{"a": parquet.String(), "b": parquet.Leaf(parquet.Int64Type)})
	cases := []struct {
		name     string
		fields   []Field
		wantText string
	}{
		{"extra file column", []Field{field("a", TypeString, true)}, "2 top-level columns"},
		{"renamed column", []Field{field("a", TypeString, true), field("B", TypeLong, true)}, `"B" is not in the file`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := CanPassThrough(f, &Schema{Fields: tc.fields}, nil)
			if ok || !strings.Contains(reason, tc.wantText) {
				t.Errorf("CanPassThrough = %v (%q), want false mentioning %q", ok, reason, tc.wantText)
			}
		})
	}
}

func TestCanPassThroughOwnOutput(t *testing.T) {
	schema := &Schema{Fields: append([]Field(nil), allTypesSchema.Fields...)}
	schema.Fields[14].ID = 0 // leave field ids out of this check
	store := newTestStore(t)
	var keys []string
	files, err := WriteDataFiles(t.Context(), &sliceSource{schema: schema, rows: allTypesRows()},
		WriterOptions{Schema: schema, Store: store, NewFile: keyNamer(&keys)})
	if err != nil {
		t.Fatalf("WriteDataFiles: %v", err)
	}
	ok, reason := CanPassThrough(openStored(t, store, files[0].Path), schema, nil)
	if !ok {
		t.Errorf("CanPassThrough on the writer's own file = false (%s)", reason)
	}
}
