package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/safewrite/safewrite/commit"
	"github.com/safewrite/safewrite/internal/tablecheck"
	"github.com/safewrite/safewrite/objstore"
)

// killTrialsDefault is the number of SIGKILL trials when SAFEWRITE_KILLS is
// unset; it is also the count CI runs.
const killTrialsDefault = 200

// expiryEvery makes every expiryEvery-th trial settle through the deadline
// (recover --grace 0s without --force) instead of --force.
const expiryEvery = 20

// killInput is one kind of append the trials pick from.
type killInput struct {
	name  string
	table string
	args  []string
	// rows is the number of rows one append of this input adds.
	rows int64
	// duration is the longest of the unkilled appends measured before the
	// trials; kill instants are drawn from [0, 1.2 × duration].
	duration time.Duration
	// timeout is the --timeout of the trials: the commit reserve plus three
	// times duration, at least 3s, so an unkilled append on a loaded machine
	// still passes the point of no return (rounded up to whole seconds).
	timeout time.Duration
}

// killState is what an independent reader sees in a table: the snapshot,
// every object that no version references, and the safewrite records.
type killState struct {
	version  int64
	records  int64
	files    map[string]bool
	strays   []string
	intents  []string
	outcomes map[string]bool
	// temps are hidden temp files under _safewrite/ outside intents/ (an
	// outcome record cut short by the kill); they are logged, not treated as
	// a violation, because no reader sees them.
	temps []string
}

// killCounts tallies where the kills landed, judged from the outcome.
type killCounts struct {
	beforeIntent     int // nothing changed and no intent was found
	duringUpload     int // recovery rolled back an intent
	writerRolledBack int // the writer aborted by itself (for example at the point of no return)
	afterCommit      int // committed; recovery finalized the intent
	afterFinalize    int // committed and finalized by the writer before the kill
	exitedFirst      int // the append finished before the kill instant
	expiryTrials     int // settled by recover --grace 0s after the deadline
}

// TestAppendSurvivesSIGKILL kills a real `safewrite append` process group
// with SIGKILL at a random instant, runs one `safewrite recover`, and checks
// with an independent reader that the table holds none or all of that
// append's rows, earlier rows intact, versions contiguous, no staged object
// and no intent left (I1, I2, I5, I6). Most trials recover with --force; every
// expiryEvery-th waits for the intent's deadline and recovers without it.
//
// SAFEWRITE_KILLS sets the number of trials (default 200) and SAFEWRITE_SEED
// replays the kill instants and input choices of an earlier run.
func TestAppendSurvivesSIGKILL(t *testing.T) {
	trials := killTrials(t)
	seed := killSeed(t)
	t.Logf("seed %d (replay with SAFEWRITE_SEED=%d), %d trials", seed, seed, trials)
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	started := time.Now()

	dir := t.TempDir()
	bin := buildCLI(t, dir)
	inputs := setUpKillInputs(t, bin, dir)
	for _, in := range inputs {
		t.Logf("input %q: unkilled append takes up to %s; trials use --timeout %s", in.name, in.duration.Round(time.Millisecond), in.timeout)
	}

	var counts killCounts
	for i := 0; i < trials; i++ {
		in := inputs[rng.IntN(len(inputs))]
		window := int64(1.2 * float64(in.duration))
		delay := time.Duration(rng.Int64N(window + 1))
		expiry := i%expiryEvery == expiryEvery/2
		runKillTrial(t, bin, i, in, delay, expiry, &counts)
		if t.Failed() {
			t.Fatalf("stopping after trial %d failed; replay with SAFEWRITE_SEED=%d", i, seed)
		}
	}

	for _, in := range inputs {
		if in.name == "parquet rewrite" {
			continue // shares its table with parquet passthrough
		}
		checkInspect(t, bin, in.table)
	}
	t.Logf("%d trials in %s: %d killed before the intent, %d during upload (rolled back by recovery), "+
		"%d rolled back by the writer itself, %d after commit (intent finalized by recovery), "+
		"%d after the writer finalized, %d appends finished before the kill; %d trials settled by deadline expiry",
		trials, time.Since(started).Round(time.Second), counts.beforeIntent, counts.duringUpload,
		counts.writerRolledBack, counts.afterCommit, counts.afterFinalize, counts.exitedFirst, counts.expiryTrials)
}

