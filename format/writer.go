package format

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
)

// Writer limits. Memory use is bounded by rowGroupBufferBytes per open file,
// totalBufferBytes across all open files, and maxOpenFiles.
const (
	// DefaultTargetFileSize is the file size at which a data file is closed
	// and the next one started, when WriterOptions.TargetFileSize is 0.
	DefaultTargetFileSize = 128 << 20
	// rowGroupBufferBytes is the estimated uncompressed size at which a row
	// group is flushed.
	rowGroupBufferBytes = 64 << 20
	// rowGroupMaxRows caps the rows of a row group of a narrow table.
	rowGroupMaxRows = 1 << 20
	// totalBufferBytes caps the estimated uncompressed bytes buffered across
	// all open files; past it the largest pending row group is flushed.
	totalBufferBytes = 128 << 20
	// maxOpenFiles caps the files open at once in a partitioned write. Each
	// open file also holds an upload in flight (an S3 multipart upload
	// buffers at least one part), so the cap is kept small.
	maxOpenFiles = 16
	// pendingBufferBytes caps the estimated bytes of rows held in memory
	// for partitions that have no open file.
	pendingBufferBytes = 32 << 20
	// readBatchRows is how many rows are read from the source at a time.
	readBatchRows = 1024
)

// WriteDataFiles writes the rows of src as Parquet data files into
// opts.Store and returns one DataFile per file written, in the order the
// files were closed.
//
// Rows must be in opts.Schema field order (use Conform first). Each file is
// streamed to the store while it is written; its key comes from opts.NewFile
// before the first byte is uploaded. On an error or a cancelled ctx the
// uploads in flight are aborted and the error names the key concerned.
// Files already uploaded stay, because the caller deletes the keys it
// recorded.
func WriteDataFiles(ctx context.Context, src RowSource, opts WriterOptions) ([]DataFile, error) {
	w, err := newDataWriter(opts)
	if err != nil {
		return nil, err
	}
	// Uploads get their own context so that an abort also stops an upload
	// that is blocked on the network rather than on reading its body.
	uploadCtx, cancelUploads := context.WithCancel(ctx)
	defer cancelUploads()
	w.uploadCtx, w.cancelUploads = uploadCtx, cancelUploads
	if err := w.copyRows(ctx, src); err != nil {
		w.abort(err)
		return nil, err
	}
	if err := w.closeAll(ctx); err != nil {
		w.abort(err)
		return nil, err
	}
	return w.done, nil
}

// dataWriter is the state of one WriteDataFiles call.
type dataWriter struct {
	opts       WriterOptions
	targetSize int64
	rowGroup   int64
	codec      compress.Codec
	// dataFields are the schema fields written into the files; dataIndex
	// maps each to its position in the source row.
	dataFields []Field
	dataIndex  []int
	// partIndex are the source positions of the partition columns.
	partIndex     []int
	schema        *parquet.Schema
	open          map[string]*openFile
	useClock      uint64
	uploaded      int64
	done          []DataFile
	scratch       big.Int
	valueBuf      []parquet.Value
	pending       map[string]*pendingRows
	pendingBytes  int64
	uploadCtx     context.Context
	cancelUploads context.CancelFunc
	runBuf        []parquet.Row
}

