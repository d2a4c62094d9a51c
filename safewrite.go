// Package safewrite appends data to Delta Lake tables on S3 or a local
// folder so that a SIGKILL at any instant leaves the table either committed
// or cleanly rolled back, detected and recoverable.
//
// Open a table by URI, then append files, readers, Go structs or Arrow
// records. Every append writes a write-ahead intent record under
// <table>/_safewrite/ before its first data file, commits with put-if-absent,
// and rolls back what it staged when it cannot commit. Recover settles the
// intents of writers that were killed.
//
//	tbl, err := safewrite.Open(ctx, "s3://bucket/tables/flights", safewrite.Options{})
//	res, err := tbl.AppendFiles(ctx, []string{"flights.parquet"}, safewrite.AppendOptions{})
package safewrite

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// Version is the engine version recorded in every commit's engineInfo.
const Version = "0.1.0"

// Errors callers tell apart with errors.Is. Format and protocol errors wrap
// these, and an error may match two of them (a conflict that was rolled back).
var (
	// ErrConflict: another writer changed the table in a way this append
	// cannot rebase over. Nothing was published.
	ErrConflict = format.ErrConflict
	// ErrCommitUnknown: the commit may have been published. Nothing was
	// deleted; run Recover after the deadline to settle it.
	ErrCommitUnknown = format.ErrCommitUnknown
	// ErrUnsupportedFeature: the table needs a feature safewrite lacks.
	ErrUnsupportedFeature = format.ErrUnsupportedFeature
	// ErrBadInput: the input is invalid or does not fit the table.
	ErrBadInput = format.ErrBadInput
	// ErrNotTable: the location holds something that is not a Delta table.
	ErrNotTable = format.ErrNotTable
	// ErrCorruptTable: the table's log is malformed.
	ErrCorruptTable = format.ErrCorruptTable
	// ErrRolledBack: the append failed and its staged objects were deleted.
	ErrRolledBack = commit.ErrRolledBack
	// ErrDeadline: too little time was left to commit safely; rolled back.
	ErrDeadline = commit.ErrDeadline
	// ErrNotFound: an input object, the table root or the bucket is missing.
	ErrNotFound = objstore.ErrNotFound
)

// Options configure Open. The zero value opens a Delta table with the
// default AWS credential chain.
type Options struct {
	// Format is "delta" (the default and, for now, the only format).
	Format string
	// Store replaces the store that the URI would open (tests, custom stores).
	Store objstore.Store
	// Storage configures stores opened from URIs (S3 options).
	Storage objstore.Options
	// Logger receives progress, rollbacks and recoveries; nil discards.
	Logger *slog.Logger
	// OnEvent receives every rollback and recovery event.
	OnEvent func(commit.Event)
	// Grace is the clock-skew grace before recovery may settle an expired
	// intent; 0 means commit.DefaultGrace and commit.NoGrace means none.
	Grace time.Duration
	// Lease is the renewed deadline of writers without a deadline; 0 means
	// commit.DefaultLease.
	Lease time.Duration
	// Clock replaces time.Now (tests).
	Clock func() time.Time
	// CommitReserve is the time that must be left before an append's
	// deadline to start its commit when no watchdog is armed; 0 means
	// commit.DefaultCommitReserve.
	CommitReserve time.Duration
}

// Table is an open table. It is safe for use by one goroutine at a time.
type Table struct {
	uri     string
	opts    Options
	store   objstore.Store
	delta   *deltalog.Table
	writer  *commit.Writer
	logger  *slog.Logger
	storage objstore.Options
}

// Open opens the table at uri: a local path, file:// URI or
// s3://bucket/prefix. The table need not exist yet: the first append creates it.
func Open(ctx context.Context, uri string, opts Options) (*Table, error) {
	if opts.Format == "" {
		opts.Format = "delta"
	}
	if opts.Format != "delta" {
		return nil, fmt.Errorf("open %s: unsupported table format %q: use \"delta\"", uri, opts.Format)
	}
	store := opts.Store
	if store == nil {
		var err error
		store, err = objstore.Open(ctx, uri, opts.Storage)
		if err != nil {
			return nil, fmt.Errorf("open table %s: %w", uri, err)
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	delta := deltalog.Open(store, deltalog.Options{Logger: logger, Clock: opts.Clock})
	writer := commit.NewWriter(delta, store, commit.Options{
		Logger:        logger,
		OnEvent:       opts.OnEvent,
		Clock:         opts.Clock,
		Grace:         opts.Grace,
		Lease:         opts.Lease,
		EngineInfo:    "safewrite/" + Version,
		CommitReserve: opts.CommitReserve,
	})
	return &Table{uri: store.URI(), opts: opts, store: store, delta: delta, writer: writer, logger: logger, storage: opts.Storage}, nil
}

// URI returns the table root as a URI.
func (t *Table) URI() string { return t.uri }

// Store returns the object store the table lives in.
func (t *Table) Store() objstore.Store { return t.store }

// Recover settles every expired intent: finalizes committed transactions
// and rolls back the others. See commit.RecoverOptions for dry runs and
// forcing.
func (t *Table) Recover(ctx context.Context, opts commit.RecoverOptions) (*commit.RecoverReport, error) {
	return t.writer.Recover(ctx, opts)
}

// History lists the table's commits, newest first; limit <= 0 lists all.
func (t *Table) History(ctx context.Context, limit int) ([]format.HistoryEntry, error) {
	return t.delta.History(ctx, limit)
}
