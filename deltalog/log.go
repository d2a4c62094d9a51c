package deltalog

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/safewrite/safewrite/objstore"
)

// LogDir is the folder of the transaction log, relative to the table root.
const LogDir = "_delta_log/"

// SidecarDir is the folder of V2 checkpoint sidecar files.
const SidecarDir = LogDir + "_sidecars/"

// LastCheckpointKey is the checkpoint hint file. It is only a hint: readers
// must still give the latest version when it is missing, empty or stale.
const LastCheckpointKey = LogDir + "_last_checkpoint"

// EntryKind is the kind of one file in _delta_log/.
type EntryKind int

const (
	// KindCommit is a JSON commit, 00000000000000000007.json.
	KindCommit EntryKind = iota
	// KindCheckpoint is a classic single-file checkpoint,
	// 00000000000000000010.checkpoint.parquet.
	KindCheckpoint
	// KindCheckpointPart is one part of a multi-part checkpoint,
	// 00000000000000000010.checkpoint.0000000001.0000000002.parquet.
	KindCheckpointPart
	// KindCheckpointV2 is a UUID-named V2 checkpoint,
	// 00000000000000000010.checkpoint.<uuid>.json or .parquet.
	KindCheckpointV2
)

func (k EntryKind) String() string {
	switch k {
	case KindCommit:
		return "commit"
	case KindCheckpoint:
		return "checkpoint"
	case KindCheckpointPart:
		return "checkpoint part"
	case KindCheckpointV2:
		return "v2 checkpoint"
	}
	return "EntryKind(" + strconv.Itoa(int(k)) + ")"
}

// LogEntry is one commit or checkpoint file of the log.
type LogEntry struct {
	Version int64
	Key     string // relative to the table root: "_delta_log/…"
	Kind    EntryKind
	// Part and Parts number a multi-part checkpoint file (1-based); both 0
	// for other kinds.
	Part, Parts int
	Size        int64
	ModTime     time.Time
}

var (
	commitName     = regexp.MustCompile(`^(\d{20})\.json$`)
	checkpointName = regexp.MustCompile(`^(\d{20})\.checkpoint\.parquet$`)
	partName       = regexp.MustCompile(`^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$`)
	v2Name         = regexp.MustCompile(`^(\d{20})\.checkpoint\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(json|parquet)$`)
)

// CommitKey returns the key of the JSON commit of version.
func CommitKey(version int64) string {
	return fmt.Sprintf("%s%020d.json", LogDir, version)
}

// ParseLogName classifies a file name inside _delta_log/ (no folder). Only
// names that match the protocol's patterns exactly count; temporary files
// ("._…json.tmp"), checksums (".crc"), _commits/ and anything else return
// ok false.
func ParseLogName(name string) (e LogEntry, ok bool) {
	if m := commitName.FindStringSubmatch(name); m != nil {
		return entry(m[1], name, KindCommit)
	}
	if m := checkpointName.FindStringSubmatch(name); m != nil {
		return entry(m[1], name, KindCheckpoint)
	}
	if m := v2Name.FindStringSubmatch(name); m != nil {
		return entry(m[1], name, KindCheckpointV2)
	}
	if m := partName.FindStringSubmatch(name); m != nil {
		e, ok := entry(m[1], name, KindCheckpointPart)
		if !ok {
			return e, false
		}
		part, err1 := strconv.Atoi(m[2])
		parts, err2 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || part < 1 || parts < 1 || part > parts {
			return LogEntry{}, false
		}
		e.Part, e.Parts = part, parts
		return e, true
	}
	return LogEntry{}, false
}

func entry(digits, name string, kind EntryKind) (LogEntry, bool) {
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return LogEntry{}, false
	}
	return LogEntry{Version: v, Key: LogDir + name, Kind: kind}, true
}

// ListCommits lists the commit and checkpoint files of _delta_log/ (not its
// sub-folders), sorted by version, then commits before checkpoints, then by
// key. Files that do not match the protocol's naming are skipped.
func ListCommits(ctx context.Context, store objstore.Store) ([]LogEntry, error) {
	infos, err := store.List(ctx, LogDir, false)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", store.URI(), LogDir, err)
	}
	entries := make([]LogEntry, 0, len(infos))
	for _, info := range infos {
		name := strings.TrimPrefix(info.Key, LogDir)
		if strings.Contains(name, "/") {
			continue
		}
		e, ok := ParseLogName(name)
		if !ok {
			continue
		}
		e.Size = info.Size
		e.ModTime = info.ModTime
		entries = append(entries, e)
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Key < b.Key
	})
	return entries, nil
}
