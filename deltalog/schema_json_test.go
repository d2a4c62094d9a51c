package deltalog

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/safewrite/safewrite/format"
)

func TestSchemaFromJSONTypes(t *testing.T) {
	in := `{"type":"struct","fields":[` +
		`{"name":"a","type":"long","nullable":true,"metadata":{}},` +
		`{"name":"b","type":"decimal(10,2)","nullable":false,"metadata":{"comment":"price"}},` +
		`{"name":"c","type":"timestamp_ntz","nullable":true,"metadata":{}},` +
		`{"name":"d","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},` +
		`{"name":"e","type":{"type":"map","keyType":"string","valueType":"long","valueContainsNull":true},"nullable":true,"metadata":{}},` +
		`{"name":"f","type":{"type":"struct","fields":[{"name":"x","type":"integer","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}]}`
	s, err := SchemaFromJSON(in)
	if err != nil {
		t.Fatalf("SchemaFromJSON: %v", err)
	}
	expected := []format.Type{
		{Name: format.TypeLong},
		{Name: format.TypeDecimal, Precision: 10, Scale: 2},
		{Name: format.TypeTimestampNTZ},
		{Name: TypeArray},
		{Name: TypeMap},
		{Name: TypeStruct},
	}
	if len(s.Fields) != len(expected) {
		t.Fatalf("fields = %d, expected %d", len(s.Fields), len(expected))
	}
	for i, e := range expected {
		if s.Fields[i].Type != e {
			t.Errorf("field %s type = %+v, expected %+v", s.Fields[i].Name, s.Fields[i].Type, e)
		}
		if s.Fields[i].PhysicalName != s.Fields[i].Name {
			t.Errorf("field %s physical name = %q, expected the logical name", s.Fields[i].Name, s.Fields[i].PhysicalName)
		}
	}
	if s.Fields[1].Nullable {
		t.Error("field b is nullable, expected not null")
	}

	out, err := SchemaToJSON(s)
	if err != nil {
		t.Fatalf("SchemaToJSON: %v", err)
	}
	assertSameJSON(t, out, in)
}

func TestSchemaColumnMappingRoundTrip(t *testing.T) {
	in := `{"type":"struct","fields":[{"name":"flight date","type":"date","nullable":true,"metadata":{"delta.columnMapping.id":7,"delta.columnMapping.physicalName":"col-5f3e","comment":"x"}}]}`
	s, err := SchemaFromJSON(in)
	if err != nil {
		t.Fatalf("SchemaFromJSON: %v", err)
	}
	f := s.Fields[0]
	if f.ID != 7 {
		t.Errorf("ID = %d, expected 7", f.ID)
	}
	if f.PhysicalName != "col-5f3e" {
		t.Errorf("PhysicalName = %q, expected col-5f3e", f.PhysicalName)
	}
	out, err := SchemaToJSON(s)
	if err != nil {
		t.Fatalf("SchemaToJSON: %v", err)
	}
	assertSameJSON(t, out, in)
}

func TestSchemaToJSONSetsColumnMapping(t *testing.T) {
	s := &format.Schema{Fields: []format.Field{{Name: "a", Type: format.Type{Name: format.TypeString}, Nullable: true, ID: 3, PhysicalName: "col-a"}}}
	out, err := SchemaToJSON(s)
	if err != nil {
		t.Fatalf("SchemaToJSON: %v", err)
	}
	assertSameJSON(t, out, `{"type":"struct","fields":[{"name":"a","type":"string","nullable":true,"metadata":{"delta.columnMapping.id":3,"delta.columnMapping.physicalName":"col-a"}}]}`)
}

func TestSchemaFromJSONGoldenColumnMapping(t *testing.T) {
	for _, table := range []string{"table-with-columnmapping-mode-name", "table-with-columnmapping-mode-id", "dv-with-columnmapping", "data-reader-timestamp_ntz"} {
		t.Run(table, func(t *testing.T) {
			snap := loadGolden(t, table)
			s, err := SchemaFromJSON(snap.Metadata.SchemaString)
			if err != nil {
				t.Fatalf("SchemaFromJSON: %v", err)
			}
			if len(s.Fields) == 0 {
				t.Fatal("schema has no fields")
			}
			mapped := snap.Metadata.Configuration["delta.columnMapping.mode"] != ""
			for _, f := range s.Fields {
				if mapped && (f.ID == 0 || f.PhysicalName == f.Name) {
					t.Errorf("column %q: id %d, physical name %q; expected column mapping values", f.Name, f.ID, f.PhysicalName)
				}
			}
			out, err := SchemaToJSON(s)
			if err != nil {
				t.Fatalf("SchemaToJSON: %v", err)
			}
			assertSameJSON(t, out, snap.Metadata.SchemaString)
		})
	}
}

func TestSchemaFromJSONInvalid(t *testing.T) {
	cases := map[string]string{
		"not JSON":       `{"type":`,
		"not a struct":   `{"type":"array","elementType":"long"}`,
		"bad decimal":    `{"type":"struct","fields":[{"name":"a","type":"decimal(50,2)","nullable":true,"metadata":{}}]}`,
		"unnamed field":  `{"type":"struct","fields":[{"name":"","type":"long","nullable":true,"metadata":{}}]}`,
		"bad mapping id": `{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{"delta.columnMapping.id":"seven"}}]}`,
		"unknown nested": `{"type":"struct","fields":[{"name":"a","type":{"type":"union"},"nullable":true,"metadata":{}}]}`,
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := SchemaFromJSON(in)
			if !errors.Is(err, format.ErrCorruptTable) {
				t.Errorf("error = %v, expected ErrCorruptTable", err)
			}
		})
	}
}

func TestSchemaToJSONNestedWithoutTypeJSON(t *testing.T) {
	s := &format.Schema{Fields: []format.Field{{Name: "a", Type: format.Type{Name: TypeStruct}}}}
	if _, err := SchemaToJSON(s); !errors.Is(err, format.ErrBadInput) {
		t.Errorf("error = %v, expected ErrBadInput", err)
	}
}

func assertSameJSON(t *testing.T, got, expected string) {
	t.Helper()
	var g, e any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(expected), &e); err != nil {
		t.Fatalf("expected value is not JSON: %v", err)
	}
	if !reflect.DeepEqual(g, e) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", got, expected)
	}
}
