package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/safewrite/safewrite/commit"
)

// Events the watchdog emits itself, besides the rollback events of commit.
const (
	// EventFired: the margin was reached before the commit started, so the
	// watchdog cancelled the append. A rollback event with reason
	// "deadline" follows from commit's abort.
	EventFired commit.EventKind = "watchdog-fired"
)

const (
	// DefaultFloor is the smallest margin, used until this process has
	// measured its own commits and rollbacks. It equals
	// commit.DefaultCommitReserve and, like it, is an estimate.
	DefaultFloor = commit.DefaultCommitReserve
	// DefaultSafetyFactor multiplies measured commit and rollback times.
	DefaultSafetyFactor = 2.0
	// DefaultReserve is the time kept before the deadline to emit the
	// unknown-outcome alert while a commit is still running.
	DefaultReserve = 250 * time.Millisecond
	// samples is how many recent durations of each kind the margin uses.
	samples = 16
)

// Options configure a Watchdog. The zero value is usable.
type Options struct {
	// Floor is the smallest margin; 0 means DefaultFloor.
	Floor time.Duration
	// SafetyFactor multiplies the measured commit plus rollback time; 0
	// means DefaultSafetyFactor. Values below 1 are raised to 1.
	SafetyFactor float64
	// Reserve is how long before the deadline the watchdog stops waiting
	// for a running commit and raises the unknown-outcome alert; 0 means
	// DefaultReserve. It is capped at half the floor.
	Reserve time.Duration
	// Logger receives firing and waiting notices; nil discards.
	Logger *slog.Logger
	// OnEvent receives the events the watchdog emits itself (EventFired,
	// and commit.EventUnknownOutcome with reason "deadline").
	OnEvent func(commit.Event)
}

// Watchdog arms appends against their deadline and keeps the commit and
// rollback durations measured in this process. It is safe for concurrent use.
type Watchdog struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	commits []time.Duration
	aborts  []time.Duration
}

// New returns a Watchdog with no measurements yet.
func New(opts Options) *Watchdog {
	if opts.Floor <= 0 {
		opts.Floor = DefaultFloor
	}
	if opts.SafetyFactor == 0 {
		opts.SafetyFactor = DefaultSafetyFactor
	}
	if opts.SafetyFactor < 1 {
		opts.SafetyFactor = 1
	}
	if opts.Reserve <= 0 {
		opts.Reserve = DefaultReserve
	}
	opts.Reserve = min(opts.Reserve, opts.Floor/2)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watchdog{opts: opts, log: log}
}

// Margin returns the current margin: the larger of the floor and the safety
// factor times the slowest recent commit plus the slowest recent rollback.
func (w *Watchdog) Margin() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	need := time.Duration(w.opts.SafetyFactor * float64(slowest(w.commits)+slowest(w.aborts)))
	return max(w.opts.Floor, need)
}

// ObserveCommit records the duration of one commit.
func (w *Watchdog) ObserveCommit(took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.commits = appendSample(w.commits, took)
}

// ObserveAbort records the duration of one rollback, from the moment it
// was decided until its outcome record was written.
func (w *Watchdog) ObserveAbort(took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborts = appendSample(w.aborts, took)
}

func appendSample(list []time.Duration, d time.Duration) []time.Duration {
	if len(list) == samples {
		list = list[1:]
	}
	return append(list, d)
}

func slowest(list []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range list {
		m = max(m, d)
	}
	return m
}

// armState is where one armed append is in its state machine.
type armState int

const (
	stateStaging armState = iota
	stateFired
	stateCommitting
	stateDone
)

// Arm guards one append whose owner is killed at deadline. It returns a
// context for the append, which the watchdog cancels (with a cause wrapping
// commit.ErrDeadline) when the margin is reached before the commit starts,
// and the Arm to pass as the append's Guard. A deadline closer than the
// margin fires at once, so the append aborts before it writes anything.
// Call Disarm when the append returns; it also releases the context.
// Table and tableFormat label the watchdog's own events.
func (w *Watchdog) Arm(ctx context.Context, deadline time.Time, table, tableFormat string) (context.Context, *Arm) {
	ctx, cancel := context.WithCancelCause(ctx)
	a := &Arm{
		w:          w,
		table:      table,
		format:     tableFormat,
		deadline:   deadline,
		margin:     w.Margin(),
		cancel:     cancel,
		commitDone: make(chan struct{}),
		disarmed:   make(chan struct{}),
		finished:   make(chan struct{}),
	}
	go a.watch(ctx)
	return ctx, a
}

// Arm is one armed append. It implements commit.Guard.
type Arm struct {
	w        *Watchdog
	table    string
	format   string
	deadline time.Time
	margin   time.Duration
	cancel   context.CancelCauseFunc

	mu         sync.Mutex
	state      armState
	firedAt    time.Time
	outcome    string
	commitDone chan struct{}
	disarmed   chan struct{}
	finished   chan struct{}
	disarmOnce sync.Once
}

