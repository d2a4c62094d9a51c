package objstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safewrite/safewrite/objstore"
)

// workload writes two objects, lists them and deletes one: six operations.
func workload(ctx context.Context, s objstore.Store) error {
	if err := s.Put(ctx, "data/a.parquet", strings.NewReader("a"), 1); err != nil {
		return err
	}
	if err := s.Put(ctx, "data/b.parquet", strings.NewReader("b"), 1); err != nil {
		return err
	}
	if err := s.PutIfAbsent(ctx, "_delta_log/0.json", []byte("commit")); err != nil {
		return err
	}
	if _, err := s.List(ctx, "data/", false); err != nil {
		return err
	}
	if _, err := s.Stat(ctx, "_delta_log/0.json"); err != nil {
		return err
	}
	return s.Delete(ctx, "data/b.parquet")
}

func TestFaultyFailNthExhaustive(t *testing.T) {
	ctx := context.Background()
	const ops = 6
	i := 1
	for ; ; i++ {
		inner := newLocal(t)
		f := objstore.NewFaulty(inner, objstore.FailNth(i))
		err := workload(ctx, f)
		if f.Injected() == 0 {
			if err != nil {
				t.Fatalf("i=%d: nothing injected but the workload failed: %v", i, err)
			}
			if f.Ops() != ops {
				t.Fatalf("workload ran %d operations, want %d", f.Ops(), ops)
			}
			break
		}
		if !errors.Is(err, objstore.ErrInjected) {
			t.Fatalf("i=%d: got %v, want ErrInjected", i, err)
		}
		if errors.Is(err, objstore.ErrUnknownOutcome) {
			t.Fatalf("i=%d: a failed call must not report an unknown outcome: %v", i, err)
		}
		if f.Ops() != i {
			t.Fatalf("i=%d: workload stopped after %d operations, want %d", i, f.Ops(), i)
		}
		calls := f.InjectedCalls()
		if len(calls) != 1 || calls[0].Seq != i {
			t.Fatalf("i=%d: injected calls = %v, want one with Seq %d", i, calls, i)
		}
		// The failed write must not have reached the inner store.
		written := f.Written()
		if len(written) != min(i-1, 3) {
			t.Fatalf("i=%d: written = %q, want the %d writes before the failure", i, written, min(i-1, 3))
		}
	}
	if i != ops+1 {
		t.Fatalf("loop ended at i=%d, want %d", i, ops+1)
	}
}

func TestFaultyFailNthOfKind(t *testing.T) {
	ctx := context.Background()
	f := objstore.NewFaulty(newLocal(t), objstore.FailNthOf(objstore.OpPut, 2))
	err := workload(ctx, f)
	if !errors.Is(err, objstore.ErrInjected) {
		t.Fatalf("got %v, want ErrInjected", err)
	}
	if got, want := f.Written(), []string{"data/a.parquet"}; !slices.Equal(got, want) {
		t.Fatalf("written = %q, want %q", got, want)
	}
	if _, err := f.Inner().Stat(ctx, "data/b.parquet"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("the failed Put reached the inner store: Stat = %v", err)
	}
}

func TestFaultyFailKey(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name        string
		injector    objstore.Injector
		wantWritten []string
	}{
		{"glob on data files", objstore.FailKey("data/b.*"), []string{"data/a.parquet"}},
		{"glob limited to another kind", objstore.FailKey("data/*", objstore.OpDelete), []string{"data/a.parquet", "data/b.parquet", "_delta_log/0.json"}},
		{"log commit", objstore.FailKey("_delta_log/*.json", objstore.OpPutIfAbsent), []string{"data/a.parquet", "data/b.parquet"}},
		{"func", objstore.FailIf(func(c objstore.Call) bool { return c.Op == objstore.OpList }), []string{"data/a.parquet", "data/b.parquet", "_delta_log/0.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := objstore.NewFaulty(newLocal(t), c.injector)
			if err := workload(ctx, f); !errors.Is(err, objstore.ErrInjected) {
				t.Fatalf("got %v, want ErrInjected", err)
			}
			if got := f.Written(); !slices.Equal(got, c.wantWritten) {
				t.Fatalf("written = %q, want %q", got, c.wantWritten)
			}
		})
	}
}

func TestFaultyFailKeyBadPatternPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("FailKey with a malformed pattern did not panic")
		}
	}()
	objstore.FailKey("[")
}

