package deltalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// DefaultCheckpointInterval is the number of commits between checkpoints
// when the table sets no delta.checkpointInterval (the Delta Lake default).
const DefaultCheckpointInterval = 10

// Options configure a Table.
type Options struct {
	// Logger receives checkpoint failures and commit retries; nil discards.
	Logger *slog.Logger
	// CheckpointInterval overrides the table's delta.checkpointInterval when
	// greater than 0.
	CheckpointInterval int
	// Clock returns the time recorded in commits; nil means time.Now.
	Clock func() time.Time
}

// Table is a Delta table rooted at one object store. It implements
// format.Table. A Table is safe for concurrent use, but two writers on the
// same table should each have their own Table (and they race through
// put-if-absent like any two writers).
type Table struct {
	store              objstore.Store
	uri                string
	log                *slog.Logger
	checkpointInterval int
	now                func() time.Time

	mu     sync.Mutex
	cached *Snapshot // last snapshot loaded or committed, reused by Commit
}

var _ format.Table = (*Table)(nil)

// Open returns a handle on the Delta table in store. It reads nothing.
func Open(store objstore.Store, opts Options) *Table {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Table{
		store:              store,
		uri:                store.URI(),
		log:                logger,
		checkpointInterval: opts.CheckpointInterval,
		now:                clock,
	}
}

// Format returns "delta".
func (t *Table) Format() string { return "delta" }

// URI returns the table root URI.
func (t *Table) URI() string { return t.uri }

// DeltaSnapshot loads the latest Delta snapshot with its protocol, metadata
// and active files. It returns an error wrapping ErrNoTable when the table
// has no log yet.
func (t *Table) DeltaSnapshot(ctx context.Context) (*Snapshot, error) {
	snap, err := LoadSnapshot(ctx, t.store, t.uri)
	if err != nil {
		return nil, err
	}
	t.remember(snap)
	return snap, nil
}

// Load replays the log into the latest snapshot. A root with no commit is
// a new table (Version -1) when it is empty, or contains only safewrite's
// own `_safewrite/` objects and the files staged by a transaction that
// was creating the table, or only temp files in `_delta_log/`. A root with other objects but no log is rejected with
// format.ErrNotTable, so an append never turns a folder of unrelated files
// into a table.
func (t *Table) Load(ctx context.Context) (*format.Snapshot, error) {
	snap, err := LoadSnapshot(ctx, t.store, t.uri)
	if errors.Is(err, ErrNoTable) {
		return t.loadMissing(ctx)
	}
	if err != nil {
		return nil, err
	}
	t.remember(snap)
	return convertSnapshot(snap, t.uri)
}

func (t *Table) loadMissing(ctx context.Context) (*format.Snapshot, error) {
	objects, err := t.store.List(ctx, "", true)
	if err != nil {
		return nil, fmt.Errorf("load table %s: list the root to check that it is empty: %w", t.uri, err)
	}
	managed := false
	var foreign string
	for _, o := range objects {
		if strings.HasPrefix(o.Key, "_safewrite/") {
			managed = true
			continue
		}
		if strings.HasPrefix(o.Key, LogDir) {
			// A log folder without commits (a temp file of a first commit
			// that was killed) is a table not created yet.
			continue
		}
		if foreign == "" {
			foreign = o.Key
		}
	}
	// Objects beside `_safewrite/` records are data files that a killed
	// first transaction staged; recovery deletes them, so they do not make
	// the folder a non-table.
	if foreign != "" && !managed {
		return nil, fmt.Errorf("%w: %s is not a Delta table: it has no _delta_log folder but contains other objects (for example %q); choose an empty folder or an existing Delta table",
			format.ErrNotTable, t.uri, foreign)
	}
	return &format.Snapshot{
		Version:       -1,
		ColumnMapping: "none",
		AppVersions:   map[string]int64{},
		Properties:    map[string]string{},
	}, nil
}

// remember caches snap so that a Commit on its version needs no replay.
func (t *Table) remember(snap *Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached == nil || snap.Version >= t.cached.Version {
		t.cached = snap
	}
}

// snapshotAt returns the snapshot of version, from the cache when it has
// that version.
func (t *Table) snapshotAt(ctx context.Context, version int64) (*Snapshot, error) {
	t.mu.Lock()
	cached := t.cached
	t.mu.Unlock()
	if cached != nil && cached.Version == version {
		return cached, nil
	}
	snap, err := LoadSnapshotAt(ctx, t.store, t.uri, version)
	if err != nil {
		return nil, err
	}
	t.remember(snap)
	return snap, nil
}

