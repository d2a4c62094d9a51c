package deltalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// checkpointRef is one complete checkpoint: a single file, a V2 top-level
// file, or every part of a multi-part checkpoint in part order.
type checkpointRef struct {
	version int64
	kind    EntryKind
	keys    []string
	modTime time.Time
}

// newestCheckpoint returns the newest complete checkpoint at or before
// target. A multi-part checkpoint counts only when all of its parts are
// listed. At one version a classic single file is preferred, then a V2
// checkpoint, then a multi-part one; each contains the same state.
func newestCheckpoint(entries []LogEntry, target int64) (checkpointRef, bool) {
	type partsKey struct {
		version int64
		parts   int
	}
	parts := make(map[partsKey][]LogEntry)
	var best checkpointRef
	found := false
	better := func(c checkpointRef) bool {
		if !found || c.version > best.version {
			return true
		}
		return c.version == best.version && kindRank(c.kind) < kindRank(best.kind)
	}

	for _, e := range entries {
		if e.Version > target {
			continue
		}
		switch e.Kind {
		case KindCheckpoint, KindCheckpointV2:
			c := checkpointRef{version: e.Version, kind: e.Kind, keys: []string{e.Key}, modTime: e.ModTime}
			if better(c) {
				best, found = c, true
			}
		case KindCheckpointPart:
			k := partsKey{e.Version, e.Parts}
			parts[k] = append(parts[k], e)
		}
	}

	for k, list := range parts {
		byPart := make(map[int]LogEntry, len(list))
		for _, e := range list {
			byPart[e.Part] = e
		}
		if len(byPart) != k.parts {
			continue // incomplete: a writer may still be uploading parts
		}
		c := checkpointRef{version: k.version, kind: KindCheckpointPart}
		for i := 1; i <= k.parts; i++ {
			c.keys = append(c.keys, byPart[i].Key)
			if byPart[i].ModTime.After(c.modTime) {
				c.modTime = byPart[i].ModTime
			}
		}
		if better(c) {
			best, found = c, true
		}
	}
	return best, found
}

func kindRank(k EntryKind) int {
	switch k {
	case KindCheckpoint:
		return 0
	case KindCheckpointV2:
		return 1
	default:
		return 2
	}
}

// readCheckpoint reads every action of a checkpoint, including the add and
// remove actions of V2 sidecar files.
func readCheckpoint(ctx context.Context, store objstore.Store, cp checkpointRef) ([]Action, error) {
	var actions []Action
	for _, key := range cp.keys {
		part, err := readCheckpointFile(ctx, store, key)
		if err != nil {
			return nil, err
		}
		actions = append(actions, part...)
	}

	var sidecars []Action
	for _, a := range actions {
		if a.Sidecar == nil {
			continue
		}
		key, err := sidecarKey(store, a.Sidecar.Path)
		if err != nil {
			return nil, fmt.Errorf("%w: checkpoint %s: %v", format.ErrCorruptTable, cp.keys[0], err)
		}
		part, err := readCheckpointFile(ctx, store, key)
		if err != nil {
			if errors.Is(err, objstore.ErrNotFound) {
				return nil, fmt.Errorf("%w: checkpoint %s names sidecar %s, which does not exist", format.ErrCorruptTable, cp.keys[0], key)
			}
			return nil, err
		}
		sidecars = append(sidecars, part...)
	}
	return append(actions, sidecars...), nil
}

// sidecarKey resolves a sidecar path, which the protocol stores relative to
// _delta_log/_sidecars/ (usually a bare file name, URL-encoded). An
// absolute URI is accepted only when it points into this table's sidecar folder.
func sidecarKey(store objstore.Store, p string) (string, error) {
	if strings.Contains(p, "://") {
		prefix := strings.TrimSuffix(store.URI(), "/") + "/" + SidecarDir
		if !strings.HasPrefix(p, prefix) {
			return "", fmt.Errorf("sidecar path %q is outside the table's %s folder", p, SidecarDir)
		}
		p = strings.TrimPrefix(p, prefix)
	}
	name, err := url.PathUnescape(p)
	if err != nil {
		return "", fmt.Errorf("sidecar path %q is not valid URL encoding: %v", p, err)
	}
	key := SidecarDir + name
	if err := objstore.ValidateKey(key); err != nil {
		return "", fmt.Errorf("sidecar path %q: %v", p, err)
	}
	return key, nil
}

