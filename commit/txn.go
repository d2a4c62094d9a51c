package commit

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// txn is one transaction in flight: its intent and the names it reserved.
type txn struct {
	w      *Writer
	mu     sync.Mutex
	intent Intent
	// reserved holds unused reserved keys per partition folder and suffix.
	reserved map[string][]string
	nextSeq  int
	// uploaded maps a key to its size once its upload finished.
	uploaded map[string]int64

	stopLease chan struct{}
	leaseDone chan struct{}

	// guard, when set, receives the duration of every rollback.
	guard Guard
}

func (w *Writer) newTxn(snap *format.Snapshot, deadline time.Time, key *format.IdempotencyKey, txnID string) *txn {
	if txnID == "" {
		txnID = uuid.NewString()
	}
	t := &txn{
		w:        w,
		reserved: map[string][]string{},
		uploaded: map[string]int64{},
		intent: Intent{
			TxnID:       txnID,
			Table:       w.uri,
			Format:      w.table.Format(),
			BaseVersion: snap.Version,
			CreatedAt:   w.now().UTC(),
			Deadline:    deadline.UTC(),
			Host:        hostname(),
			PID:         os.Getpid(),
		},
	}
	if deadline.IsZero() {
		t.intent.Lease = true
		t.intent.Deadline = w.now().Add(w.opts.Lease).UTC()
	}
	if key != nil {
		t.intent.Idempotency = &struct {
			AppID   string `json:"appId"`
			Version int64  `json:"version"`
		}{key.AppID, key.Version}
	}
	return t
}

// reserveLocked adds a batch of names for dir and suffix to the intent.
func (t *txn) reserveLocked(dir, suffix string) {
	slot := dir + "\x00" + suffix
	for i := 0; i < reserveBatch; i++ {
		key := dataFileKey(dir, t.intent.TxnID, t.nextSeq, suffix)
		t.nextSeq++
		t.intent.Objects = append(t.intent.Objects, key)
		t.reserved[slot] = append(t.reserved[slot], key)
	}
}

// begin writes the first intent. Unless the table is partitioned, when the
// folders are not known yet, it reserves a first batch of names in the root.
// Durable step "intent": a crash right after it leaves an intent whose
// objects do not exist yet. Recovery deletes the intent once its deadline
// has passed.
func (t *txn) begin(ctx context.Context, partitioned bool, suffix string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !partitioned {
		t.reserveLocked("", suffix)
	}
	return writeIntent(ctx, t.w.store, &t.intent)
}

// newFile returns the next reserved key in dir. When the reservation is used
// up it first extends the intent (durable step "extend-intent", I1): a crash
// right after it leaves names that recovery deletes if they exist.
func (t *txn) newFile(ctx context.Context, dir, suffix string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	slot := dir + "\x00" + suffix
	if len(t.reserved[slot]) == 0 {
		t.reserveLocked(dir, suffix)
		if err := writeIntent(ctx, t.w.store, &t.intent); err != nil {
			return "", err
		}
	}
	key := t.reserved[slot][0]
	t.reserved[slot] = t.reserved[slot][1:]
	return key, nil
}

// startLease renews a lease-mode intent every third of the lease, so that
// recovery treats the writer as live while it runs (I2).
func (t *txn) startLease(ctx context.Context) {
	if !t.intent.Lease {
		return
	}
	t.stopLease = make(chan struct{})
	t.leaseDone = make(chan struct{})
	period := t.w.opts.Lease / 3
	go func() {
		defer close(t.leaseDone)
		ticker := time.NewTicker(period)
		defer ticker.Stop()
		for {
			select {
			case <-t.stopLease:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
				t.mu.Lock()
				previous := t.intent.Deadline
				t.intent.Deadline = t.w.now().Add(t.w.opts.Lease).UTC()
				err := writeIntent(ctx, t.w.store, &t.intent)
				if err != nil {
					t.intent.Deadline = previous
				}
				t.mu.Unlock()
				if err != nil {
					t.w.log.Warn("safewrite lease renewal failed", "txnId", t.intent.TxnID, "table", t.w.uri, "error", err)
				}
			}
		}
	}()
}

func (t *txn) stopLeaseRenewal() {
	if t.stopLease != nil {
		close(t.stopLease)
		<-t.leaseDone
		t.stopLease = nil
	}
}

// deadline returns the deadline stored in the last durable intent, which is
// the one recovery reads.
func (t *txn) deadline() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.intent.Deadline
}

// abort deletes every object the intent names, records the outcome and
// deletes the intent. It runs on a context detached from the caller's, which
// may already be cancelled. Each step is safe to repeat, so a crash anywhere
// in it leaves an intent that recovery finishes.
func (t *txn) abort(ctx context.Context, phase, reason string, cause error) error {
	t.stopLeaseRenewal()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	start := time.Now()

	t.mu.Lock()
	objects := append([]string(nil), t.intent.Objects...)
	var bytes int64
	removed := 0
	for _, key := range objects {
		if size, ok := t.uploaded[key]; ok {
			bytes += size
			removed++
		}
	}
	t.mu.Unlock()

	out := &Outcome{
		TxnID: t.intent.TxnID, Table: t.w.uri, Outcome: "rolled-back", Reason: reason,
		Phase: phase, BaseVersion: t.intent.BaseVersion, ObjectsRemoved: removed,
		BytesRemoved: bytes, At: t.w.now().UTC(),
	}
	if cause != nil {
		out.Error = cause.Error()
	}
	if err := settleRollback(ctx, t.w.store, &t.intent, out); err != nil {
		return err
	}
	if t.guard != nil {
		t.guard.Aborted(time.Since(start))
	}
	t.w.emit(ctx, Event{
		Kind: EventRollback, TxnID: t.intent.TxnID, Table: t.w.uri, Phase: phase, Reason: reason,
		Version: t.intent.BaseVersion, ObjectsRemoved: removed, BytesRemoved: bytes, Err: cause,
	})
	return nil
}

// settleRollback is the shared tail of abort and recovery.
//
// Durable step "rollback-delete": a crash right after it leaves the intent
// with none of its objects; recovery repeats the (now empty) delete.
// Durable step "rollback-outcome": a crash right after it leaves the outcome
// record and the intent; recovery rewrites the same outcome.
// Durable step "rollback-finalize": the intent is gone; nothing is left.
func settleRollback(ctx context.Context, store objstore.Store, in *Intent, out *Outcome) error {
	if len(in.Objects) > 0 {
		if err := store.Delete(ctx, in.Objects...); err != nil {
			return fmt.Errorf("phase %s: table %s: delete %d staged objects of transaction %s: %w", out.Phase, in.Table, len(in.Objects), in.TxnID, err)
		}
	}
	if err := writeOutcome(ctx, store, out); err != nil {
		return err
	}
	if err := store.Delete(ctx, intentKey(in.TxnID)); err != nil {
		return fmt.Errorf("phase %s: table %s: delete intent %s: %w", out.Phase, in.Table, intentKey(in.TxnID), err)
	}
	return nil
}

// finalize deletes the intent after a commit. Durable step "finalize": a
// crash before it leaves an intent whose transaction is in the log, which
// recovery finalizes once the deadline has passed.
func (t *txn) finalize(ctx context.Context) error {
	t.stopLeaseRenewal()
	key := intentKey(t.intent.TxnID)
	if err := t.w.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("phase finalize: table %s: delete intent %s: %w", t.w.uri, key, err)
	}
	return nil
}
