package watchdog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/watchdog"
)

// emfDoc is one EMF line as CloudWatch parses it.
type emfDoc struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Table  string `json:"Table"`
	Format string `json:"Format"`
	Values map[string]any
}

func parseEMF(t *testing.T, line string) emfDoc {
	t.Helper()
	var doc emfDoc
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatalf("EMF line %q is not JSON: %v", line, err)
	}
	if err := json.Unmarshal([]byte(line), &doc.Values); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestEMFHandler(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		event commit.Event
		// want maps every metric the line must declare to its value.
		want map[string]float64
		unit map[string]string
	}{
		{
			name: "deadline rollback",
			event: commit.Event{Kind: commit.EventRollback, TxnID: "t1", Table: "s3://b/t", Format: "delta",
				Phase: "upload", Reason: "deadline", ObjectsRemoved: 3, BytesRemoved: 4096, At: at,
				Err: errors.New("watchdog fired")},
			want: map[string]float64{"Rollbacks": 1, "DeadlineRollbacks": 1, "OrphanObjectsRemoved": 3, "OrphanBytesRemoved": 4096},
			unit: map[string]string{"OrphanBytesRemoved": "Bytes", "Rollbacks": "Count"},
		},
		{
			name: "rollback by recovery",
			event: commit.Event{Kind: commit.EventRollback, TxnID: "t2", Table: "s3://b/t", Format: "delta",
				Phase: "recover", Reason: "expired", ObjectsRemoved: 1, BytesRemoved: 10, At: at},
			want: map[string]float64{"Rollbacks": 1, "RecoveredTransactions": 1, "OrphanObjectsRemoved": 1, "OrphanBytesRemoved": 10},
		},
		{
			name: "recovered committed transaction",
			event: commit.Event{Kind: commit.EventRecoveredCommitted, TxnID: "t3", Table: "s3://b/t", Format: "delta",
				Phase: "recover", Reason: "committed", Version: 7, At: at},
			want: map[string]float64{"RecoveredTransactions": 1},
		},
		{
			name:  "unknown outcome",
			event: commit.Event{Kind: commit.EventUnknownOutcome, Table: "s3://b/t", Format: "delta", Phase: "commit", Reason: "deadline", At: at},
			want:  map[string]float64{"UnknownOutcomes": 1},
		},
		{
			name:  "watchdog fired without a format",
			event: commit.Event{Kind: watchdog.EventFired, Table: "s3://b/t", Phase: "upload", Reason: "deadline", At: at},
			want:  map[string]float64{"WatchdogFired": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			watchdog.EMFHandler(&out)(tc.event)
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("handler wrote %d lines, want 1:\n%s", len(lines), out.String())
			}
			doc := parseEMF(t, lines[0])
			if doc.AWS.Timestamp != at.UnixMilli() {
				t.Errorf("Timestamp %d, want %d", doc.AWS.Timestamp, at.UnixMilli())
			}
			if len(doc.AWS.CloudWatchMetrics) != 1 {
				t.Fatalf("%d metric directives, want 1", len(doc.AWS.CloudWatchMetrics))
			}
			directive := doc.AWS.CloudWatchMetrics[0]
			if directive.Namespace != "safewrite" {
				t.Errorf("namespace %q, want safewrite", directive.Namespace)
			}
			if len(directive.Dimensions) != 1 || strings.Join(directive.Dimensions[0], ",") != "Table,Format" {
				t.Errorf("dimensions %v, want [[Table Format]]", directive.Dimensions)
			}
			if doc.Table != tc.event.Table {
				t.Errorf("Table %q, want %q", doc.Table, tc.event.Table)
			}
			wantFormat := tc.event.Format
			if wantFormat == "" {
				wantFormat = "unknown"
			}
			if doc.Format != wantFormat {
				t.Errorf("Format %q, want %q", doc.Format, wantFormat)
			}
			declared := map[string]string{}
			for _, m := range directive.Metrics {
				declared[m.Name] = m.Unit
			}
			if len(declared) != len(tc.want) {
				t.Errorf("declared metrics %v, want exactly %v", declared, tc.want)
			}
			for name, value := range tc.want {
				if _, ok := declared[name]; !ok {
					t.Errorf("metric %s not declared", name)
				}
				if got := doc.Values[name]; got != value {
					t.Errorf("metric %s = %v, want %v", name, got, value)
				}
			}
			for name, unit := range tc.unit {
				if declared[name] != unit {
					t.Errorf("metric %s unit %q, want %q", name, declared[name], unit)
				}
			}
			if doc.Values["reason"] != tc.event.Reason || doc.Values["event"] != string(tc.event.Kind) {
				t.Errorf("properties event=%v reason=%v, want %s and %s", doc.Values["event"], doc.Values["reason"], tc.event.Kind, tc.event.Reason)
			}
		})
	}
}
