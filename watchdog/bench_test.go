package watchdog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/baseline"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
	"github.com/safewrite/safewrite/watchdog"
)

// benchCommits is the number of versions of the benchmark table.
const benchCommits = 10_000

// buildLargeTable makes a local table of benchCommits versions: version 0
// is a real append of input, versions 1 to benchCommits-1 are commit files
// written directly, each adding one data file that does not exist, and a
// checkpoint covers the last version. An append reads only the checkpoint
// and never the missing data files.
func buildLargeTable(b *testing.B, input string) *objstore.Local {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	local, err := objstore.NewLocal(dir)
	if err != nil {
		b.Fatal(err)
	}
	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tbl.AppendFiles(ctx, []string{input}, safewrite.AppendOptions{}); err != nil {
		b.Fatalf("create the benchmark table: %v", err)
	}
	start := time.Now().UnixMilli()
	for v := 1; v < benchCommits; v++ {
		body := fmt.Sprintf(`{"commitInfo":{"timestamp":%d,"operation":"WRITE","txnId":"%s"}}
{"add":{"path":"part-00000-bench-%05d.parquet","partitionValues":{},"size":1000,"modificationTime":%d,"dataChange":true,"stats":"{\"numRecords\":10}"}}
`, start+int64(v), uuid.NewString(), v, start+int64(v))
		name := filepath.Join(dir, "_delta_log", fmt.Sprintf("%020d.json", v))
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := deltalog.Open(local, deltalog.Options{}).WriteCheckpoint(ctx, benchCommits-1); err != nil {
		b.Fatalf("checkpoint the benchmark table: %v", err)
	}
	return local
}

// blockDataUploads makes every data file Put wait until its context is
// cancelled, so the watchdog always fires during the upload phase.
func blockDataUploads() objstore.Injector {
	return objstore.InjectorFunc(func(ctx context.Context, c objstore.Call) (objstore.Fault, error) {
		if c.Op == objstore.OpPut && !strings.HasPrefix(c.Keys[0], "_") {
			<-ctx.Done()
			return objstore.NoFault, fmt.Errorf("%s: %w", c, ctx.Err())
		}
		return objstore.NoFault, nil
	})
}

// BenchmarkWatchdogRollback measures, on a local table of 10,000 commits,
// the time from the watchdog firing during the upload to the append
// returning with its staged objects deleted and its outcome recorded
// (metric rollback-ms, mean over b.N; max-rollback-ms is the slowest).
// Each iteration waits about two seconds for the watchdog to fire.
func BenchmarkWatchdogRollback(b *testing.B) {
	local := buildLargeTable(b, testenv.DataFile(b, "flights-3m.parquet"))
	input := testenv.DataFile(b, "flights-3m.parquet")
	ctx := context.Background()
	var (
		mu      sync.Mutex
		firedAt time.Time
	)
	wd := watchdog.New(watchdog.Options{Floor: time.Second, OnEvent: func(ev commit.Event) {
		if ev.Kind == watchdog.EventFired {
			mu.Lock()
			firedAt = ev.At
			mu.Unlock()
		}
	}})
	events := &eventLog{}
	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{
		Store: objstore.NewFaulty(local, blockDataUploads()), OnEvent: events.add,
	})
	if err != nil {
		b.Fatal(err)
	}
	var total, slowest time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Two seconds before firing covers recovery and the load of the
		// 10,000-version table, so the intent exists when the watchdog fires.
		deadline := time.Now().Add(2*time.Second + wd.Margin())
		armed, arm := wd.Arm(ctx, deadline, tbl.URI(), "delta")
		_, err := tbl.AppendFiles(armed, []string{input}, safewrite.AppendOptions{Deadline: deadline, Guard: arm})
		returned := time.Now()
		arm.Disarm()
		if !arm.Fired() || err == nil {
			b.Fatalf("iteration %d: watchdog fired %v, append error %v: want a watchdog rollback", i, arm.Fired(), err)
		}
		mu.Lock()
		took := returned.Sub(firedAt)
		mu.Unlock()
		total += took
		slowest = max(slowest, took)
	}
	b.StopTimer()
	rollbacks := events.of(commit.EventRollback)
	if len(rollbacks) != b.N || rollbacks[0].Phase != "upload" || rollbacks[0].Reason != "deadline" {
		b.Fatalf("rollback events %+v, want %d in phase upload with reason deadline", rollbacks, b.N)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "rollback-ms")
	b.ReportMetric(float64(slowest.Milliseconds()), "max-rollback-ms")
}

// BenchmarkWatchdogOverhead compares a protected append of
// flights-3m.parquet (uploaded unchanged) with a watchdog armed against
// the same upload and Delta commit with no recovery LIST, no intent, no
// finalize and no watchdog, both on the local table of 10,000 commits.
// Each iteration runs both, alternating which goes first, so that log
// growth, checkpoints (every 10th version) and cache state fall on both
// equally. Metrics: unprotected-ms and protected-ms (means) and
// overhead-% of the protected append over the unprotected one.
func BenchmarkWatchdogOverhead(b *testing.B) {
	input := testenv.DataFile(b, "flights-3m.parquet")
	local := buildLargeTable(b, input)
	ctx := context.Background()
	wd := watchdog.New(watchdog.Options{})
	tbl, err := safewrite.Open(ctx, local.URI(), safewrite.Options{Store: local})
	if err != nil {
		b.Fatal(err)
	}
	protected := func() time.Duration {
		start := time.Now()
		deadline := start.Add(time.Hour)
		armed, arm := wd.Arm(ctx, deadline, tbl.URI(), "delta")
		_, err := tbl.AppendFiles(armed, []string{input}, safewrite.AppendOptions{Deadline: deadline, Guard: arm})
		arm.Disarm()
		if err != nil {
			b.Fatalf("protected append: %v", err)
		}
		return time.Since(start)
	}
	unprotected := func() time.Duration {
		start := time.Now()
		appendUnprotected(ctx, b, local, input)
		return time.Since(start)
	}
	var totalProtected, totalUnprotected time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			totalProtected += protected()
			totalUnprotected += unprotected()
		} else {
			totalUnprotected += unprotected()
			totalProtected += protected()
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(totalUnprotected.Microseconds())/n/1000, "unprotected-ms")
	b.ReportMetric(float64(totalProtected.Microseconds())/n/1000, "protected-ms")
	b.ReportMetric(100*(float64(totalProtected)/float64(totalUnprotected)-1), "overhead-%")
}

// appendUnprotected uploads input unchanged and commits it, with the same
// checks as the protected append but nothing that makes a kill recoverable.
func appendUnprotected(ctx context.Context, b *testing.B, store objstore.Store, input string) {
	f, err := os.Open(input)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	in := format.Input{Name: input, Reader: f, ReaderAt: f, Size: info.Size()}
	_, err = baseline.Append(ctx, deltalog.Open(store, deltalog.Options{}), store, in, baseline.Options{
		EngineInfo: "safewrite/" + safewrite.Version,
	})
	if err != nil {
		b.Fatalf("unprotected append: %v", err)
	}
}
