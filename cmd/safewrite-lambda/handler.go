package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
	"github.com/safewrite/safewrite/watchdog"
)

// Request is a JSON append or recover request.
type Request struct {
	// Action is "append" (the default) or "recover".
	Action string `json:"action,omitempty"`
	// Table is the table URI; "" uses SAFEWRITE_TABLE.
	Table string `json:"table,omitempty"`
	// Format is the table format: "delta" (the default).
	Format string `json:"format,omitempty"`
	// Inputs are s3:// URIs of the input files, appended in one transaction.
	Inputs      []string `json:"inputs,omitempty"`
	PartitionBy []string `json:"partitionBy,omitempty"`
	// IdempotencyKey is "APP:VERSION": a retried request whose VERSION is
	// not greater than the one the table recorded for APP is skipped.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// InputFormat is parquet, csv, json or arrow when the extension does not tell.
	InputFormat string `json:"inputFormat,omitempty"`
	// TargetFileSize rolls data files at this size in bytes; 0 means 128 MiB.
	TargetFileSize int64 `json:"targetFileSize,omitempty"`
}

// Response reports what one invocation did.
type Response struct {
	Table    string                `json:"table"`
	Appends  []AppendSummary       `json:"appends,omitempty"`
	Recovery *commit.RecoverReport `json:"recovery,omitempty"`
	// Skipped lists S3 objects that the event named but that were not
	// appended, with the reason.
	Skipped []string `json:"skipped,omitempty"`
}

// AppendSummary reports one append transaction.
type AppendSummary struct {
	Inputs         []string              `json:"inputs"`
	TxnID          string                `json:"txnId,omitempty"`
	Version        int64                 `json:"version"`
	AlreadyApplied bool                  `json:"alreadyApplied"`
	NumFiles       int                   `json:"numFiles"`
	NumRecords     int64                 `json:"numRecords"`
	Bytes          int64                 `json:"bytes"`
	IdempotencyKey string                `json:"idempotencyKey,omitempty"`
	Recovery       *commit.RecoverReport `json:"recovery,omitempty"`
}

// handler serves invocations of one execution environment. Lambda sends
// one invocation at a time to a process, and the mutex keeps that true.
type handler struct {
	cfg      config
	log      *slog.Logger
	onEvent  func(commit.Event)
	watchdog *watchdog.Watchdog

	mu     sync.Mutex
	tables map[string]*safewrite.Table
}

func newHandler(cfg config, logger *slog.Logger, metrics io.Writer) *handler {
	emf := watchdog.EMFHandler(metrics)
	h := &handler{cfg: cfg, log: logger, onEvent: emf, tables: map[string]*safewrite.Table{}}
	if cfg.watchdog {
		h.watchdog = watchdog.New(watchdog.Options{
			Floor:        cfg.margin,
			SafetyFactor: cfg.safetyFactor,
			Logger:       logger,
			OnEvent:      emf,
		})
	}
	return h
}

// s3EventProbe distinguishes an S3 event notification from a request.
type s3EventProbe struct {
	Records []struct {
		EventSource string `json:"eventSource"`
	} `json:"Records"`
}

func (h *handler) handle(ctx context.Context, payload json.RawMessage) (*Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var probe s3EventProbe
	if err := json.Unmarshal(payload, &probe); err == nil && len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:s3" {
		var ev events.S3Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("invalid S3 event notification: %w", err)
		}
		return h.handleS3Event(ctx, ev)
	}
	var req Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("invalid request: %w: send {\"table\": ..., \"inputs\": [...]} or an S3 event notification", err)
	}
	return h.handleRequest(ctx, req)
}

