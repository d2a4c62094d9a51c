package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Local is a Store in a folder of the local filesystem.
//
// Writes are atomic and durable: the body goes to a hidden temp file
// ".<base>.tmp-<random>" beside the key, which is fsynced and then renamed
// (Put) or hard-linked (PutIfAbsent) onto the key, and the folder is fsynced.
// A crash leaves either the old object or the new one, plus at most a stale
// temp file, which Delete of the same key also removes.
//
// The root folder is created on the first write. A missing root lists as
// empty, so opening a table that does not exist yet is not an error.
type Local struct {
	root string // absolute, cleaned
}

// NewLocal returns a Store rooted at the folder root, which need not exist.
func NewLocal(root string) (*Local, error) {
	if root == "" {
		return nil, fmt.Errorf("%w: empty local root folder", ErrInvalidKey)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve local store root %q: %w", root, err)
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("local store root %s is a file, not a folder: give the table folder", abs)
	}
	return &Local{root: abs}, nil
}

// Root returns the absolute path of the store root folder.
func (l *Local) Root() string { return l.root }

// URI returns file:///abs/path.
func (l *Local) URI() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(l.root)}).String()
}

func (l *Local) path(key string) string {
	return filepath.Join(l.root, filepath.FromSlash(key))
}

// tempPrefix is the name prefix of the temp files that stage a write of key.
func tempPrefix(key string) string {
	return "." + path.Base(key) + ".tmp-"
}

// Put writes the object through a temp file and an atomic rename.
func (l *Local) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	tmp, err := l.writeTemp(ctx, key, body)
	if err != nil {
		return err
	}
	dst := l.path(key)
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("put %s: rename temp file onto the key: %w", dst, err)
	}
	// A crash before this fsync may lose the rename (the old object or no
	// object stays visible) but never exposes a partial body.
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

// PutIfAbsent writes the object through a temp file and link(2), which
// fails atomically when the key already exists.
func (l *Local) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	dst := l.path(key)
	// A cheap early check; link(2) below is what makes the write atomic.
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("put-if-absent %s: %w", dst, ErrAlreadyExists)
	}

	tmp, err := l.writeTemp(ctx, key, bytes.NewReader(data))
	if err != nil {
		return err
	}

	linkErr := os.Link(tmp, dst)
	// A crash here leaves the temp file beside the key; Delete(key) removes it.
	rmErr := os.Remove(tmp)
	if linkErr != nil {
		if errors.Is(linkErr, fs.ErrExist) {
			return fmt.Errorf("put-if-absent %s: %w", dst, ErrAlreadyExists)
		}
		// NOTE: filesystems without hard links (some FUSE and SMB mounts)
		// fail here; PutIfAbsent is not supported on them.
		return fmt.Errorf("put-if-absent %s: link temp file onto the key: %w", dst, linkErr)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("put-if-absent %s: %w", dst, err)
	}
	if rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		return fmt.Errorf("put-if-absent %s: the object was written but its temp file %s was not removed: %w", dst, tmp, rmErr)
	}
	return nil
}

// writeTemp streams body into a new fsynced temp file beside key and
// returns its path. It creates (and fsyncs) missing parent folders.
func (l *Local) writeTemp(ctx context.Context, key string, body io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	dst := l.path(key)
	dir := filepath.Dir(dst)
	if err := mkdirAllSynced(dir); err != nil {
		return "", fmt.Errorf("put %s: create folder: %w", dst, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix(key)+"*")
	if err != nil {
		return "", fmt.Errorf("put %s: create temp file: %w", dst, err)
	}
	tmp := f.Name()
	fail := func(step string, err error) (string, error) {
		_ = f.Close()
		_ = os.Remove(tmp)
		return "", fmt.Errorf("put %s: %s: %w", dst, step, err)
	}
	// CreateTemp makes the file 0600; table files are read by other users'
	// engines (Spark, delta-rs), so they get the usual 0644 less the umask.
	if err := f.Chmod(os.FileMode(0o644 &^ umask())); err != nil {
		return fail("set file mode", err)
	}
	if _, err := io.Copy(f, ctxReader{ctx: ctx, r: body}); err != nil {
		return fail("write temp file", err)
	}
	if err := f.Sync(); err != nil {
		return fail("fsync temp file", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("put %s: close temp file: %w", dst, err)
	}
	return tmp, nil
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// mkdirAllSynced creates dir and its missing parents, fsyncing each parent
// after a child is created so that the new folders survive a crash.
func mkdirAllSynced(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a folder", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAllSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // created concurrently by another writer
		}
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open folder %s to fsync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		// EINVAL: the filesystem does not support fsync on folders.
		return fmt.Errorf("fsync folder %s: %w", dir, err)
	}
	return nil
}

// Get opens the whole object.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return l.GetRange(ctx, key, 0, -1)
}

