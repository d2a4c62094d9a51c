package safewrite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// AppendOptions configure one append.
type AppendOptions struct {
	// PartitionBy names the partition columns of a new table. For an
	// existing table it must be empty or equal the table's.
	PartitionBy []string
	// ColumnMapping "name" creates the table with Delta column mapping in
	// name mode, which allows any column name.
	ColumnMapping string
	// Deadline is the writer's hard deadline (Lambda's ctx.Deadline()).
	// Timeout, when set, gives Deadline = now + Timeout. With neither, the
	// writer holds a renewed lease.
	Deadline time.Time
	Timeout  time.Duration
	// IdempotencyKey makes a retried request a no-op: a request whose
	// version is not greater than the one the table recorded for AppID is
	// skipped (Delta txn action).
	IdempotencyKey *format.IdempotencyKey
	// InputFormat overrides the format taken from the file extension:
	// "parquet", "csv", "json" or "arrow".
	InputFormat string
	// Schema gives the CSV or JSON column types instead of inferring them.
	Schema *format.Schema
	// TargetFileSize rolls data files at this size in bytes; 0 means 128 MiB.
	TargetFileSize int64
	// Codec is "snappy" (default), "zstd", "gzip" or "uncompressed".
	Codec string
	// Rewrite re-encodes Parquet inputs that could be uploaded unchanged.
	Rewrite bool
	// Progress receives the number of bytes uploaded so far.
	Progress func(uploaded int64)
	// Guard is a deadline watchdog armed for this append (see
	// watchdog.Watchdog.Arm); pass the context that Arm returned with it.
	// Nil checks the point of no return against Options.CommitReserve.
	Guard commit.Guard
}

// AppendResult reports a finished append.
type AppendResult = commit.AppendResult

// ParseIdempotencyKey parses "APP:VERSION", as the CLI flag takes it.
func ParseIdempotencyKey(s string) (*format.IdempotencyKey, error) {
	i := strings.LastIndex(s, ":")
	if i <= 0 || i == len(s)-1 {
		return nil, fmt.Errorf("invalid idempotency key %q: expected APP:VERSION, for example etl-daily:20261204", s)
	}
	app, digits := s[:i], s[i+1:]
	if strings.TrimSpace(app) != app || strings.ContainsAny(app, "\t\n\r") {
		return nil, fmt.Errorf("invalid idempotency key %q: APP must not start or end with white space or contain control characters", s)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("invalid idempotency key %q: VERSION must be a non-negative integer of digits only", s)
		}
	}
	version, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid idempotency key %q: VERSION must be at most %d", s, int64(math.MaxInt64))
	}
	return &format.IdempotencyKey{AppID: app, Version: version}, nil
}

// AppendFiles appends input files given as local paths, file:// or s3://
// URIs, or "-" for standard input, in one transaction.
func (t *Table) AppendFiles(ctx context.Context, inputs []string, opts AppendOptions) (*AppendResult, error) {
	var sources []commit.Source
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for _, uri := range inputs {
		in, closeFn, err := t.openInput(ctx, uri, opts)
		if err != nil {
			return nil, err
		}
		closers = append(closers, closeFn)
		sources = append(sources, commit.Source{Input: in, InputOptions: inputOptions(opts)})
	}
	return t.append(ctx, sources, opts)
}

// AppendReader appends one input read from r, in inputFormat ("parquet",
// "csv", "json" or "arrow"). Parquet and Arrow IPC need random access, so r
// is first copied to a temporary file unless it is an io.ReaderAt.
func (t *Table) AppendReader(ctx context.Context, r io.Reader, inputFormat string, opts AppendOptions) (*AppendResult, error) {
	if inputFormat == "" {
		inputFormat = opts.InputFormat
	}
	opts.InputFormat = inputFormat
	in, closeFn, err := readerInput("stdin", r, inputFormat)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return t.append(ctx, []commit.Source{{Input: in, InputOptions: inputOptions(opts)}}, opts)
}

// AppendRows appends rows that are already decoded (see format.RowSource).
func (t *Table) AppendRows(ctx context.Context, rows format.RowSource, opts AppendOptions) (*AppendResult, error) {
	return t.append(ctx, []commit.Source{{Rows: rows}}, opts)
}

// AppendStructs appends Go values as rows; the column names and types come
// from T's parquet struct tags, as parquet-go reads them.
func AppendStructs[T any](ctx context.Context, t *Table, rows []T, opts AppendOptions) (*AppendResult, error) {
	src, err := format.NewStructSource(rows)
	if err != nil {
		return nil, err
	}
	return t.AppendRows(ctx, src, opts)
}

