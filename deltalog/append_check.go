package deltalog

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/safewrite/safewrite/format"
)

// invalidColumnChars are the characters that Delta rejects in column names
// unless column mapping is on (Spark: "Found invalid character(s) among
// ' ,;{}()\n\t=' in the column names").
const invalidColumnChars = " ,;{}()\n\t="

// Column mapping table properties.
const (
	propColumnMappingMode  = "delta.columnMapping.mode"
	propColumnMappingMaxID = "delta.columnMapping.maxColumnId"
	propCheckpointInterval = "delta.checkpointInterval"
)

// CheckAppend validates an append of rows with schema in and returns the
// schema the data files must be written with. For a new table (snap.Version
// -1) it also returns the TableSetup that the first commit creates.
func (t *Table) CheckAppend(ctx context.Context, snap *format.Snapshot, in *format.Schema, opts format.AppendOptions) (*format.Schema, *format.TableSetup, error) {
	if snap == nil {
		return nil, nil, fmt.Errorf("check append to %s: no snapshot: call Load first", t.uri)
	}
	if in == nil || len(in.Fields) == 0 {
		return nil, nil, fmt.Errorf("%w: append to %s: the input has no columns", format.ErrBadInput, t.uri)
	}
	if err := checkDuplicateNames(in); err != nil {
		return nil, nil, fmt.Errorf("append to %s: %w", t.uri, err)
	}
	if snap.Version < 0 {
		return t.checkCreate(in, opts)
	}
	delta, err := t.snapshotAt(ctx, snap.Version)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckWriteSupported(delta.Protocol, delta.Metadata, t.uri); err != nil {
		return nil, nil, err
	}
	target, err := checkExisting(t.uri, snap, in, opts)
	if err != nil {
		return nil, nil, err
	}
	return target, nil, nil
}

// checkCreate validates the schema and options of a new table.
func (t *Table) checkCreate(in *format.Schema, opts format.AppendOptions) (*format.Schema, *format.TableSetup, error) {
	mapping := opts.ColumnMapping
	switch mapping {
	case "", "none":
		mapping = "none"
	case "name":
	default:
		return nil, nil, fmt.Errorf("%w: column mapping mode %q is not supported for new tables: use \"name\" or leave it unset", format.ErrBadInput, opts.ColumnMapping)
	}

	target := &format.Schema{Fields: make([]format.Field, len(in.Fields))}
	for i, f := range in.Fields {
		if mapping == "none" && strings.ContainsAny(f.Name, invalidColumnChars) {
			return nil, nil, &format.InputError{
				Column: f.Name,
				Reason: fmt.Sprintf("Delta does not allow any of %q in column names without column mapping: create the table with --column-mapping name, or rename the column", invalidColumnChars),
			}
		}
		field := format.Field{
			Name: f.Name,
			Type: f.Type,
			// Delta makes every column of a table created from a DataFrame
			// nullable, so that later appends with nulls fit.
			Nullable:     true,
			PhysicalName: f.Name,
		}
		if mapping == "name" {
			field.ID = i + 1
			field.PhysicalName = "col-" + uuid.NewString()
		}
		target.Fields[i] = field
	}

	partitions, err := resolvePartitionColumns(target, opts.PartitionColumns)
	if err != nil {
		return nil, nil, fmt.Errorf("create table %s: %w", t.uri, err)
	}
	setup := &format.TableSetup{
		Schema:           target,
		PartitionColumns: partitions,
		ColumnMapping:    mapping,
		Properties:       map[string]string{},
	}
	if mapping == "name" {
		setup.Properties[propColumnMappingMode] = "name"
		setup.Properties[propColumnMappingMaxID] = strconv.Itoa(len(target.Fields))
	}
	return target, setup, nil
}

// resolvePartitionColumns maps the requested partition columns to the
// schema's spelling (case-insensitively, as Spark does).
func resolvePartitionColumns(schema *format.Schema, requested []string) ([]string, error) {
	out := make([]string, 0, len(requested))
	seen := map[string]bool{}
	for _, name := range requested {
		i := indexFold(schema, name)
		if i < 0 {
			return nil, fmt.Errorf("%w: partition column %q is not a column of the input; columns are %s", format.ErrBadInput, name, columnList(schema))
		}
		resolved := schema.Fields[i].Name
		if seen[strings.ToLower(resolved)] {
			return nil, fmt.Errorf("%w: partition column %q is listed twice", format.ErrBadInput, resolved)
		}
		seen[strings.ToLower(resolved)] = true
		out = append(out, resolved)
	}
	if len(out) > 0 && len(out) == len(schema.Fields) {
		return nil, fmt.Errorf("%w: every column is a partition column (%s): Delta needs at least one data column, so partition by fewer columns", format.ErrBadInput, strings.Join(out, ", "))
	}
	return out, nil
}

