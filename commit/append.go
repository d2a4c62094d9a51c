package commit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/format"
)

// Source is one input of an append: an input object to decode (Input), or
// rows that are already decoded (Rows, for Go structs and Arrow records).
type Source struct {
	Input        *format.Input
	InputOptions format.InputOptions
	Rows         format.RowSource
}

// AppendRequest is one append transaction.
type AppendRequest struct {
	Sources []Source
	Append  format.AppendOptions
	// Deadline is the owner's deadline (Lambda's ctx.Deadline()). Zero uses
	// a renewed lease instead.
	Deadline time.Time
	// Idempotency, when set, makes a retried request a no-op (I4).
	Idempotency *format.IdempotencyKey
	// TargetFileSize and Codec are passed to the data file writer.
	TargetFileSize int64
	Codec          string
	// Rewrite re-encodes Parquet inputs that could be uploaded unchanged.
	Rewrite bool
	// Progress receives the bytes uploaded so far.
	Progress func(uploaded int64)
	// TxnID overrides the generated transaction id (tests).
	TxnID string
	// Guard, when set, is the deadline watchdog armed for this append: its
	// adaptive estimate replaces Options.CommitReserve at the point of no
	// return, and it may cancel ctx before the commit starts.
	Guard Guard
}

// AppendResult reports a finished append.
type AppendResult struct {
	TxnID   string
	Version int64
	// AlreadyApplied is true when the idempotency key showed that this
	// request was committed before; nothing new was published.
	AlreadyApplied bool
	Files          []format.DataFile
	NumRecords     int64
	Bytes          int64
	// PassedThrough counts Parquet inputs uploaded without re-encoding.
	PassedThrough int
	Attempts      int
	Recovery      *RecoverReport
}

