// Package baseline is the unprotected two-phase writer that the benchmarks
// and the kill-injection experiment compare safewrite with: it uploads the
// data files, then commits them, with no intent record, no recovery and no
// finalize. A kill between the two phases leaves files nothing refers to.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// Options configure Append.
type Options struct {
	// Rewrite re-encodes the input; without it a Parquet input that already
	// has the table's types is uploaded unchanged.
	Rewrite bool
	// TargetFileSize and Codec are passed to the data file writer.
	TargetFileSize int64
	Codec          string
	// EngineInfo is recorded in the commit.
	EngineInfo string
}

// Append appends one input to table with the same checks as safewrite's
// protected append and nothing that makes a kill recoverable. It returns the
// committed data files.
func Append(ctx context.Context, table format.Table, store objstore.Store, in format.Input, opts Options) ([]format.DataFile, error) {
	snap, err := table.Load(ctx)
	if err != nil {
		return nil, err
	}
	txnID := uuid.NewString()

	var (
		files []format.DataFile
		setup *format.TableSetup
	)
	pf, err := format.OpenParquetFile(in)
	if err == nil && !opts.Rewrite {
		files, setup, err = uploadUnchanged(ctx, table, snap, store, in, pf, txnID, opts)
	} else {
		files, setup, err = rewrite(ctx, table, snap, store, in, txnID, opts)
	}
	if err != nil {
		return nil, err
	}

	req := format.CommitRequest{
		BaseVersion: snap.Version, TxnID: txnID, Files: files,
		Operation: "WRITE", EngineInfo: opts.EngineInfo,
	}
	if snap.Version < 0 {
		req.Setup = setup
	}
	if _, err := table.Commit(ctx, req); err != nil {
		if errors.Is(err, format.ErrConflict) {
			return nil, fmt.Errorf("commit of the unprotected writer lost a race; its %d files stay behind: %w", len(files), err)
		}
		return nil, err
	}
	return files, nil
}

// uploadUnchanged uploads a Parquet input as it is when its types fit, and
// falls back to re-encoding it when they do not.
func uploadUnchanged(ctx context.Context, table format.Table, snap *format.Snapshot, store objstore.Store, in format.Input, pf *parquet.File, txnID string, opts Options) ([]format.DataFile, *format.TableSetup, error) {
	schema, err := format.ParquetSchema(pf)
	if err != nil {
		return nil, nil, err
	}
	target, setup, err := table.CheckAppend(ctx, snap, schema, format.AppendOptions{})
	if err != nil {
		return nil, nil, err
	}
	if ok, _ := format.CanPassThrough(pf, target, snap.PartitionColumns); !ok {
		return rewrite(ctx, table, snap, store, in, txnID, opts)
	}
	key := fmt.Sprintf("part-00000-%s-c000.parquet", txnID)
	if err := store.Put(ctx, key, io.NewSectionReader(in.ReaderAt, 0, in.Size), in.Size); err != nil {
		return nil, nil, fmt.Errorf("upload %s: %w", key, err)
	}
	stats, err := format.ParquetFooterStats(pf, target)
	if err != nil {
		return nil, nil, err
	}
	return []format.DataFile{{
		Path: key, Size: in.Size, ModificationTime: time.Now(), NumRecords: pf.NumRows(),
		PartitionValues: map[string]*string{}, Stats: stats,
	}}, setup, nil
}

func rewrite(ctx context.Context, table format.Table, snap *format.Snapshot, store objstore.Store, in format.Input, txnID string, opts Options) ([]format.DataFile, *format.TableSetup, error) {
	rows, err := format.OpenInput(ctx, in, format.InputOptions{})
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	target, setup, err := table.CheckAppend(ctx, snap, rows.Schema(), format.AppendOptions{})
	if err != nil {
		return nil, nil, err
	}
	conformed, err := format.Conform(rows, target, in.Name)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	seq := 0
	files, err := format.WriteDataFiles(ctx, conformed, format.WriterOptions{
		Schema:           target,
		PartitionColumns: snap.PartitionColumns,
		TargetFileSize:   opts.TargetFileSize,
		Codec:            opts.Codec,
		Store:            store,
		NewFile: func(_ context.Context, dir string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			key := fmt.Sprintf("%spart-%05d-%s-c000.snappy.parquet", dir, seq, txnID)
			seq++
			return key, nil
		},
	})
	return files, setup, err
}
