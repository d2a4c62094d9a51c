package killtest

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of one run.
type Report struct {
	Command  string    `json:"command"`
	Seed     uint64    `json:"seed"`
	Started  time.Time `json:"started"`
	Elapsed  string    `json:"elapsed"`
	Machine  string    `json:"machine"`
	Input    string    `json:"input"`
	BaseRows int64     `json:"baseRows"`
	// TargetFileSize is the data file size in bytes at which writers roll.
	TargetFileSize int64        `json:"targetFileSize"`
	Cells          []CellReport `json:"cells"`
	// Summary has one entry per format and mode, over every size.
	Summary []Summary `json:"summary"`
	// Groups has one entry per format, size and mode.
	Groups     []Summary `json:"groups"`
	Violations []Result  `json:"violations"`
	Trials     []Result  `json:"trials"`
}

// CellReport is the measured setup of one size and mode.
type CellReport struct {
	Size          string   `json:"size"`
	Rows          int64    `json:"rows"`
	Mode          string   `json:"mode"`
	DurationMs    int64    `json:"durationMs"`
	RecoverMs     int64    `json:"recoverMs,omitempty"`
	Uploads       int      `json:"uploads"`
	Points        []string `json:"points"`
	RecoverPoints []string `json:"recoverPoints,omitempty"`
}

// Summary counts the trials of one group.
type Summary struct {
	Format string `json:"format"`
	Size   string `json:"size,omitempty"`
	Mode   string `json:"mode"`
	Trials int    `json:"trials"`
	Killed int    `json:"killed"`
	// FinishedFirst counts writers that finished before the kill instant.
	FinishedFirst int `json:"finishedFirst"`
	// NothingWritten counts kills before the writer's first write reached
	// the table folder: there is nothing to lose or detect in the table.
	NothingWritten int `json:"nothingWritten"`
	Committed      int `json:"committed"`
	RolledBack     int `json:"rolledBack"`
	SilentLoss     int `json:"silentLoss"`
	Duplicates     int `json:"duplicates"`
	Torn           int `json:"torn"`
	Unreadable     int `json:"unreadable"`
	IntentsLeft    int `json:"intentsLeft"`
	HarnessErrors  int `json:"harnessErrors"`
	// OrphanTrialsBefore counts trials that had orphans after the kill.
	OrphanTrialsBefore       int   `json:"orphanTrialsBefore"`
	OrphanObjectsBefore      int   `json:"orphanObjectsBefore"`
	OrphanBytesBefore        int64 `json:"orphanBytesBefore"`
	OrphanObjectsAfter       int   `json:"orphanObjectsAfterRecovery"`
	OrphanBytesAfterRecovery int64 `json:"orphanBytesAfterRecovery"`
	// Detectable counts killed writers that wrote something; Detected those
	// whose outcome an observer can tell from the table folder alone.
	Detectable      int     `json:"detectable"`
	Detected        int     `json:"detected"`
	DetectedPercent float64 `json:"detectedPercent"`
	Violations      int     `json:"violations"`
}

func (s *Summary) add(r Result) {
	s.Trials++
	if r.Killed {
		s.Killed++
	}
	switch r.Outcome {
	case OutcomeFinished:
		s.FinishedFirst++
	case OutcomeNothingWritten:
		s.NothingWritten++
	case OutcomeCommitted:
		s.Committed++
	case OutcomeRolledBack:
		s.RolledBack++
	case OutcomeHarnessError:
		s.HarnessErrors++
	case OutcomeViolation:
		s.Violations++
	}
	if r.SilentLoss {
		s.SilentLoss++
	}
	if r.Duplicates {
		s.Duplicates++
	}
	if r.Torn {
		s.Torn++
	}
	if !r.Readable && r.Outcome != OutcomeHarnessError {
		s.Unreadable++
	}
	s.IntentsLeft += r.IntentsAfter
	if r.OrphanObjectsBefore > 0 {
		s.OrphanTrialsBefore++
	}
	s.OrphanObjectsBefore += r.OrphanObjectsBefore
	s.OrphanBytesBefore += r.OrphanBytesBefore
	s.OrphanObjectsAfter += r.OrphanObjectsAfter
	s.OrphanBytesAfterRecovery += r.OrphanBytesAfter
	if r.Detectable {
		s.Detectable++
		if r.Detected {
			s.Detected++
		}
	}
	if s.Detectable > 0 {
		s.DetectedPercent = 100 * float64(s.Detected) / float64(s.Detectable)
	}
}