func killTrials(t *testing.T) int {
	t.Helper()
	v := os.Getenv("SAFEWRITE_KILLS")
	if v == "" {
		return killTrialsDefault
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("invalid SAFEWRITE_KILLS %q: expected a positive number of trials", v)
	}
	return n
}

func killSeed(t *testing.T) int64 {
	t.Helper()
	v := os.Getenv("SAFEWRITE_SEED")
	if v == "" {
		return time.Now().UnixNano()
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("invalid SAFEWRITE_SEED %q: expected an integer, as an earlier run logged it", v)
	}
	return n
}

// buildCLI builds this package's binary once into dir.
func buildCLI(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "safewrite")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the CLI failed: %v\n%s", err, out)
	}
	return bin
}

// setUpKillInputs creates the two tables with a first append and measures
// one unkilled append of each input kind (twice, keeping the longer).
func setUpKillInputs(t *testing.T, bin, dir string) []*killInput {
	t.Helper()
	flights, err := filepath.Abs(filepath.Join("..", "..", "examples", "flights-100k.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(csvPath, []byte(generatedCSV(2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	flightsTable := filepath.Join(dir, "flights")
	rowsTable := filepath.Join(dir, "rows")

	runCLI(t, bin, "append", "--table", flightsTable, "--input", flights)
	runCLI(t, bin, "append", "--table", rowsTable, "--input", csvPath, "--partition-by", "region")

	// Small target file sizes give several files, so the intent is extended
	// (its first reservation holds 8 names per partition folder).
	inputs := []*killInput{
		{name: "parquet passthrough", table: flightsTable, rows: 100_000,
			args: []string{"--input", flights, "--target-file-size", "64KiB"}},
		{name: "parquet rewrite", table: flightsTable, rows: 100_000,
			args: []string{"--input", flights, "--target-file-size", "64KiB", "--rewrite"}},
		{name: "csv partitioned", table: rowsTable, rows: 2000,
			args: []string{"--input", csvPath, "--target-file-size", "4KiB"}},
	}
	for _, in := range inputs {
		for range 2 {
			start := time.Now()
			runCLI(t, bin, append([]string{"append", "--table", in.table}, in.args...)...)
			if d := time.Since(start); d > in.duration {
				in.duration = d
			}
		}
		in.timeout = max(3*time.Second, (commit.DefaultCommitReserve + 3*in.duration + time.Second - 1).Truncate(time.Second))
	}
	return inputs
}

func (in *killInput) appendArgs() []string {
	return append([]string{"append", "--table", in.table, "--timeout", in.timeout.String()}, in.args...)
}

// generatedCSV returns n rows over three partitions, one with a space in
// its value so partition folders need URL escaping in the log.
func generatedCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,region,amount,note\n")
	regions := []string{"north", "south", "east west"}
	for i := range n {
		fmt.Fprintf(&b, "%d,%s,%d.25,row %d of the kill test\n", i, regions[i%len(regions)], i, i)
	}
	return b.String()
}

func runCLI(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("safewrite %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// runKillTrial runs one append, kills its process group after delay, runs
// one recovery and checks the table.
func runKillTrial(t *testing.T, bin string, trial int, in *killInput, delay time.Duration, expiry bool, counts *killCounts) {
	t.Helper()
	store, err := objstore.NewLocal(in.table)
	if err != nil {
		t.Fatal(err)
	}
	before := readKillState(t, store)
	label := fmt.Sprintf("trial %d (%s, kill at %s)", trial, in.name, delay.Round(time.Microsecond))

	exited, exitErr := killAfter(t, bin, in.appendArgs(), delay)

	var report commit.RecoverReport
	if expiry {
		counts.expiryTrials++
		report = recoverAfterDeadline(t, bin, store, label)
	} else {
		decodeReport(t, runCLI(t, bin, "recover", "--table", in.table, "--force", "--json"), &report, label)
	}
	after := readKillState(t, store)

	committed := after.version == before.version+1
	switch {
	case committed:
		if after.records != before.records+in.rows {
			t.Errorf("%s: version %d committed with %d records, want %d (previous %d + append %d)",
				label, after.version, after.records, before.records+in.rows, before.records, in.rows)
		}
	case after.version == before.version:
		if after.records != before.records {
			t.Errorf("%s: version unchanged at %d but records changed from %d to %d", label, after.version, before.records, after.records)
		}
		if exited && exitErr == nil {
			t.Errorf("%s: append exited 0 but the table is still at version %d", label, after.version)
		}
	default:
		t.Errorf("%s: version went from %d to %d, want %d or %d", label, before.version, after.version, before.version, before.version+1)
	}
	for f := range before.files {
		if !after.files[f] {
			t.Errorf("%s: file %s of an earlier version is no longer referenced", label, f)
		}
	}
	if len(after.strays) > 0 {
		t.Errorf("%s: objects left that no version references: %v", label, after.strays)
	}
	if len(after.intents) > 0 {
		t.Errorf("%s: objects left under _safewrite/intents/ after recovery: %v", label, after.intents)
	}
	if report.Live > 0 || report.Unreadable > 0 {
		t.Errorf("%s: recovery left %d live and %d unreadable intents", label, report.Live, report.Unreadable)
	}
	for _, a := range report.Actions {
		if a.Action == "roll-back" && !after.outcomes[a.TxnID] {
			t.Errorf("%s: rollback of transaction %s left no outcome record", label, a.TxnID)
		}
		if a.Action == "finalize-committed" && !committed {
			t.Errorf("%s: recovery finalized transaction %s as committed, but the version did not change", label, a.TxnID)
		}
	}

	newOutcomes := len(after.outcomes) - len(before.outcomes)
	switch {
	case exited:
		counts.exitedFirst++
	case committed && report.Committed > 0:
		counts.afterCommit++
	case committed:
		counts.afterFinalize++
	case report.RolledBack > 0:
		counts.duringUpload++
	case newOutcomes > 0:
		counts.writerRolledBack++
	default:
		counts.beforeIntent++
	}
	if len(after.temps) > len(before.temps) {
		t.Logf("%s: hidden temp files left under _safewrite/ (invisible to readers): %v", label, after.temps)
	}
}

// killAfter starts the CLI in its own process group and sends SIGKILL to
// the whole group after delay, unless it exited first. It reports whether
// the process exited by itself, and its exit error then.
func killAfter(t *testing.T, bin string, args []string, delay time.Duration) (bool, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start safewrite append: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case err := <-done:
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			t.Fatalf("wait for safewrite append: %v", err)
		}
		return true, err
	case <-timer.C:
		// The group leader is not reaped before Wait returns, so its
		// process group id cannot have been reused yet.
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("SIGKILL process group %d: %v", cmd.Process.Pid, err)
		}
		<-done
		return false, nil
	}
}

