package deltalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/safewrite/safewrite/format"
	"github.com/safewrite/safewrite/objstore"
)

// DefaultMaxAttempts bounds the put-if-absent attempts of one Commit when
// the request sets no MaxAttempts.
const DefaultMaxAttempts = 10

// CommitError is an error of Commit. It names the table, the version that
// was being written and its commit key. The commit may have been published
// only when Err wraps format.ErrCommitUnknown.
type CommitError struct {
	Table   string
	Version int64
	Key     string
	Err     error
}

func (e *CommitError) Error() string {
	outcome := "nothing was published"
	if errors.Is(e.Err, format.ErrCommitUnknown) {
		outcome = "the commit may have been published: delete nothing and read the table back to find the transaction"
	}
	return fmt.Sprintf("commit to table %s version %d (%s): %v; %s", e.Table, e.Version, e.Key, e.Err, outcome)
}

func (e *CommitError) Unwrap() error { return e.Err }

// commitPlan is what a commit writes, fixed before the first attempt.
type commitPlan struct {
	req     format.CommitRequest
	body    []byte // the encoded actions; the same bytes at every version
	appID   string // idempotency app id, "" when none
	appVer  int64
	mapping string
	// newProtocol and newMetadata are the actions that create the table;
	// nil unless the request creates it.
	newProtocol *Protocol
	newMetadata *Metadata
}

// Commit publishes req.Files as one Delta commit at BaseVersion+1 with
// put-if-absent. When another writer took that version first and only
// appended data, Commit rebases the same actions onto the next free
// version. A winner that changed the protocol or metadata is a conflict.
// The exception is a create (BaseVersion -1) that lost version 0 to a
// writer that created a table the files fit exactly. Commit then appends
// the files to that table without the protocol and metaData actions.
// When the idempotency key is already recorded in the base version, the
// result has AlreadyApplied set and Version is BaseVersion; when a winning
// commit contains it, Version is that commit's version. Errors are *CommitError.
func (t *Table) Commit(ctx context.Context, req format.CommitRequest) (format.CommitResult, error) {
	if req.MaxAttempts <= 0 {
		req.MaxAttempts = DefaultMaxAttempts
	}
	if req.Operation == "" {
		req.Operation = "WRITE"
	}
	version := req.BaseVersion + 1
	fail := func(err error) (format.CommitResult, error) {
		return format.CommitResult{}, &CommitError{Table: t.uri, Version: version, Key: CommitKey(version), Err: err}
	}
	if err := validateRequest(req); err != nil {
		return fail(err)
	}

	var base *Snapshot
	if req.BaseVersion >= 0 {
		var err error
		if base, err = t.snapshotAt(ctx, req.BaseVersion); err != nil {
			return fail(fmt.Errorf("load base version %d: %w", req.BaseVersion, err))
		}
		if err := CheckWriteSupported(base.Protocol, base.Metadata, t.uri); err != nil {
			return fail(err)
		}
		if req.Idempotency != nil {
			if done, ok := base.AppVersions[req.Idempotency.AppID]; ok && done >= req.Idempotency.Version {
				t.log.Info("delta commit skipped: idempotency key already applied",
					"table", t.uri, "appId", req.Idempotency.AppID, "version", req.Idempotency.Version, "tableAppVersion", done)
				return format.CommitResult{Version: req.BaseVersion, AlreadyApplied: true}, nil
			}
		}
	}

	plan, err := t.planCommit(req, base)
	if err != nil {
		return fail(err)
	}
	return t.publish(ctx, plan, base)
}

func validateRequest(req format.CommitRequest) error {
	switch {
	case req.BaseVersion < -1:
		return fmt.Errorf("%w: base version %d is invalid: use -1 to create the table or a version from Load", format.ErrBadInput, req.BaseVersion)
	case req.BaseVersion == -1 && req.Setup == nil:
		return fmt.Errorf("%w: base version -1 creates the table and needs a TableSetup from CheckAppend", format.ErrBadInput)
	case req.BaseVersion >= 0 && req.Setup != nil:
		return fmt.Errorf("%w: a TableSetup was given for an existing table (base version %d): pass it only when creating", format.ErrBadInput, req.BaseVersion)
	case req.TxnID == "":
		return fmt.Errorf("%w: the commit has no transaction id: recovery finds commits by it", format.ErrBadInput)
	case req.Setup != nil && (req.Setup.Schema == nil || len(req.Setup.Schema.Fields) == 0):
		return fmt.Errorf("%w: the TableSetup has no schema", format.ErrBadInput)
	}
	return nil
}

