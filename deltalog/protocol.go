package deltalog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/safewrite/safewrite/format"
)

// Maximum protocol versions this package understands. Reader 3 and writer
// 7 are the table-features versions: from there on the protocol lists
// features by name.
const (
	MaxReaderVersion = 3
	MaxWriterVersion = 7
)

// readFeatures are the reader features whose tables this package can
// replay. Replay reads the file list, schema and properties, so it needs
// no data-level support for them. With deletionVectors, files are listed
// but record counts from stats include deleted rows.
var readFeatures = map[string]bool{
	"columnMapping":        true,
	"deletionVectors":      true,
	"timestampNtz":         true,
	"v2Checkpoint":         true,
	"vacuumProtocolCheck":  true,
	"typeWidening":         true,
	"typeWidening-preview": true,
	"variantType":          true,
	"variantType-preview":  true,
}

// CheckReadSupported returns a *format.UnsupportedFeatureError when the
// table needs a reader version or reader feature that replay does not
// understand.
func CheckReadSupported(p *Protocol, tableURI string) error {
	if p == nil {
		return &format.UnsupportedFeatureError{Table: tableURI, Feature: "protocol", Reason: "the table has no protocol action; it cannot be read safely"}
	}
	if p.MinReaderVersion > MaxReaderVersion || p.MinReaderVersion < 1 {
		return &format.UnsupportedFeatureError{
			Table:   tableURI,
			Feature: fmt.Sprintf("minReaderVersion=%d", p.MinReaderVersion),
			Reason:  fmt.Sprintf("safewrite reads Delta reader versions 1 to %d; use a newer Delta client for this table", MaxReaderVersion),
		}
	}
	if p.MinReaderVersion < 3 {
		return nil
	}
	for _, f := range p.ReaderFeatures {
		if !readFeatures[f] {
			return &format.UnsupportedFeatureError{
				Table:   tableURI,
				Feature: f,
				Reason:  "safewrite does not know this reader feature, so it cannot read the table log safely",
			}
		}
	}
	return nil
}

// Legacy writer versions (below 7) imply these features, each version
// adding to the ones before. A feature implied this way is in effect only
// when the table uses it (a property or column metadata), as in Delta.
var legacyWriterFeatures = []struct {
	version  int
	features []string
}{
	{2, []string{"appendOnly", "invariants"}},
	{3, []string{"checkConstraints"}},
	{4, []string{"changeDataFeed", "generatedColumns"}},
	{5, []string{"columnMapping"}},
	{6, []string{"identityColumns"}},
}

// CheckWriteSupported returns a *format.UnsupportedFeatureError when an
// append by safewrite could break a rule of the table's protocol. It
// checks read support first, because a writer must read the log.
//
// Accepted writer features and why an append keeps their rules:
//   - appendOnly: it forbids removing files, and appends remove none;
//   - columnMapping in name mode (mode id is rejected): the write side
//     writes the physical column names from the schema;
//   - timestampNtz: only a column type;
//   - deletionVectors: appends write no deletion vectors;
//   - vacuumProtocolCheck: it constrains VACUUM, not appends;
//   - invariants, checkConstraints, changeDataFeed, generatedColumns and
//     identityColumns: only while the table does not use them (no
//     delta.invariants, delta.generationExpression or delta.identity.*
//     column metadata, no delta.constraints.* property,
//     delta.enableChangeDataFeed not true).
//
// Every other feature is rejected, including v2Checkpoint (safewrite writes
// classic checkpoints, which such tables forbid), domainMetadata,
// rowTracking, inCommitTimestamp, clustering, typeWidening, variantType,
// icebergCompat* and any unknown name.
func CheckWriteSupported(p *Protocol, m *Metadata, tableURI string) error {
	if err := CheckReadSupported(p, tableURI); err != nil {
		return err
	}
	if p.MinWriterVersion > MaxWriterVersion || p.MinWriterVersion < 1 {
		return &format.UnsupportedFeatureError{
			Table:   tableURI,
			Feature: fmt.Sprintf("minWriterVersion=%d", p.MinWriterVersion),
			Reason:  fmt.Sprintf("safewrite writes Delta writer versions 1 to %d; use a newer Delta client for this table", MaxWriterVersion),
		}
	}

	use, err := inspectTableUse(m)
	if err != nil {
		return fmt.Errorf("table %s: %w", tableURI, err)
	}
	features := writerFeatureSet(p)
	names := make([]string, 0, len(features))
	for f := range features {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if reason := writeBlocker(f, use); reason != "" {
			return &format.UnsupportedFeatureError{Table: tableURI, Feature: f, Reason: reason}
		}
	}
	// Column mapping mode id needs field ids in data files at any protocol
	// version.
	if use.columnMappingMode == "id" {
		return &format.UnsupportedFeatureError{Table: tableURI, Feature: "columnMapping", Reason: "delta.columnMapping.mode is \"id\"; safewrite writes only tables with mode \"none\" or \"name\""}
	}
	return nil
}

// writerFeatureSet returns the features the protocol lists or its legacy
// version implies.
func writerFeatureSet(p *Protocol) map[string]bool {
	features := make(map[string]bool)
	if p.MinWriterVersion >= 7 {
		for _, f := range p.WriterFeatures {
			features[f] = true
		}
		return features
	}
	for _, l := range legacyWriterFeatures {
		if p.MinWriterVersion >= l.version {
			for _, f := range l.features {
				features[f] = true
			}
		}
	}
	return features
}

