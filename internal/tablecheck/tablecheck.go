// Package tablecheck reads a Delta table as an outside reader does, sharing
// none of the writer's state. Crash tests use it to check the invariants in
// commit/doc.go. It reports the snapshot's records, the objects that no
// version references, and safewrite's intent and outcome records.
package tablecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/objstore"
)

// State is the view of a table that an outside reader has.
type State struct {
	Version int64
	// Records sums numRecords over the active files.
	Records int64
	// Files are the object keys of the active data files.
	Files map[string]bool
	// Strays are objects that no version references: data files outside
	// _delta_log/ and _safewrite/, and temp files in _delta_log/.
	Strays []string
	// Intents are the keys under _safewrite/intents/, temp files included.
	Intents []string
	// Outcomes are the transaction ids that have an outcome record.
	Outcomes map[string]bool
	// Temps are hidden temp files elsewhere under _safewrite/, such as an
	// outcome record cut short by a kill; no table reader sees them.
	Temps []string
}

// Read loads the latest snapshot with deltalog.LoadSnapshot and lists the
// whole table root. Every active file must have numRecords in its stats.
func Read(ctx context.Context, store objstore.Store) (*State, error) {
	snap, err := deltalog.LoadSnapshot(ctx, store, store.URI())
	if err != nil {
		return nil, fmt.Errorf("load snapshot of %s: %w", store.URI(), err)
	}
	st := &State{Version: snap.Version, Files: map[string]bool{}, Outcomes: map[string]bool{}}
	for p, add := range snap.Files {
		key, err := url.PathUnescape(p)
		if err != nil {
			return nil, fmt.Errorf("add path %q is not URL-escaped correctly: %w", p, err)
		}
		st.Files[key] = true
		var stats struct {
			NumRecords *int64 `json:"numRecords"`
		}
		if add.Stats == "" || json.Unmarshal([]byte(add.Stats), &stats) != nil || stats.NumRecords == nil {
			return nil, fmt.Errorf("file %s has no numRecords in its stats", p)
		}
		st.Records += *stats.NumRecords
	}

	objects, err := store.List(ctx, "", true)
	if err != nil {
		return nil, fmt.Errorf("list table root %s: %w", store.URI(), err)
	}
	for _, o := range objects {
		base := path.Base(o.Key)
		temp := strings.HasPrefix(base, ".") && strings.Contains(base, ".tmp-")
		switch {
		case strings.HasPrefix(o.Key, "_safewrite/intents/"):
			st.Intents = append(st.Intents, o.Key)
		case strings.HasPrefix(o.Key, "_delta_log/"):
			if temp {
				st.Strays = append(st.Strays, o.Key)
			}
		case strings.HasPrefix(o.Key, "_safewrite/"):
			if temp {
				st.Temps = append(st.Temps, o.Key)
			} else if strings.HasPrefix(o.Key, "_safewrite/outcomes/") {
				st.Outcomes[strings.TrimSuffix(base, ".json")] = true
			}
		case st.Files[o.Key]:
		default:
			st.Strays = append(st.Strays, o.Key)
		}
	}
	sort.Strings(st.Strays)
	return st, nil
}