var _ commit.Guard = (*Arm)(nil)

// Margin returns the margin this append was armed with.
func (a *Arm) Margin() time.Duration { return a.margin }

// Fired reports whether the watchdog cancelled the append before its commit.
func (a *Arm) Fired() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state == stateFired
}

// CommitReserve returns the larger of the armed margin and the current
// estimate, for the point-of-no-return check.
func (a *Arm) CommitReserve() time.Duration {
	return max(a.margin, a.w.Margin())
}

// BeginCommit moves the append to committing unless the watchdog fired.
func (a *Arm) BeginCommit() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == stateFired {
		return fmt.Errorf("watchdog fired %s before the deadline %s, before the commit started: %w",
			a.margin, a.deadline.UTC().Format(time.RFC3339Nano), commit.ErrDeadline)
	}
	a.state = stateCommitting
	return nil
}

// EndCommit records the commit's duration and wakes a waiting watchdog.
// Only commits that reached a known outcome count towards the margin.
func (a *Arm) EndCommit(outcome string, took time.Duration) {
	if outcome != "unknown" {
		a.w.ObserveCommit(took)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.state == stateCommitting {
		a.state = stateDone
		close(a.commitDone)
	}
}

// Aborted records a rollback's duration. After the watchdog fired, the
// duration counts from the firing, so it includes the time the running
// upload took to stop.
func (a *Arm) Aborted(took time.Duration) {
	a.mu.Lock()
	if a.state == stateFired {
		took = max(took, time.Since(a.firedAt))
	}
	a.mu.Unlock()
	a.w.ObserveAbort(took)
}

// Disarm stops the watchdog and releases the context Arm returned. It
// waits for the watchdog goroutine to end and is safe to call twice.
func (a *Arm) Disarm() {
	a.disarmOnce.Do(func() {
		close(a.disarmed)
		<-a.finished
		a.cancel(nil)
	})
}

// watch waits for the margin, then fires or waits for the running commit.
func (a *Arm) watch(ctx context.Context) {
	defer close(a.finished)
	fireAt := a.deadline.Add(-a.margin)
	timer := time.NewTimer(time.Until(fireAt))
	defer timer.Stop()
	select {
	case <-a.disarmed:
		return
	case <-timer.C:
	}

	a.mu.Lock()
	state := a.state
	if state == stateStaging {
		a.state = stateFired
		a.firedAt = time.Now()
	}
	a.mu.Unlock()

	switch state {
	case stateStaging:
		left := time.Until(a.deadline)
		cause := fmt.Errorf("watchdog fired with %s left before the deadline %s (margin %s): %w",
			left.Round(time.Millisecond), a.deadline.UTC().Format(time.RFC3339Nano), a.margin, commit.ErrDeadline)
		// NOTE: a cancelled S3 PUT whose body was already sent may still be
		// applied by the server after the rollback deleted its key, leaving
		// one orphan that only an orphan cleanup finds.
		a.cancel(cause)
		a.w.log.LogAttrs(ctx, slog.LevelWarn, "safewrite watchdog fired: cancelling the uploads",
			slog.String("table", a.table), slog.Duration("left", left), slog.Duration("margin", a.margin))
		a.emit(commit.Event{Kind: EventFired, Table: a.table, Phase: "upload", Reason: "deadline", Err: cause})
	case stateCommitting:
		a.waitForCommit(ctx)
	}
}

// waitForCommit waits for the running commit until the reserve before the
// deadline. A commit still running then has an open outcome: the watchdog
// deletes nothing (I3) and raises one alert, because the kill that follows
// gives no other signal.
func (a *Arm) waitForCommit(ctx context.Context) {
	a.w.log.LogAttrs(ctx, slog.LevelInfo, "safewrite watchdog margin reached during the commit: waiting for its outcome",
		slog.String("table", a.table), slog.Duration("margin", a.margin))
	timer := time.NewTimer(time.Until(a.deadline.Add(-a.w.opts.Reserve)))
	defer timer.Stop()
	select {
	case <-a.commitDone:
		return
	case <-a.disarmed:
		return
	case <-timer.C:
	}
	err := fmt.Errorf("commit still running %s before the deadline %s: %w: the intent stays for recovery",
		a.w.opts.Reserve, a.deadline.UTC().Format(time.RFC3339Nano), commit.ErrDeadline)
	a.w.log.LogAttrs(ctx, slog.LevelError, "safewrite commit outcome unknown at the deadline; run recover after it",
		slog.String("table", a.table), slog.String("error", err.Error()))
	a.emit(commit.Event{Kind: commit.EventUnknownOutcome, Table: a.table, Phase: "commit", Reason: "deadline", Err: err})
}

func (a *Arm) emit(ev commit.Event) {
	ev.Format = a.format
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if a.w.opts.OnEvent != nil {
		a.w.opts.OnEvent(ev)
	}
}