func newReport(cfg Config, cells []*cell, results []Result, elapsed time.Duration) *Report {
	rep := &Report{
		Command: cfg.Command, Seed: cfg.Seed, Started: time.Now().Add(-elapsed).UTC().Truncate(time.Second),
		Elapsed: elapsed.Round(time.Second).String(),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, %s, trials run %d at a time", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), cfg.Workers),
		Input:   cfg.Input, BaseRows: baseRows, TargetFileSize: cfg.TargetFileSize,
		Violations: []Result{}, Trials: results,
	}
	for _, c := range cells {
		rep.Cells = append(rep.Cells, CellReport{
			Size: c.Size.Name, Rows: c.Size.Rows, Mode: c.Mode, DurationMs: c.Duration.Milliseconds(),
			RecoverMs: c.RecoverDuration.Milliseconds(), Uploads: c.Uploads, Points: c.Points, RecoverPoints: c.RecoverPoints,
		})
	}
	summaries := map[string]*Summary{}
	groups := map[string]*Summary{}
	for _, r := range results {
		key := r.Format + "/" + r.Mode
		if summaries[key] == nil {
			summaries[key] = &Summary{Format: r.Format, Mode: r.Mode}
		}
		summaries[key].add(r)
		gkey := key + "/" + r.Size
		if groups[gkey] == nil {
			groups[gkey] = &Summary{Format: r.Format, Size: r.Size, Mode: r.Mode}
		}
		groups[gkey].add(r)
		if r.Outcome == OutcomeViolation || r.Outcome == OutcomeHarnessError {
			rep.Violations = append(rep.Violations, r)
		}
	}
	sizeOrder := map[string]int{}
	for i, s := range cfg.Sizes {
		sizeOrder[s.Name] = i
	}
	for _, m := range cfg.Modes {
		for key, s := range summaries {
			if s.Mode == m {
				rep.Summary = append(rep.Summary, *summaries[key])
			}
		}
	}
	for _, s := range groups {
		rep.Groups = append(rep.Groups, *s)
	}
	sort.Slice(rep.Groups, func(i, j int) bool {
		a, b := rep.Groups[i], rep.Groups[j]
		if a.Format != b.Format {
			return a.Format < b.Format
		}
		if a.Size != b.Size {
			return sizeOrder[a.Size] < sizeOrder[b.Size]
		}
		return a.Mode > b.Mode // unprotected first
	})
	return rep
}

// JSONSummary returns the summary that `safewrite killtest --json` prints on
// standard output: per format and mode, the counts the experiment is judged by.
func (rep *Report) JSONSummary() map[string]any {
	out := map[string]any{"seed": rep.Seed, "elapsed": rep.Elapsed}
	formats := map[string]map[string]any{}
	for _, s := range rep.Summary {
		if formats[s.Format] == nil {
			formats[s.Format] = map[string]any{}
		}
		formats[s.Format][s.Mode] = map[string]any{
			"trials":                   s.Trials,
			"killed":                   s.Killed,
			"silentLoss":               s.SilentLoss,
			"duplicates":               s.Duplicates,
			"orphanBytesAfterRecovery": s.OrphanBytesAfterRecovery,
			"detected":                 s.Detected,
			"detectable":               s.Detectable,
			"detectedPercent":          s.DetectedPercent,
			"unreadable":               s.Unreadable,
			"violations":               s.Violations + s.HarnessErrors,
		}
	}
	out["formats"] = formats
	return out
}