// recoverAfterDeadline first checks that recovery leaves live intents alone
// (I2), then waits for every intent's deadline and recovers with no grace
// and without --force.
func recoverAfterDeadline(t *testing.T, bin string, store *objstore.Local, label string) commit.RecoverReport {
	t.Helper()
	ctx := context.Background()
	intents, unreadable, err := commit.ListIntents(ctx, store)
	if err != nil {
		t.Fatalf("%s: list intents: %v", label, err)
	}
	if len(unreadable) > 0 {
		t.Errorf("%s: unreadable intents after a kill: %v", label, unreadable)
	}
	var latest time.Time
	for _, in := range intents {
		if in.Deadline.After(latest) {
			latest = in.Deadline
		}
	}
	// A kill inside the intent write leaves a temp intent. Recovery judges a
	// complete one by its deadline and a partial one by its age.
	if wait := tempFilesSettleAt(t, store); wait.After(latest) {
		latest = wait
	}

	// Only judged when the deadline is comfortably ahead, so a slow machine
	// cannot turn an expired intent into a false failure.
	if len(intents) > 0 && time.Until(earliestDeadline(intents)) > time.Second {
		var early commit.RecoverReport
		decodeReport(t, runCLI(t, bin, "recover", "--table", store.Root(), "--grace", "0s", "--json"), &early, label)
		if early.Live != len(intents) || early.RolledBack > 0 || early.Committed > 0 {
			t.Errorf("%s: recovery before the deadline touched a live intent: %d intents, report %+v", label, len(intents), early)
		}
	}

	if wait := time.Until(latest); wait > 0 {
		time.Sleep(wait + 50*time.Millisecond)
	}
	var report commit.RecoverReport
	decodeReport(t, runCLI(t, bin, "recover", "--table", store.Root(), "--grace", "0s", "--json"), &report, label)
	if report.Live > 0 {
		t.Errorf("%s: recover --grace 0s at %s left %d intents live although every deadline passed (latest %s)",
			label, time.Now().UTC().Format(time.RFC3339Nano), report.Live, latest.Format(time.RFC3339Nano))
	}
	return report
}

