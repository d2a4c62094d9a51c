package deltalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/safewrite/safewrite/format"
)

// Column mapping keys of Delta field metadata.
const (
	ColumnMappingIDKey           = "delta.columnMapping.id"
	ColumnMappingPhysicalNameKey = "delta.columnMapping.physicalName"
)

// NestedTypeKey is the Field.Metadata key that keeps the Delta type JSON of
// a struct, array or map column, whose Field.Type.Name is "struct", "array"
// or "map". SchemaToJSON writes it back as the field's type and never as
// metadata. Writers reject such columns; readers can still list them.
const NestedTypeKey = "safewrite.nestedType"

// Nested type names of Field.Type.Name.
const (
	TypeStruct = "struct"
	TypeArray  = "array"
	TypeMap    = "map"
)

type jsonStruct struct {
	Type   string      `json:"type"`
	Fields []jsonField `json:"fields"`
}

type jsonField struct {
	Name     string          `json:"name"`
	Type     json.RawMessage `json:"type"`
	Nullable bool            `json:"nullable"`
	Metadata map[string]any  `json:"metadata"`
}

// SchemaFromJSON parses a Delta schemaString (a struct type in JSON). Field
// metadata is kept as read, with numbers as json.Number so they round-trip
// exactly. delta.columnMapping.id and .physicalName also fill Field.ID and
// Field.PhysicalName, and PhysicalName is Name when the metadata has none.
func SchemaFromJSON(schemaString string) (*format.Schema, error) {
	dec := json.NewDecoder(strings.NewReader(schemaString))
	dec.UseNumber()
	var root jsonStruct
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("%w: schemaString is not valid JSON: %v", format.ErrCorruptTable, err)
	}
	if root.Type != "struct" {
		return nil, fmt.Errorf("%w: schemaString has type %q, expected \"struct\"", format.ErrCorruptTable, root.Type)
	}

	s := &format.Schema{Fields: make([]format.Field, 0, len(root.Fields))}
	for i, jf := range root.Fields {
		if jf.Name == "" {
			return nil, fmt.Errorf("%w: schemaString field %d has no name", format.ErrCorruptTable, i)
		}
		f := format.Field{Name: jf.Name, Nullable: jf.Nullable, Metadata: jf.Metadata}
		if f.Metadata == nil {
			f.Metadata = map[string]any{}
		}
		t, nested, err := parseFieldType(jf.Type)
		if err != nil {
			return nil, fmt.Errorf("%w: schemaString column %q: %v", format.ErrCorruptTable, jf.Name, err)
		}
		f.Type = t
		if nested != "" {
			f.Metadata[NestedTypeKey] = nested
		}

		f.PhysicalName = f.Name
		if pn, ok := f.Metadata[ColumnMappingPhysicalNameKey].(string); ok && pn != "" {
			f.PhysicalName = pn
		}
		if raw, ok := f.Metadata[ColumnMappingIDKey]; ok {
			id, err := metadataInt(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: schemaString column %q: %s %v is not an integer", format.ErrCorruptTable, jf.Name, ColumnMappingIDKey, raw)
			}
			f.ID = id
		}
		s.Fields = append(s.Fields, f)
	}
	return s, nil
}

// parseFieldType returns the primitive type, or for a nested type the
// placeholder type and its compact JSON.
func parseFieldType(raw json.RawMessage) (format.Type, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return format.Type{}, "", fmt.Errorf("missing type")
	}
	if raw[0] == '{' {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return format.Type{}, "", fmt.Errorf("invalid nested type: %v", err)
		}
		switch head.Type {
		case TypeStruct, TypeArray, TypeMap:
		default:
			return format.Type{}, "", fmt.Errorf("unknown nested type %q", head.Type)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return format.Type{}, "", fmt.Errorf("invalid nested type: %v", err)
		}
		return format.Type{Name: head.Type}, compact.String(), nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return format.Type{}, "", fmt.Errorf("type is neither a string nor an object: %s", raw)
	}
	t, err := ParsePrimitiveType(name)
	return t, "", err
}

// ParsePrimitiveType parses a Delta primitive type name such as "long" or
// "decimal(10,2)". Names this package does not know (such as "variant")
// are kept as they are, so a schema with them can still be listed.
func ParsePrimitiveType(name string) (format.Type, error) {
	if rest, ok := strings.CutPrefix(name, "decimal"); ok {
		if rest == "" {
			// Spark's default for DECIMAL without arguments.
			return format.Type{Name: format.TypeDecimal, Precision: 10, Scale: 0}, nil
		}
		inner, ok := strings.CutPrefix(rest, "(")
		inner, ok2 := strings.CutSuffix(inner, ")")
		p, s, ok3 := strings.Cut(inner, ",")
		if !ok || !ok2 || !ok3 {
			return format.Type{}, fmt.Errorf("invalid decimal type %q", name)
		}
		precision, err1 := strconv.Atoi(strings.TrimSpace(p))
		scale, err2 := strconv.Atoi(strings.TrimSpace(s))
		if err1 != nil || err2 != nil || precision < 1 || precision > 38 || scale < 0 || scale > precision {
			return format.Type{}, fmt.Errorf("invalid decimal type %q: precision must be 1 to 38 and scale 0 to precision", name)
		}
		return format.Type{Name: format.TypeDecimal, Precision: precision, Scale: scale}, nil
	}
	return format.Type{Name: name}, nil
}

func metadataInt(v any) (int, error) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(n.String(), 10, 64)
		return int(i), err
	case float64:
		if n != float64(int64(n)) {
			return 0, fmt.Errorf("not an integer")
		}
		return int(n), nil
	case int:
		return n, nil
	case int64:
		return int(n), nil
	}
	return 0, fmt.Errorf("not a number")
}

// SchemaToJSON encodes a schema as a Delta schemaString. Field.Metadata is
// written as it is, except NestedTypeKey, which becomes the field's type.
// A non-zero Field.ID sets delta.columnMapping.id, and a PhysicalName that
// differs from Name sets delta.columnMapping.physicalName.
func SchemaToJSON(s *format.Schema) (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: no schema to encode", format.ErrBadInput)
	}
	root := jsonStruct{Type: "struct", Fields: make([]jsonField, 0, len(s.Fields))}
	for _, f := range s.Fields {
		jf := jsonField{Name: f.Name, Nullable: f.Nullable, Metadata: make(map[string]any, len(f.Metadata))}
		var nested string
		for k, v := range f.Metadata {
			if k == NestedTypeKey {
				nested, _ = v.(string)
				continue
			}
			jf.Metadata[k] = v
		}
		if f.ID != 0 {
			jf.Metadata[ColumnMappingIDKey] = f.ID
		}
		if f.PhysicalName != "" && f.PhysicalName != f.Name {
			jf.Metadata[ColumnMappingPhysicalNameKey] = f.PhysicalName
		}

		switch f.Type.Name {
		case TypeStruct, TypeArray, TypeMap:
			if nested == "" || !json.Valid([]byte(nested)) {
				return "", fmt.Errorf("%w: column %q has nested type %s without its type JSON in metadata %q", format.ErrBadInput, f.Name, f.Type.Name, NestedTypeKey)
			}
			jf.Type = json.RawMessage(nested)
		case "":
			return "", fmt.Errorf("%w: column %q has no type", format.ErrBadInput, f.Name)
		default:
			b, err := json.Marshal(f.Type.String())
			if err != nil {
				return "", err
			}
			jf.Type = b
		}
		root.Fields = append(root.Fields, jf)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return "", fmt.Errorf("encode schema: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
