package commit

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// EventKind names what happened to a transaction.
type EventKind string

const (
	// EventRollback: an uncommitted transaction's staged objects were deleted.
	EventRollback EventKind = "rollback"
	// EventRecoveredCommitted: recovery found an expired intent whose
	// transaction had committed, and finalized it.
	EventRecoveredCommitted EventKind = "recovered-committed"
	// EventUnknownOutcome: a commit's outcome is unknown; the intent stays.
	EventUnknownOutcome EventKind = "unknown-outcome"
	// EventIntentSkipped: recovery left an intent alone because its
	// deadline plus the grace has not passed (I2).
	EventIntentSkipped EventKind = "intent-skipped"
)

// Event is a typed notification for monitors and tests. Every rollback and
// recovery emits one (I6).
type Event struct {
	Kind  EventKind
	TxnID string
	Table string
	// Format is the table format ("delta"); emit fills it in.
	Format         string
	Phase          string
	Reason         string
	Version        int64 // committed version, or the base version
	ObjectsRemoved int
	BytesRemoved   int64
	Err            error
	At             time.Time
}

// Sentinel errors of the protocol. Format errors (format.ErrConflict,
// format.ErrCommitUnknown, …) pass through wrapped, so errors.Is works on both.
var (
	// ErrDeadline means the transaction was aborted because not enough time
	// was left to commit and clean up before the deadline. Nothing was published.
	ErrDeadline = errors.New("deadline too close to commit safely")
	// ErrRolledBack is wrapped by every error after which the transaction's
	// staged objects were deleted: nothing was published.
	ErrRolledBack = errors.New("transaction rolled back")
)

func (w *Writer) emit(ctx context.Context, ev Event) {
	if ev.At.IsZero() {
		ev.At = w.now()
	}
	if ev.Format == "" {
		ev.Format = w.table.Format()
	}
	level := slog.LevelInfo
	if ev.Kind == EventRollback || ev.Kind == EventUnknownOutcome {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("txnId", ev.TxnID), slog.String("table", ev.Table),
		slog.String("phase", ev.Phase), slog.String("reason", ev.Reason),
		slog.Int64("version", ev.Version), slog.Int("objectsRemoved", ev.ObjectsRemoved),
		slog.Int64("bytesRemoved", ev.BytesRemoved),
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
	}
	w.log.LogAttrs(ctx, level, "safewrite "+string(ev.Kind), attrs...)
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(ev)
	}
}
