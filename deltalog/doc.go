// Package deltalog reads and writes the Delta Lake transaction log
// (the protocol's PROTOCOL.md, reader versions up to 3, writer versions up
// to 7).
//
// # Object layout
//
// A table root contains data files and the log folder _delta_log/:
//
//	_delta_log/00000000000000000000.json                      commit of version 0 (JSON lines, one action each)
//	_delta_log/00000000000000000010.checkpoint.parquet        classic checkpoint of version 10
//	_delta_log/00000000000000000010.checkpoint.0000000001.0000000002.parquet   part 1 of 2
//	_delta_log/00000000000000000010.checkpoint.<uuid>.json    V2 checkpoint (or .parquet)
//	_delta_log/_sidecars/<name>.parquet                       add and remove actions of a V2 checkpoint
//	_delta_log/_last_checkpoint                               hint to the newest checkpoint
//
// Only names that match these patterns exactly are log entries (see
// ParseLogName). Temporary files, .crc checksums and the _commits/ folder
// are never read as commits.
//
// # Replay
//
// LoadSnapshot lists _delta_log/, takes the newest complete checkpoint at
// or before the target version (a multi-part checkpoint is complete when
// all of its parts are listed), loads its state, then applies the JSON
// commits after it in version order. The _last_checkpoint hint is not
// read, so an empty, stale, corrupt or dangling hint cannot hide a version.
// Replay rejects, with errors that wrap format.ErrCorruptTable, a missing
// version between the checkpoint (or version 0) and the target, a
// checkpoint without protocol or metaData, and invalid JSON. Within a
// commit, removes are applied before adds. The latest protocol, metaData
// and txn version per appId win.
//
// # Feature gate
//
// CheckReadSupported and CheckWriteSupported decide from the protocol and
// metadata whether safewrite may read or append to a table, and name the
// blocking feature in a *format.UnsupportedFeatureError.
//
// # Finding a transaction
//
// Every commit safewrite writes carries its transaction id in commitInfo.
// FindTxn looks at every commit after a base version, with no bounded
// window, and reports an unknown outcome rather than "not found" when a
// commit in that range is missing from the log.
package deltalog
