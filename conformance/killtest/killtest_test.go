package killtest_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/safewrite/safewrite/conformance/killtest"
	"github.com/safewrite/safewrite/internal/testenv"
	"github.com/safewrite/safewrite/objstore"
)

// TestKillTestSmall runs a small experiment with real SIGKILLs. The
// protected writer must keep I6: no silent loss, no duplicate, no orphan
// after recovery, every outcome detectable and the table readable. The
// unprotected baseline must leave orphans without a record.
func TestKillTestSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs child processes")
	}
	input := testenv.DataFile(t, "flights-3m.parquet")
	dir := t.TempDir()
	bin := filepath.Join(dir, "safewrite")
	build := exec.Command("go", "build", "-o", bin, "github.com/safewrite/safewrite/cmd/safewrite")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the CLI failed: %v\n%s", err, out)
	}

	const seed = 7
	t.Logf("seed %d", seed)
	var progress bytes.Buffer
	report, err := killtest.Run(context.Background(), killtest.Config{
		Bin: bin, Input: input, WorkDir: filepath.Join(dir, "work"), Trials: 24, Seed: seed,
		Sizes: []killtest.Size{{Name: "small", Rows: 10_000, Weight: 1}}, Only: -1, Progress: &progress,
	})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	for _, v := range report.Violations {
		t.Errorf("trial %d (%s %s %s): %s %s", v.Index, v.Mode, v.Kind, v.Point+v.PreState+v.RecoverPoint, v.Outcome, v.Error)
	}

	byMode := map[string]killtest.Summary{}
	for _, s := range report.Summary {
		byMode[s.Mode] = s
	}
	protected, unprotected := byMode[killtest.ModeProtected], byMode[killtest.ModeUnprotected]
	t.Run("protected", func(t *testing.T) {
		if protected.Trials != 12 {
			t.Fatalf("protected trials = %d, want 12", protected.Trials)
		}
		if protected.SilentLoss != 0 {
			t.Errorf("silent losses = %d, want 0", protected.SilentLoss)
		}
		if protected.Duplicates != 0 {
			t.Errorf("duplicates = %d, want 0", protected.Duplicates)
		}
		if protected.OrphanBytesAfterRecovery != 0 {
			t.Errorf("orphan bytes after recovery = %d, want 0", protected.OrphanBytesAfterRecovery)
		}
		if protected.Detectable == 0 {
			t.Errorf("no killed writer wrote anything: the kills never hit a transaction")
		}
		if protected.Detected != protected.Detectable {
			t.Errorf("detected %d of %d killed writers that wrote something, want all", protected.Detected, protected.Detectable)
		}
		if protected.Unreadable != 0 {
			t.Errorf("unreadable tables = %d, want 0", protected.Unreadable)
		}
		if protected.IntentsLeft != 0 {
			t.Errorf("intents left after recovery = %d, want 0", protected.IntentsLeft)
		}
	})
	t.Run("unprotected baseline", func(t *testing.T) {
		if unprotected.OrphanBytesAfterRecovery == 0 {
			t.Errorf("unprotected writer left no orphan bytes: the kills missed the window between upload and commit")
		}
		if unprotected.SilentLoss == 0 {
			t.Errorf("unprotected writer lost no rows silently, want at least one")
		}
	})
	for _, want := range []string{"| delta | small | unprotected |", "| delta | small | protected |"} {
		if !strings.Contains(report.Markdown(), want) {
			t.Errorf("markdown has no row starting %q", want)
		}
	}
	if !strings.HasPrefix(report.SVG(), "<svg ") {
		t.Errorf("chart does not start with an svg element")
	}
}

// TestPointStoreNames checks the crash point names of each kind of write.
func TestPointStoreNames(t *testing.T) {
	ctx := context.Background()
	local, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	store := killtest.NewPointStore(local, []string{"_delta_log/"}, "", true, &out)
	steps := []struct {
		name string
		run  func() error
		want []string
	}{
		{"intent put", func() error {
			return store.Put(ctx, "_safewrite/intents/t.json", strings.NewReader("{}"), 2)
		}, []string{"before-intent-1", "after-intent-1"}},
		{"first data upload", func() error {
			return store.Put(ctx, "part-0.parquet", strings.NewReader("x"), 1)
		}, []string{"before-upload-1", "after-upload-1"}},
		{"second data upload", func() error {
			return store.Put(ctx, "d=1/part-1.parquet", strings.NewReader("x"), 1)
		}, []string{"before-upload-2", "after-upload-2"}},
		{"log commit", func() error {
			return store.PutIfAbsent(ctx, "_delta_log/00000000000000000000.json", []byte("{}"))
		}, []string{"before-commit-1", "after-commit-1"}},
		{"checkpoint hint", func() error {
			return store.Put(ctx, "_delta_log/_last_checkpoint", strings.NewReader("{}"), 2)
		}, []string{"before-log-1", "after-log-1"}},
		{"data cleanup", func() error { return store.Delete(ctx, "part-0.parquet", "d=1/part-1.parquet") },
			[]string{"before-cleanup-1", "after-cleanup-1"}},
		{"outcome record", func() error {
			return store.Put(ctx, "_safewrite/outcomes/t.json", strings.NewReader("{}"), 2)
		}, []string{"before-outcome-1", "after-outcome-1"}},
		{"intent delete", func() error { return store.Delete(ctx, "_safewrite/intents/t.json") },
			[]string{"before-finalize-1", "after-finalize-1"}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			out.Reset()
			if err := step.run(); err != nil {
				t.Fatal(err)
			}
			got := strings.Fields(strings.ReplaceAll(out.String(), "pass ", ""))
			if strings.Join(got, " ") != strings.Join(step.want, " ") {
				t.Errorf("points = %v, want %v", got, step.want)
			}
		})
	}
}

// TestParseSizes checks the --sizes syntax.
func TestParseSizes(t *testing.T) {
	cases := []struct {
		spec    string
		want    string
		wantErr bool
	}{
		{"small,medium,large", "small:10000:80 medium:1000000:17 large:3000000:3", false},
		{"small:5, large:1", "small:10000:5 large:3000000:1", false},
		{"huge", "", true},
		{"small:0", "", true},
		{"", "", true},
	}
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			sizes, err := killtest.ParseSizes(c.spec)
			if c.wantErr {
				if err == nil {
					t.Fatalf("ParseSizes(%q) = %v, want an error", c.spec, sizes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sizes {
				got = append(got, s.Name+":"+itoa(s.Rows)+":"+itoa(int64(s.Weight)))
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("ParseSizes(%q) = %v, want %s", c.spec, got, c.want)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