// publish writes plan.body at the first free version, rebasing after lost
// races. It returns once the commit is durable, found applied, or failed.
func (t *Table) publish(ctx context.Context, plan *commitPlan, base *Snapshot) (format.CommitResult, error) {
	req := plan.req
	version := req.BaseVersion + 1
	for attempt := 1; ; attempt++ {
		key := CommitKey(version)
		fail := func(err error) (format.CommitResult, error) {
			return format.CommitResult{Attempts: attempt}, &CommitError{Table: t.uri, Version: version, Key: key, Err: err}
		}
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("before attempt %d: %w", attempt, err))
		}

		err := t.store.PutIfAbsent(ctx, key, plan.body)
		if errors.Is(err, objstore.ErrUnknownOutcome) {
			// The put may have landed, so read the version back. Our own
			// transaction id there means it did, and another writer's commit
			// means we lost the race. Anything else stays unknown, and an
			// unknown outcome must not lead the caller to delete files.
			var ours bool
			ours, err = t.readBack(ctx, version, req.TxnID)
			if err != nil {
				return fail(fmt.Errorf("%w: put-if-absent outcome unknown and reading the version back failed: %v", format.ErrCommitUnknown, err))
			}
			if ours {
				return t.committed(ctx, plan, base, version, attempt)
			}
			err = objstore.ErrAlreadyExists
		}
		if err == nil {
			// The commit is durable from here on: a crash now leaves a
			// committed transaction that FindTransaction finds by its id.
			return t.committed(ctx, plan, base, version, attempt)
		}
		if !errors.Is(err, objstore.ErrAlreadyExists) {
			return fail(fmt.Errorf("put-if-absent: %w", err))
		}

		from := version
		if version == 0 && plan.req.Setup != nil {
			joined, created, applied, err := t.joinCreatedTable(ctx, plan)
			if err != nil {
				return fail(err)
			}
			if applied != nil {
				applied.Attempts = attempt
				return *applied, nil
			}
			plan, base = joined, created
			from = 1
		}
		next, applied, err := t.checkWinners(ctx, from, plan)
		if err != nil {
			return fail(err)
		}
		if applied != nil {
			applied.Attempts = attempt
			return *applied, nil
		}
		if attempt >= req.MaxAttempts {
			return fail(fmt.Errorf("%w: lost the race for %d attempts (versions %d to %d were taken by other writers): retry the append later",
				format.ErrConflict, attempt, req.BaseVersion+1, next-1))
		}
		t.log.Info("delta commit lost a race: rebasing onto the next version",
			"table", t.uri, "txnId", req.TxnID, "lostVersion", version, "nextVersion", next, "attempt", attempt)
		version = next
	}
}

// readBack reports whether the commit at version contains txnID. An error
// (including a missing commit) means the outcome is still unknown.
func (t *Table) readBack(ctx context.Context, version int64, txnID string) (bool, error) {
	actions, err := ReadCommit(ctx, t.store, version)
	if err != nil {
		return false, err
	}
	return commitTxnID(actions) == txnID, nil
}

// checkWinners reads the commits that other writers published from
// version on. It returns the next free version to rebase onto, or a result
// when a winner already contains this request, or an error wrapping
// format.ErrConflict when a winner changed what the files were written
// against.
func (t *Table) checkWinners(ctx context.Context, version int64, plan *commitPlan) (int64, *format.CommitResult, error) {
	for v := version; ; v++ {
		actions, err := ReadCommit(ctx, t.store, v)
		if errors.Is(err, objstore.ErrNotFound) {
			return v, nil, nil
		}
		if err != nil {
			return 0, nil, fmt.Errorf("lost the race for version %d and could not read winning version %d: %w", version, v, err)
		}
		if applied := t.appliedIn(actions, v, plan); applied != nil {
			return 0, applied, nil
		}
		for _, a := range actions {
			switch {
			case a.Protocol != nil:
				return 0, nil, fmt.Errorf("%w: winning version %d changed the table protocol (reader %d, writer %d): load the table again and redo the append",
					format.ErrConflict, v, a.Protocol.MinReaderVersion, a.Protocol.MinWriterVersion)
			case a.MetaData != nil:
				return 0, nil, fmt.Errorf("%w: winning version %d changed the table metadata (schema, partitioning or properties): load the table again and redo the append",
					format.ErrConflict, v)
			}
		}
	}
}

