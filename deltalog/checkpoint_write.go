package deltalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/objstore"
)

// The checkpoint row types mirror the Parquet schema that Spark (Delta
// 3.0) writes for a classic checkpoint: one optional group per action,
// every leaf optional, maps as MAP<string, string> with optional values
// and lists as LIST<string>. parquet-go derives exactly that schema from
// these struct tags.

type sparkTxn struct {
	AppID       *string `parquet:"appId,optional"`
	Version     *int64  `parquet:"version,optional"`
	LastUpdated *int64  `parquet:"lastUpdated,optional"`
}

type sparkDeletionVector struct {
	StorageType    *string `parquet:"storageType,optional"`
	PathOrInlineDv *string `parquet:"pathOrInlineDv,optional"`
	Offset         *int32  `parquet:"offset,optional"`
	SizeInBytes    *int32  `parquet:"sizeInBytes,optional"`
	Cardinality    *int64  `parquet:"cardinality,optional"`
	MaxRowIndex    *int64  `parquet:"maxRowIndex,optional"`
}

type sparkAdd struct {
	Path                    *string              `parquet:"path,optional"`
	PartitionValues         map[string]*string   `parquet:"partitionValues,optional"`
	Size                    *int64               `parquet:"size,optional"`
	ModificationTime        *int64               `parquet:"modificationTime,optional"`
	DataChange              *bool                `parquet:"dataChange,optional"`
	Tags                    map[string]*string   `parquet:"tags,optional"`
	DeletionVector          *sparkDeletionVector `parquet:"deletionVector,optional"`
	BaseRowID               *int64               `parquet:"baseRowId,optional"`
	DefaultRowCommitVersion *int64               `parquet:"defaultRowCommitVersion,optional"`
	Stats                   *string              `parquet:"stats,optional"`
}

type sparkRemove struct {
	Path                    *string              `parquet:"path,optional"`
	DeletionTimestamp       *int64               `parquet:"deletionTimestamp,optional"`
	DataChange              *bool                `parquet:"dataChange,optional"`
	ExtendedFileMetadata    *bool                `parquet:"extendedFileMetadata,optional"`
	PartitionValues         map[string]*string   `parquet:"partitionValues,optional"`
	Size                    *int64               `parquet:"size,optional"`
	DeletionVector          *sparkDeletionVector `parquet:"deletionVector,optional"`
	BaseRowID               *int64               `parquet:"baseRowId,optional"`
	DefaultRowCommitVersion *int64               `parquet:"defaultRowCommitVersion,optional"`
}

type sparkFormat struct {
	Provider *string            `parquet:"provider,optional"`
	Options  map[string]*string `parquet:"options,optional"`
}

type sparkMetadata struct {
	ID               *string            `parquet:"id,optional"`
	Name             *string            `parquet:"name,optional"`
	Description      *string            `parquet:"description,optional"`
	Format           *sparkFormat       `parquet:"format,optional"`
	SchemaString     *string            `parquet:"schemaString,optional"`
	PartitionColumns []*string          `parquet:"partitionColumns,optional,list"`
	Configuration    map[string]*string `parquet:"configuration,optional"`
	CreatedTime      *int64             `parquet:"createdTime,optional"`
}

type sparkProtocol struct {
	MinReaderVersion *int32    `parquet:"minReaderVersion,optional"`
	MinWriterVersion *int32    `parquet:"minWriterVersion,optional"`
	ReaderFeatures   []*string `parquet:"readerFeatures,optional,list"`
	WriterFeatures   []*string `parquet:"writerFeatures,optional,list"`
}

type sparkCheckpointRow struct {
	Txn      *sparkTxn      `parquet:"txn,optional"`
	Add      *sparkAdd      `parquet:"add,optional"`
	Remove   *sparkRemove   `parquet:"remove,optional"`
	MetaData *sparkMetadata `parquet:"metaData,optional"`
	Protocol *sparkProtocol `parquet:"protocol,optional"`
}

// lastCheckpoint is the content of _delta_log/_last_checkpoint.
type lastCheckpoint struct {
	Version       int64 `json:"version"`
	Size          int64 `json:"size"`
	SizeInBytes   int64 `json:"sizeInBytes"`
	NumOfAddFiles int64 `json:"numOfAddFiles"`
}

// CheckpointKey returns the key of the classic single-file checkpoint of version.
func CheckpointKey(version int64) string {
	return fmt.Sprintf("%s%020d.checkpoint.parquet", LogDir, version)
}

