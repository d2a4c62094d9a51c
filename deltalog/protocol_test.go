package deltalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/format"
)

const plainSchema = `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]}`

func schemaWithMetadata(md string) string {
	return `{"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}},{"name":"c","type":"long","nullable":true,"metadata":` + md + `}]}`
}

func TestCheckWriteSupportedLegacyVersions(t *testing.T) {
	// Each use of a feature is in effect from the writer version that
	// implies it; below that version the table cannot have it switched on.
	uses := []struct {
		name    string
		from    int // first legacy writer version that implies the feature
		feature string
		meta    Metadata
	}{
		{"invariant column", 2, "invariants", Metadata{SchemaString: schemaWithMetadata(`{"delta.invariants":"{\"expression\":{\"expression\":\"c > 0\"}}"}`)}},
		{"check constraint", 3, "checkConstraints", Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.constraints.positive": "id > 0"}}},
		{"change data feed on", 4, "changeDataFeed", Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.enableChangeDataFeed": "TRUE"}}},
		{"generated column", 4, "generatedColumns", Metadata{SchemaString: schemaWithMetadata(`{"delta.generationExpression":"id + 1"}`)}},
		{"column mapping id mode", 5, "columnMapping", Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.columnMapping.mode": "id"}}},
		{"identity column", 6, "identityColumns", Metadata{SchemaString: schemaWithMetadata(`{"delta.identity.start":1,"delta.identity.step":1,"delta.identity.allowExplicitInsert":false}`)}},
	}
	for _, u := range uses {
		for version := 2; version <= 6; version++ {
			name := u.name + "/writer " + string(rune('0'+version))
			t.Run(name, func(t *testing.T) {
				p := &Protocol{MinReaderVersion: 2, MinWriterVersion: version}
				err := CheckWriteSupported(p, &u.meta, "file:///t")
				// Column mapping mode id is rejected at any version.
				rejected := version >= u.from || u.feature == "columnMapping"
				if !rejected {
					if err != nil {
						t.Fatalf("error = %v, expected none: writer %d does not imply %s", err, version, u.feature)
					}
					return
				}
				var ufe *format.UnsupportedFeatureError
				if !errors.As(err, &ufe) {
					t.Fatalf("error = %v, expected *format.UnsupportedFeatureError", err)
				}
				if ufe.Feature != u.feature {
					t.Errorf("feature = %q, expected %q", ufe.Feature, u.feature)
				}
				if !errors.Is(err, format.ErrUnsupportedFeature) {
					t.Errorf("error does not wrap ErrUnsupportedFeature")
				}
			})
		}
	}
}

func TestCheckWriteSupportedLegacyUnused(t *testing.T) {
	meta := &Metadata{SchemaString: plainSchema, Configuration: map[string]string{
		"delta.enableChangeDataFeed": "false",
		"delta.appendOnly":           "true",
		"delta.columnMapping.mode":   "name",
	}}
	for version := 1; version <= 6; version++ {
		t.Run("writer "+string(rune('0'+version)), func(t *testing.T) {
			p := &Protocol{MinReaderVersion: 2, MinWriterVersion: version}
			if err := CheckWriteSupported(p, meta, "file:///t"); err != nil {
				t.Errorf("error = %v, expected none for a table that uses no blocking feature", err)
			}
		})
	}
}

func TestCheckWriteSupportedFeatures(t *testing.T) {
	cases := []struct {
		feature string
		meta    *Metadata
		allowed bool
	}{
		{"appendOnly", nil, true},
		{"timestampNtz", nil, true},
		{"deletionVectors", nil, true},
		{"vacuumProtocolCheck", nil, true},
		{"columnMapping", &Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.columnMapping.mode": "name"}}, true},
		{"columnMapping", &Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.columnMapping.mode": "id"}}, false},
		{"invariants", &Metadata{SchemaString: plainSchema}, true},
		{"invariants", &Metadata{SchemaString: `{"type":"struct","fields":[{"name":"s","type":{"type":"struct","fields":[{"name":"x","type":"long","nullable":true,"metadata":{"delta.invariants":"x"}}]},"nullable":true,"metadata":{}}]}`}, false},
		{"changeDataFeed", &Metadata{SchemaString: plainSchema}, true},
		{"changeDataFeed", &Metadata{SchemaString: plainSchema, Configuration: map[string]string{"delta.enableChangeDataFeed": "true"}}, false},
		{"checkConstraints", &Metadata{SchemaString: plainSchema}, true},
		{"generatedColumns", &Metadata{SchemaString: plainSchema}, true},
		{"identityColumns", &Metadata{SchemaString: plainSchema}, true},
		{"v2Checkpoint", nil, false},
		{"domainMetadata", nil, false},
		{"rowTracking", nil, false},
		{"inCommitTimestamp", nil, false},
		{"clustering", nil, false},
		{"typeWidening", nil, false},
		{"variantType", nil, false},
		{"icebergCompatV2", nil, false},
		{"someFutureFeature", nil, false},
	}
	for _, tc := range cases {
		name := tc.feature
		if tc.allowed {
			name += "/allowed"
		} else {
			name += "/rejected"
		}
		t.Run(name, func(t *testing.T) {
			p := &Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{}, WriterFeatures: []string{tc.feature}}
			err := CheckWriteSupported(p, tc.meta, "s3://b/t")
			if tc.allowed {
				if err != nil {
					t.Fatalf("error = %v, expected none", err)
				}
				return
			}
			var ufe *format.UnsupportedFeatureError
			if !errors.As(err, &ufe) {
				t.Fatalf("error = %v, expected *format.UnsupportedFeatureError", err)
			}
			if ufe.Feature != tc.feature {
				t.Errorf("feature = %q, expected %q", ufe.Feature, tc.feature)
			}
			if ufe.Table != "s3://b/t" || ufe.Reason == "" {
				t.Errorf("error %+v lacks the table or the reason", ufe)
			}
		})
	}
}

func TestCheckReadSupported(t *testing.T) {
	cases := []struct {
		name    string
		p       *Protocol
		feature string // "" when readable
	}{
		{"reader 1", &Protocol{MinReaderVersion: 1, MinWriterVersion: 2}, ""},
		{"reader 2 column mapping", &Protocol{MinReaderVersion: 2, MinWriterVersion: 5}, ""},
		{"reader 3 deletion vectors", &Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"deletionVectors", "columnMapping"}}, ""},
		{"reader 3 v2 checkpoint", &Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"v2Checkpoint"}}, ""},
		{"reader 4", &Protocol{MinReaderVersion: 4, MinWriterVersion: 7}, "minReaderVersion=4"},
		{"reader 99", &Protocol{MinReaderVersion: 99, MinWriterVersion: 7}, "minReaderVersion=99"},
		{"reader 0", &Protocol{MinReaderVersion: 0, MinWriterVersion: 2}, "minReaderVersion=0"},
		{"unknown reader feature", &Protocol{MinReaderVersion: 3, MinWriterVersion: 7, ReaderFeatures: []string{"catalogManaged"}}, "catalogManaged"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckReadSupported(tc.p, "file:///t")
			if tc.feature == "" {
				if err != nil {
					t.Fatalf("error = %v, expected none", err)
				}
				return
			}
			var ufe *format.UnsupportedFeatureError
			if !errors.As(err, &ufe) {
				t.Fatalf("error = %v, expected *format.UnsupportedFeatureError", err)
			}
			if ufe.Feature != tc.feature {
				t.Errorf("feature = %q, expected %q", ufe.Feature, tc.feature)
			}
		})
	}
}

func TestCheckWriteSupportedWriterVersionTooNew(t *testing.T) {
	err := CheckWriteSupported(&Protocol{MinReaderVersion: 1, MinWriterVersion: 8}, nil, "file:///t")
	if err == nil || !strings.Contains(err.Error(), "minWriterVersion=8") {
		t.Fatalf("error = %v, expected one naming minWriterVersion=8", err)
	}
}