// GetRange opens length bytes from offset; an offset past the end gives an
// empty body.
func (l *Local) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if offset < 0 || length < -1 {
		return nil, fmt.Errorf("get %s: invalid range offset %d length %d", key, offset, length)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	p := l.path(key)
	f, err := os.Open(p)
	if err != nil {
		return nil, mapNotFound("get", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", p, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("get %s: is a folder, not an object: %w", p, ErrNotFound)
	}

	if offset == 0 && length == -1 {
		return f, nil
	}
	if length == -1 {
		length = max(fi.Size()-offset, 0)
	}
	return &sectionReadCloser{Reader: io.NewSectionReader(f, offset, length), f: f}, nil
}

type sectionReadCloser struct {
	io.Reader
	f *os.File
}

func (s *sectionReadCloser) Close() error { return s.f.Close() }

func mapNotFound(op, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%s %s: %w", op, p, ErrNotFound)
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// Stat returns the object's size and modification time.
func (l *Local) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := ValidateKey(key); err != nil {
		return ObjectInfo{}, err
	}
	p := l.path(key)
	fi, err := os.Stat(p)
	if err != nil {
		return ObjectInfo{}, mapNotFound("stat", p, err)
	}
	if fi.IsDir() {
		return ObjectInfo{}, fmt.Errorf("stat %s: is a folder, not an object: %w", p, ErrNotFound)
	}
	return ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List returns the files under prefix, temp files included. Folders are not
// objects and are never returned.
func (l *Local) List(ctx context.Context, prefix string, recursive bool) ([]ObjectInfo, error) {
	if err := validatePrefix(prefix, recursive); err != nil {
		return nil, err
	}

	// dir is the folder that contains every key starting with prefix.
	dir := l.root
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		dir = l.path(prefix[:i])
	}
	if recursive {
		return l.listRecursive(ctx, dir, prefix)
	}
	return listFolder(dir, prefix)
}

// listFolder lists the files directly in dir, whose key prefix is prefix.
func listFolder(dir, prefix string) ([]ObjectInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, nil
		}
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}

	var out []ObjectInfo
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted while listing
			}
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		out = append(out, ObjectInfo{Key: prefix + e.Name(), Size: info.Size(), ModTime: info.ModTime()})
	}
	return out, nil
}

// listRecursive lists the files under dir whose keys start with prefix,
// sorted by key.
func (l *Local) listRecursive(ctx context.Context, dir, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil // a missing folder lists as empty, or it was deleted while walking
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}

		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}

	// WalkDir visits names folder by folder, which differs from plain key
	// order: "a/b" comes before "a-c" in the walk but after it as a string.
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes the keys and any stale temp files of the same keys left by
// an interrupted Put or PutIfAbsent. Missing keys are not an error. It tries
// every key and returns the errors of those it could not remove.
//
// NOTE: emptied folders are left in place, because removing one could race
// with a concurrent Put that has just created it.
func (l *Local) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		if err := ValidateKey(key); err != nil {
			return err
		}
	}
	// Group by folder so that each folder is read once for temp files.
	byDir := map[string][]string{}
	var dirs []string
	for _, key := range keys {
		dir := filepath.Dir(l.path(key))
		if _, ok := byDir[dir]; !ok {
			dirs = append(dirs, dir)
		}
		byDir[dir] = append(byDir[dir], key)
	}
	var errs []error
	for _, dir := range dirs {
		if err := ctx.Err(); err != nil {
			return err
		}
		removed := false
		prefixes := make([]string, 0, len(byDir[dir]))
		for _, key := range byDir[dir] {
			p := l.path(key)
			err := os.Remove(p)
			switch {
			case err == nil:
				removed = true
			case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			default:
				errs = append(errs, fmt.Errorf("delete %s: %w", p, err))
			}
			prefixes = append(prefixes, tempPrefix(key))
		}
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			errs = append(errs, fmt.Errorf("delete: read folder %s for stale temp files: %w", dir, err))
		}
		for _, e := range entries {
			if e.IsDir() || !hasAnyPrefix(e.Name(), prefixes) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			if err := os.Remove(p); err == nil {
				removed = true
			} else if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("delete stale temp file %s: %w", p, err))
			}
		}
		if removed {
			if err := syncDir(dir); err != nil {
				errs = append(errs, fmt.Errorf("delete: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// ListTemps returns the temp files that Put and PutIfAbsent stage in dir.
func (l *Local) ListTemps(ctx context.Context, dir string) ([]ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	folder := l.root
	if dir != "" {
		if err := ValidateKey(strings.TrimSuffix(dir, "/")); err != nil {
			return nil, err
		}
		folder = l.path(strings.TrimSuffix(dir, "/"))
	}
	entries, err := os.ReadDir(folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list temp files: read folder %s: %w", folder, err)
	}
	var temps []ObjectInfo
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		temps = append(temps, ObjectInfo{Key: dir + name, Size: info.Size(), ModTime: info.ModTime()})
	}
	return temps, nil
}