// writeBlocker returns why an append cannot honour feature f, or "".
// Features implied by a legacy version and those listed by name are
// treated alike: both bind only when the table uses them.
func writeBlocker(f string, use tableUse) string {
	switch f {
	case "appendOnly", "timestampNtz", "deletionVectors", "vacuumProtocolCheck":
		return ""
	case "columnMapping":
		if use.columnMappingMode == "id" {
			return "delta.columnMapping.mode is \"id\"; safewrite writes only tables with mode \"none\" or \"name\""
		}
		return ""
	case "invariants":
		if len(use.invariants) > 0 {
			return fmt.Sprintf("column %s has a delta.invariants constraint, which safewrite does not check; write with Spark, or drop the invariant", quoteList(use.invariants))
		}
		return ""
	case "checkConstraints":
		if len(use.constraints) > 0 {
			return fmt.Sprintf("table property %s defines a CHECK constraint, which safewrite does not evaluate; write with Spark, or drop the constraint", quoteList(use.constraints))
		}
		return ""
	case "changeDataFeed":
		if use.changeDataFeed {
			return "delta.enableChangeDataFeed is true; safewrite does not write change data files; write with Spark, or set the property to false"
		}
		return ""
	case "generatedColumns":
		if len(use.generated) > 0 {
			return fmt.Sprintf("column %s is a generated column (delta.generationExpression), which safewrite does not compute; write with Spark", quoteList(use.generated))
		}
		return ""
	case "identityColumns":
		if len(use.identity) > 0 {
			return fmt.Sprintf("column %s is an identity column (delta.identity.*), which safewrite does not assign; write with Spark", quoteList(use.identity))
		}
		return ""
	case "v2Checkpoint":
		return "the table requires V2 checkpoints, and safewrite writes only classic checkpoints, which such tables forbid; write with Spark or delta-rs"
	case "domainMetadata":
		return "safewrite does not keep domain metadata when it writes checkpoints, so it could drop it; write with Spark"
	case "rowTracking":
		return "writers must assign row ids and commit versions to new files, which safewrite does not do; write with Spark"
	case "inCommitTimestamp":
		return "writers must record a monotonic inCommitTimestamp in every commit, which safewrite does not do; write with Spark"
	case "clustering":
		return "clustered tables need clustering-aware writes and domain metadata, which safewrite does not support; write with Spark"
	case "typeWidening", "typeWidening-preview":
		return "type widening changes column types in ways safewrite does not track; write with Spark"
	case "variantType", "variantType-preview":
		return "safewrite cannot write variant columns; write with Spark"
	}
	if strings.HasPrefix(f, "icebergCompat") {
		return "Iceberg compatibility requires extra metadata on every commit, which safewrite does not write; write with Spark"
	}
	return "safewrite does not know this writer feature, so it cannot honour its rules; write with a Delta client that supports it"
}

// tableUse records which optional features a table actually uses.
type tableUse struct {
	columnMappingMode string
	changeDataFeed    bool
	constraints       []string // property names delta.constraints.*
	invariants        []string // column paths with delta.invariants
	generated         []string // column paths with delta.generationExpression
	identity          []string // column paths with delta.identity.* metadata
}

func inspectTableUse(m *Metadata) (tableUse, error) {
	var use tableUse
	if m == nil {
		return use, nil
	}
	for k, v := range m.Configuration {
		switch {
		case k == "delta.columnMapping.mode":
			use.columnMappingMode = strings.ToLower(v)
		case k == "delta.enableChangeDataFeed":
			use.changeDataFeed = strings.EqualFold(strings.TrimSpace(v), "true")
		case strings.HasPrefix(k, "delta.constraints."):
			use.constraints = append(use.constraints, k)
		}
	}
	sort.Strings(use.constraints)
	if m.SchemaString == "" {
		return use, nil
	}
	var root any
	if err := json.Unmarshal([]byte(m.SchemaString), &root); err != nil {
		return use, fmt.Errorf("%w: metaData schemaString is not valid JSON: %v", format.ErrCorruptTable, err)
	}
	walkFieldMetadata(root, "", func(path string, md map[string]any) {
		for k := range md {
			switch {
			case k == "delta.invariants":
				use.invariants = append(use.invariants, path)
			case k == "delta.generationExpression":
				use.generated = append(use.generated, path)
			case strings.HasPrefix(k, "delta.identity."):
				if len(use.identity) == 0 || use.identity[len(use.identity)-1] != path {
					use.identity = append(use.identity, path)
				}
			}
		}
	})
	return use, nil
}

// walkFieldMetadata calls fn with the dotted path and metadata of every
// struct field in a Delta schema JSON value, including nested ones.
func walkFieldMetadata(node any, prefix string, fn func(path string, md map[string]any)) {
	obj, ok := node.(map[string]any)
	if !ok {
		return
	}
	switch obj["type"] {
	case "struct":
		fields, _ := obj["fields"].([]any)
		for _, f := range fields {
			fm, ok := f.(map[string]any)
			if !ok {
				continue
			}
			name, _ := fm["name"].(string)
			path := name
			if prefix != "" {
				path = prefix + "." + name
			}
			if md, ok := fm["metadata"].(map[string]any); ok {
				fn(path, md)
			}
			walkFieldMetadata(fm["type"], path, fn)
		}
	case "array":
		walkFieldMetadata(obj["elementType"], prefix+".element", fn)
	case "map":
		walkFieldMetadata(obj["keyType"], prefix+".key", fn)
		walkFieldMetadata(obj["valueType"], prefix+".value", fn)
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