func TestFaultyLoseResponseAppliesWrite(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		injector objstore.Injector
		key      string
	}{
		{"put", objstore.LoseResponseNth(1), "data/a.parquet"},
		{"put if absent", objstore.LoseResponseKey("_delta_log/*", objstore.OpPutIfAbsent), "_delta_log/0.json"},
	}
	for _, st := range stores {
		for _, c := range cases {
			t.Run(st.name+"/"+c.name, func(t *testing.T) {
				f := objstore.NewFaulty(st.open(t), c.injector)
				err := workload(ctx, f)
				if !errors.Is(err, objstore.ErrUnknownOutcome) {
					t.Fatalf("got %v, want ErrUnknownOutcome", err)
				}
				if !errors.Is(err, objstore.ErrInjected) {
					t.Fatalf("got %v, want it to wrap ErrInjected too", err)
				}
				if _, err := f.Inner().Stat(ctx, c.key); err != nil {
					t.Fatalf("the write whose response was lost is missing from the inner store: %v", err)
				}
				if got := f.Written(); got[len(got)-1] != c.key {
					t.Fatalf("written = %q, want it to end with %q", got, c.key)
				}
			})
		}
	}
}

func TestFaultyLoseResponseOnReadFails(t *testing.T) {
	ctx := context.Background()
	f := objstore.NewFaulty(newLocal(t), objstore.LoseResponseIf(func(c objstore.Call) bool { return c.Op == objstore.OpList }))
	err := workload(ctx, f)
	if !errors.Is(err, objstore.ErrInjected) {
		t.Fatalf("got %v, want ErrInjected", err)
	}
	if errors.Is(err, objstore.ErrUnknownOutcome) {
		t.Fatalf("a read reported an unknown write outcome: %v", err)
	}
}

func TestFaultyFailFromStopsEverything(t *testing.T) {
	ctx := context.Background()
	f := objstore.NewFaulty(newLocal(t), objstore.FailFrom(2))
	if err := workload(ctx, f); !errors.Is(err, objstore.ErrInjected) {
		t.Fatalf("workload: got %v, want ErrInjected", err)
	}
	if _, err := f.List(ctx, "", true); !errors.Is(err, objstore.ErrInjected) {
		t.Fatalf("List after the crash point: got %v, want ErrInjected", err)
	}
	f.ClearInjectors()
	if _, err := f.List(ctx, "", true); err != nil {
		t.Fatalf("List after ClearInjectors: %v", err)
	}
}

func TestFaultyOnce(t *testing.T) {
	ctx := context.Background()
	f := objstore.NewFaulty(newLocal(t), objstore.Once(objstore.FailKey("*", objstore.OpPut)))
	if err := f.Put(ctx, "a", strings.NewReader("x"), 1); !errors.Is(err, objstore.ErrInjected) {
		t.Fatalf("first Put: got %v, want ErrInjected", err)
	}
	if err := f.Put(ctx, "a", strings.NewReader("x"), 1); err != nil {
		t.Fatalf("second Put: %v", err)
	}
	if f.Injected() != 1 {
		t.Fatalf("Injected = %d, want 1", f.Injected())
	}
}

func TestFaultyLatencyHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := objstore.NewFaulty(newLocal(t), objstore.Latency(time.Hour, objstore.OpPut))
	done := make(chan error, 1)
	go func() { done <- f.Put(ctx, "slow", strings.NewReader("x"), 1) }()
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := f.Inner().Stat(context.Background(), "slow"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("a cancelled delayed Put reached the inner store: Stat = %v", err)
	}
	if f.Injected() != 0 {
		t.Fatalf("latency counted as an injected fault")
	}
	// Operations of other kinds are not delayed.
	if _, err := f.List(context.Background(), "", true); err != nil {
		t.Fatalf("List: %v", err)
	}
}

func TestFaultyConcurrentNumbering(t *testing.T) {
	ctx := context.Background()
	f := objstore.NewFaulty(newLocal(t))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				_, _ = f.Stat(ctx, "missing")
			}
		}()
	}
	wg.Wait()
	if f.Ops() != workers*each {
		t.Fatalf("Ops = %d, want %d", f.Ops(), workers*each)
	}
	calls := f.Calls()
	for i, c := range calls {
		if c.Seq != i+1 || c.OpSeq != i+1 {
			t.Fatalf("call %d numbered Seq %d OpSeq %d, want %d", i, c.Seq, c.OpSeq, i+1)
		}
	}
}