func newDataWriter(opts WriterOptions) (*dataWriter, error) {
	if opts.Schema == nil || len(opts.Schema.Fields) == 0 {
		return nil, fmt.Errorf("%w: writer needs a target schema with at least one column", ErrBadInput)
	}
	if opts.Store == nil || opts.NewFile == nil {
		return nil, errors.New("format: WriterOptions.Store and WriterOptions.NewFile are required")
	}
	codec, err := codecFor(opts.Codec)
	if err != nil {
		return nil, err
	}
	w := &dataWriter{
		opts:       opts,
		targetSize: opts.TargetFileSize,
		codec:      codec,
		open:       map[string]*openFile{},
	}
	if w.targetSize <= 0 {
		w.targetSize = DefaultTargetFileSize
	}
	w.rowGroup = min(int64(rowGroupBufferBytes), w.targetSize)

	isPartition := map[int]bool{}
	for _, name := range opts.PartitionColumns {
		i := opts.Schema.Index(name)
		if i < 0 {
			return nil, fmt.Errorf("%w: partition column %q is not in the table schema", ErrBadInput, name)
		}
		if isPartition[i] {
			return nil, fmt.Errorf("%w: partition column %q is listed twice", ErrBadInput, name)
		}
		isPartition[i] = true
		w.partIndex = append(w.partIndex, i)
	}
	for i, f := range opts.Schema.Fields {
		if !isPartition[i] {
			w.dataFields = append(w.dataFields, f)
			w.dataIndex = append(w.dataIndex, i)
		}
	}
	if len(w.dataFields) == 0 {
		return nil, fmt.Errorf("%w: every column is a partition column, so the data files would have no columns", ErrBadInput)
	}
	w.schema, err = DataFileSchema(w.dataFields)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func codecFor(name string) (compress.Codec, error) {
	switch name {
	case "", "snappy":
		return &parquet.Snappy, nil
	case "zstd":
		return &parquet.Zstd, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "uncompressed", "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("%w: unknown codec %q: use snappy, zstd, gzip or uncompressed", ErrBadInput, name)
}

// copyRows reads src to the end and routes every row to its file.
func (w *dataWriter) copyRows(ctx context.Context, src RowSource) error {
	rows := make([]parquet.Row, readBatchRows)
	var rowNum int64
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write data files: %w", err)
		}
		n, readErr := src.ReadRows(rows)
		if n > 0 {
			if err := w.writeBatch(ctx, rows[:n], rowNum); err != nil {
				return err
			}
			rowNum += int64(n)
		}
		if readErr == io.EOF {
			return nil
		}
		if readErr != nil {
			return fmt.Errorf("read input row %d: %w", rowNum+1, readErr)
		}
	}
}

// writeBatch converts a batch to physical rows and writes each run of rows
// with the same partition values to that partition's file.
func (w *dataWriter) writeBatch(ctx context.Context, rows []parquet.Row, firstRow int64) error {
	width := len(w.dataFields)
	if cap(w.valueBuf) < len(rows)*width {
		w.valueBuf = make([]parquet.Value, len(rows)*width)
	}
	run := w.runBuf[:0]
	runKey := ""
	var runValues []*string
	for i, row := range rows {
		rowNum := firstRow + int64(i) + 1
		if len(row) != len(w.opts.Schema.Fields) {
			return &InputError{Row: rowNum, Reason: fmt.Sprintf("row has %d values, the table has %d columns", len(row), len(w.opts.Schema.Fields))}
		}
		key, values, err := w.partitionOf(row, rowNum)
		if err != nil {
			return err
		}
		// The parquet writer copies values, so the buffer is reused for
		// the next batch.
		out := parquet.Row(w.valueBuf[i*width : (i+1)*width : (i+1)*width])
		for j, f := range w.dataFields {
			v, err := w.physicalValue(f, row[w.dataIndex[j]], j)
			if err != nil {
				return &InputError{Row: rowNum, Column: f.Name, Value: v.String(), Reason: err.Error()}
			}
			out[j] = v
		}
		if len(run) > 0 && key != runKey {
			if err := w.writeRun(ctx, runKey, runValues, run); err != nil {
				return err
			}
			run = run[:0]
		}
		runKey, runValues = key, values
		run = append(run, out)
	}
	w.runBuf = run[:0]
	if len(run) > 0 {
		return w.writeRun(ctx, runKey, runValues, run)
	}
	return nil
}

// partitionOf returns the folder of a row and its serialized partition values.
func (w *dataWriter) partitionOf(row parquet.Row, rowNum int64) (string, []*string, error) {
	if len(w.partIndex) == 0 {
		return "", nil, nil
	}
	values := make([]*string, len(w.partIndex))
	for i, idx := range w.partIndex {
		f := w.opts.Schema.Fields[idx]
		v := row[idx]
		if v.IsNull() && !f.Nullable {
			return "", nil, &InputError{Row: rowNum, Column: f.Name, Reason: "null in a non-nullable partition column"}
		}
		s, err := SerializePartitionValue(f.Type, v)
		if err != nil {
			return "", nil, &InputError{Row: rowNum, Column: f.Name, Value: v.String(), Reason: err.Error()}
		}
		values[i] = s
	}
	return PartitionDir(w.opts.PartitionColumns, values), values, nil
}

