package watchdog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/objstore"
	"github.com/safewrite/safewrite/watchdog"
)

// csvRows has n rows over the given number of partitions.
func csvRows(n, partitions int) string {
	var b strings.Builder
	b.WriteString("id,region,amount\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,r%02d,%d.5\n", i, i%partitions, i)
	}
	return b.String()
}

// eventLog collects events from several goroutines.
type eventLog struct {
	mu     sync.Mutex
	events []commit.Event
}

func (l *eventLog) add(ev commit.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) of(kind commit.EventKind) []commit.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []commit.Event
	for _, ev := range l.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// state is what an independent reader sees in a local table.
type state struct {
	version  int64
	records  int64
	strays   []string
	intents  int
	outcomes []string
}

func readState(t *testing.T, store objstore.Store) state {
	t.Helper()
	ctx := context.Background()
	snap, err := deltalog.LoadSnapshot(ctx, store, store.URI())
	if err != nil {
		t.Fatalf("load snapshot: %v", err)
	}
	st := state{version: snap.Version}
	referenced := map[string]bool{}
	for p, add := range snap.Files {
		referenced[p] = true
		var stats struct {
			NumRecords int64 `json:"numRecords"`
		}
		if err := json.Unmarshal([]byte(add.Stats), &stats); err != nil {
			t.Fatalf("stats of %s: %v", p, err)
		}
		st.records += stats.NumRecords
	}
	objects, err := store.List(ctx, "", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		switch {
		case strings.HasPrefix(o.Key, "_delta_log/"), referenced[o.Key]:
		case strings.HasPrefix(o.Key, "_safewrite/intents/"):
			st.intents++
		case strings.HasPrefix(o.Key, "_safewrite/outcomes/"):
			st.outcomes = append(st.outcomes, strings.TrimSuffix(strings.TrimPrefix(o.Key, "_safewrite/outcomes/"), ".json"))
		default:
			st.strays = append(st.strays, o.Key)
		}
	}
	return st
}

// newTable creates a local table with 10 rows at version 0.
func newTable(t *testing.T) *objstore.Local {
	t.Helper()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.AppendReader(context.Background(), strings.NewReader(csvRows(10, 3)), "csv",
		safewrite.AppendOptions{PartitionBy: []string{"region"}}); err != nil {
		t.Fatalf("first append: %v", err)
	}
	return local
}

// slowAppend appends 40 partitions through store, where every Put waits
// 100ms, so the write takes at least 4 s, armed with a watchdog whose
// margin leaves it 300ms to run.
func slowAppend(t *testing.T, store objstore.Store, wd *watchdog.Watchdog, events *eventLog) (*watchdog.Arm, error) {
	t.Helper()
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, store.URI(), safewrite.Options{Store: store, OnEvent: events.add})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(300*time.Millisecond + wd.Margin())
	armed, arm := wd.Arm(ctx, deadline, tbl.URI(), "delta")
	defer arm.Disarm()
	_, err = tbl.AppendReader(armed, strings.NewReader(csvRows(400, 40)), "csv", safewrite.AppendOptions{
		PartitionBy: []string{"region"}, Deadline: deadline, Guard: arm,
	})
	return arm, err
}

// TestWatchdogRollsBackBeforeCommit checks I6 for a watchdog abort: the
// table keeps its rows, no staged object or intent is left, and the
// rollback left an outcome record with reason deadline and an alert.
func TestWatchdogRollsBackBeforeCommit(t *testing.T) {
	local := newTable(t)
	slow := objstore.NewFaulty(local, objstore.Latency(100*time.Millisecond, objstore.OpPut))
	events := &eventLog{}
	var emf bytes.Buffer
	emfHandler := watchdog.EMFHandler(&emf)
	wd := watchdog.New(watchdog.Options{Floor: time.Second, OnEvent: func(ev commit.Event) {
		events.add(ev)
		emfHandler(ev)
	}})

	arm, err := slowAppend(t, slow, wd, events)
	if !arm.Fired() {
		t.Fatalf("watchdog did not fire; append returned %v", err)
	}
	if !errors.Is(err, commit.ErrDeadline) || !errors.Is(err, commit.ErrRolledBack) {
		t.Errorf("append error %v, want ErrDeadline and ErrRolledBack", err)
	}
	st := readState(t, local)
	if st.version != 0 || st.records != 10 {
		t.Errorf("table at version %d with %d records, want version 0 with 10", st.version, st.records)
	}
	if len(st.strays) > 0 {
		t.Errorf("staged objects left: %v", st.strays)
	}
	if st.intents != 0 {
		t.Errorf("%d intents left", st.intents)
	}
	if len(st.outcomes) != 1 {
		t.Fatalf("%d outcome records, want 1", len(st.outcomes))
	}
	out, err := commit.ReadOutcome(context.Background(), local, st.outcomes[0])
	if err != nil {
		t.Fatal(err)
	}
	if out.Outcome != "rolled-back" || out.Reason != "deadline" {
		t.Errorf("outcome %s with reason %s, want rolled-back with reason deadline", out.Outcome, out.Reason)
	}
	rollbacks := events.of(commit.EventRollback)
	if len(rollbacks) != 1 || rollbacks[0].Reason != "deadline" {
		t.Errorf("rollback events %+v, want one with reason deadline", rollbacks)
	}
	if fired := events.of(watchdog.EventFired); len(fired) != 1 {
		t.Errorf("%d watchdog-fired events, want 1", len(fired))
	}
	if !strings.Contains(emf.String(), `"WatchdogFired":1`) {
		t.Errorf("EMF output has no WatchdogFired metric:\n%s", emf.String())
	}
}

