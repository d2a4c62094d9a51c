package format

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
)

// Input format names for InputOptions.Format.
const (
	FormatParquet = "parquet"
	FormatCSV     = "csv"
	FormatJSON    = "json"
	FormatArrow   = "arrow"
)

// formatByExtension maps a lower-case file extension to its input format.
var formatByExtension = map[string]string{
	".parquet": FormatParquet,
	".pq":      FormatParquet,
	".csv":     FormatCSV,
	".json":    FormatJSON,
	".jsonl":   FormatJSON,
	".ndjson":  FormatJSON,
	".arrow":   FormatArrow,
	".feather": FormatArrow,
	".ipc":     FormatArrow,
	".arrows":  FormatArrow,
}

const supportedExtensions = ".parquet, .pq, .csv, .json, .jsonl, .ndjson, .arrow, .feather, .ipc, .arrows"

// DetectFormat returns the input format for a file name or URI from its
// extension. An unknown extension is an *InputError.
func DetectFormat(name string) (string, error) {
	p := name
	if i := strings.IndexAny(p, "?#"); i >= 0 && strings.Contains(p, "://") {
		p = p[:i]
	}
	ext := strings.ToLower(path.Ext(p))
	if f, ok := formatByExtension[ext]; ok {
		return f, nil
	}
	reason := fmt.Sprintf("unknown file extension %q; supported extensions are %s, or set the format with --input-format (parquet, csv, json or arrow)", ext, supportedExtensions)
	if ext == "" {
		reason = fmt.Sprintf("the file name has no extension; supported extensions are %s, or set the format with --input-format (parquet, csv, json or arrow)", supportedExtensions)
	}
	return "", &InputError{Input: name, Reason: reason}
}

// OpenInput opens a reader for in in the format opts.Format, or the format
// of in.Name's extension when opts.Format is "". The context bounds the
// whole read: ReadRows fails with its error once it is done.
func OpenInput(ctx context.Context, in Input, opts InputOptions) (RowSource, error) {
	f := strings.ToLower(opts.Format)
	if f == "" {
		var err error
		if f, err = DetectFormat(in.Name); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch f {
	case FormatParquet:
		return openParquetInput(ctx, in)
	case FormatCSV:
		return openCSVInput(ctx, in, opts)
	case FormatJSON, "jsonl", "ndjson":
		return openJSONInput(ctx, in, opts)
	case FormatArrow, "ipc", "feather":
		return openArrowInput(ctx, in)
	}
	return nil, &InputError{Input: in.Name, Reason: fmt.Sprintf("unknown input format %q; use parquet, csv, json or arrow", opts.Format)}
}

// sequentialReader returns in.Reader, or a reader over in.ReaderAt from offset 0.
func sequentialReader(in Input) (io.Reader, error) {
	if in.Reader != nil {
		return in.Reader, nil
	}
	if in.ReaderAt != nil {
		return io.NewSectionReader(in.ReaderAt, 0, in.Size), nil
	}
	return nil, fmt.Errorf("input %s has neither Reader nor ReaderAt", in.Name)
}

// checkContext returns ctx's error wrapped with the input name, or nil.
func checkContext(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
