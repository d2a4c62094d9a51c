package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/objstore"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		uri     string
		wantURI string
	}{
		{"absolute path", dir + "/t", "file://" + dir + "/t"},
		{"relative path", "rel/t", "file://" + filepath.Join(cwd, "rel/t")},
		{"file uri", "file://" + dir + "/t", "file://" + dir + "/t"},
		{"file uri with localhost", "file://localhost" + dir + "/t", "file://" + dir + "/t"},
		{"s3 bucket and prefix", "s3://bucket/tables/flights", "s3://bucket/tables/flights"},
		{"s3 trailing slash", "s3://bucket/tables/flights/", "s3://bucket/tables/flights"},
		{"s3 bucket root", "s3://bucket", "s3://bucket"},
		{"s3a synonym", "s3a://bucket/t", "s3://bucket/t"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := objstore.Open(ctx, c.uri, objstore.Options{})
			if err != nil {
				t.Fatalf("Open(%q): %v", c.uri, err)
			}
			if s.URI() != c.wantURI {
				t.Fatalf("URI = %q, want %q", s.URI(), c.wantURI)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		uri     string
		want    error
		mention string
	}{
		{"unknown scheme", "gs://bucket/t", objstore.ErrUnsupportedScheme, `"gs"`},
		{"unknown scheme lists supported", "hdfs://nn/t", objstore.ErrUnsupportedScheme, "s3://bucket/prefix"},
		{"empty", "", objstore.ErrInvalidKey, "empty"},
		{"s3 without bucket", "s3:///t", objstore.ErrInvalidKey, "no bucket"},
		{"s3 prefix with dot-dot", "s3://bucket/a/../b", objstore.ErrInvalidKey, ".."},
		{"file uri with remote host", "file://server/t", objstore.ErrInvalidKey, "server"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := objstore.Open(ctx, c.uri, objstore.Options{})
			if !errors.Is(err, c.want) {
				t.Fatalf("Open(%q): got %v, want %v", c.uri, err, c.want)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("Open(%q): error %q does not mention %q", c.uri, err, c.mention)
			}
		})
	}
}

func TestOpenObject(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.csv"), []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		uri      string
		wantRoot string
		wantKey  string
	}{
		{"local path", dir + "/x.csv", "file://" + dir, "x.csv"},
		{"file uri", "file://" + dir + "/x.csv", "file://" + dir, "x.csv"},
		{"file at filesystem root", "file:///x.csv", "file:///", "x.csv"},
		{"s3 object", "s3://bucket/in/flights.parquet", "s3://bucket/in", "flights.parquet"},
		{"s3 object at bucket root", "s3://bucket/flights.parquet", "s3://bucket", "flights.parquet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, key, err := objstore.OpenObject(ctx, c.uri, objstore.Options{})
			if err != nil {
				t.Fatalf("OpenObject(%q): %v", c.uri, err)
			}
			if s.URI() != c.wantRoot || key != c.wantKey {
				t.Fatalf("OpenObject(%q) = %q, %q; want %q, %q", c.uri, s.URI(), key, c.wantRoot, c.wantKey)
			}
		})
	}

	t.Run("local file reads back", func(t *testing.T) {
		s, key, err := objstore.OpenObject(ctx, filepath.Join(dir, "x.csv"), objstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, key); got != "a,b\n" {
			t.Fatalf("got %q", got)
		}
	})

	for _, uri := range []string{"s3://bucket/in/", "s3://bucket", "", "gs://b/x.csv"} {
		t.Run("rejects "+uri, func(t *testing.T) {
			if _, _, err := objstore.OpenObject(ctx, uri, objstore.Options{}); err == nil {
				t.Fatalf("OpenObject(%q) succeeded, want an error", uri)
			}
		})
	}
}