// joinCreatedTable handles a create that lost the race for version 0.
// When the winner created a table that the files of plan fit exactly, it
// returns plan rebuilt as a plain append on version 0 and the winner's
// version 0 as the new base. When version 0 already contains this request,
// it returns the result. Otherwise the error wraps format.ErrConflict and
// names the difference.
func (t *Table) joinCreatedTable(ctx context.Context, plan *commitPlan) (*commitPlan, *Snapshot, *format.CommitResult, error) {
	actions, err := ReadCommit(ctx, t.store, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("lost the race to create the table and could not read the winning version 0: %w", err)
	}
	if applied := t.appliedIn(actions, 0, plan); applied != nil {
		return nil, nil, applied, nil
	}

	created := &Snapshot{Version: 0, Files: map[string]*Add{}, AppVersions: map[string]int64{}, CheckpointVersion: -1}
	created.applyCommit(actions)
	if created.Protocol == nil || created.Metadata == nil {
		return nil, nil, nil, fmt.Errorf("%w: another writer published version 0 (%s) without a protocol or metaData action, so table %s cannot be read: repair or delete that commit",
			format.ErrCorruptTable, CommitKey(0), t.uri)
	}
	if err := t.checkFitsCreatedTable(created, plan); err != nil {
		return nil, nil, nil, err
	}

	// The winner's table is the one this request would have created, so the
	// same files become a plain append on version 0. planCommit takes the
	// schema, partition columns and column mapping from the winner, so the
	// partitionValues keys are the winner's names.
	req := plan.req
	req.BaseVersion = 0
	req.Setup = nil
	joined, err := t.planCommit(req, created)
	if err != nil {
		return nil, nil, nil, err
	}
	t.log.Info("delta commit lost the race to create the table: appending to the identical table the winner created",
		"table", t.uri, "txnId", req.TxnID)
	return joined, created, nil, nil
}

// checkFitsCreatedTable returns nil when the files of plan, written for
// the table that plan creates, fit the table another writer created at
// version 0. They fit when both tables have no column mapping and the same
// partition columns and schema, and when the winner's protocol has the
// features the files need and safewrite can write it. Otherwise the error
// wraps format.ErrConflict and names the first difference.
func (t *Table) checkFitsCreatedTable(created *Snapshot, plan *commitPlan) error {
	conflict := func(difference string) error {
		return fmt.Errorf("%w: another writer created table %s at version 0 first %s: the files of this append do not fit it; retry the append",
			format.ErrConflict, t.uri, difference)
	}

	// With column mapping, data files use physical column names that each
	// writer picks at random, so files of one create never fit another.
	createdMapping := columnMappingMode(created.Metadata)
	if createdMapping != "none" || plan.mapping != "none" {
		return conflict(fmt.Sprintf("with column mapping (mode %q there, %q in this append), so the physical column names in the files differ",
			createdMapping, plan.mapping))
	}

	if !slices.Equal(created.Metadata.PartitionColumns, plan.newMetadata.PartitionColumns) {
		return conflict(fmt.Sprintf("with different partition columns ([%s] there, [%s] in this append)",
			strings.Join(created.Metadata.PartitionColumns, ", "), strings.Join(plan.newMetadata.PartitionColumns, ", ")))
	}

	createdSchema, err := SchemaFromJSON(created.Metadata.SchemaString)
	if err != nil {
		return fmt.Errorf("read the schema of version 0, which another writer created: %w", err)
	}
	planSchema, err := SchemaFromJSON(plan.newMetadata.SchemaString)
	if err != nil {
		return fmt.Errorf("read the schema of this create: %w", err)
	}
	if difference := schemaDifference(createdSchema, planSchema); difference != "" {
		return conflict("with a different schema (" + difference + ")")
	}

	if missing := missingFeatures(created.Protocol, plan.newProtocol); len(missing) > 0 {
		return conflict(fmt.Sprintf("with protocol reader %d / writer %d, which lacks table feature %s that the columns of this append need",
			created.Protocol.MinReaderVersion, created.Protocol.MinWriterVersion, quoteList(missing)))
	}
	if err := CheckWriteSupported(created.Protocol, created.Metadata, t.uri); err != nil {
		return fmt.Errorf("%w: another writer created table %s at version 0 first with a protocol or properties that safewrite cannot write: %w",
			format.ErrConflict, t.uri, err)
	}
	return nil
}