func readCheckpointFile(ctx context.Context, store objstore.Store, key string) ([]Action, error) {
	data, err := objstore.ReadAll(ctx, store, key)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint file %s: %w", key, err)
	}
	if strings.HasSuffix(key, ".json") {
		return ParseActions(key, data)
	}
	return parseParquetCheckpoint(key, data)
}

// parseParquetCheckpoint reads checkpoint rows. The file is held in memory.
// NOTE: a checkpoint of a table with millions of files is hundreds of MB;
// streaming it through GetRange would bound memory.
func parseParquetCheckpoint(key string, data []byte) ([]Action, error) {
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: checkpoint file %s is not valid Parquet: %v", format.ErrCorruptTable, key, err)
	}
	r := parquet.NewGenericReader[checkpointRow](f)
	defer r.Close()

	var actions []Action
	buf := make([]checkpointRow, 256)
	for {
		n, err := r.Read(buf)
		for i := range buf[:n] {
			if a, ok := buf[i].action(); ok {
				actions = append(actions, a)
			}
			buf[i] = checkpointRow{}
		}
		if errors.Is(err, io.EOF) {
			return actions, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: checkpoint file %s: read rows: %v", format.ErrCorruptTable, key, err)
		}
	}
}

// checkpointRow is one row of a Parquet checkpoint: at most one action
// column is set. Columns the file lacks read as nil; columns this type
// lacks (stats_parsed, partitionValues_parsed, domainMetadata) are skipped.
type checkpointRow struct {
	Txn      *cpTxn      `parquet:"txn,optional"`
	Add      *cpAdd      `parquet:"add,optional"`
	Remove   *cpRemove   `parquet:"remove,optional"`
	MetaData *cpMetadata `parquet:"metaData,optional"`
	Protocol *cpProtocol `parquet:"protocol,optional"`
	Sidecar  *cpSidecar  `parquet:"sidecar,optional"`
}

type cpTxn struct {
	AppID       *string `parquet:"appId,optional"`
	Version     int64   `parquet:"version,optional"`
	LastUpdated *int64  `parquet:"lastUpdated,optional"`
}

type cpDeletionVector struct {
	StorageType    string `parquet:"storageType,optional"`
	PathOrInlineDv string `parquet:"pathOrInlineDv,optional"`
	Offset         *int32 `parquet:"offset,optional"`
	SizeInBytes    int32  `parquet:"sizeInBytes,optional"`
	Cardinality    int64  `parquet:"cardinality,optional"`
	MaxRowIndex    *int64 `parquet:"maxRowIndex,optional"`
}

type cpAdd struct {
	Path             *string            `parquet:"path,optional"`
	PartitionValues  map[string]*string `parquet:"partitionValues,optional"`
	Size             int64              `parquet:"size,optional"`
	ModificationTime int64              `parquet:"modificationTime,optional"`
	DataChange       bool               `parquet:"dataChange,optional"`
	Stats            *string            `parquet:"stats,optional"`
	Tags             map[string]*string `parquet:"tags,optional"`
	DeletionVector   *cpDeletionVector  `parquet:"deletionVector,optional"`
	BaseRowID        *int64             `parquet:"baseRowId,optional"`
	DefaultRowCommit *int64             `parquet:"defaultRowCommitVersion,optional"`
}

type cpRemove struct {
	Path                 *string            `parquet:"path,optional"`
	DeletionTimestamp    *int64             `parquet:"deletionTimestamp,optional"`
	DataChange           bool               `parquet:"dataChange,optional"`
	ExtendedFileMetadata *bool              `parquet:"extendedFileMetadata,optional"`
	PartitionValues      map[string]*string `parquet:"partitionValues,optional"`
	Size                 *int64             `parquet:"size,optional"`
	DeletionVector       *cpDeletionVector  `parquet:"deletionVector,optional"`
}

type cpFormat struct {
	Provider string             `parquet:"provider,optional"`
	Options  map[string]*string `parquet:"options,optional"`
}

type cpMetadata struct {
	ID               *string            `parquet:"id,optional"`
	Name             *string            `parquet:"name,optional"`
	Description      *string            `parquet:"description,optional"`
	Format           *cpFormat          `parquet:"format,optional"`
	SchemaString     *string            `parquet:"schemaString,optional"`
	PartitionColumns []string           `parquet:"partitionColumns,optional,list"`
	Configuration    map[string]*string `parquet:"configuration,optional"`
	CreatedTime      *int64             `parquet:"createdTime,optional"`
}