// writeRun writes rows of one partition to its open file. When the
// partition has no open file and maxOpenFiles are open, the rows are held
// in memory instead, so that interleaved partitions do not close and open a
// file for every few rows. Past pendingBufferBytes, the largest held
// partition gets a file in place of the least recently used one.
func (w *dataWriter) writeRun(ctx context.Context, dir string, values []*string, rows []parquet.Row) error {
	if w.open[dir] != nil || len(w.open) < maxOpenFiles {
		return w.writeToFile(ctx, dir, values, rows)
	}
	p := w.pending[dir]
	if p == nil {
		p = &pendingRows{values: values}
		if w.pending == nil {
			w.pending = map[string]*pendingRows{}
		}
		w.pending[dir] = p
	}
	for _, r := range rows {
		p.rows = append(p.rows, r.Clone())
		size := int64(len(r)) * 24
		for _, v := range r {
			size += valueSize(v)
		}
		p.bytes += size
		w.pendingBytes += size
	}
	for w.pendingBytes > pendingBufferBytes {
		if err := w.drainLargestPending(ctx); err != nil {
			return err
		}
	}
	return nil
}

// pendingRows are rows of a partition without an open file.
type pendingRows struct {
	values []*string
	rows   []parquet.Row
	bytes  int64
}

// drainLargestPending writes the largest held partition to a file.
func (w *dataWriter) drainLargestPending(ctx context.Context) error {
	var dir string
	var largest *pendingRows
	for d, p := range w.pending {
		if largest == nil || p.bytes > largest.bytes || (p.bytes == largest.bytes && d < dir) {
			dir, largest = d, p
		}
	}
	if largest == nil {
		return nil
	}
	delete(w.pending, dir)
	w.pendingBytes -= largest.bytes
	return w.writeToFile(ctx, dir, largest.values, largest.rows)
}

// writeToFile writes rows of one partition, rolling files at the target size.
func (w *dataWriter) writeToFile(ctx context.Context, dir string, values []*string, rows []parquet.Row) error {
	for len(rows) > 0 {
		f, err := w.fileFor(ctx, dir, values)
		if err != nil {
			return err
		}
		// Write one read batch at a time before checking the size, so a
		// long run of held rows still rolls files at the target size.
		n := min(len(rows), readBatchRows)
		if err := f.write(rows[:n]); err != nil {
			return f.wrap(err)
		}
		rows = rows[n:]
		if err := w.afterWrite(f); err != nil {
			return err
		}
	}
	return nil
}

// afterWrite flushes row groups and rolls the file when it is full.
func (w *dataWriter) afterWrite(f *openFile) error {
	if f.rgBytes >= w.rowGroup || f.rgRows >= rowGroupMaxRows {
		if err := f.flush(); err != nil {
			return f.wrap(err)
		}
	}
	if f.pw.Size() >= w.targetSize {
		return w.finish(f)
	}
	return w.limitBuffers()
}

// limitBuffers flushes the largest pending row groups until the bytes
// buffered across open files fit totalBufferBytes.
func (w *dataWriter) limitBuffers() error {
	for {
		var total int64
		var largest *openFile
		for _, f := range w.open {
			total += f.rgBytes
			if largest == nil || f.rgBytes > largest.rgBytes {
				largest = f
			}
		}
		if total <= totalBufferBytes || largest == nil || largest.rgBytes == 0 {
			return nil
		}
		if err := largest.flush(); err != nil {
			return largest.wrap(err)
		}
	}
}

// fileFor returns the open file of a partition folder, starting one (and
// closing the least recently used file past maxOpenFiles) when needed.
func (w *dataWriter) fileFor(ctx context.Context, dir string, values []*string) (*openFile, error) {
	w.useClock++
	if f := w.open[dir]; f != nil {
		f.lastUse = w.useClock
		return f, nil
	}
	if len(w.open) >= maxOpenFiles {
		var oldest *openFile
		for _, f := range w.open {
			if oldest == nil || f.lastUse < oldest.lastUse {
				oldest = f
			}
		}
		if err := w.finish(oldest); err != nil {
			return nil, err
		}
	}
	key, err := w.opts.NewFile(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("name data file in %q: %w", dir, err)
	}
	f := w.startFile(key, dir, values)
	f.lastUse = w.useClock
	w.open[dir] = f
	return f, nil
}

