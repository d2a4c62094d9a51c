package killtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Kill kinds.
const (
	// KillUniform kills the writer at a uniform instant of its measured duration.
	KillUniform = "uniform"
	// KillPoint kills the writer at a named crash point.
	KillPoint = "point"
	// KillRecovery kills the writer at PreState, then kills the recovery
	// that follows, then recovers again.
	KillRecovery = "recovery"
)

// Plan is one trial, drawn from the seed.
type Plan struct {
	Index int    `json:"index"`
	Size  string `json:"size"`
	Mode  string `json:"mode"`
	Kind  string `json:"kind"`
	// Point is the writer's crash point of a KillPoint trial.
	Point string `json:"point,omitempty"`
	// Fraction is the kill instant of a uniform kill (of the writer, or of
	// the recovery in a KillRecovery trial) as a fraction of its measured
	// unkilled duration.
	Fraction float64 `json:"fraction,omitempty"`
	// PreState and RecoverPoint describe a KillRecovery trial: where the
	// writer was killed, and the recovery's crash point ("" for a uniform
	// kill of `safewrite recover --force`).
	PreState     string `json:"preState,omitempty"`
	RecoverPoint string `json:"recoverPoint,omitempty"`
}

func (p Plan) describe() string {
	switch p.Kind {
	case KillPoint:
		return "at " + p.Point
	case KillRecovery:
		if p.RecoverPoint != "" {
			return fmt.Sprintf("writer at %s, recovery at %s", p.PreState, p.RecoverPoint)
		}
		return fmt.Sprintf("writer at %s, recovery at %.2f", p.PreState, p.Fraction)
	default:
		return fmt.Sprintf("at %.2f of the write", p.Fraction)
	}
}

// Outcome classes of a trial.
const (
	OutcomeFinished       = "finished before the kill"
	OutcomeNothingWritten = "killed before its first write"
	OutcomeCommitted      = "committed"
	OutcomeRolledBack     = "rolled back with a record"
	OutcomeSilentLoss     = "orphans, no record"
	OutcomeViolation      = "invariant violated"
	OutcomeHarnessError   = "harness error"
)