// schemaDifference describes the first difference between the schema of
// the created table and the schema of this create, or returns "" when
// they have the same columns in the same order. Field metadata is ignored
// except for the column mapping id and physical name.
func schemaDifference(created, planned *format.Schema) string {
	if len(created.Fields) != len(planned.Fields) {
		return fmt.Sprintf("column count %d there, %d in this append", len(created.Fields), len(planned.Fields))
	}
	for i := range created.Fields {
		createdColumn := describeColumn(created.Fields[i])
		plannedColumn := describeColumn(planned.Fields[i])
		if createdColumn != plannedColumn {
			return fmt.Sprintf("column %d is %s there and %s in this append", i+1, createdColumn, plannedColumn)
		}
	}
	return ""
}

// describeColumn returns the name, type and nullability of a column, plus
// its column mapping id and physical name when set, such as
// `"id" long NOT NULL`. Two columns with equal descriptions fit the same
// data files.
func describeColumn(f format.Field) string {
	text := fmt.Sprintf("%q %s", f.Name, f.Type)
	if nested, ok := f.Metadata[NestedTypeKey].(string); ok {
		text += " " + nested
	}
	if !f.Nullable {
		text += " NOT NULL"
	}
	if f.ID != 0 {
		text += fmt.Sprintf(" (column mapping id %d)", f.ID)
	}
	if f.PhysicalName != "" && f.PhysicalName != f.Name {
		text += fmt.Sprintf(" (physical name %q)", f.PhysicalName)
	}
	return text
}

// missingFeatures returns the table features that planned names and
// created lacks. A legacy protocol (reader below 3, writer below 7) names
// no features, so it lacks every named one, but legacy writer versions
// imply some writer features.
func missingFeatures(created, planned *Protocol) []string {
	var missing []string
	if planned.MinReaderVersion >= 3 {
		for _, f := range planned.ReaderFeatures {
			if created.MinReaderVersion < 3 || !slices.Contains(created.ReaderFeatures, f) {
				missing = append(missing, f)
			}
		}
	}
	if planned.MinWriterVersion >= 7 {
		createdWriter := writerFeatureSet(created)
		for _, f := range planned.WriterFeatures {
			if !createdWriter[f] && !slices.Contains(missing, f) {
				missing = append(missing, f)
			}
		}
	}
	return missing
}

// appliedIn returns the result of plan when the winning commit at version
// contains its transaction id or its idempotency key, and nil otherwise.
func (t *Table) appliedIn(actions []Action, version int64, plan *commitPlan) *format.CommitResult {
	if commitTxnID(actions) == plan.req.TxnID {
		return &format.CommitResult{Version: version}
	}
	for _, a := range actions {
		if a.Txn != nil && plan.appID != "" && a.Txn.AppID == plan.appID && a.Txn.Version >= plan.appVer {
			t.log.Info("delta commit skipped: a winning commit contains the idempotency key",
				"table", t.uri, "appId", plan.appID, "version", plan.appVer, "winningVersion", version)
			return &format.CommitResult{Version: version, AlreadyApplied: true}
		}
	}
	return nil
}

// committed finishes a durable commit: it writes a checkpoint when one is
// due and returns the result. A checkpoint failure is logged, not returned.
func (t *Table) committed(ctx context.Context, plan *commitPlan, base *Snapshot, version int64, attempts int) (format.CommitResult, error) {
	interval := t.interval(plan, base)
	if version > 0 && version%int64(interval) == 0 {
		if err := t.WriteCheckpoint(ctx, version); err != nil {
			t.log.Warn("delta checkpoint failed; the commit is durable and readers replay the JSON log instead",
				"table", t.uri, "version", version, "error", err)
		}
	}
	return format.CommitResult{Version: version, Attempts: attempts}, nil
}