// finish closes a file, waits for its upload and records it.
func (w *dataWriter) finish(f *openFile) error {
	delete(w.open, f.dir)
	df, err := f.close()
	if err != nil {
		return f.wrap(err)
	}
	w.done = append(w.done, df)
	return nil
}

// closeAll writes the held rows and finishes every open file.
func (w *dataWriter) closeAll(ctx context.Context) error {
	for len(w.pending) > 0 {
		if err := w.drainLargestPending(ctx); err != nil {
			return err
		}
	}
	for len(w.open) > 0 {
		var first *openFile
		for _, f := range w.open {
			if first == nil || f.lastUse < first.lastUse {
				first = f
			}
		}
		if err := w.finish(first); err != nil {
			return err
		}
	}
	return nil
}

// abort stops every upload in flight so that no partial object is stored.
func (w *dataWriter) abort(cause error) {
	w.cancelUploads()
	for dir, f := range w.open {
		f.abort(cause)
		delete(w.open, dir)
	}
}

// addUploaded counts bytes handed to the store and reports progress.
func (w *dataWriter) addUploaded(n int64) {
	w.uploaded += n
	if w.opts.Progress != nil {
		w.opts.Progress(w.uploaded)
	}
}

// openFile is one data file being written and uploaded.
type openFile struct {
	key     string
	dir     string
	values  map[string]*string
	pw      *parquet.Writer
	pipe    *io.PipeWriter
	out     *countingWriter
	result  chan error
	stats   *statsCollector
	rgBytes int64
	rgRows  int64
	lastUse uint64
	closed  bool
}

// startFile starts the upload goroutine of key and the parquet writer that
// feeds it. Nothing is written until the first row group is flushed.
func (w *dataWriter) startFile(key, dir string, values []*string) *openFile {
	pr, pipeW := io.Pipe()
	f := &openFile{
		key:    key,
		dir:    dir,
		pipe:   pipeW,
		result: make(chan error, 1),
		stats:  newStatsCollector(w.dataFields),
	}
	if len(values) > 0 {
		f.values = make(map[string]*string, len(values))
		for i, name := range w.opts.PartitionColumns {
			f.values[name] = values[i]
		}
	}
	f.out = &countingWriter{w: pipeW, add: w.addUploaded}
	f.pw = parquet.NewWriter(f.out, w.schema,
		parquet.Compression(w.codec),
		// Data page v1, as Spark writes by default; some readers still
		// handle v2 pages only partly.
		parquet.DataPageVersion(1),
		parquet.CreatedBy("safewrite", "", ""),
	)
	store := w.opts.Store
	go func() {
		err := store.Put(w.uploadCtx, key, pr, -1)
		if err == nil {
			// A store that returns before reading the whole body must not
			// let the writer believe the file was stored.
			err = errUploadEnded
		}
		pr.CloseWithError(err)
		f.result <- err
	}()
	return f
}

var errUploadEnded = errors.New("upload ended before the file was complete")

func (f *openFile) wrap(err error) error {
	return fmt.Errorf("write data file %s: %w", f.key, err)
}

// write converts nothing: rows are physical already. It records stats and
// the buffered size estimate.
func (f *openFile) write(rows []parquet.Row) error {
	for _, row := range rows {
		for j, v := range row {
			f.stats.columns[j].observe(v)
			f.rgBytes += valueSize(v)
		}
	}
	if _, err := f.pw.WriteRows(rows); err != nil {
		return err
	}
	f.stats.numRecords += int64(len(rows))
	f.rgRows += int64(len(rows))
	return nil
}

func valueSize(v parquet.Value) int64 {
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return int64(len(v.ByteArray())) + 4
	case parquet.Boolean:
		return 1
	case parquet.Int32, parquet.Float:
		return 4
	}
	return 8
}

func (f *openFile) flush() error {
	if err := f.pw.Flush(); err != nil {
		return err
	}
	f.rgBytes, f.rgRows = 0, 0
	return nil
}

// close writes the footer, ends the upload and waits for the store.
func (f *openFile) close() (DataFile, error) {
	f.closed = true
	if err := f.pw.Close(); err != nil {
		f.pipe.CloseWithError(err)
		<-f.result
		return DataFile{}, err
	}
	f.pipe.Close()
	if err := <-f.result; err != nil && !errors.Is(err, errUploadEnded) {
		return DataFile{}, fmt.Errorf("upload: %w", err)
	}
	return DataFile{
		Path:             f.key,
		Size:             f.out.n,
		ModificationTime: time.Now(),
		NumRecords:       f.stats.numRecords,
		PartitionValues:  f.values,
		Stats:            f.stats.stats(),
	}, nil
}

