package safewrite_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/safewrite/safewrite"
	"github.com/safewrite/safewrite/commit"
)

// exampleDir returns a fresh folder for an example's table.
func exampleDir(name string) string {
	dir, err := os.MkdirTemp("", "safewrite-example-")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func ExampleOpen() {
	ctx := context.Background()
	// A local folder, file:// URI or s3://bucket/prefix. The table is
	// created by the first append.
	tbl, err := safewrite.Open(ctx, exampleDir("flights"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	info, err := tbl.Inspect(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exists:", info.Exists, "version:", info.Version)
	// Output: exists: false version: -1
}

func ExampleTable_AppendFiles() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("flights"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := tbl.AppendFiles(ctx, []string{"examples/flights-100k.parquet"}, safewrite.AppendOptions{
		Timeout: 5 * time.Minute, // the writer's hard deadline, recorded in its intent
	})
	switch {
	case errors.Is(err, safewrite.ErrCommitUnknown):
		log.Fatal("the append may have been published: run Recover after the deadline")
	case err != nil:
		log.Fatal(err) // nothing was published
	}
	fmt.Println("version", res.Version, "records", res.NumRecords)
	// Output: version 0 records 100000
}

func ExampleTable_AppendReader() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("airports"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	csv := "iata,name,latitude\nJFK,John F Kennedy Intl,40.64\nSFO,San Francisco Intl,37.62\n"
	key, err := safewrite.ParseIdempotencyKey("airports-loader:1")
	if err != nil {
		log.Fatal(err)
	}
	opts := safewrite.AppendOptions{PartitionBy: []string{"iata"}, IdempotencyKey: key}
	res, err := tbl.AppendReader(ctx, strings.NewReader(csv), "csv", opts)
	if err != nil {
		log.Fatal(err)
	}
	// A retry of the same request is recognised and skipped.
	retry, err := tbl.AppendReader(ctx, strings.NewReader(csv), "csv", opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("files", len(res.Files), "retry already applied:", retry.AlreadyApplied)
	// Output: files 2 retry already applied: true
}

type reading struct {
	Sensor string    `parquet:"sensor"`
	Value  float64   `parquet:"value"`
	At     time.Time `parquet:"at"`
}

func ExampleAppendStructs() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("readings"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	rows := []reading{
		{"a", 1.5, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)},
		{"b", 2.5, time.Date(2026, 12, 4, 10, 1, 0, 0, time.UTC)},
	}
	res, err := safewrite.AppendStructs(ctx, tbl, rows, safewrite.AppendOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("records", res.NumRecords)
	// Output: records 2
}

func ExampleTable_AppendArrow() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("arrow"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	builder := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer builder.Release()
	builder.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	builder.Field(1).(*array.StringBuilder).AppendValues([]string{"x", "y", ""}, []bool{true, true, false})
	record := builder.NewRecordBatch()
	defer record.Release()

	res, err := tbl.AppendArrow(ctx, schema, []arrow.RecordBatch{record}, safewrite.AppendOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("records", res.NumRecords)
	// Output: records 3
}

func ExampleTable_Recover() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("flights"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// Settles the intents of killed writers whose deadline has passed.
	// DryRun reports without changing anything.
	report, err := tbl.Recover(ctx, commit.RecoverOptions{DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("intents", report.Intents, "rolled back", report.RolledBack)
	// Output: intents 0 rolled back 0
}

func ExampleTable_History() {
	ctx := context.Background()
	tbl, err := safewrite.Open(ctx, exampleDir("history"), safewrite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := tbl.AppendReader(ctx, strings.NewReader("n\n1\n"), "csv", safewrite.AppendOptions{}); err != nil {
			log.Fatal(err)
		}
	}
	entries, err := tbl.History(ctx, 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Version, e.Operation)
	}
	// Output:
	// 1 WRITE
	// 0 WRITE
}
