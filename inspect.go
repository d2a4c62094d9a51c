package safewrite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
)

// Info is what Inspect reports about a table. JSON keys are stable: scripts
// read them from `safewrite inspect --json`.
type Info struct {
	Format  string `json:"format"`
	Table   string `json:"table"`
	Exists  bool   `json:"exists"`
	Version int64  `json:"version"`
	// NumFiles, NumRecords and SizeBytes describe the active data files.
	// NumRecords is -1 when a file has no record count in its statistics.
	NumFiles         int64             `json:"numFiles"`
	NumRecords       int64             `json:"numRecords"`
	SizeBytes        int64             `json:"sizeBytes"`
	PartitionColumns []string          `json:"partitionColumns"`
	Columns          []ColumnInfo      `json:"columns"`
	Protocol         *ProtocolInfo     `json:"protocol,omitempty"`
	Properties       map[string]string `json:"properties,omitempty"`
	LastCommit       *time.Time        `json:"lastCommit,omitempty"`
	// CheckpointVersion is the newest checkpoint used by the replay, -1 for none.
	CheckpointVersion int64 `json:"checkpointVersion"`
	// PendingIntents counts intent records of transactions not settled yet.
	PendingIntents int              `json:"pendingIntents"`
	Intents        []IntentInfo     `json:"intents"`
	AppVersions    map[string]int64 `json:"appVersions,omitempty"`
	// WriteBlocker is set when safewrite cannot append to this table; it
	// names the feature.
	WriteBlocker string `json:"writeBlocker,omitempty"`
}

// ColumnInfo is one column of the table schema.
type ColumnInfo struct {
	Name         string `json:"name"`
	Type         string `json:"type"`
	Nullable     bool   `json:"nullable"`
	PhysicalName string `json:"physicalName,omitempty"`
}

// ProtocolInfo is the Delta protocol action.
type ProtocolInfo struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// IntentInfo summarizes one pending intent.
type IntentInfo struct {
	TxnID       string    `json:"txnId"`
	BaseVersion int64     `json:"baseVersion"`
	Deadline    time.Time `json:"deadline"`
	Expired     bool      `json:"expired"`
	Objects     int       `json:"objects"`
}

// Inspect reads the table's latest version and its pending intents.
func (t *Table) Inspect(ctx context.Context) (*Info, error) {
	info := &Info{Format: "delta", Table: t.uri, Version: -1, CheckpointVersion: -1, Intents: []IntentInfo{}, PartitionColumns: []string{}, Columns: []ColumnInfo{}}
	snap, err := t.delta.DeltaSnapshot(ctx)
	switch {
	case errors.Is(err, deltalog.ErrNoTable):
		// A table that has no commit yet may still have pending intents.
		if _, loadErr := t.delta.Load(ctx); loadErr != nil {
			return nil, loadErr
		}
	case err != nil:
		return nil, err
	default:
		if err := fillSnapshotInfo(info, snap, t.uri); err != nil {
			return nil, err
		}
	}

	intents, unreadable, err := commit.ListIntents(ctx, t.store)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: list intents: %w", t.uri, err)
	}
	now := time.Now()
	for _, in := range intents {
		info.Intents = append(info.Intents, IntentInfo{
			TxnID: in.TxnID, BaseVersion: in.BaseVersion, Deadline: in.Deadline,
			Expired: now.After(in.Deadline), Objects: len(in.Objects),
		})
	}
	info.PendingIntents = len(intents) + len(unreadable)
	return info, nil
}

func fillSnapshotInfo(info *Info, snap *deltalog.Snapshot, uri string) error {
	info.Exists = true
	info.Version = snap.Version
	info.CheckpointVersion = snap.CheckpointVersion
	ts := snap.Timestamp
	info.LastCommit = &ts
	info.NumFiles = int64(len(snap.Files))
	for _, add := range snap.Files {
		info.SizeBytes += add.Size
	}
	info.NumRecords = countRecords(snap)
	if p := snap.Protocol; p != nil {
		info.Protocol = &ProtocolInfo{
			MinReaderVersion: p.MinReaderVersion, MinWriterVersion: p.MinWriterVersion,
			ReaderFeatures: p.ReaderFeatures, WriterFeatures: p.WriterFeatures,
		}
	}
	if m := snap.Metadata; m != nil {
		info.PartitionColumns = append(info.PartitionColumns, m.PartitionColumns...)
		info.Properties = m.Configuration
		// Some hand-made logs have no schemaString; the table then lists no columns.
		schema := &format.Schema{}
		if m.SchemaString != "" {
			var err error
			if schema, err = deltalog.SchemaFromJSON(m.SchemaString); err != nil {
				return fmt.Errorf("inspect %s: %w", uri, err)
			}
		}
		for _, f := range schema.Fields {
			col := ColumnInfo{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
			if f.PhysicalName != f.Name {
				col.PhysicalName = f.PhysicalName
			}
			info.Columns = append(info.Columns, col)
		}
	}
	if len(snap.AppVersions) > 0 {
		info.AppVersions = snap.AppVersions
	}
	if err := deltalog.CheckWriteSupported(snap.Protocol, snap.Metadata, uri); err != nil {
		info.WriteBlocker = err.Error()
	}
	return nil
}

// countRecords sums numRecords from the files' statistics, less the rows
// that deletion vectors mark deleted; -1 when a file has no record count.
func countRecords(snap *deltalog.Snapshot) int64 {
	var total int64
	for _, add := range snap.Files {
		var stats struct {
			NumRecords *int64 `json:"numRecords"`
		}
		if add.Stats == "" || json.Unmarshal([]byte(add.Stats), &stats) != nil || stats.NumRecords == nil {
			return -1
		}
		total += *stats.NumRecords
		if add.DeletionVector != nil {
			total -= add.DeletionVector.Cardinality
		}
	}
	return total
}