func (t *Table) append(ctx context.Context, sources []commit.Source, opts AppendOptions) (*AppendResult, error) {
	deadline := opts.Deadline
	if opts.Timeout > 0 {
		d := time.Now().Add(opts.Timeout)
		if deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	if ctxDeadline, ok := ctx.Deadline(); ok && (deadline.IsZero() || ctxDeadline.Before(deadline)) {
		deadline = ctxDeadline
	}
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	return t.writer.Append(ctx, commit.AppendRequest{
		Sources: sources,
		Append: format.AppendOptions{
			PartitionColumns: opts.PartitionBy,
			ColumnMapping:    opts.ColumnMapping,
		},
		Deadline:       deadline,
		Idempotency:    opts.IdempotencyKey,
		TargetFileSize: opts.TargetFileSize,
		Codec:          opts.Codec,
		Rewrite:        opts.Rewrite,
		Progress:       opts.Progress,
		Guard:          opts.Guard,
	})
}

func inputOptions(opts AppendOptions) format.InputOptions {
	return format.InputOptions{Format: opts.InputFormat, Schema: opts.Schema}
}

// openInput opens one input URI for reading.
func (t *Table) openInput(ctx context.Context, uri string, opts AppendOptions) (*format.Input, func(), error) {
	if uri == "-" {
		if opts.InputFormat == "" {
			return nil, nil, &format.InputError{Input: "stdin", Reason: "the format of standard input is unknown: pass --input-format parquet, csv, json or arrow"}
		}
		return readerInput("stdin", os.Stdin, opts.InputFormat)
	}
	if !strings.Contains(uri, "://") || strings.HasPrefix(uri, "file://") {
		path := strings.TrimPrefix(uri, "file://")
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("input %s not found: check the path: %w", uri, objstore.ErrNotFound)
			}
			return nil, nil, fmt.Errorf("open input %s: %w", uri, err)
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("open input %s: %w", uri, err)
		}
		if info.IsDir() {
			f.Close()
			return nil, nil, &format.InputError{Input: uri, Reason: "is a folder: give the input files one by one"}
		}
		return &format.Input{Name: uri, Reader: f, ReaderAt: f, Size: info.Size()}, func() { f.Close() }, nil
	}
	store, key, err := objstore.OpenObject(ctx, uri, t.storage)
	if err != nil {
		return nil, nil, fmt.Errorf("open input %s: %w", uri, err)
	}
	info, err := store.Stat(ctx, key)
	if err != nil {
		return nil, nil, fmt.Errorf("open input %s: %w", uri, err)
	}
	readerAt := objstore.NewReaderAt(ctx, store, key, info.Size)
	return &format.Input{
		Name: uri, ReaderAt: readerAt, Size: info.Size,
		Reader: io.NewSectionReader(readerAt, 0, info.Size),
	}, func() {}, nil
}

// readerInput wraps a stream; Parquet and Arrow are spooled to a temporary
// file because their readers need random access.
func readerInput(name string, r io.Reader, inputFormat string) (*format.Input, func(), error) {
	if ra, ok := r.(interface {
		io.ReaderAt
		Stat() (os.FileInfo, error)
	}); ok {
		if info, err := ra.Stat(); err == nil && info.Mode().IsRegular() {
			return &format.Input{Name: name, Reader: r, ReaderAt: ra, Size: info.Size()}, func() {}, nil
		}
	}
	switch inputFormat {
	case "parquet", "arrow":
	default:
		return &format.Input{Name: name, Reader: r}, func() {}, nil
	}
	tmp, err := os.CreateTemp("", "safewrite-input-*")
	if err != nil {
		return nil, nil, fmt.Errorf("spool %s to a temporary file: %w", name, err)
	}
	cleanup := func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}
	size, err := io.Copy(tmp, r)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("spool %s to %s: %w", name, tmp.Name(), err)
	}
	return &format.Input{Name: name, Reader: io.NewSectionReader(tmp, 0, size), ReaderAt: tmp, Size: size}, cleanup, nil
}

// AppendArrow appends Arrow record batches that share schema.
func (t *Table) AppendArrow(ctx context.Context, schema *arrow.Schema, records []arrow.RecordBatch, opts AppendOptions) (*AppendResult, error) {
	src, err := format.NewArrowRecordSource(schema, records)
	if err != nil {
		return nil, err
	}
	return t.AppendRows(ctx, src, opts)
}
