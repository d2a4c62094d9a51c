package objstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

// newLocal returns a Local store in a fresh temp folder whose root does not
// exist yet, so every test also covers lazy root creation.
func newLocal(t *testing.T) objstore.Store {
	t.Helper()
	s, err := objstore.NewLocal(t.TempDir() + "/table")
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return s
}

// newS3 returns an S3 store under a random prefix of a fresh MinIO bucket.
func newS3(t *testing.T) objstore.Store {
	t.Helper()
	bucket := testenv.NewBucket(t)
	prefix := fmt.Sprintf("tables/t-%08x", mathrand.Uint32())
	s, err := objstore.NewS3(context.Background(), bucket, prefix, objstore.S3Options{})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s
}

var stores = []struct {
	name string
	open func(t *testing.T) objstore.Store
}{
	{"Local", newLocal},
	{"S3", newS3},
}

// TestStoreConformance runs the same behaviour checks against every Store.
func TestStoreConformance(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			runConformance(t, st.open)
		})
	}
}

func put(t *testing.T, s objstore.Store, key, body string) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body))); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s objstore.Store, key string) string {
	t.Helper()
	b, err := objstore.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(b)
}

func listKeys(t *testing.T, s objstore.Store, prefix string, recursive bool) []string {
	t.Helper()
	infos, err := s.List(context.Background(), prefix, recursive)
	if err != nil {
		t.Fatalf("List(%q, recursive=%v): %v", prefix, recursive, err)
	}
	keys := make([]string, 0, len(infos))
	for _, info := range infos {
		keys = append(keys, info.Key)
	}
	return keys
}

