// Command safewrite-lambda is the AWS Lambda handler of safewrite, built as
// the file bootstrap for the provided.al2023 runtime:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/safewrite-lambda
//
// It takes two kinds of events. A JSON append request:
//
//	{"table": "s3://bucket/tables/flights", "inputs": ["s3://bucket/in/day1.parquet"],
//	 "partitionBy": ["origin"], "idempotencyKey": "etl-daily:20261204"}
//
// ({"action": "recover", "table": ...} settles expired intents only), and S3
// event notifications, whose new objects are each appended to the table
// named by SAFEWRITE_TABLE in their own transaction.
//
// Lambda ends an invocation at its timeout with SIGKILL. The handler uses
// ctx.Deadline() as the append's deadline and arms a watchdog that rolls
// the append back before the kill when it cannot commit in time.
//
// Environment variables:
//
//	SAFEWRITE_TABLE          table of S3 events, and of requests that name none
//	SAFEWRITE_MARGIN         smallest watchdog margin, a Go duration (default 2s)
//	SAFEWRITE_SAFETY_FACTOR  multiplier of measured commit and rollback times (default 2)
//	SAFEWRITE_WATCHDOG       "off" disables the watchdog (the point-of-no-return check stays)
//	SAFEWRITE_GRACE          clock-skew grace before recovery settles an expired intent (default 30s)
//	SAFEWRITE_PARTITION_BY   comma-separated partition columns of a table that S3 events create
//	SAFEWRITE_INPUT_FORMAT   input format of S3 objects whose extension does not tell
//	SAFEWRITE_LOG_LEVEL      debug, info (default), warn or error
//
// Logs are slog JSON on standard error. Rollbacks, recoveries and watchdog
// alerts are also written as CloudWatch Embedded Metric Format lines on
// standard output (namespace "safewrite").
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "safewrite-lambda: "+err.Error())
		os.Exit(1)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	h := newHandler(cfg, logger, os.Stdout)
	logger.Info("safewrite-lambda started", "table", cfg.table, "watchdog", cfg.watchdog,
		"margin", cfg.margin.String(), "grace", cfg.grace.String())
	lambda.Start(h.handle)
}