// Append runs one append transaction: recover expired intents, load, write
// the intent, upload, check the point of no return, commit, finalize.
func (w *Writer) Append(ctx context.Context, req AppendRequest) (*AppendResult, error) {
	if len(req.Sources) == 0 {
		return nil, fmt.Errorf("append to %s: no input given: %w", w.uri, format.ErrBadInput)
	}
	defer closeSources(req.Sources)
	if err := format.CheckCodec(req.Codec); err != nil {
		return nil, fmt.Errorf("append to %s: %w", w.uri, err)
	}

	recovery, err := w.Recover(ctx, RecoverOptions{})
	if err != nil {
		return nil, err
	}
	snap, err := w.table.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("phase load: table %s: %w", w.uri, err)
	}
	result := &AppendResult{Version: snap.Version, Recovery: recovery}
	if key := req.Idempotency; key != nil {
		if applied, ok := snap.AppVersions[key.AppID]; ok && applied >= key.Version {
			result.AlreadyApplied = true
			w.log.Info("safewrite append already applied", "table", w.uri, "appId", key.AppID,
				"requestVersion", key.Version, "tableVersion", applied)
			return result, nil
		}
	}

	// Open every input and check it against the table before anything is
	// written, so bad input leaves nothing behind.
	prepared, target, setup, err := w.prepareSources(ctx, snap, req)
	if err != nil {
		return nil, err
	}

	t := w.newTxn(snap, req.Deadline, req.Idempotency, req.TxnID)
	t.guard = req.Guard
	result.TxnID = t.intent.TxnID
	suffix := codecSuffix(req.Codec)
	firstSuffix := suffix
	if prepared[0].file != nil {
		firstSuffix = unchangedSuffix
	}
	if err := t.begin(ctx, len(partitionColumns(snap, req)) > 0, firstSuffix); err != nil {
		// The intent PUT may or may not have landed; nothing else exists.
		// A leftover intent names no existing object and recovery removes it.
		closePrepared(prepared)
		return nil, err
	}
	w.log.Info("safewrite append started", "txnId", t.intent.TxnID, "table", w.uri, "baseVersion", snap.Version)
	t.startLease(ctx)

	files, stats, err := w.stageAll(ctx, t, prepared, target, partitionColumns(snap, req), req, suffix)
	if err != nil {
		return nil, w.abortAfter(ctx, t, "upload", err)
	}
	result.PassedThrough = stats.passedThrough

	// Point of no return: a commit may only start when it and its cleanup
	// can finish before the deadline recovery sees in the intent (I2).
	// With a guard, the reserve is the watchdog's estimate from measured
	// commit and abort times.
	reserve := w.commitReserve(req.Guard)
	if left := t.deadline().Sub(w.now()); left < reserve {
		cause := fmt.Errorf("phase point-of-no-return: table %s: %s left before the deadline, %s needed: %w",
			w.uri, left.Round(time.Millisecond), reserve, ErrDeadline)
		return nil, w.abortAfterReason(ctx, t, "point-of-no-return", "deadline", cause)
	}
	if req.Guard != nil {
		// BeginCommit and the watchdog's firing exclude each other: either
		// the watchdog fired first and the commit never starts, or the
		// commit started and the watchdog only waits for its outcome.
		if err := req.Guard.BeginCommit(); err != nil {
			cause := fmt.Errorf("phase point-of-no-return: table %s: %w", w.uri, err)
			return nil, w.abortAfterReason(ctx, t, "point-of-no-return", "deadline", cause)
		}
	}

	commitReq := format.CommitRequest{
		BaseVersion: snap.Version,
		TxnID:       t.intent.TxnID,
		Files:       files,
		Idempotency: req.Idempotency,
		Operation:   "WRITE",
		EngineInfo:  w.opts.EngineInfo,
	}
	if snap.Version < 0 {
		commitReq.Setup = setup
	}
	// Durable step "commit": a crash right after it leaves a committed
	// transaction whose intent is still present. Recovery finds the
	// transaction id in the log and finalizes the intent.
	commitStart := time.Now()
	res, err := w.table.Commit(ctx, commitReq)
	if req.Guard != nil {
		req.Guard.EndCommit(commitOutcome(res, err), time.Since(commitStart))
	}
	switch {
	case errors.Is(err, format.ErrCommitUnknown):
		// I3: the commit may have been published. Delete nothing; the
		// intent stays until recovery reads the table back.
		t.stopLeaseRenewal()
		w.emit(ctx, Event{Kind: EventUnknownOutcome, TxnID: t.intent.TxnID, Table: w.uri, Phase: "commit",
			Reason: "unknown-outcome", Version: snap.Version, Err: err})
		return nil, err
	case err != nil:
		reason := "error"
		if errors.Is(err, format.ErrConflict) {
			reason = "conflict"
		}
		return nil, w.abortAfterReason(ctx, t, "commit", reason, err)
	case res.AlreadyApplied:
		// A concurrent attempt of the same request won: our files are not
		// referenced by the table, so they are rolled back.
		if abortErr := t.abort(ctx, "commit", "already-applied", nil); abortErr != nil {
			return nil, abortErr
		}
		result.AlreadyApplied = true
		result.Version = res.Version
		return result, nil
	}

	result.Version = res.Version
	result.Attempts = res.Attempts
	result.Files = files
	for _, f := range files {
		result.NumRecords += f.NumRecords
		result.Bytes += f.Size
	}
	if err := t.finalize(ctx); err != nil {
		// The data is committed; a leftover intent is finalized by recovery.
		w.log.Warn("safewrite finalize failed; recovery will finalize", "txnId", t.intent.TxnID, "table", w.uri,
			"version", res.Version, "error", err)
	}
	w.log.Info("safewrite append committed", "txnId", t.intent.TxnID, "table", w.uri, "version", res.Version,
		"files", len(files), "records", result.NumRecords, "bytes", result.Bytes)
	return result, nil
}

func (w *Writer) abortAfter(ctx context.Context, t *txn, phase string, cause error) error {
	reason := "error"
	switch {
	case FiredByDeadline(ctx):
		// The watchdog cancelled the uploads; its cause names the margin.
		reason = "deadline"
		cause = fmt.Errorf("%w: %w", context.Cause(ctx), cause)
	case errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, context.Canceled):
		reason = "deadline"
	}
	return w.abortAfterReason(ctx, t, phase, reason, cause)
}

// commitOutcome classifies a commit's result for Guard.EndCommit (I3).
func commitOutcome(res format.CommitResult, err error) string {
	switch {
	case errors.Is(err, format.ErrCommitUnknown):
		return "unknown"
	case errors.Is(err, format.ErrConflict):
		return "conflict"
	case err != nil:
		return "error"
	case res.AlreadyApplied:
		return "already-applied"
	default:
		return "committed"
	}
}