// Markdown renders the report as the page docs/killtest.md holds.
func (rep *Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Kill-injection experiment\n\n")
	w("`safewrite killtest` runs a writer as a child process, sends it SIGKILL, and checks the table\n")
	w("with a reader that shares none of the writer's state. A plain two-phase writer killed between\n")
	w("the data upload and the commit leaves orphaned Parquet, an unchanged table and no alert; the\n")
	w("experiment measures that for the baseline and checks that safewrite never loses data silently.\n")
	w("The default of 860 trials is the trial count of a published kill-injection study of Spark\n")
	w("writers on AWS Lambda.\n\n")
	w("Command:\n\n```\n%s\n```\n\n", rep.Command)
	w("Seed %d, started %s, took %s on %s. Each trial starts from a table of %d rows\n",
		rep.Seed, rep.Started.Format(time.RFC3339), rep.Elapsed, rep.Machine, rep.BaseRows)
	w("and appends the first rows of `%s`; data files roll at %d bytes.\n\n", baseName(rep.Input), rep.TargetFileSize)

	w("## Writers and kills\n\n")
	w("- **unprotected**: a plain two-phase writer (`safewrite killtest-writer --mode unprotected`): upload the data\n")
	w("  files, then put the Delta log entry if absent. No intent record and no recovery, the baseline.\n")
	w("- **protected**: `safewrite append --rewrite --timeout …`, then `safewrite recover --force` after each kill.\n")
	w("  Targeted kills run the same append through `safewrite killtest-writer --mode protected`, which stops at a named point.\n\n")
	w("Kills land at a uniform instant of the measured unkilled write (about 55 %% of trials), at a named crash point\n")
	w("(about 35 %%), or, in protected mode, in a recovery that is itself killed and then run again (about 10 %%).\n\n")
	w("| size | rows | mode | unkilled write | uploads | crash points |\n|---|---:|---|---:|---:|---|\n")
	for _, c := range rep.Cells {
		w("| %s | %d | %s | %d ms | %d | %s |\n", c.Size, c.Rows, c.Mode, c.DurationMs, c.Uploads, strings.Join(c.Points, " "))
	}
	w("\n")

	w("## Results\n\n")
	w("| format | size | mode | trials | killed | nothing written | committed | rolled back | silent loss | duplicates | unreadable | orphans after kill | orphan bytes after kill | orphan bytes after recovery | detected |\n")
	w("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	row := func(s Summary, size string) {
		w("| %s | %s | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n",
			s.Format, size, s.Mode, s.Trials, s.Killed, s.NothingWritten, s.Committed, s.RolledBack, s.SilentLoss,
			s.Duplicates, s.Unreadable, s.OrphanTrialsBefore, s.OrphanBytesBefore, s.OrphanBytesAfterRecovery, percent(s))
	}
	for _, s := range rep.Groups {
		row(s, s.Size)
	}
	for _, s := range rep.Summary {
		row(s, "**all**")
	}
	w("\n")
	w("In unprotected mode there is no recovery, so \"after recovery\" is the state the kill left.\n\n")
	for _, line := range rep.windowLines() {
		w("%s\n", line)
	}
	w("\n")

	w("### By crash point\n\n")
	w("Targeted kills, all sizes: the outcome of each kill at a named point.\n\n")
	w("| point | mode | trials | outcomes |\n|---|---|---:|---|\n")
	for _, line := range rep.pointRows() {
		w("%s\n", line)
	}
	w("\n")

	w("### Kills during recovery\n\n")
	w("Protected mode: the writer is killed at a point after an upload or after the commit, then the\n")
	w("`safewrite recover --force` that follows is killed too (at a named point, or at a uniform instant\n")
	w("of its measured duration), then recovery runs again.\n\n")
	w("| recovery killed at | trials | outcomes after the second recovery |\n|---|---:|---|\n")
	for _, line := range rep.recoveryRows() {
		w("%s\n", line)
	}
	w("\n")

	w("## Definitions\n\n")
	w("- **nothing written**: the kill came before the writer's first write reached the table folder; the\n")
	w("  table is unchanged and there is nothing to lose or detect there (the killed process's caller sees the kill).\n")
	w("- **silent loss**: the writer was killed after it wrote something, the table does not have its rows,\n")
	w("  and neither an outcome record nor a pending intent exists.\n")
	w("- **duplicates**: the table has more rows than the base plus one copy of the write.\n")
	w("- **orphans**: files outside `_delta_log/` and `_safewrite/` that the snapshot does not reference,\n")
	w("  including the hidden temp file of an upload the kill cut short.\n")
	w("- **detected**: of the killed writers that wrote something, those that committed, or left an intent\n")
	w("  before recovery, or have an outcome record after it.\n")
	w("- **unreadable**: `deltalog.LoadSnapshot` fails or a file the snapshot references is missing.\n\n")

	w("## Violations and harness errors\n\n")
	if len(rep.Violations) == 0 {
		w("None.\n")
	} else {
		for _, v := range rep.Violations {
			w("- trial %d (%s %s, %s): %s %s; reproduce with `safewrite killtest … --seed %d --only %d`\n",
				v.Index, v.Size, v.Mode, v.describe(), v.Outcome, v.Error, rep.Seed, v.Index)
		}
	}
	w("\nThe chart `killtest.svg` plots each writer kill's outcome against its instant.\n\n")
	w("## Running it\n\n")
	w("The test `go test ./conformance/killtest/` runs 24 trials of the small size in well under a minute.\n")
	w("A longer run, for example 10,000 trials, keeps the same shape:\n\n")
	w("```\n%s\n```\n\n", TenThousandCommand)
	w("Replay one trial of a report with the report's `--seed` and `--only <trial index>`; the tables of\n")
	w("trials that broke an invariant stay in `--work-dir`.\n")
	return b.String()
}

