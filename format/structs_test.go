package format

import (
	"testing"
	"time"
)

type trip struct {
	ID       int64     `parquet:"id"`
	Origin   string    `parquet:"origin"`
	Delay    *int32    `parquet:"delay,optional"`
	Distance float64   `parquet:"distance"`
	Day      int32     `parquet:"day,date"`
	DayTime  time.Time `parquet:"day_time,date"`
	At       time.Time `parquet:"at"`
	Local    int64     `parquet:"local,timestamp(microsecond:local)"`
	Payload  []byte    `parquet:"payload"`
	Ignored  string    `parquet:"-"`
}

func TestStructSource(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 678_901_234, time.UTC)
	delay := int32(-5)
	in := []trip{
		{ID: 1, Origin: "LAS", Delay: &delay, Distance: 2176.5, Day: 19724, DayTime: at, At: at, Local: 42, Payload: []byte{1}, Ignored: "x"},
		{ID: 2, Origin: "PHL"},
	}
	src, err := NewStructSource(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "id:long,origin:string,delay:integer,distance:double,day:date,day_time:date,at:timestamp,local:timestamp_ntz,payload:binary"
	if got := schemaTypes(src.Schema()); got != want {
		t.Fatalf("schema = %s\nwant %s (struct field order, tag names)", got, want)
	}
	if !src.Schema().Fields[2].Nullable {
		t.Errorf("pointer field delay is not nullable")
	}
	rows := readAll(t, src)
	if len(rows) != 2 {
		t.Fatalf("rows = %d, want 2", len(rows))
	}
	checkColumnIndexes(t, rows)
	r := rows[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"id", r[0].Int64(), int64(1)},
		{"origin", r[1].String(), "LAS"},
		{"delay", r[2].Int32(), int32(-5)},
		{"distance", r[3].Double(), 2176.5},
		{"day", r[4].Int32(), int32(19724)},
		{"time.Time as date", r[5].Int32(), int32(19724)},
		{"time.Time as micros", r[6].Int64(), at.UnixMicro()},
		{"local micros", r[7].Int64(), int64(42)},
		{"payload", string(r[8].ByteArray()), "\x01"},
		{"nil pointer", rows[1][2].IsNull(), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestStructSourceEmpty(t *testing.T) {
	src, err := NewStructSource([]trip(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Schema().Fields) != 9 {
		t.Errorf("fields = %d, want 9", len(src.Schema().Fields))
	}
	if rows := readAll(t, src); len(rows) != 0 {
		t.Errorf("rows = %d, want 0", len(rows))
	}
}

func TestStructSourceErrors(t *testing.T) {
	type nested struct {
		ID   int64    `parquet:"id"`
		Tags []string `parquet:"tags"`
	}
	t.Run("nested field", func(t *testing.T) {
		_, err := NewStructSource([]nested{{ID: 1}})
		ie := wantInputError(t, err, "nested types are not supported yet")
		if ie.Column != "tags" {
			t.Errorf("Column = %q, want tags", ie.Column)
		}
	})
	t.Run("not a struct", func(t *testing.T) {
		_, err := NewStructSource([]int{1, 2})
		wantInputError(t, err, "no Parquet schema")
	})
}