// abortAfterReason rolls the transaction back and returns cause wrapped with
// ErrRolledBack, or both errors when the rollback itself failed (then the
// intent stays and recovery finishes the rollback).
func (w *Writer) abortAfterReason(ctx context.Context, t *txn, phase, reason string, cause error) error {
	if err := t.abort(ctx, phase, reason, cause); err != nil {
		return fmt.Errorf("%w; rollback failed, run recover after the deadline: %v", cause, err)
	}
	return fmt.Errorf("%w; %w: %s", cause, ErrRolledBack, t.intent.TxnID)
}

// preparedSource is a source opened and checked, ready to stage.
type preparedSource struct {
	name string
	rows format.RowSource
	// file is set when the Parquet input can be uploaded unchanged.
	file *format.Input
	pf   *parquet.File
}

// prepareSources opens every source and checks its schema against the
// table. The first source's schema defines a new table.
func (w *Writer) prepareSources(ctx context.Context, snap *format.Snapshot, req AppendRequest) ([]*preparedSource, *format.Schema, *format.TableSetup, error) {
	var (
		prepared []*preparedSource
		target   *format.Schema
		setup    *format.TableSetup
	)
	fail := func(err error) ([]*preparedSource, *format.Schema, *format.TableSetup, error) {
		closePrepared(prepared)
		return nil, nil, nil, err
	}
	hints := tableTypeHints(snap)
	for i, src := range req.Sources {
		p, schema, err := openSource(ctx, src, req.Rewrite, hints)
		if err != nil {
			return fail(err)
		}
		prepared = append(prepared, p)
		if i == 0 {
			target, setup, err = w.table.CheckAppend(ctx, snap, schema, req.Append)
			if err != nil {
				return fail(fmt.Errorf("phase check: table %s: input %s: %w", w.uri, p.name, err))
			}
		}
		if p.pf != nil {
			if ok, _ := format.CanPassThrough(p.pf, target, partitionColumns(snap, req)); ok {
				continue
			}
			rows, err := format.OpenInput(ctx, *p.file, src.InputOptions)
			if err != nil {
				return fail(err)
			}
			p.rows, p.file, p.pf = rows, nil, nil
		}
		conformed, err := format.Conform(p.rows, target, p.name)
		if err != nil {
			return fail(fmt.Errorf("phase check: table %s: %w", w.uri, err))
		}
		p.rows = conformed
	}
	return prepared, target, setup, nil
}

