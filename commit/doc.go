// Package commit is the two-phase write protocol that makes a table append
// safe against a SIGKILL at any instant. It drives any table format through
// the format.Table contract and never imports a format package.
//
// # Object layout
//
// Everything the protocol writes besides data files and the format's own
// metadata lives under <table>/_safewrite/, which Delta VACUUM and Iceberg
// remove_orphan_files skip because the name starts with "_":
//
//	_safewrite/intents/<txnId>.json   intent record of a transaction in flight
//	_safewrite/outcomes/<txnId>.json  outcome record of a rolled-back transaction
//
// Data files of transaction T are named <partition dir>part-<nnnnn>-<T>-c000.<codec>.parquet,
// so no two transactions ever write the same key.
//
// # State machine of one append
//
//	recover-expired -> load -> intent -> upload (extend intent) -> point of no return
//	  -> commit -> finalize (delete intent)
//	                 `-> conflict or failure: abort (delete staged, outcome record, delete intent)
//	                 `-> unknown outcome: stop, leave the intent for recovery
//
// # Invariants
//
// Tests name these invariants; code cites them where it enforces one.
//
// I1 Every object a transaction will PUT is named in a durable intent record
// before that PUT starts. The intent reserves data file names in batches and
// is rewritten before a name beyond the reservation is used.
//
// I2 An intent carries its owner's deadline: the caller's deadline, or a
// lease that the writer renews while it runs. Recovery never touches an
// intent whose deadline plus the clock-skew grace has not passed, unless the
// operator forces it, so a live writer's files are safe.
//
// I3 A commit outcome is committed, conflict (nothing was published) or
// unknown (it may have been published). On unknown nothing is deleted; the
// intent stays, and recovery resolves it by reading the table back and
// looking for the transaction id.
//
// I4 Every commit carries its transaction id and, when the caller gives one,
// an idempotency key, so a retried request is recognised and not applied
// twice. Recovery looks at every commit after the intent's base version, not
// a bounded window.
//
// I5 Recovery and abort delete only keys inside the table root (the object
// store rejects any other key) that the intent names, and never a file that
// the table's current snapshot references.
//
// I6 After any kill and one recovery, the table holds the rows of exactly the
// committed transactions, no staged object of an uncommitted transaction
// remains, and each rollback left an outcome record and an alert event.
package commit