// abort fails the upload so the store discards the partial object, and
// waits for the upload goroutine.
func (f *openFile) abort(cause error) {
	if f.closed {
		return
	}
	f.closed = true
	f.pipe.CloseWithError(fmt.Errorf("data file write aborted: %w", cause))
	<-f.result
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w   io.Writer
	n   int64
	add func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if n > 0 {
		c.add(int64(n))
	}
	return n, err
}

// DataFileSchema builds the parquet schema for fields, in field order, with
// physical names, field ids and the types Spark writes for each Delta type.
func DataFileSchema(fields []Field) (*parquet.Schema, error) {
	group := make(parquet.Group, len(fields))
	ordered := make([]parquet.Field, len(fields))
	for i, f := range fields {
		node, err := parquetNode(f)
		if err != nil {
			return nil, err
		}
		name := physicalName(f)
		if _, dup := group[name]; dup {
			return nil, fmt.Errorf("%w: column %q appears twice", ErrBadInput, name)
		}
		group[name] = node
		ordered[i] = &namedField{Node: node, name: name}
	}
	return parquet.NewSchema("spark_schema", &orderedGroup{Group: group, fields: ordered}), nil
}

// parquetNode returns the leaf node of one field.
func parquetNode(f Field) (parquet.Node, error) {
	var node parquet.Node
	switch f.Type.Name {
	case TypeString:
		node = parquet.String()
	case TypeLong:
		node = parquet.Leaf(parquet.Int64Type)
	case TypeInteger:
		node = parquet.Leaf(parquet.Int32Type)
	case TypeShort:
		node = parquet.Int(16)
	case TypeByte:
		node = parquet.Int(8)
	case TypeFloat:
		node = parquet.Leaf(parquet.FloatType)
	case TypeDouble:
		node = parquet.Leaf(parquet.DoubleType)
	case TypeBoolean:
		node = parquet.Leaf(parquet.BooleanType)
	case TypeBinary:
		node = parquet.Leaf(parquet.ByteArrayType)
	case TypeDate:
		node = parquet.Date()
	case TypeTimestamp:
		node = parquet.TimestampAdjusted(parquet.Microsecond, true)
	case TypeTimestampNTZ:
		node = parquet.Leaf(localTimestampType{parquet.TimestampAdjusted(parquet.Microsecond, false).Type()})
	case TypeDecimal:
		p, s := f.Type.Precision, f.Type.Scale
		if p < 1 || p > 38 || s < 0 || s > p {
			return nil, fmt.Errorf("%w: column %q has invalid type %s: precision must be 1 to 38 and scale 0 to precision", ErrBadInput, f.Name, f.Type)
		}
		switch {
		case p <= 9:
			node = parquet.Decimal(s, p, parquet.Int32Type)
		case p <= 18:
			node = parquet.Decimal(s, p, parquet.Int64Type)
		default:
			node = parquet.Decimal(s, p, parquet.FixedLenByteArrayType(decimalBytes(p)))
		}
	default:
		return nil, fmt.Errorf("%w: column %q has type %s, which the writer does not support", ErrUnsupportedFeature, f.Name, f.Type)
	}
	if f.Nullable {
		node = parquet.Optional(node)
	} else {
		node = parquet.Required(node)
	}
	if f.ID != 0 {
		node = parquet.FieldID(node, f.ID)
	}
	return node, nil
}

// writerPhysicalKind is the physical type the writer uses for t.
func writerPhysicalKind(t Type) parquet.Kind {
	switch t.Name {
	case TypeString, TypeBinary:
		return parquet.ByteArray
	case TypeLong, TypeTimestamp, TypeTimestampNTZ:
		return parquet.Int64
	case TypeInteger, TypeShort, TypeByte, TypeDate:
		return parquet.Int32
	case TypeFloat:
		return parquet.Float
	case TypeDouble:
		return parquet.Double
	case TypeBoolean:
		return parquet.Boolean
	case TypeDecimal:
		switch {
		case t.Precision <= 9:
			return parquet.Int32
		case t.Precision <= 18:
			return parquet.Int64
		}
		return parquet.FixedLenByteArray
	}
	return parquet.ByteArray
}

