package killtest

import (
	"context"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/safewrite/safewrite/objstore"
)

// PauseEnv is the environment variable that names the crash point at which
// the killtest-writer child stops and waits to be killed. Only the hidden
// killtest-writer verb reads it.
const PauseEnv = "SAFEWRITE_KILLTEST_PAUSE_AT"

// Point kinds, one per durable step that a writer or a recoverer takes.
const (
	KindIntent   = "intent"   // Put of _safewrite/intents/<txn>.json
	KindUpload   = "upload"   // Put of a data file
	KindCommit   = "commit"   // PutIfAbsent of a log entry
	KindLog      = "log"      // any other write in a metadata folder (checkpoints)
	KindFinalize = "finalize" // Delete of an intent
	KindCleanup  = "cleanup"  // Delete of staged data files
	KindOutcome  = "outcome"  // Put of _safewrite/outcomes/<txn>.json
)

var commitKeyRE = regexp.MustCompile(`^[0-9]{20}\.json$`)

// PointStore wraps a Store and names every write it passes as a crash
// point "before-<kind>-<n>" and "after-<kind>-<n>", where n counts the
// writes of that kind from 1. At the point named by pauseAt it prints
// "at <point>" on out and blocks forever, so that the parent process can
// kill it exactly there. With trace set it prints "pass <point>" for every
// point, which is how the parent learns the points of a write.
type PointStore struct {
	inner    objstore.Store
	metadata []string
	pauseAt  string
	trace    bool
	out      io.Writer

	mu     sync.Mutex
	counts map[string]int
}

// NewPointStore wraps inner. metadata are the format's metadata folders
// ("_delta_log/"); pauseAt may be empty.
func NewPointStore(inner objstore.Store, metadata []string, pauseAt string, trace bool, out io.Writer) *PointStore {
	return &PointStore{inner: inner, metadata: metadata, pauseAt: pauseAt, trace: trace, out: out, counts: map[string]int{}}
}

// kind classifies one write.
func (s *PointStore) kind(op objstore.Op, keys []string) string {
	key := keys[0]
	switch {
	case strings.HasPrefix(key, "_safewrite/intents/"):
		if op == objstore.OpDelete {
			return KindFinalize
		}
		return KindIntent
	case strings.HasPrefix(key, "_safewrite/outcomes/"):
		return KindOutcome
	}
	for _, m := range s.metadata {
		if strings.HasPrefix(key, m) {
			if op == objstore.OpPutIfAbsent && commitKeyRE.MatchString(path.Base(key)) {
				return KindCommit
			}
			return KindLog
		}
	}
	if op == objstore.OpDelete {
		return KindCleanup
	}
	return KindUpload
}

// enter numbers the write and returns its two point names.
func (s *PointStore) enter(op objstore.Op, keys []string) (before, after string) {
	kind := s.kind(op, keys)
	s.mu.Lock()
	s.counts[kind]++
	n := s.counts[kind]
	s.mu.Unlock()
	return fmt.Sprintf("before-%s-%d", kind, n), fmt.Sprintf("after-%s-%d", kind, n)
}

// reach prints the point when tracing and blocks when it is the pause point.
func (s *PointStore) reach(point string) {
	if s.trace {
		fmt.Fprintf(s.out, "pass %s\n", point)
	}
	if point != s.pauseAt {
		return
	}
	fmt.Fprintf(s.out, "at %s\n", point)
	// Block until the parent's SIGKILL arrives. A sleep loop, not an empty
	// select, because the runtime may report an empty select as a deadlock.
	for {
		time.Sleep(time.Hour)
	}
}

// URI returns the inner store's URI.
func (s *PointStore) URI() string { return s.inner.URI() }

// Put passes the points around the inner Put.
func (s *PointStore) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	before, after := s.enter(objstore.OpPut, []string{key})
	s.reach(before)
	if err := s.inner.Put(ctx, key, body, size); err != nil {
		return err
	}
	s.reach(after)
	return nil
}

// PutIfAbsent passes the points around the inner PutIfAbsent.
func (s *PointStore) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	before, after := s.enter(objstore.OpPutIfAbsent, []string{key})
	s.reach(before)
	if err := s.inner.PutIfAbsent(ctx, key, data); err != nil {
		return err
	}
	s.reach(after)
	return nil
}

// Delete passes the points around the inner Delete.
func (s *PointStore) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return s.inner.Delete(ctx)
	}
	before, after := s.enter(objstore.OpDelete, keys)
	s.reach(before)
	if err := s.inner.Delete(ctx, keys...); err != nil {
		return err
	}
	s.reach(after)
	return nil
}

// Get reads through.
func (s *PointStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.inner.Get(ctx, key)
}

// GetRange reads through.
func (s *PointStore) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	return s.inner.GetRange(ctx, key, offset, length)
}

// Stat reads through.
func (s *PointStore) Stat(ctx context.Context, key string) (objstore.ObjectInfo, error) {
	return s.inner.Stat(ctx, key)
}

// List reads through.
func (s *PointStore) List(ctx context.Context, prefix string, recursive bool) ([]objstore.ObjectInfo, error) {
	return s.inner.List(ctx, prefix, recursive)
}

// ListTemps forwards to the inner store when it stages writes in temp
// files (objstore.Local), so that recovery through a PointStore removes
// them as it would without the wrapper.
func (s *PointStore) ListTemps(ctx context.Context, dir string) ([]objstore.ObjectInfo, error) {
	lister, ok := s.inner.(objstore.TempLister)
	if !ok {
		return nil, nil
	}
	return lister.ListTemps(ctx, dir)
}
