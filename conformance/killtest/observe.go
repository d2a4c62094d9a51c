package killtest

import (
	"context"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/safewrite/safewrite/objstore"
)

// Observation is the independent check of one table folder: the format's
// own view plus a walk of every file on disk.
type Observation struct {
	View View
	// OrphanObjects and OrphanBytes count files outside the metadata folders
	// and _safewrite/ that the snapshot does not reference, including the
	// hidden temp files of uploads that a kill cut short.
	OrphanObjects int
	OrphanBytes   int64
	Orphans       []string
	// Intents and Outcomes count safewrite's records.
	Intents  int
	Outcomes int
	// Files maps every file on disk to its size, to tell whether a killed
	// writer changed anything at all. It leaves out MetadataTemps.
	Files map[string]int64
	// MetadataTemps counts the hidden temp files of unfinished writes in
	// the metadata folders and _safewrite/: a write that never completed,
	// invisible to readers and not an orphan.
	MetadataTemps int
}

// observe reads the table at root with f and walks the folder.
func observe(ctx context.Context, f Format, root string) (Observation, error) {
	var obs Observation
	store, err := objstore.NewLocal(root)
	if err != nil {
		return obs, err
	}
	obs.View = f.Inspect(ctx, store)
	obs.Files = map[string]int64{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		hidden := strings.HasPrefix(path.Base(key), ".")
		if hidden && strings.Contains(path.Base(key), ".tmp-") &&
			(isUnder(key, f.MetadataFolders()) || strings.HasPrefix(key, "_safewrite/")) {
			obs.MetadataTemps++
			return nil
		}
		obs.Files[key] = info.Size()
		switch {
		case isUnder(key, f.MetadataFolders()):
		case strings.HasPrefix(key, "_safewrite/intents/"):
			if !hidden && strings.HasSuffix(key, ".json") {
				obs.Intents++
			}
		case strings.HasPrefix(key, "_safewrite/outcomes/"):
			if !hidden && strings.HasSuffix(key, ".json") {
				obs.Outcomes++
			}
		case strings.HasPrefix(key, "_safewrite/"):
		case obs.View.Referenced[key]:
		default:
			obs.OrphanObjects++
			obs.OrphanBytes += info.Size()
			obs.Orphans = append(obs.Orphans, key)
		}
		return nil
	})
	sort.Strings(obs.Orphans)
	return obs, err
}

func isUnder(key string, folders []string) bool {
	for _, m := range folders {
		if strings.HasPrefix(key, m) {
			return true
		}
	}
	return false
}

// sameFiles reports whether two walks found the same files with the same sizes.
func sameFiles(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
