package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/watchdog"
)

type appendFlags struct {
	table          string
	tableFormat    string
	inputs         []string
	inputFormat    string
	schema         string
	partitionBy    []string
	columnMapping  string
	timeout        time.Duration
	idempotencyKey string
	targetFileSize string
	codec          string
	rewrite        bool
	jsonOutput     bool
	noWatchdog     bool
	margin         time.Duration
}

func newAppendCommand(g *globalFlags) *cobra.Command {
	var f appendFlags
	cmd := &cobra.Command{
		Use:   "append --table T --input F [--input F2 ...]",
		Short: "Append input files to a table in one crash-safe transaction",
		Long: `Append reads every input, writes Parquet data files and commits them to the
table as one new version. The table is created by the first append.

Inputs are local paths, file:// or s3:// URIs, or - for standard input. The
format comes from the extension (.parquet, .csv, .json, .jsonl, .arrow) or
--input-format. A Parquet input whose columns already have the table's types
is uploaded unchanged; --rewrite re-encodes it.`,
		Example: `  safewrite append --table /tmp/flights --input flights.parquet
  safewrite append --table s3://bucket/tables/flights --input s3://bucket/in/day1.csv --partition-by origin
  cat rows.jsonl | safewrite append --table /tmp/t --input - --input-format json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAppend(cmd, g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.table, "table", "", "table location: local path, file:// URI or s3://bucket/prefix (required)")
	fl.StringVar(&f.tableFormat, "format", "delta", "table format: delta")
	fl.StringArrayVarP(&f.inputs, "input", "i", nil, "input file, file:// or s3:// URI, or - for standard input; repeatable (inputs may also be given as arguments)")
	fl.StringVar(&f.inputFormat, "input-format", "", "input format when the extension does not tell: parquet, csv, json or arrow")
	fl.StringVar(&f.schema, "schema", "", `column types for CSV and JSON input instead of inference, as "name:type,...", for example "iata:string,latitude:double"`)
	fl.StringSliceVar(&f.partitionBy, "partition-by", nil, "partition column of a new table; repeatable or comma-separated")
	fl.StringVar(&f.columnMapping, "column-mapping", "", `"name" creates the table with Delta column mapping, which allows any column name`)
	fl.DurationVar(&f.timeout, "timeout", 0, "hard deadline for the whole append, for example 2m; recovery may roll the append back once it has passed (default: a lease renewed while the append runs)")
	fl.StringVar(&f.idempotencyKey, "idempotency-key", "", "APP:VERSION; a retried request whose VERSION is not greater than the table's recorded VERSION for APP is skipped")
	fl.StringVar(&f.targetFileSize, "target-file-size", "128MiB", "size in bytes (or with a KiB, MiB, GiB or TiB suffix) at which a re-encoded data file ends and a new one starts; Parquet inputs uploaded unchanged keep their size")
	fl.StringVar(&f.codec, "codec", "snappy", "compression of re-encoded data files: snappy, zstd, gzip or uncompressed; Parquet inputs uploaded unchanged keep theirs (add --rewrite to change it)")
	fl.BoolVar(&f.rewrite, "rewrite", false, "re-encode Parquet inputs even when they could be uploaded unchanged")
	fl.BoolVar(&f.jsonOutput, "json", false, "print the result as JSON on standard output")
	fl.BoolVar(&f.noWatchdog, "no-watchdog", false, "with --timeout, do not arm the watchdog that rolls the append back before the deadline")
	fl.DurationVar(&f.margin, "margin", watchdog.DefaultFloor, "with --timeout, the least time before the deadline at which the watchdog rolls back an upload that has not reached its commit")
	return cmd
}

func runAppend(cmd *cobra.Command, g *globalFlags, f *appendFlags, args []string) error {
	ctx := cmd.Context()
	inputs := append(append([]string(nil), f.inputs...), args...)
	if len(inputs) == 0 {
		return usagef("missing --input: give at least one input file, URI or - for standard input")
	}
	opts := safewrite.AppendOptions{
		PartitionBy:   splitList(f.partitionBy),
		ColumnMapping: f.columnMapping,
		Timeout:       f.timeout,
		InputFormat:   f.inputFormat,
		Codec:         f.codec,
		Rewrite:       f.rewrite,
	}
	switch f.columnMapping {
	case "", "none", "name":
	default:
		return usagef("invalid --column-mapping %q: use name (id mode is not supported)", f.columnMapping)
	}
	if f.inputFormat != "" {
		switch f.inputFormat {
		case "parquet", "csv", "json", "arrow":
		default:
			return usagef("invalid --input-format %q: use parquet, csv, json or arrow", f.inputFormat)
		}
	}
	if cmd.Flags().Changed("timeout") && f.timeout <= 0 {
		return usagef("invalid --timeout %s: give a positive duration such as 5m, or leave it out to hold a renewed lease", f.timeout)
	}
	if f.timeout > 0 && !f.noWatchdog && f.timeout <= f.margin {
		return usagef("--timeout %s leaves no time before the watchdog's margin of %s: give a longer --timeout, a smaller --margin, or --no-watchdog", f.timeout, f.margin)
	}
	if err := format.CheckCodec(f.codec); err != nil {
		return usagef("invalid --codec %q: use snappy, zstd, gzip or uncompressed", f.codec)
	}
	size, err := parseSize(f.targetFileSize)
	if err != nil {
		return usagef("invalid --target-file-size %q: %v", f.targetFileSize, err)
	}
	opts.TargetFileSize = size
	if f.schema != "" {
		schema, err := format.ParseSchemaSpec(f.schema)
		if err != nil {
			return usagef("invalid --schema: %v", err)
		}
		opts.Schema = schema
	}
	if f.idempotencyKey != "" {
		key, err := safewrite.ParseIdempotencyKey(f.idempotencyKey)
		if err != nil {
			return usageError{err}
		}
		opts.IdempotencyKey = key
	}
	table, err := g.openTable(ctx, f.table, f.tableFormat)
	if err != nil {
		return err
	}
	if f.timeout > 0 && !f.noWatchdog {
		// The watchdog needs the deadline before the append computes it, so
		// the CLI passes a fixed deadline instead of the timeout.
		logger, err := g.logger()
		if err != nil {
			return err
		}
		opts.Deadline = time.Now().Add(f.timeout)
		opts.Timeout = 0
		dog := watchdog.New(watchdog.Options{Floor: f.margin, Logger: logger})
		armed, arm := dog.Arm(ctx, opts.Deadline, table.URI(), "delta")
		defer arm.Disarm()
		ctx = armed
		opts.Guard = arm
	}
	bar := newProgress()
	opts.Progress = bar.update
	result, err := table.AppendFiles(ctx, inputs, opts)
	bar.finish()
	if err != nil {
		return err
	}
	return printAppendResult(cmd, table, result, f.jsonOutput)
}

func printAppendResult(cmd *cobra.Command, table *safewrite.Table, r *safewrite.AppendResult, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		files := make([]string, 0, len(r.Files))
		for _, df := range r.Files {
			files = append(files, df.Path)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{
			"table":          table.URI(),
			"txnId":          r.TxnID,
			"version":        r.Version,
			"alreadyApplied": r.AlreadyApplied,
			"numFiles":       len(r.Files),
			"numRecords":     r.NumRecords,
			"bytes":          r.Bytes,
			"passedThrough":  r.PassedThrough,
			"attempts":       r.Attempts,
			"files":          files,
			"recovery":       r.Recovery,
		})
	}
	if r.Recovery != nil && (r.Recovery.RolledBack > 0 || r.Recovery.Committed > 0) {
		fmt.Fprintf(out, "recovered %d expired transactions first: %d rolled back, %d committed\n",
			r.Recovery.RolledBack+r.Recovery.Committed, r.Recovery.RolledBack, r.Recovery.Committed)
	}
	if r.AlreadyApplied {
		fmt.Fprintf(out, "already applied: the table recorded this idempotency key at or after it; nothing written (table version %d)\n", r.Version)
		return nil
	}
	fmt.Fprintf(out, "committed version %d of %s: %d records in %d files, %s (transaction %s)\n",
		r.Version, table.URI(), r.NumRecords, len(r.Files), formatBytes(r.Bytes), r.TxnID)
	return nil
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// progress shows a byte counter on standard error once an upload has taken
// more than a second, and only when standard error is a terminal.
type progress struct {
	mu      sync.Mutex
	enabled bool
	start   time.Time
	bar     *progressbar.ProgressBar
}

func newProgress() *progress {
	return &progress{enabled: term.IsTerminal(int(os.Stderr.Fd())), start: time.Now()}
}

func (p *progress) update(uploaded int64) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		if time.Since(p.start) < time.Second {
			return
		}
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("uploading"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = p.bar.Set64(uploaded)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
