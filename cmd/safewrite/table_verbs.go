package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
)

func newRecoverCommand(g *globalFlags) *cobra.Command {
	var (
		table      string
		dryRun     bool
		force      bool
		grace      time.Duration
		jsonOutput bool
	)
	cmd := &cobra.Command{
		Use:   "recover --table T",
		Short: "Settle the transactions of writers that were killed",
		Long: `Recover reads every intent record under <table>/_safewrite/intents/ whose
deadline plus the grace has passed. A transaction found in the table's log is
finalized; any other has its staged data files deleted (only files inside the
table root that no version references), an outcome record written under
_safewrite/outcomes/ and its intent removed. Intents of live writers are left
alone unless --force is given.`,
		Example: `  safewrite recover --table /tmp/flights --dry-run
  safewrite recover --table s3://bucket/tables/flights --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if table == "" {
				return usagef("missing --table: give a local path, file:// URI or s3://bucket/prefix")
			}
			logger, err := g.logger()
			if err != nil {
				return err
			}
			if grace < 0 {
				return usagef("invalid --grace %s: give a duration of 0s or more", grace)
			}
			if grace == 0 {
				grace = commit.NoGrace
			}
			tbl, err := safewrite.Open(ctx, table, safewrite.Options{Logger: logger, Grace: grace})
			if err != nil {
				return err
			}
			report, err := tbl.Recover(ctx, commit.RecoverOptions{DryRun: dryRun, Force: force})
			if err != nil {
				return err
			}
			return printRecoverReport(cmd.OutOrStdout(), report, jsonOutput)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&table, "table", "", "table location: local path, file:// URI or s3://bucket/prefix (required)")
	fl.BoolVar(&dryRun, "dry-run", false, "report what recovery would do and change nothing")
	fl.BoolVar(&force, "force", false, "also settle intents whose deadline has not passed; only when you know their writers are gone")
	fl.DurationVar(&grace, "grace", commit.DefaultGrace, "clock-skew grace added to each intent's deadline before recovery touches it")
	fl.BoolVar(&jsonOutput, "json", false, "print the report as JSON on standard output")
	return cmd
}

func printRecoverReport(out io.Writer, r *commit.RecoverReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	verb := "recovered"
	if r.DryRun {
		verb = "would recover (dry run)"
	}
	fmt.Fprintf(out, "%s %s: %d intents, %d committed, %d rolled back, %d live, %d unreadable; %d objects, %s removed\n",
		verb, r.Table, r.Intents, r.Committed, r.RolledBack, r.Live, r.Unreadable, r.ObjectsRemoved, formatBytes(r.BytesRemoved))
	for _, a := range r.Actions {
		switch a.Action {
		case "finalize-committed":
			fmt.Fprintf(out, "  %s  committed in version %d: intent finalized\n", a.TxnID, a.Version)
		case "roll-back":
			fmt.Fprintf(out, "  %s  not committed: %d staged objects (%s) deleted\n", a.TxnID, len(a.Objects), formatBytes(a.Bytes))
		case "skip-live":
			fmt.Fprintf(out, "  %s  writer may be alive (deadline %s, plus the grace): left alone\n", a.TxnID, a.Deadline.Format(time.RFC3339))
		case "unreadable":
			fmt.Fprintf(out, "  unreadable intent left in place: %s\n", a.Error)
		}
	}
	return nil
}

func newInspectCommand(g *globalFlags) *cobra.Command {
	var (
		table      string
		jsonOutput bool
	)
	cmd := &cobra.Command{
		Use:     "inspect --table T",
		Short:   "Show a table's version, files, records, schema and pending intents",
		Example: `  safewrite inspect --table /tmp/flights --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tbl, err := g.openTable(cmd.Context(), table, "")
			if err != nil {
				return err
			}
			info, err := tbl.Inspect(cmd.Context())
			if err != nil {
				return err
			}
			return printInfo(cmd.OutOrStdout(), info, jsonOutput)
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "table location: local path, file:// URI or s3://bucket/prefix (required)")
	cmd.Flags().BoolVar(&jsonOutput, "json", false, "print the result as JSON on standard output")
	return cmd
}

func printInfo(out io.Writer, info *safewrite.Info, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	if !info.Exists {
		fmt.Fprintf(out, "table %s does not exist yet (no commit); pending intents: %d\n", info.Table, info.PendingIntents)
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "table\t%s\n", info.Table)
	fmt.Fprintf(w, "format\t%s\n", info.Format)
	fmt.Fprintf(w, "version\t%d\n", info.Version)
	fmt.Fprintf(w, "files\t%d\n", info.NumFiles)
	if info.NumRecords < 0 {
		fmt.Fprintf(w, "records\tunknown (some files have no record count in their statistics)\n")
	} else {
		fmt.Fprintf(w, "records\t%d\n", info.NumRecords)
	}
	fmt.Fprintf(w, "size\t%s\n", formatBytes(info.SizeBytes))
	if len(info.PartitionColumns) > 0 {
		fmt.Fprintf(w, "partitioned by\t%s\n", strings.Join(info.PartitionColumns, ", "))
	}
	if p := info.Protocol; p != nil {
		features := append(append([]string(nil), p.ReaderFeatures...), p.WriterFeatures...)
		fmt.Fprintf(w, "protocol\treader %d, writer %d %s\n", p.MinReaderVersion, p.MinWriterVersion, strings.Join(dedupe(features), " "))
	}
	if info.CheckpointVersion >= 0 {
		fmt.Fprintf(w, "checkpoint\t%d\n", info.CheckpointVersion)
	}
	fmt.Fprintf(w, "pending intents\t%d\n", info.PendingIntents)
	if info.WriteBlocker != "" {
		fmt.Fprintf(w, "append\tnot supported: %s\n", info.WriteBlocker)
	}
	w.Flush()
	fmt.Fprintln(out, "columns:")
	for _, c := range info.Columns {
		nullable := ""
		if !c.Nullable {
			nullable = " not null"
		}
		fmt.Fprintf(out, "  %s %s%s\n", c.Name, c.Type, nullable)
	}
	return nil
}

func dedupe(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func newHistoryCommand(g *globalFlags) *cobra.Command {
	var (
		table      string
		limit      int
		jsonOutput bool
	)
	cmd := &cobra.Command{
		Use:     "history --table T",
		Short:   "List a table's commits, newest first",
		Example: `  safewrite history --table /tmp/flights --limit 5 --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tbl, err := g.openTable(cmd.Context(), table, "")
			if err != nil {
				return err
			}
			if limit < 0 {
				return usagef("invalid --limit %d: give 0 for all commits or a positive count", limit)
			}
			info, err := tbl.Inspect(cmd.Context())
			if err != nil {
				return err
			}
			if !info.Exists {
				return fmt.Errorf("table %s not found: it has no commit yet (%w)", tbl.URI(), safewrite.ErrNotTable)
			}
			entries, err := tbl.History(cmd.Context(), limit)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jsonOutput {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tTIMESTAMP\tOPERATION\tENGINE\tTRANSACTION")
			for _, e := range entries {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Version, e.Timestamp.UTC().Format(time.RFC3339), e.Operation, e.EngineInfo, e.TxnID)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "table location: local path, file:// URI or s3://bucket/prefix (required)")
	cmd.Flags().IntVar(&limit, "limit", 0, "show at most this many commits (0: all)")
	cmd.Flags().BoolVar(&jsonOutput, "json", false, "print the result as JSON on standard output")
	return cmd
}