// TestWatchdogCrashDuringRollback kills the writer at the k-th store
// operation after the watchdog fired, for every k until the rollback
// finishes untouched. One recovery must then reach the state of I6, so the
// durable steps rollback-delete, rollback-outcome and rollback-finalize
// are each safe to die after.
func TestWatchdogCrashDuringRollback(t *testing.T) {
	for k := 1; ; k++ {
		local := newTable(t)
		var fired sync.Mutex
		firedOps := 0
		armedCancelled := func() bool { return false }
		kill := objstore.InjectorFunc(func(ctx context.Context, c objstore.Call) (objstore.Fault, error) {
			if !armedCancelled() {
				return objstore.NoFault, nil
			}
			fired.Lock()
			defer fired.Unlock()
			firedOps++
			if firedOps >= k {
				return objstore.FailCall, nil
			}
			return objstore.NoFault, nil
		})
		faulty := objstore.NewFaulty(local, kill, objstore.Latency(100*time.Millisecond, objstore.OpPut))
		wd := watchdog.New(watchdog.Options{Floor: time.Second})
		tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: faulty})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(300*time.Millisecond + wd.Margin())
		armed, arm := wd.Arm(context.Background(), deadline, tbl.URI(), "delta")
		armedCancelled = func() bool { return armed.Err() != nil }
		_, appendErr := tbl.AppendReader(armed, strings.NewReader(csvRows(400, 40)), "csv", safewrite.AppendOptions{
			PartitionBy: []string{"region"}, Deadline: deadline, Guard: arm,
		})
		arm.Disarm()
		if !arm.Fired() {
			t.Fatalf("k=%d: watchdog did not fire; append returned %v", k, appendErr)
		}
		if appendErr == nil {
			t.Fatalf("k=%d: append succeeded after the watchdog fired", k)
		}

		later := func() time.Time { return deadline.Add(time.Hour) }
		recoverer, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local, Clock: later})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := recoverer.Recover(context.Background(), commit.RecoverOptions{}); err != nil {
			t.Fatalf("k=%d: recover: %v", k, err)
		}
		st := readState(t, local)
		if st.version != 0 || st.records != 10 {
			t.Errorf("k=%d: table at version %d with %d records, want version 0 with 10", k, st.version, st.records)
		}
		if len(st.strays) > 0 {
			t.Errorf("k=%d: staged objects left: %v", k, st.strays)
		}
		if st.intents != 0 {
			t.Errorf("k=%d: %d intents left", k, st.intents)
		}
		if len(st.outcomes) != 1 {
			t.Errorf("k=%d: %d outcome records, want 1", k, len(st.outcomes))
		}
		if faulty.Injected() == 0 {
			if k < 3 {
				t.Fatalf("rollback finished after only %d operations: the loop never injected into it", k)
			}
			return
		}
		if k > 20 {
			t.Fatalf("rollback still hits injected faults after %d operations", k)
		}
	}
}

// TestPointOfNoReturnUsesWatchdogEstimate arms an append whose deadline is
// an hour away and then records a commit slower than that: the point of no
// return must reject the commit and roll back with reason deadline.
func TestPointOfNoReturnUsesWatchdogEstimate(t *testing.T) {
	local := newTable(t)
	events := &eventLog{}
	tbl, err := safewrite.Open(context.Background(), local.URI(), safewrite.Options{Store: local, OnEvent: events.add})
	if err != nil {
		t.Fatal(err)
	}
	wd := watchdog.New(watchdog.Options{Floor: time.Second})
	deadline := time.Now().Add(time.Hour)
	armed, arm := wd.Arm(context.Background(), deadline, tbl.URI(), "delta")
	defer arm.Disarm()
	wd.ObserveCommit(time.Hour)

	_, err = tbl.AppendReader(armed, strings.NewReader(csvRows(20, 2)), "csv", safewrite.AppendOptions{
		PartitionBy: []string{"region"}, Deadline: deadline, Guard: arm,
	})
	if !errors.Is(err, commit.ErrDeadline) || !errors.Is(err, commit.ErrRolledBack) {
		t.Fatalf("append error %v, want a point-of-no-return rollback", err)
	}
	if arm.Fired() {
		t.Errorf("watchdog fired, but the point of no return should have stopped the commit")
	}
	rollbacks := events.of(commit.EventRollback)
	if len(rollbacks) != 1 || rollbacks[0].Phase != "point-of-no-return" || rollbacks[0].Reason != "deadline" {
		t.Errorf("rollback events %+v, want one in phase point-of-no-return with reason deadline", rollbacks)
	}
	st := readState(t, local)
	if st.records != 10 || len(st.strays) > 0 || st.intents != 0 {
		t.Errorf("state %+v, want 10 records, no strays, no intents", st)
	}
}