type cpProtocol struct {
	MinReaderVersion *int32   `parquet:"minReaderVersion,optional"`
	MinWriterVersion *int32   `parquet:"minWriterVersion,optional"`
	ReaderFeatures   []string `parquet:"readerFeatures,optional,list"`
	WriterFeatures   []string `parquet:"writerFeatures,optional,list"`
}

type cpSidecar struct {
	Path             *string `parquet:"path,optional"`
	SizeInBytes      int64   `parquet:"sizeInBytes,optional"`
	ModificationTime int64   `parquet:"modificationTime,optional"`
}

// action converts a row to an Action; ok is false for a row with no action
// this package uses (such as domainMetadata or checkpointMetadata).
func (r *checkpointRow) action() (Action, bool) {
	switch {
	case r.Add != nil && r.Add.Path != nil:
		a := r.Add
		add := &Add{
			Path:             *a.Path,
			PartitionValues:  a.PartitionValues,
			Size:             a.Size,
			ModificationTime: a.ModificationTime,
			DataChange:       a.DataChange,
			Tags:             derefMap(a.Tags),
			DeletionVector:   a.DeletionVector.convert(),
			BaseRowID:        a.BaseRowID,
			DefaultRowCommit: a.DefaultRowCommit,
		}
		if add.PartitionValues == nil {
			add.PartitionValues = map[string]*string{}
		}
		if a.Stats != nil {
			add.Stats = *a.Stats
		}
		return Action{Add: add}, true
	case r.Remove != nil && r.Remove.Path != nil:
		rm := r.Remove
		return Action{Remove: &Remove{
			Path:                 *rm.Path,
			DeletionTimestamp:    rm.DeletionTimestamp,
			DataChange:           rm.DataChange,
			ExtendedFileMetadata: rm.ExtendedFileMetadata,
			PartitionValues:      rm.PartitionValues,
			Size:                 rm.Size,
			DeletionVector:       rm.DeletionVector.convert(),
		}}, true
	case r.MetaData != nil && r.MetaData.ID != nil:
		m := r.MetaData
		md := &Metadata{
			ID:               *m.ID,
			Name:             m.Name,
			Description:      m.Description,
			PartitionColumns: m.PartitionColumns,
			Configuration:    derefMap(m.Configuration),
			CreatedTime:      m.CreatedTime,
		}
		if md.PartitionColumns == nil {
			md.PartitionColumns = []string{}
		}
		if md.Configuration == nil {
			md.Configuration = map[string]string{}
		}
		if m.SchemaString != nil {
			md.SchemaString = *m.SchemaString
		}
		if m.Format != nil {
			md.Format = Format{Provider: m.Format.Provider, Options: derefMap(m.Format.Options)}
		}
		if md.Format.Options == nil {
			md.Format.Options = map[string]string{}
		}
		return Action{MetaData: md}, true
	case r.Protocol != nil && r.Protocol.MinReaderVersion != nil:
		p := r.Protocol
		proto := &Protocol{
			MinReaderVersion: int(*p.MinReaderVersion),
			ReaderFeatures:   p.ReaderFeatures,
			WriterFeatures:   p.WriterFeatures,
		}
		if p.MinWriterVersion != nil {
			proto.MinWriterVersion = int(*p.MinWriterVersion)
		}
		return Action{Protocol: proto}, true
	case r.Txn != nil && r.Txn.AppID != nil:
		return Action{Txn: &Txn{AppID: *r.Txn.AppID, Version: r.Txn.Version, LastUpdated: r.Txn.LastUpdated}}, true
	case r.Sidecar != nil && r.Sidecar.Path != nil:
		return Action{Sidecar: &Sidecar{Path: *r.Sidecar.Path, SizeInBytes: r.Sidecar.SizeInBytes, ModificationTime: r.Sidecar.ModificationTime}}, true
	}
	return Action{}, false
}

func (dv *cpDeletionVector) convert() *DeletionVector {
	if dv == nil || dv.StorageType == "" {
		return nil
	}
	return &DeletionVector{
		StorageType:    dv.StorageType,
		PathOrInlineDv: dv.PathOrInlineDv,
		Offset:         dv.Offset,
		SizeInBytes:    dv.SizeInBytes,
		Cardinality:    dv.Cardinality,
		MaxRowIndex:    dv.MaxRowIndex,
	}
}

// derefMap converts a Parquet string map with nullable values; a null
// value becomes "".
func derefMap(m map[string]*string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}
