// Package killtest is the kill-injection experiment: it runs a table writer
// as a child process, sends it SIGKILL at chosen instants, and checks the
// table afterwards with a reader that shares none of the writer's state.
//
// A plain two-phase writer killed between the data upload and the commit
// leaves orphaned Parquet files, an unchanged table and no record that
// anything went wrong. The experiment measures that for such a baseline and
// checks that safewrite's protected writer never loses data silently. Its
// default trial count, 860, is that of a published kill-injection study of
// Spark writers on AWS Lambda.
//
// Two writers are compared:
//
//   - unprotected: a plain two-phase writer (upload data files, then commit
//     the log entry) with no intent record and no recovery, the baseline.
//   - protected: `safewrite append --timeout …`, followed after each kill by
//     `safewrite recover --force`.
//
// Kill instants are drawn uniformly over the measured duration of an
// unkilled write, or placed exactly at a named crash point, or inside a
// recovery run that is itself killed and then repeated. Named points come
// from PointStore, an object-store wrapper in the child that prints
// "at <point>" and blocks when it reaches the point that the environment
// variable SAFEWRITE_KILLTEST_PAUSE_AT names; the parent then kills it there.
//
// After each trial the independent check reads the table (Format.Inspect)
// and walks the table folder: committed or not, rows lost without a record,
// duplicated rows, orphan objects and bytes (files outside the format's
// metadata folders and _safewrite/ that the snapshot does not reference,
// including partial uploads), whether the outcome was detectable, and
// whether the table stayed readable.
//
// NOTE: trials run on a local folder, so orphans are found by walking the
// file system. An S3 run needs an Inspect that lists the bucket instead.
package killtest