func runConformance(t *testing.T, open func(t *testing.T) objstore.Store) {
	ctx := context.Background()

	t.Run("put get overwrite", func(t *testing.T) {
		s := open(t)
		put(t, s, "a/b.json", "first")
		if got := get(t, s, "a/b.json"); got != "first" {
			t.Fatalf("after Put: got %q, want %q", got, "first")
		}
		put(t, s, "a/b.json", "second, longer")
		if got := get(t, s, "a/b.json"); got != "second, longer" {
			t.Fatalf("after overwrite: got %q, want %q", got, "second, longer")
		}
		info, err := s.Stat(ctx, "a/b.json")
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if info.Size != int64(len("second, longer")) {
			t.Errorf("Stat size = %d, want %d", info.Size, len("second, longer"))
		}
		if info.Key != "a/b.json" {
			t.Errorf("Stat key = %q, want a/b.json", info.Key)
		}
		if info.ModTime.IsZero() {
			t.Errorf("Stat mod time is zero")
		}
	})

	t.Run("put empty object", func(t *testing.T) {
		s := open(t)
		put(t, s, "empty", "")
		if got := get(t, s, "empty"); got != "" {
			t.Fatalf("got %q, want empty", got)
		}
	})

	t.Run("ranged read of empty object", func(t *testing.T) {
		s := open(t)
		put(t, s, "empty", "")
		r, err := s.GetRange(ctx, "empty", 0, 10)
		if err != nil {
			t.Fatalf("GetRange: %v", err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(b) != 0 {
			t.Fatalf("got %q, want empty", b)
		}
	})

	t.Run("put unknown size", func(t *testing.T) {
		s := open(t)
		body := "streamed with size -1"
		if err := s.Put(ctx, "stream.bin", io.MultiReader(strings.NewReader(body)), -1); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if got := get(t, s, "stream.bin"); got != body {
			t.Fatalf("got %q, want %q", got, body)
		}
	})

	t.Run("missing key is not found", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get(ctx, "nope.json"); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Get: got %v, want ErrNotFound", err)
		}
		if _, err := s.GetRange(ctx, "nope.json", 1, 2); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("GetRange: got %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, "nope.json"); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Stat: got %v, want ErrNotFound", err)
		}
	})

	t.Run("put if absent", func(t *testing.T) {
		s := open(t)
		if err := s.PutIfAbsent(ctx, "_delta_log/0.json", []byte("one")); err != nil {
			t.Fatalf("first PutIfAbsent: %v", err)
		}
		err := s.PutIfAbsent(ctx, "_delta_log/0.json", []byte("two"))
		if !errors.Is(err, objstore.ErrAlreadyExists) {
			t.Fatalf("second PutIfAbsent: got %v, want ErrAlreadyExists", err)
		}
		if got := get(t, s, "_delta_log/0.json"); got != "one" {
			t.Fatalf("object = %q, want the first writer's %q", got, "one")
		}
	})

	t.Run("put if absent race has one winner", func(t *testing.T) {
		s := open(t)
		const writers = 8
		for round := range 5 {
			key := fmt.Sprintf("_delta_log/%020d.json", round)
			var wg sync.WaitGroup
			errs := make([]error, writers)
			start := make(chan struct{})
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[w] = s.PutIfAbsent(ctx, key, []byte(fmt.Sprintf("writer %d", w)))
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for w, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("round %d: writers %d and %d both won", round, winner, w)
					}
					winner = w
				case !errors.Is(err, objstore.ErrAlreadyExists):
					t.Fatalf("round %d: writer %d: got %v, want nil or ErrAlreadyExists", round, w, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no writer won", round)
			}
			if got, want := get(t, s, key), fmt.Sprintf("writer %d", winner); got != want {
				t.Fatalf("round %d: object = %q, want the winner's %q", round, got, want)
			}
		}
	})

	t.Run("ranged read", func(t *testing.T) {
		s := open(t)
		put(t, s, "r.bin", "0123456789")
		cases := []struct {
			name           string
			offset, length int64
			want           string
		}{
			{"middle", 2, 3, "234"},
			{"from start", 0, 4, "0123"},
			{"to end", 7, -1, "789"},
			{"whole", 0, -1, "0123456789"},
			{"past end is clipped", 8, 10, "89"},
			{"offset at end is empty", 10, 5, ""},
			{"zero length", 3, 0, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r, err := s.GetRange(ctx, "r.bin", c.offset, c.length)
				if err != nil {
					t.Fatalf("GetRange(%d, %d): %v", c.offset, c.length, err)
				}
				defer r.Close()
				b, err := io.ReadAll(r)
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				if string(b) != c.want {
					t.Fatalf("GetRange(%d, %d) = %q, want %q", c.offset, c.length, b, c.want)
				}
			})
		}
	})

	t.Run("reader at", func(t *testing.T) {
		s := open(t)
		put(t, s, "r.bin", "0123456789")
		r := objstore.NewReaderAt(ctx, s, "r.bin", 10)
		p := make([]byte, 4)
		n, err := r.ReadAt(p, 3)
		if err != nil || string(p[:n]) != "3456" {
			t.Fatalf("ReadAt(4 bytes at 3) = %q, %v; want \"3456\", nil", p[:n], err)
		}
		n, err = r.ReadAt(p, 8)
		if !errors.Is(err, io.EOF) || string(p[:n]) != "89" {
			t.Fatalf("ReadAt(4 bytes at 8) = %q, %v; want \"89\", io.EOF", p[:n], err)
		}
		n, err = r.ReadAt(p, 10)
		if !errors.Is(err, io.EOF) || n != 0 {
			t.Fatalf("ReadAt at end = %d, %v; want 0, io.EOF", n, err)
		}
		short := objstore.NewReaderAt(ctx, s, "r.bin", 20)
		if _, err := short.ReadAt(make([]byte, 5), 8); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("ReadAt past the real end: got %v, want io.ErrUnexpectedEOF", err)
		}
	})

	t.Run("list recursive and not", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"_delta_log/00.json", "_delta_log/01.json", "_delta_log/_sub/x.json", "part-0.parquet", "date=2020-01-01/part-1.parquet", "date-x"} {
			put(t, s, k, "x")
		}
		cases := []struct {
			name      string
			prefix    string
			recursive bool
			want      []string
		}{
			{"root flat", "", false, []string{"date-x", "part-0.parquet"}},
			{"root recursive", "", true, []string{"_delta_log/00.json", "_delta_log/01.json", "_delta_log/_sub/x.json", "date-x", "date=2020-01-01/part-1.parquet", "part-0.parquet"}},
			{"folder flat leaves out nested key", "_delta_log/", false, []string{"_delta_log/00.json", "_delta_log/01.json"}},
			{"folder recursive", "_delta_log/", true, []string{"_delta_log/00.json", "_delta_log/01.json", "_delta_log/_sub/x.json"}},
			{"partial name recursive", "_delta_log/0", true, []string{"_delta_log/00.json", "_delta_log/01.json"}},
			{"partial root name recursive", "date", true, []string{"date-x", "date=2020-01-01/part-1.parquet"}},
			{"missing folder is empty", "nothing/", false, []string{}},
			{"missing folder recursive is empty", "nothing/here/", true, []string{}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := listKeys(t, s, c.prefix, c.recursive)
				if !slices.Equal(got, c.want) {
					t.Fatalf("List(%q, %v) = %q, want %q", c.prefix, c.recursive, got, c.want)
				}
			})
		}
	})

	t.Run("list on empty store", func(t *testing.T) {
		s := open(t)
		if got := listKeys(t, s, "", true); len(got) != 0 {
			t.Fatalf("List of a new store = %q, want empty", got)
		}
	})

	t.Run("list sizes", func(t *testing.T) {
		s := open(t)
		put(t, s, "a", "12345")
		infos, err := s.List(ctx, "", false)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(infos) != 1 || infos[0].Size != 5 || infos[0].ModTime.IsZero() {
			t.Fatalf("List = %+v, want one object of size 5 with a mod time", infos)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := open(t)
		put(t, s, "x/1", "a")
		put(t, s, "x/2", "b")
		put(t, s, "x/3", "c")
		if err := s.Delete(ctx, "x/1", "x/3", "x/missing"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if got, want := listKeys(t, s, "x/", false), []string{"x/2"}; !slices.Equal(got, want) {
			t.Fatalf("after Delete: List = %q, want %q", got, want)
		}
		if err := s.Delete(ctx, "never/was"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if err := s.Delete(ctx); err != nil {
			t.Fatalf("Delete of no keys: %v", err)
		}
	})

	t.Run("invalid keys", func(t *testing.T) {
		s := open(t)
		for _, key := range []string{"", "../x", "/abs", "a/./b", "a/../b", "a//b", `a\b`, "dir/", ".", ".."} {
			t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
				checks := map[string]error{
					"Put":         s.Put(ctx, key, strings.NewReader("x"), 1),
					"PutIfAbsent": s.PutIfAbsent(ctx, key, []byte("x")),
					"Delete":      s.Delete(ctx, key),
				}
				_, checks["Get"] = s.Get(ctx, key)
				_, checks["GetRange"] = s.GetRange(ctx, key, 0, 1)
				_, checks["Stat"] = s.Stat(ctx, key)
				for op, err := range checks {
					if !errors.Is(err, objstore.ErrInvalidKey) {
						t.Errorf("%s(%q): got %v, want ErrInvalidKey", op, key, err)
					}
				}
			})
		}
		for _, prefix := range []string{"../", "/abs/", "a/../"} {
			if _, err := s.List(ctx, prefix, true); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("List(%q): got %v, want ErrInvalidKey", prefix, err)
			}
		}
		if _, err := s.List(ctx, "no-slash", false); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("non-recursive List without a trailing slash: got %v, want ErrInvalidKey", err)
		}
	})
}

