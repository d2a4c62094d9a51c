package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrInjected is wrapped by every error that a Faulty store injects.
var ErrInjected = errors.New("objstore: injected fault")

// Op is the kind of a Store operation, as Faulty counts and matches them.
type Op int

// Operation kinds, one per Store method.
const (
	OpPut Op = iota + 1
	OpPutIfAbsent
	OpGet
	OpGetRange
	OpStat
	OpList
	OpDelete
)

var opNames = map[Op]string{
	OpPut:         "Put",
	OpPutIfAbsent: "PutIfAbsent",
	OpGet:         "Get",
	OpGetRange:    "GetRange",
	OpStat:        "Stat",
	OpList:        "List",
	OpDelete:      "Delete",
}

func (o Op) String() string {
	if name, ok := opNames[o]; ok {
		return name
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// IsWrite reports whether the operation changes the store.
func (o Op) IsWrite() bool { return o == OpPut || o == OpPutIfAbsent || o == OpDelete }

// Call is one operation as injectors see it.
type Call struct {
	Seq   int      // 1-based number among all operations of the store
	OpSeq int      // 1-based number among operations of the same kind
	Op    Op       // the kind
	Keys  []string // the key; every key for Delete; the prefix for List
}

func (c Call) String() string {
	return fmt.Sprintf("%s #%d (op #%d) on %q", c.Op, c.OpSeq, c.Seq, c.Keys)
}

// Fault is the kind of fault an injector applies to one call.
type Fault int

// Faults an injector can return.
const (
	// NoFault lets the call through to the inner store.
	NoFault Fault = iota
	// FailCall returns an error wrapping ErrInjected without calling the
	// inner store, as if the request never reached the server.
	FailCall
	// LoseResponse calls the inner store and then returns an error wrapping
	// ErrInjected and ErrUnknownOutcome, as if the write was applied but its
	// response was lost. On a read it acts as FailCall.
	LoseResponse
)

// Injector decides the fault for each call. Inject runs before the call
// reaches the inner store and may sleep. An error it returns (such as the
// context's error) goes to the caller unchanged, and the call does not run.
type Injector interface {
	Inject(ctx context.Context, c Call) (Fault, error)
}

// InjectorFunc adapts a function to the Injector interface.
type InjectorFunc func(ctx context.Context, c Call) (Fault, error)

// Inject calls f.
func (f InjectorFunc) Inject(ctx context.Context, c Call) (Fault, error) { return f(ctx, c) }

// faultIf returns an injector that gives fault to the calls match accepts.
func faultIf(fault Fault, match func(Call) bool) Injector {
	return InjectorFunc(func(_ context.Context, c Call) (Fault, error) {
		if match(c) {
			return fault, nil
		}
		return NoFault, nil
	})
}

// FailNth fails the n-th operation of any kind (1-based).
func FailNth(n int) Injector { return faultIf(FailCall, func(c Call) bool { return c.Seq == n }) }

// FailNthOf fails the n-th operation of kind op (1-based).
func FailNthOf(op Op, n int) Injector {
	return faultIf(FailCall, func(c Call) bool { return c.Op == op && c.OpSeq == n })
}

// FailFrom fails the n-th operation and every one after it, like a process
// that dies before its n-th request.
func FailFrom(n int) Injector { return faultIf(FailCall, func(c Call) bool { return c.Seq >= n }) }

// FailIf fails every call that match accepts.
func FailIf(match func(Call) bool) Injector { return faultIf(FailCall, match) }

// FailKey fails every operation of the given kinds (all kinds when none are
// given) with a key that matches the path.Match pattern. It panics on a
// malformed pattern, like regexp.MustCompile.
func FailKey(pattern string, ops ...Op) Injector {
	return faultIf(FailCall, keyMatcher(pattern, ops))
}

// LoseResponseNth applies the n-th operation and then loses its response.
func LoseResponseNth(n int) Injector {
	return faultIf(LoseResponse, func(c Call) bool { return c.Seq == n })
}

// LoseResponseKey applies every operation of the given kinds (all kinds
// when none are given) whose key matches the path.Match pattern, and then
// loses its response. It panics on a malformed pattern.
func LoseResponseKey(pattern string, ops ...Op) Injector {
	return faultIf(LoseResponse, keyMatcher(pattern, ops))
}

// LoseResponseIf applies every call that match accepts and then loses its
// response.
func LoseResponseIf(match func(Call) bool) Injector { return faultIf(LoseResponse, match) }

func keyMatcher(pattern string, ops []Op) func(Call) bool {
	if _, err := path.Match(pattern, ""); err != nil {
		panic(fmt.Sprintf("objstore: key pattern %q: %v", pattern, err))
	}
	return func(c Call) bool {
		if len(ops) > 0 && !slices.Contains(ops, c.Op) {
			return false
		}
		for _, key := range c.Keys {
			if ok, _ := path.Match(pattern, key); ok {
				return true
			}
		}
		return false
	}
}

// Latency delays every operation of the given kinds (all kinds when none
// are given) by d. A cancelled context ends the wait with the context's
// error, and the call does not run.
func Latency(d time.Duration, ops ...Op) Injector {
	return InjectorFunc(func(ctx context.Context, c Call) (Fault, error) {
		if len(ops) > 0 && !slices.Contains(ops, c.Op) {
			return NoFault, nil
		}
		if err := sleepCtx(ctx, d); err != nil {
			return NoFault, fmt.Errorf("%s: %w", c, err)
		}
		return NoFault, nil
	})
}

// Once passes through the first fault inj gives and no fault after it.
func Once(inj Injector) Injector {
	var fired atomic.Bool
	return InjectorFunc(func(ctx context.Context, c Call) (Fault, error) {
		fault, err := inj.Inject(ctx, c)
		if err != nil || fault == NoFault {
			return fault, err
		}
		if fired.Swap(true) {
			return NoFault, nil
		}
		return fault, nil
	})
}

// Faulty wraps a Store and injects faults into its operations, for crash
// tests. It numbers every operation, calls the injectors in the order they
// were added, and applies the first fault returned. It is safe for
// concurrent use, and concurrent operations are numbered in the order they
// start.
//
// The exhaustive crash loop runs a workload with FailNth(i) for i = 1, 2, …
// until Injected returns 0, which means the workload finished before its
// i-th operation.
type Faulty struct {
	inner Store

	mu        sync.Mutex
	injectors []Injector
	seq       int
	opSeq     map[Op]int
	calls     []Call
	injected  []Call
	written   []string
}

// NewFaulty wraps inner with the given injectors.
func NewFaulty(inner Store, injectors ...Injector) *Faulty {
	return &Faulty{inner: inner, injectors: injectors, opSeq: map[Op]int{}}
}

// Add appends injectors and returns f.
func (f *Faulty) Add(injectors ...Injector) *Faulty {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injectors = append(f.injectors, injectors...)
	return f
}

// ClearInjectors removes every injector, so later operations pass through
// (for example to run recovery after a simulated crash). Counts are kept.
func (f *Faulty) ClearInjectors() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.injectors = nil
}

// Inner returns the wrapped store.
func (f *Faulty) Inner() Store { return f.inner }

// Ops returns the number of operations started so far.
func (f *Faulty) Ops() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// Calls returns every operation started so far, in order.
func (f *Faulty) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Injected returns the number of faults injected so far (failed calls and
// lost responses; latency does not count).
func (f *Faulty) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.injected)
}