func earliestDeadline(intents []*commit.Intent) time.Time {
	earliest := intents[0].Deadline
	for _, in := range intents[1:] {
		if in.Deadline.Before(earliest) {
			earliest = in.Deadline
		}
	}
	return earliest
}

func decodeReport(t *testing.T, out []byte, report *commit.RecoverReport, label string) {
	t.Helper()
	if err := json.Unmarshal(out, report); err != nil {
		t.Fatalf("%s: recover --json printed invalid JSON: %v\n%s", label, err, out)
	}
}

// readKillState reads the table with deltalog.LoadSnapshot and lists the
// whole root, independently of the code under test's own bookkeeping.
func readKillState(t *testing.T, store *objstore.Local) killState {
	t.Helper()
	checked, err := tablecheck.Read(context.Background(), store)
	if err != nil {
		t.Fatalf("independent reader of %s: %v", store.Root(), err)
	}
	return killState{
		version: checked.Version, records: checked.Records, files: checked.Files,
		strays: checked.Strays, intents: checked.Intents, outcomes: checked.Outcomes,
		temps: checked.Temps,
	}
}

// checkInspect compares `safewrite inspect --json` with the independent
// reader.
func checkInspect(t *testing.T, bin, table string) {
	t.Helper()
	store, err := objstore.NewLocal(table)
	if err != nil {
		t.Fatal(err)
	}
	want := readKillState(t, store)
	var info struct {
		Version        int64 `json:"version"`
		NumRecords     int64 `json:"numRecords"`
		PendingIntents int   `json:"pendingIntents"`
	}
	out := runCLI(t, bin, "inspect", "--table", table, "--json")
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("inspect --json printed invalid JSON: %v\n%s", err, out)
	}
	if info.NumRecords != want.records {
		t.Errorf("inspect %s: numRecords %d, independent reader counts %d", table, info.NumRecords, want.records)
	}
	if info.Version != want.version {
		t.Errorf("inspect %s: version %d, independent reader sees %d", table, info.Version, want.version)
	}
	if info.PendingIntents != 0 {
		t.Errorf("inspect %s: %d pending intents after the last recovery", table, info.PendingIntents)
	}
}

// tempFilesSettleAt returns when recovery without --force may delete every
// temp file of a killed write: a complete temp intent after its deadline, a
// partial one and a temp commit file in _delta_log/ once they are older than
// the recovery's minimum temp age (5 s).
func tempFilesSettleAt(t *testing.T, store *objstore.Local) time.Time {
	t.Helper()
	ctx := context.Background()
	temps, err := store.ListTemps(ctx, "_safewrite/intents/")
	if err != nil {
		t.Fatalf("list temp intents: %v", err)
	}
	logTemps, err := store.ListTemps(ctx, "_delta_log/")
	if err != nil {
		t.Fatalf("list temp commit files: %v", err)
	}
	var latest time.Time
	for _, temp := range logTemps {
		if settle := temp.ModTime.Add(5 * time.Second); settle.After(latest) {
			latest = settle
		}
	}
	for _, temp := range temps {
		settle := temp.ModTime.Add(5 * time.Second)
		if data, err := objstore.ReadAll(ctx, store, temp.Key); err == nil {
			var in commit.Intent
			if json.Unmarshal(data, &in) == nil && !in.Deadline.IsZero() {
				settle = in.Deadline
			}
		}
		if settle.After(latest) {
			latest = settle
		}
	}
	return latest
}
