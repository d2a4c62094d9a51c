// Command safewrite appends data to Delta Lake tables so that a kill at any
// instant leaves the table committed or cleanly rolled back, and recovers
// tables after a writer was killed.
//
// Exit codes: 0 success, 1 error (nothing was published), 2 invalid usage,
// 3 commit outcome unknown (the append may have been published: run
// `safewrite recover` after the writer's deadline).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/safewrite/safewrite"
)

const (
	exitError   = 1
	exitUsage   = 2
	exitUnknown = 3
)

// usageError marks errors in flags and arguments (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

type globalFlags struct {
	logLevel  string
	logFormat string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "safewrite: "+err.Error())
	var usage usageError
	switch {
	case errors.As(err, &usage), isCobraUsageError(err):
		return exitUsage
	case errors.Is(err, safewrite.ErrCommitUnknown):
		return exitUnknown
	default:
		return exitError
	}
}

func newRootCommand() *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:   "safewrite",
		Short: "Crash-safe appends to Delta Lake tables on S3 or a local folder",
		Long: `safewrite appends Parquet, CSV, JSON and Arrow data to Delta Lake tables.
Every append records an intent before it uploads anything, so a kill at any
instant leaves the table either committed or rolled back by 'recover'.

Tables are local paths, file:// URIs or s3://bucket/prefix. S3 uses the AWS
default credential chain; AWS_ENDPOINT_URL_S3 points it at MinIO or another
S3-compatible store.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       safewrite.Version,
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "error", "log level on standard error: debug, info, warn or error (info shows each transaction's steps, warn its rollbacks)")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newAppendCommand(&g), newRecoverCommand(&g), newInspectCommand(&g), newHistoryCommand(&g))
	root.AddCommand(newKillTestCommand(&g), newKillTestWriterCommand(&g))
	return root
}

func (g *globalFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usagef("invalid --log-level %q: use debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, usagef("invalid --log-format %q: use text or json", g.logFormat)
	}
}

// openTable opens the table named by --table with the global logger.
func (g *globalFlags) openTable(ctx context.Context, table, tableFormat string) (*safewrite.Table, error) {
	if table == "" {
		return nil, usagef("missing --table: give a local path, file:// URI or s3://bucket/prefix")
	}
	if tableFormat != "" && tableFormat != "delta" {
		return nil, usagef("invalid --format %q: safewrite supports delta", tableFormat)
	}
	logger, err := g.logger()
	if err != nil {
		return nil, err
	}
	return safewrite.Open(ctx, table, safewrite.Options{Logger: logger})
}

// isCobraUsageError reports errors that cobra returns for an unknown verb or
// wrong arguments, which carry no type of their own.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
