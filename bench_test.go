package safewrite_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/internal/baseline"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

// BenchmarkAppendFlights3m appends the 3-million-row flights file to a new
// table per iteration, to a local folder and to MinIO, protected (the full
// protocol: recovery LIST, intent, upload, commit, finalize) and unprotected
// (the same upload and Delta commit with no intent and no recovery), with
// the Parquet file uploaded unchanged (passthrough) or re-encoded (rewrite,
// as `safewrite append --rewrite` does).
//
// MB/s is input-file bytes per second. scripts/bench.sh prints the
// protected-over-unprotected overhead from these results.
func BenchmarkAppendFlights3m(b *testing.B) {
	input := testenv.DataFile(b, "flights-3m.parquet")
	inputSize, inputRows := parquetSizeAndRows(b, input)

	stores := []struct {
		name string
		// newStore returns a function that gives each iteration an empty
		// table root.
		newStore func(b *testing.B) func() objstore.Store
	}{
		{"local", localRoots},
		{"minio", minioRoots},
	}
	modes := []struct {
		name   string
		append func(ctx context.Context, b *testing.B, store objstore.Store, input string, rewrite bool) int64
	}{
		{"protected", appendProtected},
		{"unprotected", appendUnprotected},
	}
	encodings := []struct {
		name    string
		rewrite bool
	}{
		{"passthrough", false},
		{"rewrite", true},
	}

	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			newStore := st.newStore(b)
			for _, mode := range modes {
				b.Run(mode.name, func(b *testing.B) {
					for _, enc := range encodings {
						b.Run(enc.name, func(b *testing.B) {
							ctx := context.Background()
							iterations := 0
							for b.Loop() {
								b.StopTimer()
								store := newStore()
								b.StartTimer()
								if got := mode.append(ctx, b, store, input, enc.rewrite); got != inputRows {
									b.Fatalf("append wrote %d records, want %d", got, inputRows)
								}
								iterations++
							}
							seconds := b.Elapsed().Seconds()
							b.ReportMetric(float64(inputRows)*float64(iterations)/seconds, "rows/s")
							b.ReportMetric(float64(inputSize)*float64(iterations)/seconds/1e6, "MB/s")
						})
					}
				})
			}
		})
	}
}

// parquetSizeAndRows returns the size in bytes and the row count of a Parquet file.
func parquetSizeAndRows(b *testing.B, path string) (int64, int64) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatalf("open benchmark input: %v", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	pf, err := format.OpenParquetFile(format.Input{Name: path, Reader: f, ReaderAt: f, Size: info.Size()})
	if err != nil {
		b.Fatalf("read benchmark input %s: %v", path, err)
	}
	return info.Size(), pf.NumRows()
}

func localRoots(b *testing.B) func() objstore.Store {
	dir := b.TempDir()
	run := 0
	return func() objstore.Store {
		run++
		store, err := objstore.NewLocal(fmt.Sprintf("%s/table-%d", dir, run))
		if err != nil {
			b.Fatal(err)
		}
		return store
	}
}

func minioRoots(b *testing.B) func() objstore.Store {
	bucket := testenv.NewBucket(b)
	run := 0
	return func() objstore.Store {
		run++
		store, err := objstore.NewS3(context.Background(), bucket, fmt.Sprintf("table-%d", run), objstore.S3Options{})
		if err != nil {
			b.Fatalf("open MinIO store: %v", err)
		}
		return store
	}
}

// appendProtected runs the library append, as `safewrite append` does.
func appendProtected(ctx context.Context, b *testing.B, store objstore.Store, input string, rewrite bool) int64 {
	tbl, err := safewrite.Open(ctx, store.URI(), safewrite.Options{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	res, err := tbl.AppendFiles(ctx, []string{input}, safewrite.AppendOptions{Rewrite: rewrite})
	if err != nil {
		b.Fatalf("protected append: %v", err)
	}
	return res.NumRecords
}

// appendUnprotected is the baseline: the same input checks, data file
// upload and Delta commit as the protected append, with no recovery LIST,
// no intent record and no finalize. A kill during it leaves orphaned files.
func appendUnprotected(ctx context.Context, b *testing.B, store objstore.Store, input string, rewrite bool) int64 {
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
	files, err := baseline.Append(ctx, deltalog.Open(store, deltalog.Options{}), store, in, baseline.Options{
		Rewrite: rewrite, EngineInfo: "safewrite/" + safewrite.Version,
	})
	if err != nil {
		b.Fatalf("unprotected append: %v", err)
	}
	var records int64
	for _, df := range files {
		records += df.NumRecords
	}
	return records
}

// BenchmarkAppendOverheadSteady measures the fixed cost of the protocol on
// tables that already exist (recovery LIST, intent PUT with its fsyncs,
// finalize DELETE): each iteration appends flights-3m.parquet unchanged to
// a protected and to an unprotected local table, in turn, so both see the
// same machine load and the same growing log.
func BenchmarkAppendOverheadSteady(b *testing.B) {
	input := testenv.DataFile(b, "flights-3m.parquet")
	ctx := context.Background()
	protectedStore, err := objstore.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	unprotectedStore, err := objstore.NewLocal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	// The first append creates each table, and is not measured.
	appendProtected(ctx, b, protectedStore, input, false)
	appendUnprotected(ctx, b, unprotectedStore, input, false)

	var protected, unprotected time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		appendProtected(ctx, b, protectedStore, input, false)
		protected += time.Since(start)
		start = time.Now()
		appendUnprotected(ctx, b, unprotectedStore, input, false)
		unprotected += time.Since(start)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(protected.Microseconds())/n/1000, "protected-ms")
	b.ReportMetric(float64(unprotected.Microseconds())/n/1000, "unprotected-ms")
	b.ReportMetric(float64((protected-unprotected).Microseconds())/n/1000, "fixed-cost-ms")
	b.ReportMetric(100*(float64(protected)/float64(unprotected)-1), "overhead-%")
}