func percent(s Summary) string {
	if s.Detectable == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", s.Detected, s.Detectable, s.DetectedPercent)
}

func baseName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// pointRows groups the point trials by point and mode.
func (rep *Report) pointRows() []string {
	type key struct{ point, mode string }
	counts := map[key]map[string]int{}
	order := map[key]int{}
	for _, r := range rep.Trials {
		if r.Kind != KillPoint {
			continue
		}
		k := key{r.Point, r.Mode}
		if counts[k] == nil {
			counts[k] = map[string]int{}
		}
		counts[k][r.Outcome]++
	}
	var keys []key
	for k := range counts {
		keys = append(keys, k)
	}
	rank := func(p string) int {
		for i, kind := range []string{KindIntent, KindUpload, KindCommit, KindFinalize} {
			if strings.Contains(p, "-"+kind+"-") {
				n := 0
				fmt.Sscanf(p[strings.LastIndex(p, "-")+1:], "%d", &n)
				r := i*10000 + n*2
				if strings.HasPrefix(p, "after-") {
					r++
				}
				return r
			}
		}
		return 1 << 30
	}
	for _, k := range keys {
		order[k] = rank(k.point)
	}
	sort.Slice(keys, func(i, j int) bool {
		if order[keys[i]] != order[keys[j]] {
			return order[keys[i]] < order[keys[j]]
		}
		return keys[i].mode > keys[j].mode
	})
	var rows []string
	for _, k := range keys {
		var parts []string
		total := 0
		for outcome, n := range counts[k] {
			parts = append(parts, fmt.Sprintf("%s %d", outcome, n))
			total += n
		}
		sort.Strings(parts)
		rows = append(rows, fmt.Sprintf("| %s | %s | %d | %s |", k.point, k.mode, total, strings.Join(parts, ", ")))
	}
	return rows
}

// TenThousandCommand is the command for a 10,000-trial run.
const TenThousandCommand = "safewrite killtest --input ../shared/data/flights-3m.parquet --trials 10000 --sizes small:90,medium:9,large:1 --workers 2 --out docs --json"

// windowLines state, per mode, what the kills that hit the transaction
// (the writer wrote something and did not commit) left behind.
func (rep *Report) windowLines() []string {
	var lines []string
	for _, s := range rep.Summary {
		hit, silent, orphaned, unchanged, recorded := 0, 0, 0, 0, 0
		for _, r := range rep.Trials {
			if r.Mode != s.Mode || r.Format != s.Format || !r.Killed || !r.Wrote || r.Committed {
				continue
			}
			hit++
			if r.SilentLoss {
				silent++
			}
			if r.OrphanObjectsAfter > 0 {
				orphaned++
			}
			if r.Records == rep.BaseRows {
				unchanged++
			}
			if r.OutcomesAfter > 0 {
				recorded++
			}
		}
		lines = append(lines, fmt.Sprintf("- **%s %s**: %d kills hit the write between its first write and its commit. "+
			"The table stayed unchanged in %d, orphan files remained in %d, an outcome record exists for %d, "+
			"and %d lost the rows without any record.", s.Format, s.Mode, hit, unchanged, orphaned, recorded, silent))
	}
	return lines
}

// recoveryRows groups the recovery trials by where the recovery was killed.
func (rep *Report) recoveryRows() []string {
	counts := map[string]map[string]int{}
	for _, r := range rep.Trials {
		if r.Kind != KillRecovery {
			continue
		}
		at := r.RecoverPoint
		if at == "" {
			at = "uniform instant"
		}
		at += " (writer " + r.PreState + ")"
		if strings.HasPrefix(r.PreState, "after-upload-") {
			at = strings.Replace(at, r.PreState, "after an upload", 1)
		}
		if counts[at] == nil {
			counts[at] = map[string]int{}
		}
		counts[at][r.Outcome]++
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rows []string
	for _, k := range keys {
		var parts []string
		total := 0
		for outcome, n := range counts[k] {
			parts = append(parts, fmt.Sprintf("%s %d", outcome, n))
			total += n
		}
		sort.Strings(parts)
		rows = append(rows, fmt.Sprintf("| %s | %d | %s |", k, total, strings.Join(parts, ", ")))
	}
	return rows
}
