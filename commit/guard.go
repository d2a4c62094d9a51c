package commit

import (
	"context"
	"errors"
	"time"
)

// Guard lets a deadline watchdog take part in one append without this
// package importing it. Append calls CommitReserve at the point of no
// return, BeginCommit right before the commit, EndCommit after it, and
// Aborted after every rollback it runs itself.
//
// The watchdog cancels the append's context with a cause that wraps
// ErrDeadline when it fires before the commit; Append then rolls back with
// reason "deadline".
type Guard interface {
	// CommitReserve returns the time that must be left before the deadline
	// to start the commit and still finish it and its cleanup.
	CommitReserve() time.Duration
	// BeginCommit marks the start of the commit. It returns an error
	// wrapping ErrDeadline when the watchdog has already fired, and then
	// Append rolls back instead of committing. Once it returns nil the
	// watchdog no longer cancels the append.
	BeginCommit() error
	// EndCommit reports how long the commit took and its outcome:
	// "committed", "already-applied", "conflict", "error" or "unknown".
	EndCommit(outcome string, took time.Duration)
	// Aborted reports how long a rollback by Append took.
	Aborted(took time.Duration)
}

// FiredByDeadline reports whether ctx was cancelled by a watchdog (or any
// caller) with a cause that wraps ErrDeadline.
func FiredByDeadline(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), ErrDeadline)
}

// commitReserve returns the point-of-no-return reserve of one append.
func (w *Writer) commitReserve(g Guard) time.Duration {
	if g == nil {
		return w.opts.CommitReserve
	}
	return g.CommitReserve()
}