// InjectedCalls returns the calls that got a fault, in order.
func (f *Faulty) InjectedCalls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.injected)
}

// Written returns the keys that the inner store wrote (Put and PutIfAbsent
// that succeeded there, including those whose response was then lost), in
// order, with repeats.
func (f *Faulty) Written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.written)
}

// URI returns the inner store's URI.
func (f *Faulty) URI() string { return f.inner.URI() }

// begin numbers a call and runs the injectors on it. A non-nil error
// means the call must not run.
func (f *Faulty) begin(ctx context.Context, op Op, keys ...string) (Call, Fault, error) {
	f.mu.Lock()
	f.seq++
	f.opSeq[op]++
	c := Call{Seq: f.seq, OpSeq: f.opSeq[op], Op: op, Keys: slices.Clone(keys)}
	f.calls = append(f.calls, c)
	injectors := slices.Clone(f.injectors)
	f.mu.Unlock()

	fault := NoFault
	for _, inj := range injectors {
		got, err := inj.Inject(ctx, c)
		if err != nil {
			return c, NoFault, err
		}
		if got != NoFault {
			fault = got
			break
		}
	}
	if fault == LoseResponse && !op.IsWrite() {
		fault = FailCall
	}
	if fault == NoFault {
		return c, NoFault, nil
	}
	f.mu.Lock()
	f.injected = append(f.injected, c)
	f.mu.Unlock()
	if fault == FailCall {
		return c, fault, fmt.Errorf("%w: %s failed", ErrInjected, c)
	}
	return c, fault, nil
}

// finish records a write and, for a LoseResponse fault, replaces its result
// with an unknown-outcome error.
func (f *Faulty) finish(c Call, fault Fault, err error) error {
	if err == nil && (c.Op == OpPut || c.Op == OpPutIfAbsent) {
		f.mu.Lock()
		f.written = append(f.written, c.Keys[0])
		f.mu.Unlock()
	}
	if fault == LoseResponse {
		return fmt.Errorf("%w: %w: %s was sent and its response lost (inner result: %v)", ErrUnknownOutcome, ErrInjected, c, err)
	}
	return err
}

// Put injects faults into the inner Put.
func (f *Faulty) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	c, fault, err := f.begin(ctx, OpPut, key)
	if err != nil {
		return err
	}
	return f.finish(c, fault, f.inner.Put(ctx, key, body, size))
}

// PutIfAbsent injects faults into the inner PutIfAbsent.
func (f *Faulty) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	c, fault, err := f.begin(ctx, OpPutIfAbsent, key)
	if err != nil {
		return err
	}
	return f.finish(c, fault, f.inner.PutIfAbsent(ctx, key, data))
}

// Get injects faults into the inner Get.
func (f *Faulty) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if _, _, err := f.begin(ctx, OpGet, key); err != nil {
		return nil, err
	}
	return f.inner.Get(ctx, key)
}

// GetRange injects faults into the inner GetRange.
func (f *Faulty) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if _, _, err := f.begin(ctx, OpGetRange, key); err != nil {
		return nil, err
	}
	return f.inner.GetRange(ctx, key, offset, length)
}

// Stat injects faults into the inner Stat.
func (f *Faulty) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if _, _, err := f.begin(ctx, OpStat, key); err != nil {
		return ObjectInfo{}, err
	}
	return f.inner.Stat(ctx, key)
}

// List injects faults into the inner List; injectors see the prefix as the
// key.
func (f *Faulty) List(ctx context.Context, prefix string, recursive bool) ([]ObjectInfo, error) {
	if _, _, err := f.begin(ctx, OpList, prefix); err != nil {
		return nil, err
	}
	return f.inner.List(ctx, prefix, recursive)
}

// Delete injects faults into the inner Delete; a FailCall deletes none of
// the keys.
func (f *Faulty) Delete(ctx context.Context, keys ...string) error {
	c, fault, err := f.begin(ctx, OpDelete, keys...)
	if err != nil {
		return err
	}
	return f.finish(c, fault, f.inner.Delete(ctx, keys...))
}

var _ Store = (*Faulty)(nil)
