package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/objstore"
)

func TestLocalRootCreatedOnFirstWrite(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "a", "b", "table")
	s, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("NewLocal created the root folder: Stat = %v", err)
	}
	if got, err := s.List(ctx, "", true); err != nil || len(got) != 0 {
		t.Fatalf("List of a missing root = %v, %v; want empty, nil", got, err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get under a missing root: got %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "_delta_log/0.json", strings.NewReader("{}"), 2); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "_delta_log", "0.json")); err != nil {
		t.Fatalf("object missing on disk: %v", err)
	}
}

func TestLocalRootIsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := objstore.NewLocal(f); err == nil {
		t.Fatal("NewLocal on a file succeeded, want an error")
	}
}

func TestLocalWritesLeaveNoTempFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "d/a", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "d/b", []byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIfAbsent(ctx, "d/b", []byte("z")); !errors.Is(err, objstore.ErrAlreadyExists) {
		t.Fatalf("second PutIfAbsent: got %v, want ErrAlreadyExists", err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "d"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"a", "b"}; !slices.Equal(names, want) {
		t.Fatalf("folder holds %q, want %q", names, want)
	}
}

func TestLocalDeleteRemovesStaleTempFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "data/part-1.parquet", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// Leftovers of writes killed before their rename: one of the deleted
	// key, one of a key never written, one of another key that stays.
	stale := []string{".part-1.parquet.tmp-123", ".part-2.parquet.tmp-456", ".part-3.parquet.tmp-789"}
	for _, name := range stale {
		if err := os.WriteFile(filepath.Join(root, "data", name), []byte("half"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The temp files are real objects to List, so recovery can see them.
	if got := listKeys(t, s, "data/", false); len(got) != 4 {
		t.Fatalf("List = %q, want the object and its 3 temp files", got)
	}
	if err := s.Delete(ctx, "data/part-1.parquet", "data/part-2.parquet"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got, want := listKeys(t, s, "data/", false), []string{"data/.part-3.parquet.tmp-789"}; !slices.Equal(got, want) {
		t.Fatalf("after Delete: List = %q, want %q", got, want)
	}
}

func TestLocalURI(t *testing.T) {
	dir := t.TempDir()
	s, err := objstore.NewLocal(dir + "/with space")
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + dir + "/with%20space"; s.URI() != want {
		t.Fatalf("URI = %q, want %q", s.URI(), want)
	}
	back, err := objstore.Open(context.Background(), s.URI(), objstore.Options{})
	if err != nil {
		t.Fatalf("Open(URI()): %v", err)
	}
	if back.URI() != s.URI() {
		t.Fatalf("Open(URI()).URI() = %q, want %q", back.URI(), s.URI())
	}
}
