package deltalog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/format"
)

func newTableSnapshot() *format.Snapshot {
	return &format.Snapshot{Version: -1, ColumnMapping: "none"}
}

func TestCheckAppendNewTable(t *testing.T) {
	cases := []struct {
		name    string
		in      *format.Schema
		opts    format.AppendOptions
		wantErr []string // substrings of the error; nil means success
	}{
		{"plain columns", schemaOf(col("id", format.TypeLong), col("city", format.TypeString)), format.AppendOptions{}, nil},
		{"space without column mapping", schemaOf(col("Incident Date", format.TypeString)), format.AppendOptions{},
			[]string{`"Incident Date"`, "--column-mapping name"}},
		{"equals sign without column mapping", schemaOf(col("a=b", format.TypeString)), format.AppendOptions{},
			[]string{`"a=b"`, "--column-mapping name"}},
		{"space with column mapping", schemaOf(col("Incident Date", format.TypeString)), format.AppendOptions{ColumnMapping: "name"}, nil},
		{"column mapping id mode", schemaOf(col("a", format.TypeString)), format.AppendOptions{ColumnMapping: "id"},
			[]string{`"id"`, `"name"`}},
		{"duplicate names differing in case", schemaOf(col("City", format.TypeString), col("city", format.TypeString)), format.AppendOptions{},
			[]string{`"City"`, `"city"`, "case-insensitively"}},
		{"missing partition column", schemaOf(col("id", format.TypeLong), col("city", format.TypeString)),
			format.AppendOptions{PartitionColumns: []string{"country"}}, []string{`"country"`, `["id", "city"]`}},
		{"every column a partition column", schemaOf(col("city", format.TypeString)),
			format.AppendOptions{PartitionColumns: []string{"city"}}, []string{"every column"}},
		{"partition column listed twice", schemaOf(col("id", format.TypeLong), col("city", format.TypeString)),
			format.AppendOptions{PartitionColumns: []string{"city", "CITY"}}, []string{"twice"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := openWriteTable(newLocalStore(t))
			target, setup, err := tbl.CheckAppend(context.Background(), newTableSnapshot(), c.in, c.opts)
			if c.wantErr != nil {
				if !errors.Is(err, format.ErrBadInput) {
					t.Fatalf("error %v, want ErrBadInput", err)
				}
				for _, want := range c.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckAppend: %v", err)
			}
			if setup == nil || setup.Schema != target {
				t.Fatalf("setup %+v does not carry the target schema", setup)
			}
			if len(target.Fields) != len(c.in.Fields) {
				t.Fatalf("target has %d fields, want %d", len(target.Fields), len(c.in.Fields))
			}
			for i, f := range target.Fields {
				if f.Name != c.in.Fields[i].Name {
					t.Errorf("target field %d is %q, want input order %q", i, f.Name, c.in.Fields[i].Name)
				}
				if !f.Nullable {
					t.Errorf("target field %q is NOT NULL, want nullable", f.Name)
				}
			}
		})
	}
}

func TestCheckAppendColumnMappingSetup(t *testing.T) {
	tbl := openWriteTable(newLocalStore(t))
	in := schemaOf(col("Incident Date", format.TypeString), col("Speed (mph)", format.TypeLong), col("id", format.TypeLong))
	target, setup, err := tbl.CheckAppend(context.Background(), newTableSnapshot(), in,
		format.AppendOptions{ColumnMapping: "name", PartitionColumns: []string{"incident date"}})
	if err != nil {
		t.Fatalf("CheckAppend: %v", err)
	}
	seen := map[string]bool{}
	for i, f := range target.Fields {
		if f.ID != i+1 {
			t.Errorf("field %q id %d, want %d", f.Name, f.ID, i+1)
		}
		if !strings.HasPrefix(f.PhysicalName, "col-") || len(f.PhysicalName) != len("col-")+36 {
			t.Errorf("field %q physical name %q, want col-<uuid>", f.Name, f.PhysicalName)
		}
		if seen[f.PhysicalName] {
			t.Errorf("physical name %q is used twice", f.PhysicalName)
		}
		seen[f.PhysicalName] = true
	}
	if setup.ColumnMapping != "name" {
		t.Errorf("setup column mapping %q, want name", setup.ColumnMapping)
	}
	if got := setup.Properties["delta.columnMapping.mode"]; got != "name" {
		t.Errorf("delta.columnMapping.mode %q, want name", got)
	}
	if got := setup.Properties["delta.columnMapping.maxColumnId"]; got != "3" {
		t.Errorf("delta.columnMapping.maxColumnId %q, want 3", got)
	}
	if got := strings.Join(setup.PartitionColumns, ","); got != "Incident Date" {
		t.Errorf("partition columns %q, want the schema's spelling Incident Date", got)
	}
}

