package deltalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// History lists the table's commits from their commitInfo actions, newest
// first; limit <= 0 lists all. An entry's timestamp is the commit's
// inCommitTimestamp, else its commitInfo timestamp, else the file's
// modification time, which Snapshot.Timestamp uses even when commitInfo
// has a timestamp. Versions whose JSON commit was removed by
// log cleanup are skipped. A commit without commitInfo is listed with its
// file's modification time and no operation.
func History(ctx context.Context, store objstore.Store, limit int) ([]format.HistoryEntry, error) {
	entries, err := ListCommits(ctx, store)
	if err != nil {
		return nil, err
	}
	var out []format.HistoryEntry
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Kind != KindCommit {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		actions, err := ReadCommit(ctx, store, e.Version)
		if errors.Is(err, objstore.ErrNotFound) {
			continue // removed by log cleanup after the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, historyEntry(e, actions))
	}
	return out, nil
}

func historyEntry(e LogEntry, actions []Action) format.HistoryEntry {
	h := format.HistoryEntry{Version: e.Version, Timestamp: e.ModTime}
	for _, a := range actions {
		ci := a.CommitInfo
		if ci == nil {
			continue
		}
		h.Operation = ci.Operation
		h.TxnID = ci.SafewriteTxnID
		if h.TxnID == "" {
			h.TxnID = ci.TxnID
		}
		h.EngineInfo = ci.EngineInfo
		h.Parameters = ci.OperationParameters
		h.Metrics = ci.OperationMetrics
		switch {
		case ci.InCommitTimestamp != nil:
			h.Timestamp = time.UnixMilli(*ci.InCommitTimestamp).UTC()
		case ci.Timestamp > 0:
			h.Timestamp = time.UnixMilli(ci.Timestamp).UTC()
		}
		break
	}
	return h
}

// FindTxn looks at every commit after afterVersion, oldest first, for a
// commitInfo whose txnId or safewrite.txnId equals txnID, and returns the
// first version that contains it.
//
// When a commit after afterVersion is missing from the log (log cleanup
// removed it, or the log has a gap), the transaction may be in that commit,
// so FindTxn returns an error wrapping format.ErrCommitUnknown instead of
// found false.
func FindTxn(ctx context.Context, store objstore.Store, txnID string, afterVersion int64) (version int64, found bool, err error) {
	if txnID == "" {
		return 0, false, fmt.Errorf("%w: empty transaction id", format.ErrBadInput)
	}
	entries, err := ListCommits(ctx, store)
	if err != nil {
		return 0, false, err
	}
	next := afterVersion + 1
	for _, e := range entries {
		if e.Kind != KindCommit || e.Version <= afterVersion {
			continue
		}
		if e.Version != next {
			return 0, false, fmt.Errorf("%w: searching for transaction %s: commits %d to %d are not in the log, so whether it was committed cannot be decided",
				format.ErrCommitUnknown, txnID, next, e.Version-1)
		}
		next++
		actions, err := ReadCommit(ctx, store, e.Version)
		if err != nil {
			return 0, false, err
		}
		for _, a := range actions {
			if ci := a.CommitInfo; ci != nil && (ci.TxnID == txnID || ci.SafewriteTxnID == txnID) {
				return e.Version, true, nil
			}
		}
	}
	return 0, false, nil
}