// decimalBytes is the smallest byte length whose two's complement range
// holds every unscaled value of the precision (Spark's minBytesForPrecision).
func decimalBytes(precision int) int {
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	for n := 1; ; n++ {
		// 2^(8n-1) must exceed 10^precision - 1.
		if new(big.Int).Lsh(big.NewInt(1), uint(8*n-1)).Cmp(limit) >= 0 {
			return n
		}
	}
}

// physicalValue converts a RowSource value of field f to the value the
// parquet writer takes for leaf column leaf, with levels set.
func (w *dataWriter) physicalValue(f Field, v parquet.Value, leaf int) (parquet.Value, error) {
	if v.IsNull() {
		if !f.Nullable {
			return v, errors.New("null in a non-nullable column")
		}
		return parquet.NullValue().Level(0, 0, leaf), nil
	}
	def := 0
	if f.Nullable {
		def = 1
	}
	want := rowKind(f.Type)
	if v.Kind() != want {
		return v, fmt.Errorf("value of parquet kind %s for column of type %s, expected kind %s", v.Kind(), f.Type, want)
	}
	switch f.Type.Name {
	case TypeShort:
		if x := v.Int32(); x < -1<<15 || x >= 1<<15 {
			return v, errors.New("value out of range for short")
		}
	case TypeByte:
		if x := v.Int32(); x < -1<<7 || x >= 1<<7 {
			return v, errors.New("value out of range for byte")
		}
	case TypeDecimal:
		pv, err := w.decimalValue(f.Type, v.ByteArray())
		if err != nil {
			return v, err
		}
		v = pv
	}
	return v.Level(0, def, leaf), nil
}

// rowKind is the parquet kind of a value of type t in a RowSource row.
func rowKind(t Type) parquet.Kind {
	if t.Name == TypeDecimal {
		return parquet.ByteArray
	}
	return writerPhysicalKind(t)
}

// decimalValue converts a big-endian two's complement unscaled decimal to
// the physical value for its precision, checking that it fits.
func (w *dataWriter) decimalValue(t Type, b []byte) (parquet.Value, error) {
	n := setTwosComplement(&w.scratch, b)
	if new(big.Int).Abs(n).Cmp(pow10(t.Precision)) >= 0 {
		return parquet.Value{}, fmt.Errorf("decimal value %s does not fit %s", scaledString(n, t.Scale), t)
	}
	switch {
	case t.Precision <= 9:
		return parquet.Int32Value(int32(n.Int64())), nil
	case t.Precision <= 18:
		return parquet.Int64Value(n.Int64()), nil
	}
	size := decimalBytes(t.Precision)
	out := make([]byte, size)
	if n.Sign() >= 0 {
		n.FillBytes(out)
	} else {
		// Two's complement of a negative value: 2^(8·size) + n.
		m := new(big.Int).Lsh(big.NewInt(1), uint(8*size))
		m.Add(m, n)
		m.FillBytes(out)
	}
	return parquet.FixedLenByteArrayValue(out), nil
}

var pow10Table = func() []*big.Int {
	t := make([]*big.Int, 39)
	for i := range t {
		t[i] = new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(i)), nil)
	}
	return t
}()

func pow10(p int) *big.Int { return pow10Table[p] }

// localTimestampType is TIMESTAMP(isAdjustedToUTC=false, MICROS) without
// the legacy TIMESTAMP_MICROS converted type, which parquet-go adds but
// which means a UTC-adjusted timestamp to readers that only know converted
// types. The Parquet format spec says not to write it for local timestamps.
type localTimestampType struct{ parquet.Type }

func (localTimestampType) ConvertedType() *deprecated.ConvertedType { return nil }

// orderedGroup is a parquet group that keeps its fields in the given order;
// parquet.Group sorts them by name, which would reorder the table's columns.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g *orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f *namedField) Name() string { return f.name }

// Value is unused: the writer takes parquet.Row values, never Go structs.
func (f *namedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

// CheckCodec returns an error wrapping ErrBadInput unless name is a codec
// WriteDataFiles accepts, so callers can reject it before writing anything.
func CheckCodec(name string) error {
	_, err := codecFor(name)
	return err
}
