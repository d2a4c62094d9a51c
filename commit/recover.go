package commit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// RecoverOptions configure Recover.
type RecoverOptions struct {
	// DryRun reports what recovery would do and changes nothing.
	DryRun bool
	// Force settles intents whose deadline has not passed yet. Only an
	// operator who knows the writer is gone may set it: it breaks I2.
	Force bool
}

// IntentAction is the action recovery took, or would take, on one intent.
type IntentAction struct {
	TxnID       string    `json:"txnId"`
	Action      string    `json:"action"` // "finalize-committed", "roll-back", "skip-live", "unreadable"
	BaseVersion int64     `json:"baseVersion"`
	Version     int64     `json:"version,omitempty"` // committed version for finalize-committed
	Deadline    time.Time `json:"deadline"`
	Objects     []string  `json:"objects,omitempty"` // objects deleted, or to delete in a dry run
	Bytes       int64     `json:"bytes"`
	Error       string    `json:"error,omitempty"`
}

// RecoverReport summarizes one recovery pass.
type RecoverReport struct {
	Table          string         `json:"table"`
	DryRun         bool           `json:"dryRun"`
	Intents        int            `json:"intents"`
	Committed      int            `json:"committed"`
	RolledBack     int            `json:"rolledBack"`
	Live           int            `json:"live"`
	Unreadable     int            `json:"unreadable"`
	ObjectsRemoved int            `json:"objectsRemoved"`
	BytesRemoved   int64          `json:"bytesRemoved"`
	Actions        []IntentAction `json:"actions"`
}

// Recover settles every expired intent (I2–I5). A transaction whose id is in
// a commit after its base version is finalized. Any other has its staged
// objects deleted, an outcome record written and its intent removed. With no
// intent present its cost is one LIST.
func (w *Writer) Recover(ctx context.Context, opts RecoverOptions) (*RecoverReport, error) {
	report := &RecoverReport{Table: w.uri, DryRun: opts.DryRun, Actions: []IntentAction{}}
	if !opts.DryRun {
		if err := w.removeStaleTemps(ctx, opts); err != nil {
			return nil, err
		}
	}
	objs, err := listIntents(ctx, w.store)
	if err != nil {
		return nil, fmt.Errorf("phase recover: table %s: list %s: %w", w.uri, intentPrefix, err)
	}
	if len(objs) == 0 {
		return report, nil
	}
	report.Intents = len(objs)

	var referenced map[string]bool
	now := w.now()
	for _, o := range objs {
		in, err := readIntent(ctx, w.store, o.Key)
		if errors.Is(err, objstore.ErrNotFound) {
			report.Intents--
			continue
		}
		if err != nil {
			// An intent is written atomically, so this is damage from
			// outside; deleting its objects blindly could break I5.
			report.Unreadable++
			report.Actions = append(report.Actions, IntentAction{Action: "unreadable", Error: err.Error()})
			w.log.Error("safewrite unreadable intent left in place", "table", w.uri, "key", o.Key, "error", err)
			continue
		}
		action := IntentAction{TxnID: in.TxnID, BaseVersion: in.BaseVersion, Deadline: in.Deadline}
		if !opts.Force && now.Before(in.Deadline.Add(w.opts.Grace)) {
			action.Action = "skip-live"
			report.Live++
			report.Actions = append(report.Actions, action)
			w.emit(ctx, Event{Kind: EventIntentSkipped, TxnID: in.TxnID, Table: w.uri, Phase: "recover",
				Reason: "deadline not passed", Version: in.BaseVersion})
			continue
		}

		version, found, err := w.table.FindTransaction(ctx, in.TxnID, in.BaseVersion)
		if err != nil {
			return report, fmt.Errorf("phase recover: table %s: find transaction %s after version %d: %w", w.uri, in.TxnID, in.BaseVersion, err)
		}
		if found {
			action.Action = "finalize-committed"
			action.Version = version
			report.Committed++
			report.Actions = append(report.Actions, action)
			if opts.DryRun {
				continue
			}
			// Durable step "recover-finalize": the transaction is in the
			// log, so deleting its intent is all that is left.
			if err := w.store.Delete(ctx, intentKey(in.TxnID)); err != nil {
				return report, fmt.Errorf("phase recover: table %s: delete intent %s: %w", w.uri, intentKey(in.TxnID), err)
			}
			w.emit(ctx, Event{Kind: EventRecoveredCommitted, TxnID: in.TxnID, Table: w.uri, Phase: "recover",
				Reason: "committed", Version: version})
			continue
		}

		if referenced == nil {
			referenced, err = w.table.ReferencedFiles(ctx)
			if err != nil {
				return report, fmt.Errorf("phase recover: table %s: load referenced files: %w", w.uri, err)
			}
		}
		rollback, err := w.planRollback(ctx, in, referenced)
		if err != nil {
			return report, err
		}
		action.Action = "roll-back"
		action.Objects = rollback.Objects
		action.Bytes = rollback.bytes
		report.RolledBack++
		report.ObjectsRemoved += len(rollback.Objects)
		report.BytesRemoved += rollback.bytes
		report.Actions = append(report.Actions, action)
		if opts.DryRun {
			continue
		}
		reason := "expired"
		if !now.After(in.Deadline.Add(w.opts.Grace)) {
			reason = "forced"
		}
		out := &Outcome{
			TxnID: in.TxnID, Table: w.uri, Outcome: "rolled-back", Reason: reason, Phase: "recover",
			BaseVersion: in.BaseVersion, ObjectsRemoved: len(rollback.Objects), BytesRemoved: rollback.bytes,
			At: w.now().UTC(),
		}
		if err := settleRollback(ctx, w.store, rollback.Intent, out); err != nil {
			return report, err
		}
		w.emit(ctx, Event{Kind: EventRollback, TxnID: in.TxnID, Table: w.uri, Phase: "recover", Reason: reason,
			Version: in.BaseVersion, ObjectsRemoved: len(rollback.Objects), BytesRemoved: rollback.bytes})
	}
	return report, nil
}