// interval returns the checkpoint interval: the option, else the table's
// delta.checkpointInterval, else DefaultCheckpointInterval.
func (t *Table) interval(plan *commitPlan, base *Snapshot) int {
	if t.checkpointInterval > 0 {
		return t.checkpointInterval
	}
	var conf map[string]string
	if plan.req.Setup != nil {
		conf = plan.req.Setup.Properties
	} else if base != nil && base.Metadata != nil {
		conf = base.Metadata.Configuration
	}
	if n, err := strconv.Atoi(conf[propCheckpointInterval]); err == nil && n > 0 {
		return n
	}
	return DefaultCheckpointInterval
}

// commitTxnID returns the safewrite transaction id of a commit, or "".
func commitTxnID(actions []Action) string {
	for _, a := range actions {
		if a.CommitInfo == nil {
			continue
		}
		if a.CommitInfo.SafewriteTxnID != "" {
			return a.CommitInfo.SafewriteTxnID
		}
		return a.CommitInfo.TxnID
	}
	return ""
}

// planCommit builds the actions of req and encodes them.
func (t *Table) planCommit(req format.CommitRequest, base *Snapshot) (*commitPlan, error) {
	plan := &commitPlan{req: req}
	if req.Idempotency != nil {
		if req.Idempotency.AppID == "" {
			return nil, fmt.Errorf("%w: the idempotency key has an empty app id", format.ErrBadInput)
		}
		plan.appID = req.Idempotency.AppID
		plan.appVer = req.Idempotency.Version
	}

	var (
		schema     *format.Schema
		partitions []string
	)
	if req.Setup != nil {
		schema = req.Setup.Schema
		partitions = req.Setup.PartitionColumns
		plan.mapping = req.Setup.ColumnMapping
	} else {
		var err error
		if schema, err = SchemaFromJSON(base.Metadata.SchemaString); err != nil {
			return nil, fmt.Errorf("read the schema of base version %d: %w", req.BaseVersion, err)
		}
		partitions = base.Metadata.PartitionColumns
		plan.mapping = columnMappingMode(base.Metadata)
	}
	if plan.mapping == "" {
		plan.mapping = "none"
	}

	nowMs := t.now().UnixMilli()
	actions := []Action{{CommitInfo: commitInfo(req, partitions, nowMs)}}
	if req.Setup != nil {
		proto, meta, err := newTableActions(req.Setup, nowMs)
		if err != nil {
			return nil, err
		}
		actions = append(actions, Action{Protocol: proto}, Action{MetaData: meta})
		plan.newProtocol, plan.newMetadata = proto, meta
	}
	if req.Idempotency != nil {
		actions = append(actions, Action{Txn: &Txn{AppID: plan.appID, Version: plan.appVer, LastUpdated: &nowMs}})
	}
	for i := range req.Files {
		add, err := addAction(&req.Files[i], schema, partitions, plan.mapping, nowMs)
		if err != nil {
			return nil, err
		}
		actions = append(actions, Action{Add: add})
	}

	var buf bytes.Buffer
	for i, a := range actions {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("encode action %d: %w", i, err)
		}
		if i > 0 {
			buf.WriteByte('\n')
		}
		buf.Write(line)
	}
	plan.body = buf.Bytes()
	return plan, nil
}

// commitInfo builds the commitInfo action with the keys Spark writes for a
// blind append, plus the safewrite transaction id that recovery searches for.
func commitInfo(req format.CommitRequest, partitions []string, nowMs int64) *CommitInfo {
	partitionBy, _ := json.Marshal(nonNil(partitions))
	var rows, bytesOut int64
	for _, f := range req.Files {
		rows += f.NumRecords
		bytesOut += f.Size
	}
	blind := true
	info := &CommitInfo{
		Timestamp: nowMs,
		Operation: req.Operation,
		OperationParameters: map[string]any{
			"mode":        "Append",
			"partitionBy": string(partitionBy),
		},
		IsolationLevel: "Serializable",
		IsBlindAppend:  &blind,
		OperationMetrics: map[string]any{
			"numFiles":       strconv.Itoa(len(req.Files)),
			"numOutputRows":  strconv.FormatInt(rows, 10),
			"numOutputBytes": strconv.FormatInt(bytesOut, 10),
		},
		EngineInfo:     req.EngineInfo,
		TxnID:          req.TxnID,
		SafewriteTxnID: req.TxnID,
	}
	if req.BaseVersion >= 0 {
		read := req.BaseVersion
		info.ReadVersion = &read
	}
	return info
}

