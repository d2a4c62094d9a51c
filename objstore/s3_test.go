package objstore_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/safewrite/safewrite/objstore"
)

// scriptedS3 is an HTTP server that replies to the n-th request with the n-th
// scripted reply and repeats the last reply after that. MinIO cannot show
// these faults on demand (a lost response after a write, a 409 from a
// concurrent conditional write), so the PutIfAbsent outcome rules are
// tested against this fake. The conformance test covers real MinIO.
type scriptedS3 struct {
	mu       sync.Mutex
	replies  []reply
	requests int
}

type reply struct {
	status int    // HTTP status; 0 drops the connection without a response
	code   string // S3 error code for the XML body
}

func (s *scriptedS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rep := s.replies[min(s.requests, len(s.replies)-1)]
	s.requests++
	s.mu.Unlock()
	if rep.status == 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if rep.code == "" {
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		w.WriteHeader(rep.status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + rep.code + `</Code><Message>scripted</Message></Error>`))
}

func newScriptedStore(t *testing.T, endpoint string) *objstore.S3 {
	t.Helper()
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	s, err := objstore.NewS3(context.Background(), "bucket", "t", objstore.S3Options{AWSConfig: &cfg})
	if err != nil {
		t.Fatalf("NewS3: %v", err)
	}
	return s
}

func TestS3PutIfAbsentOutcome(t *testing.T) {
	ok := reply{status: 200}
	precondition := reply{status: 412, code: "PreconditionFailed"}
	conflict := reply{status: 409, code: "ConditionalRequestConflict"}
	internal := reply{status: 500, code: "InternalError"}
	dropped := reply{status: 0}
	denied := reply{status: 403, code: "AccessDenied"}
	cases := []struct {
		name         string
		replies      []reply
		want         error // nil for success, unless wantFail
		wantFail     bool  // a failure that wraps none of the sentinels
		wantUnknown  bool
		wantRequests int
	}{
		{"success", []reply{ok}, nil, false, false, 1},
		{"key exists", []reply{precondition}, objstore.ErrAlreadyExists, false, false, 1},
		{"conflict then success", []reply{conflict, ok}, nil, false, false, 2},
		{"conflict then key exists", []reply{conflict, precondition}, objstore.ErrAlreadyExists, false, false, 2},
		{"conflict every time", []reply{conflict}, objstore.ErrAlreadyExists, false, false, 5},
		{"server error then success", []reply{internal, ok}, nil, false, false, 2},
		{"server error then key exists may be ours", []reply{internal, precondition}, objstore.ErrUnknownOutcome, false, true, 2},
		{"dropped connection then key exists may be ours", []reply{dropped, precondition}, objstore.ErrUnknownOutcome, false, true, 2},
		{"server error every time", []reply{internal}, objstore.ErrUnknownOutcome, false, true, 4},
		{"access denied is definite", []reply{denied}, nil, true, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &scriptedS3{replies: c.replies}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			s := newScriptedStore(t, srv.URL)
			err := s.PutIfAbsent(context.Background(), "_delta_log/0.json", []byte("{}"))
			switch {
			case c.wantFail:
				if err == nil || errors.Is(err, objstore.ErrAlreadyExists) {
					t.Fatalf("got %v, want a failure that is not ErrAlreadyExists", err)
				}
			case c.want == nil && err != nil:
				t.Fatalf("got %v, want success", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if got := errors.Is(err, objstore.ErrUnknownOutcome); got != c.wantUnknown {
				t.Fatalf("errors.Is(err, ErrUnknownOutcome) = %v, want %v (err %v)", got, c.wantUnknown, err)
			}
			if fake.requests != c.wantRequests {
				t.Fatalf("server saw %d requests, want %d", fake.requests, c.wantRequests)
			}
		})
	}
}

func TestS3RefusedConnectionIsDefinite(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens here now, so every dial is refused
	s := newScriptedStore(t, "http://"+addr)
	err = s.PutIfAbsent(context.Background(), "k", []byte("x"))
	if err == nil {
		t.Fatal("PutIfAbsent to a closed port succeeded")
	}
	if errors.Is(err, objstore.ErrUnknownOutcome) {
		t.Fatalf("a refused connection reported an unknown outcome: %v", err)
	}
	if !strings.Contains(err.Error(), "s3://bucket/t/k") {
		t.Fatalf("error %q does not name the object", err)
	}
}

func TestS3PutOutcome(t *testing.T) {
	cases := []struct {
		name        string
		replies     []reply
		wantUnknown bool
	}{
		{"server error every time may have landed", []reply{{status: 500, code: "InternalError"}}, true},
		{"access denied is definite", []reply{{status: 403, code: "AccessDenied"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(&scriptedS3{replies: c.replies})
			defer srv.Close()
			s := newScriptedStore(t, srv.URL)
			err := s.Put(context.Background(), "data/part-0.parquet", strings.NewReader("x"), 1)
			if err == nil {
				t.Fatal("Put succeeded, want an error")
			}
			if got := errors.Is(err, objstore.ErrUnknownOutcome); got != c.wantUnknown {
				t.Fatalf("errors.Is(err, ErrUnknownOutcome) = %v, want %v (err %v)", got, c.wantUnknown, err)
			}
		})
	}
}
