package deltalog

import (
	"encoding/json"
)

// Action is one line of a Delta commit file: exactly one field is set.
// Field names and JSON keys follow the Delta Lake protocol
// (PROTOCOL.md, "Actions"); unknown keys are ignored when reading.
type Action struct {
	Protocol   *Protocol   `json:"protocol,omitempty"`
	MetaData   *Metadata   `json:"metaData,omitempty"`
	Add        *Add        `json:"add,omitempty"`
	Remove     *Remove     `json:"remove,omitempty"`
	Txn        *Txn        `json:"txn,omitempty"`
	CommitInfo *CommitInfo `json:"commitInfo,omitempty"`
	// CheckpointMetadata and Sidecar appear only in V2 checkpoints.
	CheckpointMetadata *json.RawMessage `json:"checkpointMetadata,omitempty"`
	Sidecar            *Sidecar         `json:"sidecar,omitempty"`
	// DomainMetadata and Cdc are read so they can be reported; safewrite
	// never writes them.
	DomainMetadata *json.RawMessage `json:"domainMetadata,omitempty"`
	Cdc            *json.RawMessage `json:"cdc,omitempty"`
}

// Protocol is the protocol action: the reader and writer versions and, from
// reader 3 / writer 7 on, the named table features.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// Format is the data file format of the metaData action.
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// Metadata is the metaData action.
type Metadata struct {
	ID               string            `json:"id"`
	Name             *string           `json:"name,omitempty"`
	Description      *string           `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      *int64            `json:"createdTime,omitempty"`
}

// DeletionVector is the deletionVector descriptor of an add or remove action.
type DeletionVector struct {
	StorageType    string `json:"storageType"`
	PathOrInlineDv string `json:"pathOrInlineDv"`
	Offset         *int32 `json:"offset,omitempty"`
	SizeInBytes    int32  `json:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality"`
	MaxRowIndex    *int64 `json:"maxRowIndex,omitempty"`
}

// Add is the add action. Path is a URL-encoded relative path (or an absolute URI).
type Add struct {
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	ModificationTime int64              `json:"modificationTime"`
	DataChange       bool               `json:"dataChange"`
	Stats            string             `json:"stats,omitempty"`
	Tags             map[string]string  `json:"tags,omitempty"`
	DeletionVector   *DeletionVector    `json:"deletionVector,omitempty"`
	BaseRowID        *int64             `json:"baseRowId,omitempty"`
	DefaultRowCommit *int64             `json:"defaultRowCommitVersion,omitempty"`
}

// Remove is the remove action.
type Remove struct {
	Path                 string             `json:"path"`
	DeletionTimestamp    *int64             `json:"deletionTimestamp,omitempty"`
	DataChange           bool               `json:"dataChange"`
	ExtendedFileMetadata *bool              `json:"extendedFileMetadata,omitempty"`
	PartitionValues      map[string]*string `json:"partitionValues,omitempty"`
	Size                 *int64             `json:"size,omitempty"`
	Tags                 map[string]string  `json:"tags,omitempty"`
	DeletionVector       *DeletionVector    `json:"deletionVector,omitempty"`
}

// Txn is the transaction identifier action used for idempotent writes.
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated *int64 `json:"lastUpdated,omitempty"`
}

// CommitInfo is the commitInfo action. Delta leaves its content free-form;
// safewrite writes these keys and stores its transaction id in "txnId"
// (the key Spark uses for its own transaction id since Delta 2.x) and in
// "safewrite.txnId".
type CommitInfo struct {
	Timestamp           int64          `json:"timestamp"`
	Operation           string         `json:"operation"`
	OperationParameters map[string]any `json:"operationParameters,omitempty"`
	ReadVersion         *int64         `json:"readVersion,omitempty"`
	IsolationLevel      string         `json:"isolationLevel,omitempty"`
	IsBlindAppend       *bool          `json:"isBlindAppend,omitempty"`
	OperationMetrics    map[string]any `json:"operationMetrics,omitempty"`
	EngineInfo          string         `json:"engineInfo,omitempty"`
	TxnID               string         `json:"txnId,omitempty"`
	SafewriteTxnID      string         `json:"safewrite.txnId,omitempty"`
	// InCommitTimestamp is set when the inCommitTimestamp feature is on; it
	// is then the commit time, in milliseconds since the epoch.
	InCommitTimestamp *int64 `json:"inCommitTimestamp,omitempty"`
}

// Sidecar is a V2 checkpoint sidecar reference.
type Sidecar struct {
	Path             string `json:"path"`
	SizeInBytes      int64  `json:"sizeInBytes"`
	ModificationTime int64  `json:"modificationTime"`
}