// checkExisting validates an append to an existing table; the table's
// schema is the target.
func checkExisting(uri string, snap *format.Snapshot, in *format.Schema, opts format.AppendOptions) (*format.Schema, error) {
	table := snap.Schema
	if table == nil {
		return nil, fmt.Errorf("%w: table %s version %d has no schema", format.ErrCorruptTable, uri, snap.Version)
	}
	if opts.ColumnMapping != "" && opts.ColumnMapping != snap.ColumnMapping {
		return nil, fmt.Errorf("%w: column mapping %q was requested but table %s has column mapping %q: column mapping is chosen when a table is created, so leave the option unset",
			format.ErrBadInput, opts.ColumnMapping, uri, snap.ColumnMapping)
	}
	if len(opts.PartitionColumns) > 0 && !equalFoldList(opts.PartitionColumns, snap.PartitionColumns) {
		return nil, fmt.Errorf("%w: partition columns [%s] were requested but table %s is partitioned by [%s]: leave the partition option unset to append",
			format.ErrBadInput, strings.Join(opts.PartitionColumns, ", "), uri, strings.Join(snap.PartitionColumns, ", "))
	}

	for _, f := range table.Fields {
		switch f.Type.Name {
		case TypeStruct, TypeArray, TypeMap:
			return nil, &format.UnsupportedFeatureError{
				Table:   uri,
				Feature: "nested column " + strconv.Quote(f.Name),
				Reason:  fmt.Sprintf("column %q has type %s; safewrite writes only tables whose columns all have primitive types", f.Name, f.Type.Name),
			}
		}
	}

	present := make([]bool, len(table.Fields))
	for _, f := range in.Fields {
		i := indexFold(table, f.Name)
		if i < 0 {
			return nil, &format.InputError{
				Column: f.Name,
				Reason: fmt.Sprintf("table %s has no such column (its columns are %s); safewrite does not evolve Delta schemas, so drop or rename the column", uri, columnList(table)),
			}
		}
		present[i] = true
		want := table.Fields[i].Type
		if !canWiden(f.Type, want) {
			return nil, &format.InputError{
				Column: f.Name,
				Reason: fmt.Sprintf("type %s cannot be written to table column %q of type %s: cast the input column to %s", f.Type, table.Fields[i].Name, want, want),
			}
		}
	}
	for i, f := range table.Fields {
		if !present[i] && !f.Nullable {
			return nil, &format.InputError{
				Column: f.Name,
				Reason: fmt.Sprintf("table %s column is NOT NULL but the input does not have it: add the column to the input", uri),
			}
		}
	}

	target := &format.Schema{Fields: make([]format.Field, len(table.Fields))}
	copy(target.Fields, table.Fields)
	for i := range target.Fields {
		if target.Fields[i].PhysicalName == "" {
			target.Fields[i].PhysicalName = target.Fields[i].Name
		}
	}
	return target, nil
}

// canWiden reports whether a value of type from can be written to a column
// of type to without loss: equal types, integer widening, float to double,
// and decimals whose integer and fraction digits both fit.
func canWiden(from, to format.Type) bool {
	if from == to {
		return true
	}
	rank := map[string]int{format.TypeByte: 1, format.TypeShort: 2, format.TypeInteger: 3, format.TypeLong: 4}
	if rf, ok := rank[from.Name]; ok {
		if rt, ok := rank[to.Name]; ok {
			return rf <= rt
		}
		return false
	}
	switch {
	case from.Name == format.TypeFloat && to.Name == format.TypeDouble:
		return true
	case from.Name == format.TypeDecimal && to.Name == format.TypeDecimal:
		return to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale
	}
	return false
}

// checkDuplicateNames rejects columns whose names differ only in case,
// which Spark treats as the same column.
func checkDuplicateNames(s *format.Schema) error {
	seen := make(map[string]string, len(s.Fields))
	for _, f := range s.Fields {
		if f.Name == "" {
			return &format.InputError{Reason: "a column has an empty name: name every column"}
		}
		key := strings.ToLower(f.Name)
		if prev, ok := seen[key]; ok {
			return &format.InputError{
				Column: f.Name,
				Reason: fmt.Sprintf("duplicate column: %q and %q are the same column to Delta, which compares names case-insensitively; rename one", prev, f.Name),
			}
		}
		seen[key] = f.Name
	}
	return nil
}

func indexFold(s *format.Schema, name string) int {
	if i := s.Index(name); i >= 0 {
		return i
	}
	for i, f := range s.Fields {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

func equalFoldList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

func columnList(s *format.Schema) string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = strconv.Quote(f.Name)
	}
	return "[" + strings.Join(names, ", ") + "]"
}
