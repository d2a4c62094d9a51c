package format

import (
	"errors"
	"fmt"
)

// Sentinel errors shared by every format. Callers test them with errors.Is;
// the concrete errors below add the details and match the sentinels.
var (
	// ErrConflict means another writer changed the table in a way this
	// commit cannot rebase over. Nothing was published.
	ErrConflict = errors.New("commit conflict")
	// ErrCommitUnknown means the commit may or may not have been published.
	// Delete nothing; resolve by reading the table back.
	ErrCommitUnknown = errors.New("commit outcome unknown")
	// ErrUnsupportedFeature means the table needs a feature safewrite does
	// not implement.
	ErrUnsupportedFeature = errors.New("unsupported table feature")
	// ErrBadInput means the input data is invalid or does not fit the table.
	ErrBadInput = errors.New("invalid input")
	// ErrNotTable means the location holds something that is not a table of
	// the requested format.
	ErrNotTable = errors.New("not a table")
	// ErrCorruptTable means the table metadata is malformed (gaps in the
	// versions, a checkpoint without protocol or metadata, bad JSON).
	ErrCorruptTable = errors.New("corrupt table metadata")
)

// UnsupportedFeatureError names the table feature that blocks an operation.
type UnsupportedFeatureError struct {
	Table   string // table URI
	Feature string // "columnMapping", "invariants", "minReaderVersion=99", …
	Reason  string // what it means and what to do
}

func (e *UnsupportedFeatureError) Error() string {
	msg := fmt.Sprintf("table %s requires table feature %q, which safewrite does not support", e.Table, e.Feature)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func (e *UnsupportedFeatureError) Unwrap() error { return ErrUnsupportedFeature }

// InputError names the input, the column or row, and the bad value.
type InputError struct {
	Input  string // file name or URI; "" for a stream
	Row    int64  // 1-based row or line number; 0 when not about one row
	Column string
	Value  string
	Reason string
}

func (e *InputError) Error() string {
	msg := "invalid input"
	if e.Input != "" {
		msg += " " + e.Input
	}
	if e.Row > 0 {
		msg += fmt.Sprintf(" row %d", e.Row)
	}
	if e.Column != "" {
		msg += fmt.Sprintf(" column %q", e.Column)
	}
	if e.Value != "" {
		v := e.Value
		if len(v) > 80 {
			v = v[:80] + "…"
		}
		msg += fmt.Sprintf(" value %q", v)
	}
	return msg + ": " + e.Reason
}

func (e *InputError) Unwrap() error { return ErrBadInput }