type rollbackPlan struct {
	// Intent is a copy of the intent restricted to the objects that no
	// retained version references (I5).
	Intent *Intent
	// Objects are the staged objects that exist, for the report.
	Objects []string
	bytes   int64
}

func (w *Writer) planRollback(ctx context.Context, in *Intent, referenced map[string]bool) (*rollbackPlan, error) {
	plan := &rollbackPlan{Intent: &Intent{}}
	*plan.Intent = *in
	plan.Intent.Objects = nil
	for _, key := range in.Objects {
		if referenced[key] {
			w.log.Warn("safewrite intent names a referenced file; keeping it", "txnId", in.TxnID, "table", w.uri, "key", key)
			continue
		}
		// Every name is deleted, even one that does not exist: deleting it
		// also removes a partial upload that a kill left beside it.
		plan.Intent.Objects = append(plan.Intent.Objects, key)
		info, err := w.store.Stat(ctx, key)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("phase recover: table %s: stat staged object %s: %w", w.uri, key, err)
		}
		plan.Objects = append(plan.Objects, key)
		plan.bytes += info.Size
	}
	return plan, nil
}

// minTempAge is the age a temp file must reach before recovery without
// --force deletes it, when its content does not name its writer's deadline. Put and
// put-if-absent hold a temp file for milliseconds, so a writer that left one
// this old is dead, or lost its write anyway.
const minTempAge = 5 * time.Second

// removeStaleTemps deletes the temp files that writers killed inside a local
// Put or put-if-absent left in the intent and metadata folders (data file
// temps go with their intent's objects). A complete temp intent names its
// writer's deadline, so it is kept while that writer may be alive (I2).
// This costs one folder read per folder, and nothing on S3.
func (w *Writer) removeStaleTemps(ctx context.Context, opts RecoverOptions) error {
	lister, ok := w.store.(objstore.TempLister)
	if !ok {
		return nil
	}
	now := w.now()
	folders := []string{intentPrefix}
	if meta, ok := w.table.(format.MetadataFolders); ok {
		folders = append(folders, meta.MetadataFolders()...)
	}
	var stale []string
	for _, dir := range folders {
		temps, err := lister.ListTemps(ctx, dir)
		if err != nil {
			return fmt.Errorf("phase recover: table %s: %w", w.uri, err)
		}
		for _, temp := range temps {
			if opts.Force || w.tempExpired(ctx, dir == intentPrefix, temp, now) {
				stale = append(stale, temp.Key)
			}
		}
	}
	if len(stale) == 0 {
		return nil
	}
	if err := w.store.Delete(ctx, stale...); err != nil {
		return fmt.Errorf("phase recover: table %s: delete %d stale temp files: %w", w.uri, len(stale), err)
	}
	w.log.Info("safewrite removed stale temp files", "table", w.uri, "count", len(stale))
	return nil
}

// tempExpired decides whether a temp file's writer is gone: by the deadline
// inside a complete temp intent, else by the file's age.
func (w *Writer) tempExpired(ctx context.Context, isIntent bool, temp objstore.ObjectInfo, now time.Time) bool {
	if isIntent {
		data, err := objstore.ReadAll(ctx, w.store, temp.Key)
		var in Intent
		if err == nil && json.Unmarshal(data, &in) == nil && !in.Deadline.IsZero() {
			return now.After(in.Deadline.Add(w.opts.Grace))
		}
	}
	age := max(w.opts.Grace, minTempAge)
	return temp.ModTime.Before(now.Add(-age))
}