// WriteCheckpoint writes a classic single-file checkpoint of version and
// then points _delta_log/_last_checkpoint at it. A checkpoint that already
// exists is left as it is. Both objects are derived data written with Put:
// a crash after the checkpoint and before _last_checkpoint leaves a valid
// checkpoint that readers find by listing, and a crash before it leaves
// the log as it was.
//
// TODO: the checkpoint contains no remove tombstones because Snapshot does
// not keep them; Spark keeps unexpired tombstones so that VACUUM of an old
// version's files waits for the retention period.
func (t *Table) WriteCheckpoint(ctx context.Context, version int64) error {
	key := CheckpointKey(version)
	if _, err := t.store.Stat(ctx, key); err == nil {
		return nil
	} else if !errors.Is(err, objstore.ErrNotFound) {
		return fmt.Errorf("checkpoint table %s version %d: stat %s: %w", t.uri, version, key, err)
	}

	snap, err := LoadSnapshotAt(ctx, t.store, t.uri, version)
	if err != nil {
		return fmt.Errorf("checkpoint table %s version %d: load the snapshot: %w", t.uri, version, err)
	}
	rows := sparkCheckpointRows(snap)
	data, err := encodeCheckpoint(rows)
	if err != nil {
		return fmt.Errorf("checkpoint table %s version %d: encode %s: %w", t.uri, version, key, err)
	}
	if err := t.store.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("checkpoint table %s version %d: put %s: %w", t.uri, version, key, err)
	}

	last, err := json.Marshal(lastCheckpoint{
		Version:       version,
		Size:          int64(len(rows)),
		SizeInBytes:   int64(len(data)),
		NumOfAddFiles: int64(len(snap.Files)),
	})
	if err != nil {
		return fmt.Errorf("checkpoint table %s version %d: encode _last_checkpoint: %w", t.uri, version, err)
	}
	if err := t.store.Put(ctx, LastCheckpointKey, bytes.NewReader(last), int64(len(last))); err != nil {
		return fmt.Errorf("checkpoint table %s version %d: put %s: %w", t.uri, version, LastCheckpointKey, err)
	}
	t.log.Info("delta checkpoint written", "table", t.uri, "version", version, "key", key, "actions", len(rows))
	return nil
}

// sparkCheckpointRows lists the actions of snap in checkpoint order: protocol,
// metadata, transactions by app id, then adds by path.
func sparkCheckpointRows(snap *Snapshot) []sparkCheckpointRow {
	var rows []sparkCheckpointRow
	if p := snap.Protocol; p != nil {
		rows = append(rows, sparkCheckpointRow{Protocol: &sparkProtocol{
			MinReaderVersion: ptr(int32(p.MinReaderVersion)),
			MinWriterVersion: ptr(int32(p.MinWriterVersion)),
			ReaderFeatures:   stringPtrs(p.ReaderFeatures),
			WriterFeatures:   stringPtrs(p.WriterFeatures),
		}})
	}
	if m := snap.Metadata; m != nil {
		rows = append(rows, sparkCheckpointRow{MetaData: &sparkMetadata{
			ID:          ptr(m.ID),
			Name:        m.Name,
			Description: m.Description,
			Format: &sparkFormat{
				Provider: ptr(m.Format.Provider),
				Options:  stringMap(m.Format.Options),
			},
			SchemaString:     ptr(m.SchemaString),
			PartitionColumns: nonNilPtrs(stringPtrs(m.PartitionColumns)),
			Configuration:    stringMap(m.Configuration),
			CreatedTime:      m.CreatedTime,
		}})
	}

	apps := make([]string, 0, len(snap.AppVersions))
	for app := range snap.AppVersions {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	for _, app := range apps {
		rows = append(rows, sparkCheckpointRow{Txn: &sparkTxn{
			AppID:   ptr(app),
			Version: ptr(snap.AppVersions[app]),
		}})
	}

	adds := make([]*Add, 0, len(snap.Files))
	for _, add := range snap.Files {
		adds = append(adds, add)
	}
	sort.Slice(adds, func(i, j int) bool { return adds[i].Path < adds[j].Path })
	for _, a := range adds {
		row := &sparkAdd{
			Path:                    ptr(a.Path),
			PartitionValues:         a.PartitionValues,
			Size:                    ptr(a.Size),
			ModificationTime:        ptr(a.ModificationTime),
			DataChange:              ptr(false), // a checkpoint changes no data
			Tags:                    stringMapOrNil(a.Tags),
			BaseRowID:               a.BaseRowID,
			DefaultRowCommitVersion: a.DefaultRowCommit,
		}
		if row.PartitionValues == nil {
			row.PartitionValues = map[string]*string{}
		}
		if a.Stats != "" {
			row.Stats = ptr(a.Stats)
		}
		if dv := a.DeletionVector; dv != nil {
			row.DeletionVector = &sparkDeletionVector{
				StorageType:    ptr(dv.StorageType),
				PathOrInlineDv: ptr(dv.PathOrInlineDv),
				Offset:         dv.Offset,
				SizeInBytes:    ptr(dv.SizeInBytes),
				Cardinality:    ptr(dv.Cardinality),
			}
		}
		rows = append(rows, sparkCheckpointRow{Add: row})
	}
	return rows
}

// encodeCheckpoint writes rows as one snappy-compressed Parquet file whose
// root is named spark_schema, as Spark names it.
func encodeCheckpoint(rows []sparkCheckpointRow) ([]byte, error) {
	var buf bytes.Buffer
	schema := parquet.NewSchema("spark_schema", parquet.SchemaOf(sparkCheckpointRow{}))
	w := parquet.NewGenericWriter[sparkCheckpointRow](&buf, schema, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(rows); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

func stringPtrs(s []string) []*string {
	if s == nil {
		return nil
	}
	out := make([]*string, len(s))
	for i := range s {
		out[i] = ptr(s[i])
	}
	return out
}

func nonNilPtrs(s []*string) []*string {
	if s == nil {
		return []*string{}
	}
	return s
}

// stringMap converts m to the map type of a checkpoint; nil becomes empty.
func stringMap(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = ptr(v)
	}
	return out
}

func stringMapOrNil(m map[string]string) map[string]*string {
	if m == nil {
		return nil
	}
	return stringMap(m)
}
