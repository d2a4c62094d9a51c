package objstore

import (
	"context"
	"fmt"
	"io"
)

// ReaderAt reads an object of known size with one GetRange per ReadAt call.
// It is safe for concurrent use, as parquet-go's reader requires.
type ReaderAt struct {
	ctx   context.Context
	store Store
	key   string
	size  int64
}

// NewReaderAt returns an io.ReaderAt over the object at key, whose size the
// caller already knows (from Stat or List). Every read uses ctx.
func NewReaderAt(ctx context.Context, store Store, key string, size int64) *ReaderAt {
	return &ReaderAt{ctx: ctx, store: store, key: key, size: size}
}

// Size returns the object size given to NewReaderAt.
func (r *ReaderAt) Size() int64 { return r.size }

// ReadAt reads len(p) bytes from off. It returns io.EOF with fewer bytes
// when the object ends first, and io.ErrUnexpectedEOF when the object is
// shorter than the size given to NewReaderAt.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", r.key, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	if want == 0 {
		return 0, nil
	}
	body, err := r.store.GetRange(r.ctx, r.key, off, want)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return n, fmt.Errorf("read %s at offset %d: object is shorter than its size %d: %w", r.key, off, r.size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return n, fmt.Errorf("read %s at offset %d: %w", r.key, off, err)
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}
