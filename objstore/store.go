// Package objstore is the object-store seam under every table format: one
// interface with a local-filesystem implementation, an S3 implementation on
// aws-sdk-go-v2 and a fault-injecting wrapper used by the crash tests.
//
// A Store is rooted at one table. Keys are slash-separated paths relative to
// that root ("_delta_log/00000000000000000000.json", "date=2020-01-01/part-…").
// Every implementation rejects a key that is absolute, empty, or contains a
// "." or ".." segment, so no caller can read, write or delete outside the root.
package objstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors, usable with errors.Is through any wrapping.
var (
	// ErrNotFound means the key (or the bucket) does not exist.
	ErrNotFound = errors.New("objstore: not found")
	// ErrAlreadyExists means PutIfAbsent lost: the key already exists.
	ErrAlreadyExists = errors.New("objstore: already exists")
	// ErrInvalidKey means the key escapes the root or is not a valid key.
	ErrInvalidKey = errors.New("objstore: invalid key")
	// ErrUnknownOutcome means a write may or may not have been applied (a
	// lost response, a timeout after the request was sent). Callers must not
	// assume either outcome.
	ErrUnknownOutcome = errors.New("objstore: write outcome unknown")
)

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string // relative to the store root
	Size    int64
	ModTime time.Time
}

// Store is an object store rooted at one table.
type Store interface {
	// URI returns the store root as a URI (file:///abs/path or s3://bucket/prefix).
	URI() string

	// Put writes a whole object, replacing any previous one. Readers see
	// either the old object or the whole new one, never a part. A large body
	// is streamed (multipart upload on S3), so size may be -1 when unknown.
	Put(ctx context.Context, key string, body io.Reader, size int64) error

	// PutIfAbsent writes data only if key does not exist yet, atomically
	// (S3 If-None-Match: *, local link(2)). It returns ErrAlreadyExists when
	// another writer got there first, and ErrUnknownOutcome when the write
	// may have been applied but the response was lost.
	PutIfAbsent(ctx context.Context, key string, data []byte) error

	// Get opens the whole object. ErrNotFound when it does not exist.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// GetRange opens length bytes from offset. length -1 reads to the end.
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)

	// Stat returns the object's size and modification time.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// List returns the objects whose keys start with prefix, sorted by key.
	// With recursive false, prefix must be "" or end in "/", and only the
	// objects directly in that folder are returned (no sub-folders).
	// A missing folder is an empty list, not an error.
	List(ctx context.Context, prefix string, recursive bool) ([]ObjectInfo, error)

	// Delete removes the keys. A key that does not exist is not an error.
	Delete(ctx context.Context, keys ...string) error
}

// ReadAll reads a whole object into memory; for small metadata objects only.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	r, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// TempLister is implemented by stores that stage writes in temp files
// (Local). A writer killed in the middle of a Put leaves its temp file
// behind; a recoverer lists the temp files and deletes the stale ones with
// Delete. S3 has no such files and no such method.
type TempLister interface {
	// ListTemps returns the temp files directly in folder dir ("" or
	// ending in "/"). Their keys are valid for Get, Stat and Delete.
	ListTemps(ctx context.Context, dir string) ([]ObjectInfo, error)
}
