package commit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/safewrite/safewrite/objstore"
)

const (
	intentPrefix  = "_safewrite/intents/"
	outcomePrefix = "_safewrite/outcomes/"
	// reserveBatch is how many data file names one intent write reserves
	// per partition folder, so most appends write the intent once.
	reserveBatch = 8
)

// Intent is the write-ahead record of one transaction (I1, I2).
type Intent struct {
	TxnID       string    `json:"txnId"`
	Table       string    `json:"table"`
	Format      string    `json:"format"`
	BaseVersion int64     `json:"baseVersion"`
	CreatedAt   time.Time `json:"createdAt"`
	// Deadline is the owner's deadline, or the end of its current lease.
	Deadline time.Time `json:"deadline"`
	// Lease is true when Deadline is a lease that the owner renews.
	Lease bool   `json:"lease,omitempty"`
	Host  string `json:"host,omitempty"`
	PID   int    `json:"pid,omitempty"`
	// Objects are every key the transaction may PUT, reserved before use.
	Objects     []string `json:"objects"`
	Idempotency *struct {
		AppID   string `json:"appId"`
		Version int64  `json:"version"`
	} `json:"idempotency,omitempty"`
}

// Outcome is the record a rollback leaves under _safewrite/outcomes/ (I6).
type Outcome struct {
	TxnID          string    `json:"txnId"`
	Table          string    `json:"table"`
	Outcome        string    `json:"outcome"` // "rolled-back"
	Reason         string    `json:"reason"`  // "deadline", "conflict", "error", "expired", "forced", "already-applied"
	Phase          string    `json:"phase"`
	BaseVersion    int64     `json:"baseVersion"`
	ObjectsRemoved int       `json:"objectsRemoved"`
	BytesRemoved   int64     `json:"bytesRemoved"`
	Error          string    `json:"error,omitempty"`
	At             time.Time `json:"at"`
}

func intentKey(txnID string) string  { return intentPrefix + txnID + ".json" }
func outcomeKey(txnID string) string { return outcomePrefix + txnID + ".json" }

// dataFileKey is the name of data file seq of transaction txnID.
func dataFileKey(dir, txnID string, seq int, suffix string) string {
	return fmt.Sprintf("%spart-%05d-%s-c000%s", dir, seq, txnID, suffix)
}

// writeIntent stores the intent durably, replacing the previous version.
// A crash right after it leaves an intent that names objects not all of
// which exist yet. Recovery deletes the ones that do once the deadline passes.
func writeIntent(ctx context.Context, store objstore.Store, in *Intent) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	key := intentKey(in.TxnID)
	if err := store.Put(ctx, key, strings.NewReader(string(data)), int64(len(data))); err != nil {
		return fmt.Errorf("phase intent: table %s: write intent %s: %w", in.Table, key, err)
	}
	return nil
}

func readIntent(ctx context.Context, store objstore.Store, key string) (*Intent, error) {
	data, err := objstore.ReadAll(ctx, store, key)
	if err != nil {
		return nil, err
	}
	var in Intent
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("intent %s is not valid JSON: %w", key, err)
	}
	if in.TxnID == "" || intentKey(in.TxnID) != key {
		return nil, fmt.Errorf("intent %s names transaction %q, which does not match its key", key, in.TxnID)
	}
	return &in, nil
}

// listIntents returns the keys of every intent record: one LIST.
func listIntents(ctx context.Context, store objstore.Store) ([]objstore.ObjectInfo, error) {
	objs, err := store.List(ctx, intentPrefix, false)
	if err != nil {
		return nil, err
	}
	out := objs[:0]
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".json") && !strings.HasPrefix(path.Base(o.Key), ".") {
			out = append(out, o)
		}
	}
	return out, nil
}

func writeOutcome(ctx context.Context, store objstore.Store, out *Outcome) error {
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	key := outcomeKey(out.TxnID)
	if err := store.Put(ctx, key, strings.NewReader(string(data)), int64(len(data))); err != nil {
		return fmt.Errorf("phase %s: table %s: write outcome record %s: %w", out.Phase, out.Table, key, err)
	}
	return nil
}

// ReadOutcome reads the outcome record of a rolled-back transaction.
func ReadOutcome(ctx context.Context, store objstore.Store, txnID string) (*Outcome, error) {
	data, err := objstore.ReadAll(ctx, store, outcomeKey(txnID))
	if err != nil {
		return nil, err
	}
	var out Outcome
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("outcome record %s is not valid JSON: %w", outcomeKey(txnID), err)
	}
	return &out, nil
}

// ListIntents reads every intent record under _safewrite/intents/. A record
// that cannot be read is returned as an error in the second slice.
func ListIntents(ctx context.Context, store objstore.Store) ([]*Intent, []error, error) {
	objs, err := listIntents(ctx, store)
	if err != nil {
		return nil, nil, err
	}
	var intents []*Intent
	var bad []error
	for _, o := range objs {
		in, err := readIntent(ctx, store, o.Key)
		if errors.Is(err, objstore.ErrNotFound) {
			continue // finalized between the LIST and the GET
		}
		if err != nil {
			bad = append(bad, err)
			continue
		}
		intents = append(intents, in)
	}
	return intents, bad, nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
