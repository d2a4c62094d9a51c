package commit

import (
	"log/slog"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// Options configure a Writer. The zero value is usable.
type Options struct {
	// Logger receives starts, rollbacks and recoveries; nil discards.
	Logger *slog.Logger
	// OnEvent, when set, receives every rollback and recovery event.
	OnEvent func(Event)
	// Clock returns the current time; nil uses time.Now.
	Clock func() time.Time
	// Grace is the clock-skew grace added to an intent's deadline before
	// recovery may touch it (I2); 0 means DefaultGrace and NoGrace means none.
	Grace time.Duration
	// Lease is the renewed deadline of a writer that has no deadline of its
	// own; 0 means DefaultLease.
	Lease time.Duration
	// EngineInfo is recorded in every commit; "" means "safewrite".
	EngineInfo string
	// CommitReserve is the minimum time that must be left before the
	// deadline to start a commit (the point of no return); 0 means
	// DefaultCommitReserve.
	CommitReserve time.Duration
}

const (
	// DefaultGrace covers clock skew between a dead writer and its recoverer.
	DefaultGrace = 30 * time.Second
	// NoGrace turns the grace off, for writers on the recoverer's own clock
	// (tests, one machine).
	NoGrace time.Duration = -1
	// DefaultLease is how long a lease-holding writer's intent stays live
	// without renewal; the writer renews it every third of that.
	DefaultLease = 2 * time.Minute
	// DefaultCommitReserve is the time kept for commit plus cleanup. It is an
	// estimate for an S3 round trip budget, not a measured figure.
	DefaultCommitReserve = 2 * time.Second
)

// Writer runs the protocol against one table.
type Writer struct {
	table format.Table
	store objstore.Store
	uri   string
	opts  Options
	log   *slog.Logger
}

// NewWriter returns a Writer for table, whose objects live in store.
func NewWriter(table format.Table, store objstore.Store, opts Options) *Writer {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.Grace == 0:
		opts.Grace = DefaultGrace
	case opts.Grace < 0:
		opts.Grace = 0
	}
	if opts.Lease == 0 {
		opts.Lease = DefaultLease
	}
	if opts.EngineInfo == "" {
		opts.EngineInfo = "safewrite"
	}
	if opts.CommitReserve == 0 {
		opts.CommitReserve = DefaultCommitReserve
	}
	return &Writer{table: table, store: store, uri: store.URI(), opts: opts, log: log}
}

func (w *Writer) now() time.Time {
	if w.opts.Clock != nil {
		return w.opts.Clock()
	}
	return time.Now()
}
