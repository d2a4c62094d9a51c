// Package testenv locates the shared sample data and the test S3 endpoint.
// A test that needs one of them skips with a message when it is missing,
// and fails instead when CI=true, so a CI run never passes by skipping.
package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestCommand is the README command that sets up MinIO and runs every test.
const TestCommand = "bash scripts/test.sh"

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

func missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true, so this is a failure, not a skip)", what)
	}
	t.Skip(what)
}

// repoRoot is the module root, found from this file's path.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns the absolute path of ../shared beside the checkout
// (override with SAFEWRITE_SHARED), skipping the test when it is missing.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SAFEWRITE_SHARED")
	if dir == "" {
		dir = filepath.Join(repoRoot(), "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		missing(t, fmt.Sprintf("shared sample data not found at %s: check out the project beside its shared/ folder or set SAFEWRITE_SHARED", dir))
	}
	return dir
}

// DataFile returns the path of a file in shared/data.
func DataFile(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(SharedDir(t), "data", name)
}

// GoldenTable returns the path of a Spark-written table in
// shared/fixtures/delta-golden.
func GoldenTable(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(SharedDir(t), "fixtures", "delta-golden", name)
}

var bucketSeq atomic.Int64

// S3Endpoint returns the test S3 endpoint from AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL, skipping the test when neither is set.
func S3Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ep = os.Getenv("AWS_ENDPOINT_URL")
	}
	if ep == "" {
		missing(t, "no S3 endpoint: AWS_ENDPOINT_URL_S3 is not set; run the tests with `"+TestCommand+"`, which starts MinIO on 127.0.0.1")
	}
	if !strings.Contains(ep, "127.0.0.1") && !strings.Contains(ep, "localhost") {
		t.Fatalf("test S3 endpoint %s is not on 127.0.0.1: tests only talk to a local MinIO", ep)
	}
	return ep
}

// S3Client returns a client for the test endpoint with path-style addressing.
func S3Client(t testing.TB) *s3.Client {
	t.Helper()
	S3Endpoint(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// NewBucket creates an empty bucket on the test endpoint, removed when the
// test ends, and returns its name.
func NewBucket(t testing.TB) string {
	t.Helper()
	client := S3Client(t)
	name := fmt.Sprintf("sw-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000, bucketSeq.Add(1))
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create test bucket %s: %v", name, err)
	}
	t.Cleanup(func() { emptyAndDeleteBucket(client, name) })
	return name
}

func emptyAndDeleteBucket(client *s3.Client, name string) {
	ctx := context.Background()
	pager := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return
		}
		for _, obj := range page.Contents {
			_, _ = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: obj.Key})
		}
	}
	_, _ = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
}
