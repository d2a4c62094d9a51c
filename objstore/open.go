package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrUnsupportedScheme means a URI names a storage scheme this package
// cannot open.
var ErrUnsupportedScheme = errors.New("objstore: unsupported URI scheme")

// supportedSchemes is listed in the unsupported-scheme error.
const supportedSchemes = "a local path, file:///abs/path, s3://bucket/prefix (or s3a://)"

// Options configures Open and OpenObject.
type Options struct {
	// S3 configures stores opened from s3:// URIs.
	S3 S3Options
}

var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// Open returns the Store rooted at uri: a local path (relative paths are
// made absolute), a file:// URI or s3://bucket/prefix. s3a:// is accepted as
// a synonym of s3://, as Spark writes it.
func Open(ctx context.Context, uri string, opts Options) (Store, error) {
	if uri == "" {
		return nil, fmt.Errorf("%w: empty table URI: give a local path, file:// or s3:// URI", ErrInvalidKey)
	}
	m := schemeRE.FindStringSubmatch(uri)
	if m == nil {
		return NewLocal(uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("%w: parse URI %q: %v", ErrInvalidKey, uri, err)
	}
	switch strings.ToLower(m[1]) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w: file URI %q names host %q: only local files are supported (file:///abs/path)", ErrInvalidKey, uri, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("%w: file URI %q has no path", ErrInvalidKey, uri)
		}
		return NewLocal(filepath.FromSlash(u.Path))
	case "s3", "s3a":
		if u.Host == "" {
			return nil, fmt.Errorf("%w: S3 URI %q has no bucket: use s3://bucket/prefix", ErrInvalidKey, uri)
		}
		return NewS3(ctx, u.Host, u.Path, opts.S3)
	default:
		return nil, fmt.Errorf("%w %q in %q: use %s", ErrUnsupportedScheme, m[1], uri, supportedSchemes)
	}
}

// OpenObject opens the folder that holds the object at uri and returns the
// store and the object's key in it, so that an input file such as
// s3://bucket/in/flights.parquet or /tmp/x.csv can be read with Get,
// GetRange or NewReaderAt.
func OpenObject(ctx context.Context, uri string, opts Options) (Store, string, error) {
	if uri == "" {
		return nil, "", fmt.Errorf("%w: empty object URI", ErrInvalidKey)
	}
	if strings.HasSuffix(uri, "/") {
		return nil, "", fmt.Errorf("%w: object URI %q ends in a slash: name a file, not a folder", ErrInvalidKey, uri)
	}
	var parent, key string
	if m := schemeRE.FindStringSubmatch(uri); m != nil {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, "", fmt.Errorf("%w: parse URI %q: %v", ErrInvalidKey, uri, err)
		}
		dir, base := path.Split(u.Path)
		if base == "" {
			return nil, "", fmt.Errorf("%w: URI %q names no object", ErrInvalidKey, uri)
		}
		u.Path = strings.TrimSuffix(dir, "/")
		u.RawPath = ""
		if u.Path == "" && strings.EqualFold(m[1], "file") {
			u.Path = "/"
		}
		parent, key = u.String(), base
	} else {
		abs, err := filepath.Abs(uri)
		if err != nil {
			return nil, "", fmt.Errorf("resolve input path %q: %w", uri, err)
		}
		parent, key = filepath.Dir(abs), filepath.Base(abs)
	}
	if err := ValidateKey(key); err != nil {
		return nil, "", fmt.Errorf("object URI %q: %w", uri, err)
	}
	store, err := Open(ctx, parent, opts)
	if err != nil {
		return nil, "", err
	}
	return store, key, nil
}