func TestS3MissingBucket(t *testing.T) {
	testenv.S3Endpoint(t)
	ctx := context.Background()
	bucket := fmt.Sprintf("sw-missing-%08x", mathrand.Uint32())
	s, err := objstore.NewS3(ctx, bucket, "t", objstore.S3Options{})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	checks := map[string]error{
		"Put":         s.Put(ctx, "k", strings.NewReader("x"), 1),
		"PutIfAbsent": s.PutIfAbsent(ctx, "k", []byte("x")),
		"Delete":      s.Delete(ctx, "k"),
	}
	_, checks["Get"] = s.Get(ctx, "k")
	_, checks["List"] = s.List(ctx, "", true)
	for op, err := range checks {
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", op, err)
			continue
		}
		if !strings.Contains(err.Error(), "bucket "+bucket+" does not exist") {
			t.Errorf("%s: error %q does not name the missing bucket %s", op, err, bucket)
		}
	}
}

func TestS3MultipartPut(t *testing.T) {
	s := newS3(t)
	ctx := context.Background()
	const size = 20 << 20 // above DefaultPartSize, so the upload is multipart
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}

	// io.MultiReader hides the bytes.Reader, so the uploader cannot seek and
	// must stream the body part by part.
	if err := s.Put(ctx, "big.bin", io.MultiReader(bytes.NewReader(data)), -1); err != nil {
		t.Fatalf("Put of %d bytes: %v", size, err)
	}

	info, err := s.Stat(ctx, "big.bin")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != size {
		t.Fatalf("size = %d, want %d", info.Size, size)
	}

	got, err := objstore.ReadAll(ctx, s, "big.bin")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("the object read back differs from the %d bytes written", size)
	}

	r, err := s.GetRange(ctx, "big.bin", 9<<20, 16)
	if err != nil {
		t.Fatalf("GetRange across parts: %v", err)
	}
	defer r.Close()
	part, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read range: %v", err)
	}
	if !bytes.Equal(part, data[9<<20:9<<20+16]) {
		t.Fatalf("range at 9 MiB differs from the bytes written")
	}
}

func TestS3GenericEndpointVariable(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t)
	// The SDK reads AWS_ENDPOINT_URL when AWS_ENDPOINT_URL_S3 is unset, and
	// NewS3 must then switch to path-style addressing too.
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	os.Unsetenv("AWS_ENDPOINT_URL_S3")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	s, err := objstore.NewS3(context.Background(), bucket, "t", objstore.S3Options{})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	put(t, s, "k", "v")
	if got := get(t, s, "k"); got != "v" {
		t.Fatalf("got %q, want %q", got, "v")
	}
}