// Result is the independent check of one trial.
type Result struct {
	Plan
	Format  string `json:"format"`
	Outcome string `json:"outcome"`
	// Killed is false when the writer finished before the kill instant.
	Killed bool `json:"killed"`
	// KilledAfter is when the writer was killed, from its start, as a
	// fraction of the measured unkilled duration.
	KilledAfter float64 `json:"killedAfter,omitempty"`
	// Wrote is true when the kill left the table folder changed before recovery.
	Wrote     bool  `json:"wrote"`
	Committed bool  `json:"committed"`
	Records   int64 `json:"records"`
	// ExpectedRecords is the table's rows with the write committed.
	ExpectedRecords     int64 `json:"expectedRecords"`
	SilentLoss          bool  `json:"silentLoss,omitempty"`
	Duplicates          bool  `json:"duplicates,omitempty"`
	Torn                bool  `json:"torn,omitempty"`
	OrphanObjectsBefore int   `json:"orphanObjectsBefore"`
	OrphanBytesBefore   int64 `json:"orphanBytesBefore"`
	OrphanObjectsAfter  int   `json:"orphanObjectsAfter"`
	OrphanBytesAfter    int64 `json:"orphanBytesAfter"`
	IntentsBefore       int   `json:"intentsBefore"`
	OutcomesAfter       int   `json:"outcomesAfter"`
	IntentsAfter        int   `json:"intentsAfter"`
	// MetadataTempsAfter counts hidden temp files of unfinished metadata
	// writes left at the end; readers never see them.
	MetadataTempsAfter int `json:"metadataTempsAfter,omitempty"`
	// Detectable is true for a killed writer that wrote something; Detected
	// when, in addition, it committed, or an intent existed before recovery,
	// or an outcome record exists after it.
	Detectable bool   `json:"detectable"`
	Detected   bool   `json:"detected"`
	Readable   bool   `json:"readable"`
	ReadError  string `json:"readError,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (r Result) summary() string {
	s := r.Outcome
	if r.OrphanBytesAfter > 0 {
		s += fmt.Sprintf(", %d orphan bytes", r.OrphanBytesAfter)
	}
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// runTrial runs one plan in a fresh copy of the template table.
func (r *runner) runTrial(ctx context.Context, p Plan) Result {
	c := r.cellFor(p.Size, p.Mode)
	res := Result{Plan: p, Format: r.cfg.Format.Name(), ExpectedRecords: baseRows + c.Size.Rows}
	dir := filepath.Join(r.cfg.WorkDir, "trials", fmt.Sprintf("%05d", p.Index))
	table := filepath.Join(dir, "table")
	fail := func(err error) Result {
		res.Outcome = OutcomeHarnessError
		res.Error = err.Error()
		return res
	}
	if err := os.RemoveAll(dir); err != nil {
		return fail(err)
	}
	if err := copyTree(r.template, table); err != nil {
		return fail(err)
	}
	initial, err := observe(ctx, r.cfg.Format, table)
	if err != nil {
		return fail(err)
	}

	if err := r.killWriter(ctx, c, p, table, &res); err != nil {
		return fail(err)
	}
	before, err := observe(ctx, r.cfg.Format, table)
	if err != nil {
		return fail(err)
	}
	if p.Kind == KillRecovery {
		if err := r.killRecovery(ctx, c, p, table); err != nil {
			return fail(err)
		}
	}
	if p.Mode == ModeProtected && res.Killed {
		if _, _, err := runChild(ctx, r.cfg.Bin, recoverArgs(table)); err != nil {
			res.Error = "recovery failed: " + err.Error()
		}
	}
	after, err := observe(ctx, r.cfg.Format, table)
	if err != nil {
		return fail(err)
	}
	r.judge(&res, initial, before, after)
	if res.Outcome != OutcomeViolation && res.Outcome != OutcomeHarnessError {
		_ = os.RemoveAll(dir)
	}
	return res
}

// killWriter starts the writer and kills it at the planned instant or point.
func (r *runner) killWriter(ctx context.Context, c *cell, p Plan, table string, res *Result) error {
	switch p.Kind {
	case KillUniform:
		delay := time.Duration(p.Fraction * float64(c.Duration))
		ch, err := startChild(r.cfg.Bin, r.uniformArgs(c, table, r.timeout(c)), nil)
		if err != nil {
			return err
		}
		killed, exitErr := ch.waitOrKillAfter(delay)
		res.Killed = killed
		if killed {
			res.KilledAfter = float64(time.Since(ch.start)) / float64(c.Duration)
		} else if exitErr != nil {
			return fmt.Errorf("the unkilled writer failed: %v: %s", exitErr, ch.stderr.String())
		}
		return nil
	case KillPoint, KillRecovery:
		point := p.Point
		if p.Kind == KillRecovery {
			point = p.PreState
		}
		ch, err := startChild(r.cfg.Bin, r.writerArgs(c, table, false), []string{PauseEnv + "=" + point})
		if err != nil {
			return err
		}
		reached, err := ch.waitFor(ctx, "at "+point)
		if !reached {
			ch.kill()
			return fmt.Errorf("the writer did not reach crash point %s (exit: %v): %s", point, err, ch.stderr.String())
		}
		res.KilledAfter = float64(time.Since(ch.start)) / float64(c.Duration)
		ch.kill()
		res.Killed = true
		return nil
	default:
		return fmt.Errorf("unknown kill kind %q", p.Kind)
	}
}

// killRecovery runs a recovery and kills it at the plan's point or instant.
func (r *runner) killRecovery(ctx context.Context, c *cell, p Plan, table string) error {
	if p.RecoverPoint == "" {
		delay := time.Duration(p.Fraction * float64(c.RecoverDuration))
		ch, err := startChild(r.cfg.Bin, recoverArgs(table), nil)
		if err != nil {
			return err
		}
		killed, exitErr := ch.waitOrKillAfter(delay)
		if !killed && exitErr != nil {
			return fmt.Errorf("the unkilled recovery failed: %v: %s", exitErr, ch.stderr.String())
		}
		return nil
	}
	ch, err := startChild(r.cfg.Bin, r.recoverWriterArgs(table, false), []string{PauseEnv + "=" + p.RecoverPoint})
	if err != nil {
		return err
	}
	reached, err := ch.waitFor(ctx, "at "+p.RecoverPoint)
	ch.kill()
	if !reached {
		return fmt.Errorf("the recovery did not reach crash point %s (exit: %v): %s", p.RecoverPoint, err, ch.stderr.String())
	}
	return nil
}

// judge classifies the trial from three independent observations: the
// fresh table, the table right after the writer's kill, and the table at
// the end (after recovery in protected mode).
func (r *runner) judge(res *Result, initial, before, after Observation) {
	res.Records = after.View.Records
	res.Readable = after.View.Readable()
	if !res.Readable {
		res.ReadError = after.View.Err
		if len(after.View.Missing) > 0 {
			res.ReadError = "referenced files missing: " + strings.Join(after.View.Missing, ", ")
		}
	}
	res.Committed = res.Records == res.ExpectedRecords
	res.Duplicates = res.Records > res.ExpectedRecords
	res.Torn = res.Readable && res.Records != res.ExpectedRecords && res.Records != initial.View.Records && !res.Duplicates
	res.OrphanObjectsBefore, res.OrphanBytesBefore = before.OrphanObjects, before.OrphanBytes
	res.OrphanObjectsAfter, res.OrphanBytesAfter = after.OrphanObjects, after.OrphanBytes
	res.IntentsBefore, res.OutcomesAfter, res.IntentsAfter = before.Intents, after.Outcomes, after.Intents

	res.MetadataTempsAfter = after.MetadataTemps
	res.Wrote = !sameFiles(initial.Files, before.Files)
	recorded := before.Intents > 0 || before.Outcomes > 0 || after.Intents > 0 || after.Outcomes > 0
	if res.Killed && res.Wrote {
		res.Detectable = true
		res.Detected = res.Committed || before.Intents > 0 || after.Outcomes > 0
		res.SilentLoss = !res.Committed && !recorded
	}

	protectedBroken := res.Mode == ModeProtected &&
		(res.OrphanBytesAfter > 0 || res.IntentsAfter > 0 || (res.Detectable && !res.Detected))
	switch {
	case res.Error != "":
		res.Outcome = OutcomeHarnessError
	case res.Duplicates || res.Torn || !res.Readable || protectedBroken:
		res.Outcome = OutcomeViolation
	case !res.Killed:
		res.Outcome = OutcomeFinished
		if !res.Committed {
			res.Outcome = OutcomeViolation
			res.Error = "the writer finished but the table does not have its rows"
		}
	case !res.Wrote:
		res.Outcome = OutcomeNothingWritten
	case res.Committed:
		res.Outcome = OutcomeCommitted
	case res.SilentLoss:
		res.Outcome = OutcomeSilentLoss
	default:
		res.Outcome = OutcomeRolledBack
	}
}