// tableTypeHints returns the column names and types of an existing table,
// for CSV and JSON inputs to read their columns as, or nil for a new table.
func tableTypeHints(snap *format.Snapshot) *format.Schema {
	if snap.Version < 0 || snap.Schema == nil {
		return nil
	}
	hints := &format.Schema{Fields: make([]format.Field, len(snap.Schema.Fields))}
	for i, f := range snap.Schema.Fields {
		hints.Fields[i] = format.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return hints
}

// openSource opens one source. CSV and JSON inputs without a given schema
// read the columns that the table has with the table's types (hints), so
// that inference cannot pick a type the table column rejects.
func openSource(ctx context.Context, src Source, rewrite bool, hints *format.Schema) (*preparedSource, *format.Schema, error) {
	if src.Rows != nil {
		return &preparedSource{name: "rows", rows: src.Rows}, src.Rows.Schema(), nil
	}
	if src.Input == nil {
		return nil, nil, fmt.Errorf("source has neither an input nor rows: %w", format.ErrBadInput)
	}
	in := *src.Input
	kind := src.InputOptions.Format
	if kind == "" {
		detected, err := format.DetectFormat(in.Name)
		if err != nil {
			return nil, nil, err
		}
		kind = detected
	}
	if kind == "parquet" && !rewrite && in.ReaderAt != nil {
		pf, err := format.OpenParquetFile(in)
		if err != nil {
			return nil, nil, err
		}
		schema, err := format.ParquetSchema(pf)
		if err != nil {
			return nil, nil, &format.InputError{Input: in.Name, Reason: err.Error()}
		}
		return &preparedSource{name: in.Name, file: &in, pf: pf}, schema, nil
	}
	opts := src.InputOptions
	switch strings.ToLower(kind) {
	case format.FormatCSV, format.FormatJSON, "jsonl", "ndjson":
		// A --schema naming some columns still wins for those; the table
		// gives the types of the others.
		if opts.TypeHints == nil {
			opts.TypeHints = hints
		}
	}
	rows, err := format.OpenInput(ctx, in, opts)
	if err != nil {
		return nil, nil, err
	}
	return &preparedSource{name: in.Name, rows: rows}, rows.Schema(), nil
}

func partitionColumns(snap *format.Snapshot, req AppendRequest) []string {
	if snap.Version >= 0 {
		return snap.PartitionColumns
	}
	return req.Append.PartitionColumns
}

type stageStats struct{ passedThrough int }

// stageAll uploads every source. Each data file key comes from the intent's
// reservation before its first byte is written (I1).
func (w *Writer) stageAll(ctx context.Context, t *txn, prepared []*preparedSource, target *format.Schema, parts []string, req AppendRequest, suffix string) ([]format.DataFile, stageStats, error) {
	defer closePrepared(prepared)
	var (
		files    []format.DataFile
		stats    stageStats
		uploaded int64
	)
	progress := func(base int64) func(int64) {
		return func(n int64) {
			if req.Progress != nil {
				req.Progress(base + n)
			}
		}
	}
	for _, p := range prepared {
		if p.file != nil {
			df, err := w.uploadUnchanged(ctx, t, p, target)
			if err != nil {
				return nil, stats, err
			}
			files = append(files, df)
			stats.passedThrough++
			uploaded += df.Size
			progress(0)(uploaded)
			continue
		}
		written, err := format.WriteDataFiles(ctx, p.rows, format.WriterOptions{
			Schema:           target,
			PartitionColumns: parts,
			TargetFileSize:   req.TargetFileSize,
			Codec:            req.Codec,
			Store:            w.store,
			NewFile: func(ctx context.Context, dir string) (string, error) {
				return t.newFile(ctx, dir, suffix)
			},
			Progress: progress(uploaded),
		})
		if err != nil {
			return nil, stats, fmt.Errorf("phase upload: table %s: input %s: %w", w.uri, p.name, err)
		}
		t.mu.Lock()
		for _, f := range written {
			t.uploaded[f.Path] = f.Size
			uploaded += f.Size
		}
		t.mu.Unlock()
		files = append(files, written...)
	}
	return files, stats, nil
}

// uploadUnchanged uploads a Parquet input as it is, with stats from its footer.
func (w *Writer) uploadUnchanged(ctx context.Context, t *txn, p *preparedSource, target *format.Schema) (format.DataFile, error) {
	key, err := t.newFile(ctx, "", unchangedSuffix)
	if err != nil {
		return format.DataFile{}, err
	}
	body := io.NewSectionReader(p.file.ReaderAt, 0, p.file.Size)
	// Durable step "upload": a crash right after it leaves a data file that
	// the intent names; recovery deletes it once the deadline has passed.
	if err := w.store.Put(ctx, key, body, p.file.Size); err != nil {
		return format.DataFile{}, fmt.Errorf("phase upload: table %s: object %s: %w", w.uri, key, err)
	}
	t.mu.Lock()
	t.uploaded[key] = p.file.Size
	t.mu.Unlock()
	stats, err := format.ParquetFooterStats(p.pf, target)
	if err != nil {
		return format.DataFile{}, fmt.Errorf("phase upload: table %s: statistics of %s: %w", w.uri, p.name, err)
	}
	return format.DataFile{
		Path: key, Size: p.file.Size, ModificationTime: w.now(), NumRecords: p.pf.NumRows(),
		PartitionValues: map[string]*string{}, Stats: stats,
	}, nil
}

// unchangedSuffix ends the names of Parquet inputs uploaded as they are,
// whose codec safewrite did not choose.
const unchangedSuffix = ".parquet"

func codecSuffix(codec string) string {
	switch codec {
	case "", "snappy":
		return ".snappy.parquet"
	case "uncompressed", "none":
		return ".parquet"
	default:
		return "." + codec + ".parquet"
	}
}

func closePrepared(prepared []*preparedSource) {
	for _, p := range prepared {
		if p.rows != nil {
			p.rows.Close()
		}
	}
}

func closeSources(sources []Source) {
	for _, s := range sources {
		if s.Rows != nil {
			s.Rows.Close()
		}
	}
}
