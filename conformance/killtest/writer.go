package killtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/baseline"
	"github.com/safewrite/safewrite/objstore"
)

// Writer modes of the killtest-writer child.
const (
	// ModeUnprotected uploads data files and commits them with no intent
	// record: the two-phase writer the experiment measures as a baseline.
	ModeUnprotected = "unprotected"
	// ModeProtected runs safewrite's append, as `safewrite append --rewrite`
	// does, so that its crash points can be targeted.
	ModeProtected = "protected"
	// ModeRecover runs safewrite's recovery with force, as `safewrite
	// recover --force` does, so that its crash points can be targeted.
	ModeRecover = "recover"
)

// WriterConfig is one run of the killtest-writer child.
type WriterConfig struct {
	Mode   string
	Format Format
	// Table is the table folder; Input the Parquet file whose rows are written.
	Table string
	Input string
	// Timeout is the protected writer's deadline, as `append --timeout` sets it.
	Timeout time.Duration
	// TargetFileSize rolls data files at this many bytes.
	TargetFileSize int64
	// PauseAt is the crash point to stop at; "" runs to the end.
	PauseAt string
	// Trace prints every crash point passed on Out.
	Trace bool
	Out   io.Writer
}

// RunWriter runs one write (or one recovery) through a PointStore.
func RunWriter(ctx context.Context, cfg WriterConfig) error {
	if cfg.Format == nil {
		cfg.Format = Delta{}
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	inner, err := objstore.NewLocal(cfg.Table)
	if err != nil {
		return err
	}
	store := NewPointStore(inner, cfg.Format.MetadataFolders(), cfg.PauseAt, cfg.Trace, &lineWriter{w: cfg.Out})
	switch cfg.Mode {
	case ModeUnprotected:
		return writeUnprotected(ctx, cfg, store)
	case ModeProtected:
		tbl, err := safewrite.Open(ctx, inner.URI(), safewrite.Options{Store: store, Format: cfg.Format.Name()})
		if err != nil {
			return err
		}
		_, err = tbl.AppendFiles(ctx, []string{cfg.Input}, safewrite.AppendOptions{
			Timeout: cfg.Timeout, TargetFileSize: cfg.TargetFileSize, Rewrite: true,
		})
		return err
	case ModeRecover:
		tbl, err := safewrite.Open(ctx, inner.URI(), safewrite.Options{Store: store, Format: cfg.Format.Name()})
		if err != nil {
			return err
		}
		_, err = tbl.Recover(ctx, commit.RecoverOptions{Force: true})
		return err
	default:
		return fmt.Errorf("invalid writer mode %q: use %s, %s or %s", cfg.Mode, ModeUnprotected, ModeProtected, ModeRecover)
	}
}

// writeUnprotected is the baseline writer: upload the data files, then
// commit them in one log entry. Nothing records the transaction before the
// commit, so a kill between the two phases leaves files that nothing refers to.
func writeUnprotected(ctx context.Context, cfg WriterConfig, store objstore.Store) error {
	f, err := os.Open(cfg.Input)
	if err != nil {
		return fmt.Errorf("open input %s: %w", cfg.Input, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open input %s: %w", cfg.Input, err)
	}
	in := format.Input{Name: cfg.Input, Reader: f, ReaderAt: f, Size: info.Size()}
	_, err = baseline.Append(ctx, cfg.Format.Open(store), store, in, baseline.Options{
		Rewrite: true, TargetFileSize: cfg.TargetFileSize, Codec: "snappy",
		EngineInfo: "safewrite-killtest/unprotected",
	})
	return err
}

// lineWriter serializes whole lines from concurrent uploads.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
