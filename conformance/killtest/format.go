package killtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/safewrite/safewrite/deltalog"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// Format is the seam between the experiment and a table format. Delta is
// the only implementation; an Iceberg one plugs in here.
type Format interface {
	// Name returns the format name used in reports and on the command line.
	Name() string
	// MetadataFolders returns the folders of the table root that hold the
	// format's own metadata, such as "_delta_log/". Files in them are never
	// counted as orphans.
	MetadataFolders() []string
	// Open returns the format's table handle on store, which the
	// unprotected writer drives directly.
	Open(store objstore.Store) format.Table
	// Inspect reads the table as an independent reader does: it shares no
	// state with any writer and reports a table that cannot be read in
	// View.Err instead of failing.
	Inspect(ctx context.Context, store objstore.Store) View
}

// View is the state of a table as an independent reader sees it.
type View struct {
	// Exists is false when the table has no commit at all.
	Exists  bool
	Version int64
	// Records is the sum of the record counts of the referenced files.
	Records int64
	// Referenced maps each data file key the snapshot references to true.
	Referenced map[string]bool
	// Missing are referenced keys that do not exist in the store.
	Missing []string
	// Err is the reason the table could not be read, or "" when it could.
	Err string
}

// Readable reports whether the snapshot loaded and every file it
// references exists.
func (v View) Readable() bool { return v.Err == "" && len(v.Missing) == 0 }

// Delta is the Delta Lake format.
type Delta struct{}

// Name returns "delta".
func (Delta) Name() string { return "delta" }

// MetadataFolders returns "_delta_log/".
func (Delta) MetadataFolders() []string { return []string{"_delta_log/"} }

// Open returns a deltalog table handle.
func (Delta) Open(store objstore.Store) format.Table {
	return deltalog.Open(store, deltalog.Options{})
}

// Inspect replays the log with deltalog.LoadSnapshot and checks that every
// file the snapshot references exists.
func (Delta) Inspect(ctx context.Context, store objstore.Store) View {
	v := View{Version: -1, Referenced: map[string]bool{}}
	snap, err := deltalog.LoadSnapshot(ctx, store, store.URI())
	if errors.Is(err, deltalog.ErrNoTable) {
		return v
	}
	if err != nil {
		v.Err = err.Error()
		return v
	}
	v.Exists = true
	v.Version = snap.Version
	for p, add := range snap.Files {
		key, err := url.PathUnescape(p)
		if err != nil || strings.Contains(strings.SplitN(key, "/", 2)[0], ":") || strings.HasPrefix(key, "/") {
			v.Err = fmt.Sprintf("add path %q is not a relative key inside the table root", p)
			return v
		}
		v.Referenced[key] = true
		n, err := numRecords(add.Stats)
		if err != nil {
			v.Err = fmt.Sprintf("add %s: %v", p, err)
			return v
		}
		v.Records += n
		if _, err := store.Stat(ctx, key); err != nil {
			v.Missing = append(v.Missing, key)
		}
	}
	return v
}

func numRecords(stats string) (int64, error) {
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if err := json.Unmarshal([]byte(stats), &s); err != nil {
		return 0, fmt.Errorf("stats are not valid JSON: %w", err)
	}
	if s.NumRecords == nil {
		return 0, errors.New("stats have no numRecords")
	}
	return *s.NumRecords, nil
}

// FormatByName returns the format called name.
func FormatByName(name string) (Format, error) {
	switch name {
	case "delta", "":
		return Delta{}, nil
	default:
		return nil, fmt.Errorf("unsupported table format %q: the kill test supports delta", name)
	}
}