func TestCheckAppendExistingTable(t *testing.T) {
	tableSchema := schemaOf(
		col("id", format.TypeLong),
		col("city", format.TypeString),
		col("speed", format.TypeDouble),
		format.Field{Name: "price", Type: format.Type{Name: format.TypeDecimal, Precision: 10, Scale: 2}, Nullable: true},
	)
	cases := []struct {
		name    string
		in      *format.Schema
		opts    format.AppendOptions
		wantErr []string
	}{
		{"same columns in another order", schemaOf(col("city", format.TypeString), col("id", format.TypeLong)), format.AppendOptions{}, nil},
		{"names differing in case", schemaOf(col("ID", format.TypeLong)), format.AppendOptions{}, nil},
		{"integer widened to long", schemaOf(col("id", format.TypeInteger)), format.AppendOptions{}, nil},
		{"float widened to double", schemaOf(col("speed", format.TypeFloat)), format.AppendOptions{}, nil},
		{"smaller decimal", schemaOf(format.Field{Name: "price", Type: format.Type{Name: format.TypeDecimal, Precision: 5, Scale: 1}}), format.AppendOptions{}, nil},
		{"same partition columns", schemaOf(col("id", format.TypeLong)), format.AppendOptions{PartitionColumns: []string{"CITY"}}, nil},
		{"extra column", schemaOf(col("id", format.TypeLong), col("country", format.TypeString)), format.AppendOptions{},
			[]string{`"country"`, `["id", "city", "speed", "price"]`}},
		{"string into long column", schemaOf(col("id", format.TypeString)), format.AppendOptions{},
			[]string{`"id"`, "string", "long"}},
		{"long into string column", schemaOf(col("speed", format.TypeDouble), col("city", format.TypeLong)), format.AppendOptions{},
			[]string{`"city"`, "long", "string"}},
		{"decimal losing integer digits", schemaOf(format.Field{Name: "price", Type: format.Type{Name: format.TypeDecimal, Precision: 12, Scale: 2}}), format.AppendOptions{},
			[]string{"decimal(12,2)", "decimal(10,2)"}},
		{"other partition columns", schemaOf(col("id", format.TypeLong)), format.AppendOptions{PartitionColumns: []string{"id"}},
			[]string{"[id]", "[city]"}},
		{"column mapping on a table without it", schemaOf(col("id", format.TypeLong)), format.AppendOptions{ColumnMapping: "name"},
			[]string{`"name"`, `"none"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store := newLocalStore(t)
			tbl, snap := createTable(t, store, tableSchema, format.AppendOptions{PartitionColumns: []string{"city"}})
			target, setup, err := tbl.CheckAppend(context.Background(), snap, c.in, c.opts)
			if c.wantErr != nil {
				if !errors.Is(err, format.ErrBadInput) {
					t.Fatalf("error %v, want ErrBadInput", err)
				}
				for _, want := range c.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %s", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckAppend: %v", err)
			}
			if setup != nil {
				t.Errorf("setup %+v for an existing table, want nil", setup)
			}
			for i, f := range target.Fields {
				if f.Name != tableSchema.Fields[i].Name || f.Type != tableSchema.Fields[i].Type {
					t.Errorf("target field %d is %s %s, want the table's %s %s", i, f.Name, f.Type, tableSchema.Fields[i].Name, tableSchema.Fields[i].Type)
				}
			}
		})
	}
}

func TestCheckAppendRejectsNestedTable(t *testing.T) {
	store := newLocalStore(t)
	tbl, snap := createTable(t, store, schemaOf(col("id", format.TypeLong)), format.AppendOptions{})
	delta, err := LoadSnapshot(context.Background(), store, store.URI())
	if err != nil {
		t.Fatalf("LoadSnapshot: %v", err)
	}
	meta := *delta.Metadata
	meta.SchemaString = `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},` +
		`{"name":"tags","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}]}`
	writeRawCommit(t, store, 1, Action{CommitInfo: &CommitInfo{Operation: "ADD COLUMNS"}}, Action{MetaData: &meta})

	snap, err = tbl.Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, _, err = tbl.CheckAppend(context.Background(), snap, schemaOf(col("id", format.TypeLong)), format.AppendOptions{})
	var unsupported *format.UnsupportedFeatureError
	if !errors.As(err, &unsupported) {
		t.Fatalf("error %v, want UnsupportedFeatureError", err)
	}
	if !strings.Contains(err.Error(), `"tags"`) {
		t.Errorf("error %q does not name the nested column", err)
	}
}
