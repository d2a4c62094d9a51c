package deltalog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// ErrNoTable means _delta_log/ contains no commit and no checkpoint: the table
// does not exist yet. Whether the root contains other files is for the caller
// to check.
var ErrNoTable = errors.New("deltalog: no Delta table: _delta_log/ contains no commit or checkpoint")

// ErrVersionNotFound means a requested version is newer than the latest
// version or can no longer be rebuilt because its log files were cleaned up.
var ErrVersionNotFound = errors.New("deltalog: version not found")

// Snapshot is the replayed state of one table version.
type Snapshot struct {
	Version  int64
	Protocol *Protocol
	Metadata *Metadata
	// Files are the active add actions, keyed by the add's path as written
	// in the log (URL-encoded, relative or absolute).
	Files map[string]*Add
	// AppVersions maps a txn appId to the latest version it committed.
	AppVersions map[string]int64
	// Timestamp is the commit time of Version: the inCommitTimestamp when
	// the commit has one, else the modification time of its log file.
	Timestamp time.Time
	// CheckpointVersion is the version of the checkpoint the replay started
	// from, -1 when it started from commit 0.
	CheckpointVersion int64
}

// LoadSnapshot replays the latest version of the table. It returns
// ErrNoTable when _delta_log/ contains no commit and no checkpoint, errors
// wrapping format.ErrCorruptTable for a malformed log, and a
// *format.UnsupportedFeatureError when the table's reader protocol is not
// supported.
//
// The log is always listed: _last_checkpoint is not read, so an empty,
// stale, corrupt or dangling hint cannot hide a newer version.
func LoadSnapshot(ctx context.Context, store objstore.Store, tableURI string) (*Snapshot, error) {
	return loadSnapshot(ctx, store, tableURI, -1)
}

// LoadSnapshotAt replays the table as of version (time travel). It returns
// an error wrapping ErrVersionNotFound when version is newer than the latest
// version, or older than every checkpoint while commit 0 is gone.
func LoadSnapshotAt(ctx context.Context, store objstore.Store, tableURI string, version int64) (*Snapshot, error) {
	if version < 0 {
		return nil, fmt.Errorf("%w: table %s: version %d is negative", ErrVersionNotFound, tableURI, version)
	}
	return loadSnapshot(ctx, store, tableURI, version)
}

// loadSnapshot replays up to target, or to the latest version when target is -1.
func loadSnapshot(ctx context.Context, store objstore.Store, tableURI string, target int64) (*Snapshot, error) {
	entries, err := ListCommits(ctx, store)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, ErrNoTable
	}

	commits := make(map[int64]LogEntry)
	latest := int64(-1)
	for _, e := range entries {
		if e.Kind == KindCommit {
			commits[e.Version] = e
		}
		latest = max(latest, e.Version)
	}
	if target < 0 {
		target = latest
	} else if target > latest {
		return nil, fmt.Errorf("%w: table %s: version %d is newer than the latest version %d", ErrVersionNotFound, tableURI, target, latest)
	}

	snap := &Snapshot{
		Version:           target,
		Files:             make(map[string]*Add),
		AppVersions:       make(map[string]int64),
		CheckpointVersion: -1,
	}

	start := int64(0)
	if cp, ok := newestCheckpoint(entries, target); ok {
		actions, err := readCheckpoint(ctx, store, cp)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", tableURI, err)
		}
		if err := snap.applyCheckpoint(actions, cp); err != nil {
			return nil, fmt.Errorf("table %s: %w", tableURI, err)
		}
		snap.CheckpointVersion = cp.version
		snap.Timestamp = cp.modTime
		start = cp.version + 1
	} else if _, ok := commits[0]; !ok {
		first := firstCommitVersion(entries)
		if first < 0 || first > target {
			return nil, fmt.Errorf("%w: table %s: version %d cannot be rebuilt: commit 0 is gone and no checkpoint at or before it exists", ErrVersionNotFound, tableURI, target)
		}
		return nil, fmt.Errorf("%w: table %s: commit 0 (%s) is missing and no checkpoint exists at or before version %d; the log starts at %s",
			format.ErrCorruptTable, tableURI, CommitKey(0), target, CommitKey(first))
	}

	for v := start; v <= target; v++ {
		e, ok := commits[v]
		if !ok {
			return nil, fmt.Errorf("%w: table %s: commit %d (%s) is missing: the log versions are not contiguous", format.ErrCorruptTable, tableURI, v, CommitKey(v))
		}
		actions, err := ReadCommit(ctx, store, v)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", tableURI, err)
		}
		snap.applyCommit(actions)
		snap.Timestamp = commitTime(actions, e.ModTime)
	}

	if snap.Protocol == nil {
		return nil, fmt.Errorf("%w: table %s: no protocol action found up to version %d", format.ErrCorruptTable, tableURI, target)
	}
	if snap.Metadata == nil {
		return nil, fmt.Errorf("%w: table %s: no metaData action found up to version %d", format.ErrCorruptTable, tableURI, target)
	}
	if err := CheckReadSupported(snap.Protocol, tableURI); err != nil {
		return nil, err
	}
	return snap, nil
}

func firstCommitVersion(entries []LogEntry) int64 {
	for _, e := range entries {
		if e.Kind == KindCommit {
			return e.Version
		}
	}
	return -1
}

