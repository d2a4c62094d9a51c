package watchdog

import (
	"encoding/json"
	"io"
	"sync"

	"github.com/safewrite/safewrite/commit"
)

// EMFNamespace is the CloudWatch namespace of the metrics EMFHandler writes.
const EMFNamespace = "safewrite"

// Metric names that EMFHandler writes. Each line carries only the metrics
// that its event changes.
const (
	MetricRollbacks             = "Rollbacks"
	MetricDeadlineRollbacks     = "DeadlineRollbacks"
	MetricRecoveredTransactions = "RecoveredTransactions"
	MetricOrphanObjectsRemoved  = "OrphanObjectsRemoved"
	MetricOrphanBytesRemoved    = "OrphanBytesRemoved"
	MetricUnknownOutcomes       = "UnknownOutcomes"
	MetricLiveIntentsSkipped    = "LiveIntentsSkipped"
	MetricWatchdogFired         = "WatchdogFired"
)

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// EMFHandler returns an event handler for commit.Options.OnEvent,
// safewrite.Options.OnEvent and Options.OnEvent that writes each event as
// one line of CloudWatch Embedded Metric Format to out: namespace
// "safewrite", dimensions Table and Format, metrics such as Rollbacks,
// RecoveredTransactions and OrphanBytesRemoved, and the transaction id,
// event, phase and reason as properties. On Lambda, out is os.Stdout, and
// CloudWatch Logs extracts the metrics. The handler is safe for concurrent
// use, and a write error is dropped because an alert must not fail the
// write it reports on.
func EMFHandler(out io.Writer) func(commit.Event) {
	var mu sync.Mutex
	return func(ev commit.Event) {
		line, err := emfLine(ev)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = out.Write(line)
	}
}

// emfLine encodes one event as an EMF JSON line ending in a newline.
func emfLine(ev commit.Event) ([]byte, error) {
	values := eventMetrics(ev)
	format := ev.Format
	if format == "" {
		format = "unknown"
	}
	doc := map[string]any{
		"Table":  ev.Table,
		"Format": format,
		"event":  string(ev.Kind),
		"phase":  ev.Phase,
		"reason": ev.Reason,
	}
	if ev.TxnID != "" {
		doc["txnId"] = ev.TxnID
	}
	if ev.Kind == commit.EventRecoveredCommitted {
		doc["version"] = ev.Version
	} else {
		doc["baseVersion"] = ev.Version
	}
	if ev.Err != nil {
		doc["error"] = ev.Err.Error()
	}
	directive := emfDirective{Namespace: EMFNamespace, Dimensions: [][]string{{"Table", "Format"}}}
	for _, m := range values {
		directive.Metrics = append(directive.Metrics, emfMetric{Name: m.name, Unit: m.unit})
		doc[m.name] = m.value
	}
	doc["_aws"] = emfMetadata{Timestamp: ev.At.UnixMilli(), CloudWatchMetrics: []emfDirective{directive}}
	line, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

type metricValue struct {
	name  string
	unit  string
	value int64
}

// eventMetrics returns the metric values one event adds.
func eventMetrics(ev commit.Event) []metricValue {
	count := func(name string) metricValue { return metricValue{name, "Count", 1} }
	switch ev.Kind {
	case commit.EventRollback:
		out := []metricValue{
			count(MetricRollbacks),
			{MetricOrphanObjectsRemoved, "Count", int64(ev.ObjectsRemoved)},
			{MetricOrphanBytesRemoved, "Bytes", ev.BytesRemoved},
		}
		if ev.Reason == "deadline" {
			out = append(out, count(MetricDeadlineRollbacks))
		}
		if ev.Phase == "recover" {
			out = append(out, count(MetricRecoveredTransactions))
		}
		return out
	case commit.EventRecoveredCommitted:
		return []metricValue{count(MetricRecoveredTransactions)}
	case commit.EventUnknownOutcome:
		return []metricValue{count(MetricUnknownOutcomes)}
	case commit.EventIntentSkipped:
		return []metricValue{count(MetricLiveIntentsSkipped)}
	case EventFired:
		return []metricValue{count(MetricWatchdogFired)}
	default:
		return []metricValue{{"Events", "Count", 1}}
	}
}