// newTableActions builds the protocol and metaData actions of a new table.
// Tables that need a table feature (timestampNtz, columnMapping) get
// reader 3 / writer 7 with the features named, as Spark 3.5 and delta-rs
// write them; other tables get the legacy reader 1 / writer 2.
func newTableActions(setup *format.TableSetup, nowMs int64) (*Protocol, *Metadata, error) {
	var features []string
	if setup.ColumnMapping == "name" {
		features = append(features, "columnMapping")
	}
	for _, f := range setup.Schema.Fields {
		if f.Type.Name == format.TypeTimestampNTZ {
			features = append(features, "timestampNtz")
			break
		}
	}
	proto := &Protocol{MinReaderVersion: 1, MinWriterVersion: 2}
	if len(features) > 0 {
		proto = &Protocol{
			MinReaderVersion: 3,
			MinWriterVersion: 7,
			ReaderFeatures:   features,
			WriterFeatures:   append([]string(nil), features...),
		}
	}

	schemaString, err := SchemaToJSON(setup.Schema)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the table schema: %w", err)
	}
	conf := map[string]string{}
	for k, v := range setup.Properties {
		conf[k] = v
	}
	created := nowMs
	meta := &Metadata{
		ID:               uuid.NewString(),
		Format:           Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     schemaString,
		PartitionColumns: nonNil(setup.PartitionColumns),
		Configuration:    conf,
		CreatedTime:      &created,
	}
	return proto, meta, nil
}

// addAction builds the add action of one data file. Partition values and
// stats are keyed by physical column name, as the protocol requires when
// column mapping is on.
// A file without a modification time gets the commit time.
func addAction(f *format.DataFile, schema *format.Schema, partitions []string, mapping string, nowMs int64) (*Add, error) {
	if f.Path == "" || objstore.ValidateKey(f.Path) != nil {
		return nil, fmt.Errorf("%w: data file path %q is not a key inside the table root", format.ErrBadInput, f.Path)
	}
	values := make(map[string]*string, len(partitions))
	for _, col := range partitions {
		v, ok := lookupFold(f.PartitionValues, col)
		if !ok {
			return nil, fmt.Errorf("%w: data file %s has no value for partition column %q", format.ErrBadInput, f.Path, col)
		}
		values[physicalName(schema, col, mapping)] = v
	}
	for name := range f.PartitionValues {
		if !containsFold(partitions, name) {
			return nil, fmt.Errorf("%w: data file %s has a partition value for %q, which is not a partition column (partition columns: [%s])",
				format.ErrBadInput, f.Path, name, strings.Join(partitions, ", "))
		}
	}

	stats, err := statsJSON(f)
	if err != nil {
		return nil, fmt.Errorf("encode stats of data file %s: %w", f.Path, err)
	}
	modified := nowMs
	if !f.ModificationTime.IsZero() {
		modified = f.ModificationTime.UnixMilli()
	}
	return &Add{
		Path:             EscapePath(f.Path),
		PartitionValues:  values,
		Size:             f.Size,
		ModificationTime: modified,
		DataChange:       true,
		Stats:            stats,
	}, nil
}

// fileStats is the stats JSON of an add action, in the key order Spark writes.
type fileStats struct {
	NumRecords int64            `json:"numRecords"`
	MinValues  map[string]any   `json:"minValues,omitempty"`
	MaxValues  map[string]any   `json:"maxValues,omitempty"`
	NullCount  map[string]int64 `json:"nullCount,omitempty"`
}

// statsJSON encodes the file's stats. A file without column stats still
// records its row count, which readers use for counts and skipping.
func statsJSON(f *format.DataFile) (string, error) {
	s := fileStats{NumRecords: f.NumRecords}
	if f.Stats != nil {
		s = fileStats{
			NumRecords: f.Stats.NumRecords,
			MinValues:  f.Stats.MinValues,
			MaxValues:  f.Stats.MaxValues,
			NullCount:  f.Stats.NullCount,
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func physicalName(schema *format.Schema, logical, mapping string) string {
	if mapping == "none" {
		return logical
	}
	if i := indexFold(schema, logical); i >= 0 && schema.Fields[i].PhysicalName != "" {
		return schema.Fields[i].PhysicalName
	}
	return logical
}

func lookupFold(m map[string]*string, name string) (*string, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func containsFold(list []string, name string) bool {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