// convertSnapshot maps a Delta snapshot to the format-neutral one.
func convertSnapshot(snap *Snapshot, uri string) (*format.Snapshot, error) {
	if snap.Metadata == nil {
		return nil, fmt.Errorf("%w: table %s version %d has no metaData action", format.ErrCorruptTable, uri, snap.Version)
	}
	schema, err := SchemaFromJSON(snap.Metadata.SchemaString)
	if err != nil {
		return nil, fmt.Errorf("load table %s version %d: %w", uri, snap.Version, err)
	}
	out := &format.Snapshot{
		Version:          snap.Version,
		Schema:           schema,
		PartitionColumns: append([]string(nil), snap.Metadata.PartitionColumns...),
		ColumnMapping:    columnMappingMode(snap.Metadata),
		NumFiles:         int64(len(snap.Files)),
		AppVersions:      map[string]int64{},
		Properties:       map[string]string{},
		Timestamp:        snap.Timestamp,
	}
	for k, v := range snap.AppVersions {
		out.AppVersions[k] = v
	}
	for k, v := range snap.Metadata.Configuration {
		out.Properties[k] = v
	}
	records := int64(0)
	for _, add := range snap.Files {
		out.SizeBytes += add.Size
		n, ok := statsNumRecords(add.Stats)
		if !ok {
			records = -1
		}
		if records >= 0 {
			records += n
		}
	}
	out.NumRecords = records
	return out, nil
}

// columnMappingMode returns "none", "name" or "id".
func columnMappingMode(m *Metadata) string {
	if m == nil {
		return "none"
	}
	mode := m.Configuration["delta.columnMapping.mode"]
	if mode == "" {
		return "none"
	}
	return mode
}

// statsNumRecords returns numRecords from an add's stats JSON.
func statsNumRecords(stats string) (int64, bool) {
	if stats == "" {
		return 0, false
	}
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if err := json.Unmarshal([]byte(stats), &s); err != nil || s.NumRecords == nil {
		return 0, false
	}
	return *s.NumRecords, true
}

// FindTransaction looks at every commit after afterVersion for txnID.
func (t *Table) FindTransaction(ctx context.Context, txnID string, afterVersion int64) (int64, bool, error) {
	return FindTxn(ctx, t.store, txnID, afterVersion)
}

// History lists commits, newest first; limit <= 0 lists all.
func (t *Table) History(ctx context.Context, limit int) ([]format.HistoryEntry, error) {
	return History(ctx, t.store, limit)
}

// ReferencedFiles returns the object keys of the active data files of the
// latest version. A relative path is URL-decoded to a key. An absolute URI
// is resolved to a key when it names an object under the table root, so
// that orphan cleanup still sees the file as referenced. Any other path
// (another bucket, or one that escapes the root once decoded) is left out,
// because orphan cleanup never acts on an object outside the root. A table
// that does not exist yet references nothing.
func (t *Table) ReferencedFiles(ctx context.Context) (map[string]bool, error) {
	snap, err := LoadSnapshot(ctx, t.store, t.uri)
	if errors.Is(err, ErrNoTable) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	t.remember(snap)
	keys := make(map[string]bool, len(snap.Files))
	for _, add := range snap.Files {
		if key, ok := relativeKey(t.uri, add.Path); ok {
			keys[key] = true
		}
	}
	return keys, nil
}

// relativeKey decodes an add path to an object key relative to the table
// root at rootURI. It returns ok false for a path outside the root.
func relativeKey(rootURI, path string) (string, bool) {
	var key string
	first, _, _ := strings.Cut(path, "/")
	switch {
	case strings.Contains(first, ":"): // "s3://…", "file:/…"
		k, ok := keyUnderRoot(rootURI, path)
		if !ok {
			return "", false
		}
		key = k
	case strings.HasPrefix(path, "/"):
		return "", false
	default:
		k, err := url.PathUnescape(path)
		if err != nil {
			return "", false
		}
		key = k
	}
	if objstore.ValidateKey(key) != nil {
		return "", false
	}
	return key, true
}

// keyUnderRoot returns the key of an absolute URI under the root URI. The
// Hadoop S3 schemes s3, s3a and s3n name the same bucket, and "file:/p"
// and "file:///p" the same file.
func keyUnderRoot(rootURI, abs string) (string, bool) {
	root, err := url.Parse(rootURI)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(abs)
	if err != nil {
		return "", false
	}
	if normalizeScheme(u.Scheme) != normalizeScheme(root.Scheme) || u.Host != root.Host {
		return "", false
	}
	prefix := strings.TrimSuffix(root.Path, "/") + "/"
	if !strings.HasPrefix(u.Path, prefix) {
		return "", false
	}
	return strings.TrimPrefix(u.Path, prefix), true
}

func normalizeScheme(scheme string) string {
	switch scheme = strings.ToLower(scheme); scheme {
	case "s3a", "s3n":
		return "s3"
	}
	return scheme
}

// EscapePath encodes a data file key for an add action the way Spark
// writes it: each segment is URL-path-escaped and the slashes stay, so
// "date=2020-01-01/a b.parquet" becomes "date=2020-01-01/a%20b.parquet".
// A colon is escaped too, because readers take "x:…" for an absolute URI.
func EscapePath(key string) string {
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segments, "/")
}

// MetadataFolders returns the folder that holds the log.
func (t *Table) MetadataFolders() []string { return []string{"_delta_log/"} }