func (h *handler) handleRequest(ctx context.Context, req Request) (*Response, error) {
	uri := req.Table
	if uri == "" {
		uri = h.cfg.table
	}
	if uri == "" {
		return nil, fmt.Errorf("missing table: set \"table\" in the request or SAFEWRITE_TABLE")
	}
	if req.Format != "" && req.Format != "delta" {
		return nil, fmt.Errorf("invalid format %q: safewrite-lambda supports delta", req.Format)
	}
	table, err := h.openTable(ctx, uri)
	if err != nil {
		return nil, err
	}
	resp := &Response{Table: table.URI()}
	switch req.Action {
	case "recover":
		report, err := table.Recover(ctx, commit.RecoverOptions{})
		if err != nil {
			return nil, err
		}
		resp.Recovery = report
		return resp, nil
	case "", "append":
	default:
		return nil, fmt.Errorf("invalid action %q: use append or recover", req.Action)
	}
	if len(req.Inputs) == 0 {
		return nil, fmt.Errorf("missing inputs: give the s3:// URIs of the files to append")
	}
	opts := safewrite.AppendOptions{
		PartitionBy:    req.PartitionBy,
		InputFormat:    req.InputFormat,
		TargetFileSize: req.TargetFileSize,
	}
	if req.IdempotencyKey != "" {
		key, err := safewrite.ParseIdempotencyKey(req.IdempotencyKey)
		if err != nil {
			return nil, err
		}
		opts.IdempotencyKey = key
	}
	summary, err := h.appendGuarded(ctx, table, req.Inputs, opts)
	if err != nil {
		return nil, err
	}
	resp.Appends = append(resp.Appends, summary)
	return resp, nil
}

// appendGuarded runs one append with the invocation's deadline, armed with
// the watchdog when it is on.
func (h *handler) appendGuarded(ctx context.Context, table *safewrite.Table, inputs []string, opts safewrite.AppendOptions) (AppendSummary, error) {
	summary := AppendSummary{Inputs: inputs}
	if opts.IdempotencyKey != nil {
		summary.IdempotencyKey = formatKey(opts.IdempotencyKey)
	}
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		opts.Deadline = deadline
		if h.watchdog != nil {
			armed, arm := h.watchdog.Arm(ctx, deadline, table.URI(), "delta")
			defer arm.Disarm()
			ctx = armed
			opts.Guard = arm
		}
	}
	start := time.Now()
	res, err := table.AppendFiles(ctx, inputs, opts)
	if err != nil {
		h.log.Error("safewrite-lambda append failed", "table", table.URI(), "inputs", inputs,
			"rolledBack", errors.Is(err, safewrite.ErrRolledBack), "outcomeUnknown", errors.Is(err, safewrite.ErrCommitUnknown),
			"seconds", time.Since(start).Seconds(), "error", err)
		return summary, err
	}
	summary.TxnID = res.TxnID
	summary.Version = res.Version
	summary.AlreadyApplied = res.AlreadyApplied
	summary.NumFiles = len(res.Files)
	summary.NumRecords = res.NumRecords
	summary.Bytes = res.Bytes
	summary.Recovery = res.Recovery
	return summary, nil
}

// openTable opens uri once per process and keeps it for later invocations.
func (h *handler) openTable(ctx context.Context, uri string) (*safewrite.Table, error) {
	if t, ok := h.tables[uri]; ok {
		return t, nil
	}
	opts := safewrite.Options{Logger: h.log, OnEvent: h.onEvent, Grace: h.cfg.grace}
	if h.cfg.storeLatency > 0 || h.cfg.deleteLatency > 0 {
		store, err := objstore.Open(ctx, uri, objstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("open table %s: %w", uri, err)
		}
		opts.Store = objstore.NewFaulty(store, testLatency(h.cfg.storeLatency, h.cfg.deleteLatency))
		h.log.Warn("safewrite-lambda test store latency is on", "putLatency", h.cfg.storeLatency.String(),
			"deleteLatency", h.cfg.deleteLatency.String())
	}
	t, err := safewrite.Open(ctx, uri, opts)
	if err != nil {
		return nil, err
	}
	h.tables[uri] = t
	return t, nil
}

// testLatency delays Put and PutIfAbsent by put, ending the wait when the
// context is cancelled, and Delete by del, ignoring cancellation.
func testLatency(put, del time.Duration) objstore.Injector {
	slowPut := objstore.Latency(put, objstore.OpPut, objstore.OpPutIfAbsent)
	return objstore.InjectorFunc(func(ctx context.Context, c objstore.Call) (objstore.Fault, error) {
		if c.Op == objstore.OpDelete {
			time.Sleep(del)
			return objstore.NoFault, nil
		}
		return slowPut.Inject(ctx, c)
	})
}

// formatKey renders an idempotency key as the CLI takes it.
func formatKey(key *format.IdempotencyKey) string {
	return fmt.Sprintf("%s:%d", key.AppID, key.Version)
}