// commitTime is the inCommitTimestamp of a commit when it has one, else the
// modification time of its file, as Delta defines the commit timestamp.
func commitTime(actions []Action, modTime time.Time) time.Time {
	for _, a := range actions {
		if a.CommitInfo != nil && a.CommitInfo.InCommitTimestamp != nil {
			return time.UnixMilli(*a.CommitInfo.InCommitTimestamp).UTC()
		}
	}
	return modTime
}

// applyCommit applies one JSON commit. Removes are applied before adds: the
// protocol forbids the same (path, deletion vector) pair in both an add and
// a remove of one commit, while a commit that updates a file's deletion
// vector contains a remove of the old pair and an add of the new one in either
// order.
func (s *Snapshot) applyCommit(actions []Action) {
	for _, a := range actions {
		if a.Remove != nil {
			delete(s.Files, a.Remove.Path)
		}
	}
	for _, a := range actions {
		switch {
		case a.Add != nil:
			s.Files[a.Add.Path] = a.Add
		case a.Protocol != nil:
			s.Protocol = a.Protocol
		case a.MetaData != nil:
			s.Metadata = a.MetaData
		case a.Txn != nil:
			s.AppVersions[a.Txn.AppID] = a.Txn.Version
		}
	}
}

// applyCheckpoint loads the state of a checkpoint. Its remove actions are
// tombstones of files that are no longer active, so they are skipped.
func (s *Snapshot) applyCheckpoint(actions []Action, cp checkpointRef) error {
	for _, a := range actions {
		switch {
		case a.Add != nil:
			s.Files[a.Add.Path] = a.Add
		case a.Protocol != nil:
			s.Protocol = a.Protocol
		case a.MetaData != nil:
			s.Metadata = a.MetaData
		case a.Txn != nil:
			s.AppVersions[a.Txn.AppID] = a.Txn.Version
		}
	}
	if s.Protocol == nil {
		return fmt.Errorf("%w: checkpoint %s of version %d has no protocol action", format.ErrCorruptTable, cp.keys[0], cp.version)
	}
	if s.Metadata == nil {
		return fmt.Errorf("%w: checkpoint %s of version %d has no metaData action", format.ErrCorruptTable, cp.keys[0], cp.version)
	}
	return nil
}

// ReadCommit reads and parses the JSON commit of version. A missing commit
// gives an error wrapping objstore.ErrNotFound; invalid JSON gives an error
// wrapping format.ErrCorruptTable that names the key and line.
func ReadCommit(ctx context.Context, store objstore.Store, version int64) ([]Action, error) {
	key := CommitKey(version)
	data, err := objstore.ReadAll(ctx, store, key)
	if err != nil {
		return nil, fmt.Errorf("read commit %d (%s): %w", version, key, err)
	}
	return ParseActions(key, data)
}

// ParseActions parses newline-delimited JSON actions; key names the source
// in errors. Blank lines are skipped and unknown action keys are ignored.
func ParseActions(key string, data []byte) ([]Action, error) {
	var actions []Action
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), len(data)+1)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		a, err := parseAction(text)
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", format.ErrCorruptTable, key, line, err)
		}
		actions = append(actions, a)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: %v", format.ErrCorruptTable, key, err)
	}
	return actions, nil
}

// parseAction decodes one action line. commitInfo is free-form in the
// protocol, so a commitInfo whose fields have unexpected types is decoded
// leniently instead of failing the whole commit.
func parseAction(text []byte) (Action, error) {
	var a Action
	if err := json.Unmarshal(text, &a); err == nil {
		return a, nil
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(text, &fields); err != nil {
		return Action{}, fmt.Errorf("invalid JSON: %v", err)
	}
	raw, hasInfo := fields["commitInfo"]
	delete(fields, "commitInfo")
	a = Action{}
	if len(fields) > 0 {
		rest, err := json.Marshal(fields)
		if err != nil {
			return Action{}, fmt.Errorf("invalid action: %v", err)
		}
		if err := json.Unmarshal(rest, &a); err != nil {
			return Action{}, fmt.Errorf("invalid action: %v", err)
		}
	}
	if hasInfo && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		a.CommitInfo = decodeCommitInfo(raw)
	}
	return a, nil
}

func decodeCommitInfo(raw json.RawMessage) *CommitInfo {
	var ci CommitInfo
	if err := json.Unmarshal(raw, &ci); err == nil {
		return &ci
	}
	var loose map[string]any
	if err := json.Unmarshal(raw, &loose); err != nil {
		return &CommitInfo{}
	}
	str := func(k string) string {
		s, _ := loose[k].(string)
		return s
	}
	ci = CommitInfo{
		Operation:      str("operation"),
		EngineInfo:     str("engineInfo"),
		TxnID:          str("txnId"),
		SafewriteTxnID: str("safewrite.txnId"),
	}
	if ts, ok := loose["timestamp"].(float64); ok {
		ci.Timestamp = int64(ts)
	}
	if p, ok := loose["operationParameters"].(map[string]any); ok {
		ci.OperationParameters = p
	}
	if m, ok := loose["operationMetrics"].(map[string]any); ok {
		ci.OperationMetrics = m
	}
	return &ci
}
