// Package format holds the format-neutral contracts that the commit protocol
// drives (Table, Snapshot, DataFile, Schema), the Parquet data-file writer on
// parquet-go, and the input readers (Parquet, CSV, JSON, Arrow IPC).
//
// Table formats (deltalog, iceberg) implement Table. The commit package uses
// only this contract, so it never imports a format package.
package format

import (
	"context"
	"time"
)

// Snapshot is one version of a table as the commit protocol needs it.
type Snapshot struct {
	// Version is the table version; -1 when the table does not exist yet.
	Version int64
	// Schema is the logical schema, with physical names when column mapping is on.
	Schema *Schema
	// PartitionColumns are logical column names, in partition order.
	PartitionColumns []string
	// ColumnMapping is the column mapping mode: "none", "name" or "id".
	ColumnMapping string
	NumFiles      int64
	NumRecords    int64 // -1 when a file has no record count in its stats
	SizeBytes     int64
	// AppVersions maps an idempotency app id to the last version it committed
	// (Delta txn actions, Iceberg snapshot summary properties).
	AppVersions map[string]int64
	// Properties are the table properties (Delta configuration).
	Properties map[string]string
	// Timestamp is the commit time of Version.
	Timestamp time.Time
}

// IdempotencyKey identifies one request of an application so that a retried
// request is recognised. A commit whose Version is not greater than the
// table's recorded version for AppID is skipped.
type IdempotencyKey struct {
	AppID   string
	Version int64
}

// TableSetup describes a table to create, or the schema of the first commit.
type TableSetup struct {
	Schema           *Schema
	PartitionColumns []string
	ColumnMapping    string // "none" or "name"
	Properties       map[string]string
}

// CommitRequest is one atomic append of data files.
type CommitRequest struct {
	// BaseVersion is the snapshot version the files were written against;
	// -1 creates the table with Setup.
	BaseVersion int64
	// TxnID is the safewrite transaction id, recorded in the commit
	// (Delta commitInfo, Iceberg snapshot summary) so recovery can find it.
	TxnID string
	// Setup is required when BaseVersion is -1, and nil otherwise.
	Setup *TableSetup
	// Files are the new data files.
	Files []DataFile
	// Idempotency is optional.
	Idempotency *IdempotencyKey
	// Operation is the operation name recorded in the commit ("WRITE").
	Operation string
	// MaxAttempts bounds rebases onto newer versions after a lost race.
	MaxAttempts int
	// EngineInfo is recorded in the commit, "safewrite/<version>".
	EngineInfo string
}

// CommitResult is the outcome of a successful Commit.
type CommitResult struct {
	// Version is the version that now holds the files.
	Version int64
	// Attempts counts put-if-absent attempts (1 when no race was lost).
	Attempts int
	// AlreadyApplied is true when the idempotency key showed that the
	// request was committed before; nothing was written.
	AlreadyApplied bool
}

// HistoryEntry is one commit as `history` lists it.
type HistoryEntry struct {
	Version    int64          `json:"version"`
	Timestamp  time.Time      `json:"timestamp"`
	Operation  string         `json:"operation"`
	TxnID      string         `json:"txnId,omitempty"`
	EngineInfo string         `json:"engineInfo,omitempty"`
	Parameters map[string]any `json:"operationParameters,omitempty"`
	Metrics    map[string]any `json:"operationMetrics,omitempty"`
}

// Table is a table of one format, rooted in one object store.
type Table interface {
	// Format returns the format name ("delta").
	Format() string

	// Load replays the table's metadata into the latest snapshot. A table
	// that does not exist yet gives Version -1 and no error; a folder that
	// holds something that is not a table of this format gives ErrNotTable.
	Load(ctx context.Context) (*Snapshot, error)

	// CheckAppend validates an append of rows with schema in against snap
	// (schema compatibility, column names, unsupported table features) and
	// returns the target schema that data files must be written with: field
	// order, types, physical names and field ids as the table stores them.
	// When snap.Version is -1 it also returns the TableSetup to create.
	CheckAppend(ctx context.Context, snap *Snapshot, in *Schema, opts AppendOptions) (*Schema, *TableSetup, error)

	// Commit publishes the files atomically. Errors: ErrConflict (nothing was
	// published), ErrCommitUnknown (it may have been published),
	// ErrUnsupportedFeature, or any error with neither (nothing published).
	Commit(ctx context.Context, req CommitRequest) (CommitResult, error)

	// FindTransaction looks at every commit after afterVersion for txnID and
	// returns the version that holds it, or found false.
	FindTransaction(ctx context.Context, txnID string, afterVersion int64) (version int64, found bool, err error)

	// History lists commits, newest first; limit <= 0 lists all.
	History(ctx context.Context, limit int) ([]HistoryEntry, error)

	// ReferencedFiles returns the data file keys referenced by the snapshot.
	ReferencedFiles(ctx context.Context) (map[string]bool, error)
}

// AppendOptions are the user's choices for an append.
type AppendOptions struct {
	PartitionColumns []string
	// ColumnMapping "name" enables Delta column mapping in name mode when the
	// table is created; "" leaves it off.
	ColumnMapping string
}

// MetadataFolders is implemented by formats that write metadata into
// folders of the table root. Recovery removes the stale temp files that a
// killed writer's put-if-absent leaves there on stores that use temp files.
type MetadataFolders interface {
	// MetadataFolders returns folder keys ending in "/", such as "_delta_log/".
	MetadataFolders() []string
}