func TestMargin(t *testing.T) {
	cases := []struct {
		name    string
		opts    watchdog.Options
		commits []time.Duration
		aborts  []time.Duration
		want    time.Duration
	}{
		{"floor before any measurement", watchdog.Options{Floor: 3 * time.Second}, nil, nil, 3 * time.Second},
		{"default floor", watchdog.Options{}, nil, nil, watchdog.DefaultFloor},
		{"floor above measured need", watchdog.Options{Floor: 3 * time.Second},
			[]time.Duration{100 * time.Millisecond}, []time.Duration{200 * time.Millisecond}, 3 * time.Second},
		{"measured need above floor", watchdog.Options{Floor: time.Second, SafetyFactor: 2},
			[]time.Duration{2 * time.Second, time.Second}, []time.Duration{time.Second}, 6 * time.Second},
		{"old slow sample drops out of the window", watchdog.Options{Floor: time.Second, SafetyFactor: 2},
			append([]time.Duration{time.Minute}, repeat(16, time.Second)...), nil, 2 * time.Second},
		{"safety factor below one is raised to one", watchdog.Options{Floor: time.Second, SafetyFactor: 0.5},
			[]time.Duration{3 * time.Second}, nil, 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd := watchdog.New(tc.opts)
			for _, d := range tc.commits {
				wd.ObserveCommit(d)
			}
			for _, d := range tc.aborts {
				wd.ObserveAbort(d)
			}
			if got := wd.Margin(); got != tc.want {
				t.Errorf("margin %s, want %s", got, tc.want)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestArmStates drives an Arm directly through each path of its state machine.
func TestArmStates(t *testing.T) {
	t.Run("fires at once when the deadline is inside the margin", func(t *testing.T) {
		wd := watchdog.New(watchdog.Options{Floor: time.Second})
		ctx, arm := wd.Arm(context.Background(), time.Now().Add(100*time.Millisecond), "file:///t", "delta")
		defer arm.Disarm()
		<-ctx.Done()
		if !commit.FiredByDeadline(ctx) {
			t.Errorf("context cause %v does not wrap ErrDeadline", context.Cause(ctx))
		}
		if err := arm.BeginCommit(); !errors.Is(err, commit.ErrDeadline) {
			t.Errorf("BeginCommit after firing returned %v, want ErrDeadline", err)
		}
	})
	t.Run("commit in flight at the reserve raises one unknown-outcome alert", func(t *testing.T) {
		events := make(chan commit.Event, 4)
		wd := watchdog.New(watchdog.Options{Floor: 400 * time.Millisecond, Reserve: 100 * time.Millisecond,
			OnEvent: func(ev commit.Event) { events <- ev }})
		ctx, arm := wd.Arm(context.Background(), time.Now().Add(time.Second), "file:///t", "delta")
		if err := arm.BeginCommit(); err != nil {
			t.Fatalf("BeginCommit: %v", err)
		}
		ev := <-events
		arm.Disarm()
		if ev.Kind != commit.EventUnknownOutcome || ev.Reason != "deadline" || ev.Format != "delta" {
			t.Errorf("event %+v, want unknown-outcome with reason deadline and format delta", ev)
		}
		if commit.FiredByDeadline(ctx) {
			t.Errorf("the watchdog cancelled a running commit")
		}
		if len(events) != 0 {
			t.Errorf("%d more events after the alert", len(events))
		}
	})
	t.Run("commit that ends before the reserve raises nothing", func(t *testing.T) {
		events := make(chan commit.Event, 4)
		wd := watchdog.New(watchdog.Options{Floor: 200 * time.Millisecond, OnEvent: func(ev commit.Event) { events <- ev }})
		deadline := time.Now().Add(300 * time.Millisecond)
		_, arm := wd.Arm(context.Background(), deadline, "file:///t", "delta")
		if err := arm.BeginCommit(); err != nil {
			t.Fatalf("BeginCommit: %v", err)
		}
		arm.EndCommit("committed", 5*time.Second)
		time.Sleep(time.Until(deadline.Add(50 * time.Millisecond)))
		arm.Disarm()
		if len(events) != 0 {
			t.Errorf("got %v, want no event", <-events)
		}
		if got := wd.Margin(); got != 2*5*time.Second {
			t.Errorf("margin after a 5s commit %s, want 10s", got)
		}
	})
}
