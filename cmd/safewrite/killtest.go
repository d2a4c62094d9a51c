package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/safewrite/safewrite/conformance/killtest"
)

type killTestFlags struct {
	trials         int
	seed           uint64
	seedSet        bool
	sizes          string
	modes          []string
	out            string
	input          string
	tableFormat    string
	workDir        string
	keepWorkDir    bool
	workers        int
	only           int
	targetFileSize string
	jsonOutput     bool
	fromJSON       string
}

func newKillTestCommand(g *globalFlags) *cobra.Command {
	var f killTestFlags
	cmd := &cobra.Command{
		Use:   "killtest --input flights-3m.parquet",
		Short: "Run the kill-injection experiment: SIGKILL writers and check their tables",
		Long: `Killtest runs table writers as child processes, sends them SIGKILL at uniform
instants of their measured duration and at every named crash point (before and
after the intent, each upload, the commit, the finalize, and inside recovery),
then checks each table with an independent reader: committed or not, rows lost
without a record, duplicated rows, orphan files and bytes before and after
recovery, whether the outcome was detectable, and whether the table is readable.

Mode unprotected is a plain two-phase writer with no intent record (the
baseline); mode protected is 'safewrite append --timeout' followed by
'safewrite recover --force'. The input is flights-3m.parquet: sizes small,
medium and large append its first 10 thousand, 1 million and 3 million rows.

It writes killtest.md, killtest.json and killtest.svg into --out, and prints
progress on standard error.`,
		Example: `  safewrite killtest --input ../shared/data/flights-3m.parquet --out docs --workers 2
  safewrite killtest --input flights-3m.parquet --trials 20 --sizes small --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.seedSet = cmd.Flags().Changed("seed")
			return runKillTest(cmd, g, &f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.trials, "trials", killtest.StudyTrials, "number of trials, spread over the sizes by weight and evenly over the modes")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the trial plan; an earlier report names its seed (default: from the clock)")
	fl.StringVar(&f.sizes, "sizes", "small,medium,large", `input sizes with optional weights, for example "small:80,medium:17,large:3" (default weights 80, 17, 3)`)
	fl.StringSliceVar(&f.modes, "modes", []string{killtest.ModeUnprotected, killtest.ModeProtected}, "writers to test: unprotected, protected")
	fl.StringVar(&f.out, "out", ".", "folder that receives killtest.md, killtest.json and killtest.svg")
	fl.StringVar(&f.input, "input", "", "Parquet file whose first rows the writers append, with at least 3 million rows for size large (required)")
	fl.StringVar(&f.tableFormat, "format", "delta", "table format: delta")
	fl.StringVar(&f.workDir, "work-dir", "", "folder for the trial tables (default: a new temporary folder, removed at the end)")
	fl.BoolVar(&f.keepWorkDir, "keep-work-dir", false, "keep the work folder; tables of failed trials are always kept in it")
	fl.IntVar(&f.workers, "workers", 1, "trials run at once")
	fl.IntVar(&f.only, "only", -1, "run only the trial with this index of the plan, to reproduce one trial of a report")
	fl.StringVar(&f.targetFileSize, "target-file-size", "2MiB", "data file size at which the writers start a new file, in bytes or with a KiB, MiB or GiB suffix")
	fl.BoolVar(&f.jsonOutput, "json", false, "print a summary per format and mode as JSON on standard output")
	fl.StringVar(&f.fromJSON, "from-json", "", "rewrite the reports in --out from an earlier killtest.json instead of running trials")
	return cmd
}

func runKillTest(cmd *cobra.Command, g *globalFlags, f *killTestFlags) error {
	ctx := cmd.Context()
	if f.fromJSON != "" {
		data, err := os.ReadFile(f.fromJSON)
		if err != nil {
			return fmt.Errorf("read report %s: %w", f.fromJSON, err)
		}
		var report killtest.Report
		if err := json.Unmarshal(data, &report); err != nil {
			return fmt.Errorf("report %s is not a killtest.json: %w", f.fromJSON, err)
		}
		return writeKillTestReport(cmd, f, &report)
	}
	if f.input == "" {
		return usagef("missing --input: give flights-3m.parquet (or another Parquet file with at least as many rows as the largest size)")
	}
	format, err := killtest.FormatByName(f.tableFormat)
	if err != nil {
		return usageError{err}
	}
	sizes, err := killtest.ParseSizes(f.sizes)
	if err != nil {
		return usagef("invalid --sizes: %v", err)
	}
	modes := splitList(f.modes)
	targetSize, err := parseSize(f.targetFileSize)
	if err != nil {
		return usagef("invalid --target-file-size %q: %v", f.targetFileSize, err)
	}
	if f.trials < 1 {
		return usagef("invalid --trials %d: expected at least 1", f.trials)
	}
	if !f.seedSet {
		f.seed = uint64(time.Now().UnixNano())
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the safewrite executable to run the trial children: %w", err)
	}
	input, err := filepath.Abs(f.input)
	if err != nil {
		return err
	}
	workDir := f.workDir
	if workDir == "" {
		workDir, err = os.MkdirTemp("", "safewrite-killtest-*")
		if err != nil {
			return err
		}
		if !f.keepWorkDir {
			defer os.RemoveAll(workDir)
		}
	}
	fmt.Fprintf(os.Stderr, "killtest: seed %d, %d trials, work folder %s\n", f.seed, f.trials, workDir)

	command := fmt.Sprintf("safewrite killtest --input %s --trials %d --seed %d --sizes %s --modes %s --workers %d --target-file-size %s --out %s",
		f.input, f.trials, f.seed, f.sizes, strings.Join(modes, ","), f.workers, f.targetFileSize, f.out)
	if f.only >= 0 {
		command += fmt.Sprintf(" --only %d", f.only)
	}
	report, err := killtest.Run(ctx, killtest.Config{
		Bin: bin, Input: input, WorkDir: workDir, Format: format, Trials: f.trials, Seed: f.seed,
		Sizes: sizes, Modes: modes, TargetFileSize: targetSize, Workers: f.workers, Only: f.only,
		Progress: os.Stderr, Command: command,
	})
	if err != nil {
		return err
	}
	if err := writeKillTestReport(cmd, f, report); err != nil {
		return err
	}
	if n := len(report.Violations); n > 0 {
		return fmt.Errorf("%d trials broke an invariant or failed to run: see the violations in %s", n, filepath.Join(f.out, "killtest.md"))
	}
	return nil
}

// writeKillTestReport writes the three report files into --out and, with
// --json, prints the summary.
func writeKillTestReport(cmd *cobra.Command, f *killTestFlags, report *killtest.Report) error {
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"killtest.md":   []byte(report.Markdown()),
		"killtest.json": append(data, '\n'),
		"killtest.svg":  []byte(report.SVG()),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(f.out, name), content, 0o644); err != nil {
			return fmt.Errorf("write report %s: %w", filepath.Join(f.out, name), err)
		}
	}
	fmt.Fprintf(os.Stderr, "killtest: wrote killtest.md, killtest.json and killtest.svg to %s\n", f.out)
	if f.jsonOutput {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(report.JSONSummary()); err != nil {
			return err
		}
	}
	return nil
}

func newKillTestWriterCommand(g *globalFlags) *cobra.Command {
	var (
		cfg         killtest.WriterConfig
		tableFormat string
		targetSize  string
	)
	cmd := &cobra.Command{
		Use:    "killtest-writer --mode unprotected|protected|recover --table T [--input F]",
		Short:  "Child process of killtest: one write or recovery that can stop at a crash point",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := killtest.FormatByName(tableFormat)
			if err != nil {
				return usageError{err}
			}
			size, err := parseSize(targetSize)
			if err != nil {
				return usagef("invalid --target-file-size %q: %v", targetSize, err)
			}
			if cfg.Table == "" {
				return usagef("missing --table")
			}
			cfg.Format = format
			cfg.TargetFileSize = size
			cfg.PauseAt = os.Getenv(killtest.PauseEnv)
			cfg.Out = cmd.OutOrStdout()
			return killtest.RunWriter(cmd.Context(), cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Mode, "mode", "", "unprotected, protected or recover")
	fl.StringVar(&cfg.Table, "table", "", "table folder")
	fl.StringVar(&cfg.Input, "input", "", "Parquet input")
	fl.StringVar(&tableFormat, "format", "delta", "table format: delta")
	fl.DurationVar(&cfg.Timeout, "timeout", time.Hour, "protected writer's deadline")
	fl.StringVar(&targetSize, "target-file-size", "2MiB", "data file size at which a new file starts")
	fl.BoolVar(&cfg.Trace, "trace-points", false, `print "pass <point>" for every crash point passed`)
	return cmd
}
