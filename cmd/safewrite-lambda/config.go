package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/safewrite/safewrite/watchdog"
)

// config is the handler's configuration, read once per process from the
// environment.
type config struct {
	table        string
	margin       time.Duration
	safetyFactor float64
	watchdog     bool
	grace        time.Duration
	partitionBy  []string
	inputFormat  string
	logLevel     slog.Level
	// storeLatency delays every Put and PutIfAbsent of the table store, and
	// deleteLatency every Delete, which then ignores cancellation like a
	// hung request. Only the Lambda runtime test sets them
	// (SAFEWRITE_TEST_STORE_LATENCY, SAFEWRITE_TEST_STORE_DELETE_LATENCY),
	// to make a write outlast the function timeout.
	storeLatency  time.Duration
	deleteLatency time.Duration
}

// loadConfig reads the configuration through getenv (os.Getenv).
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		table:       getenv("SAFEWRITE_TABLE"),
		margin:      watchdog.DefaultFloor,
		watchdog:    true,
		inputFormat: getenv("SAFEWRITE_INPUT_FORMAT"),
	}
	durations := []struct {
		name string
		dest *time.Duration
	}{
		{"SAFEWRITE_MARGIN", &cfg.margin},
		{"SAFEWRITE_GRACE", &cfg.grace},
		{"SAFEWRITE_TEST_STORE_LATENCY", &cfg.storeLatency},
		{"SAFEWRITE_TEST_STORE_DELETE_LATENCY", &cfg.deleteLatency},
	}
	for _, d := range durations {
		value := getenv(d.name)
		if value == "" {
			continue
		}
		parsed, err := time.ParseDuration(value)
		if err != nil || parsed < 0 {
			return cfg, fmt.Errorf("invalid %s %q: use a non-negative Go duration such as 5s or 500ms", d.name, value)
		}
		*d.dest = parsed
	}
	if value := getenv("SAFEWRITE_SAFETY_FACTOR"); value != "" {
		factor, err := strconv.ParseFloat(value, 64)
		if err != nil || factor < 1 {
			return cfg, fmt.Errorf("invalid SAFEWRITE_SAFETY_FACTOR %q: use a number of at least 1, such as 2", value)
		}
		cfg.safetyFactor = factor
	}
	switch value := strings.ToLower(getenv("SAFEWRITE_WATCHDOG")); value {
	case "", "on", "true", "1":
	case "off", "false", "0":
		cfg.watchdog = false
	default:
		return cfg, fmt.Errorf("invalid SAFEWRITE_WATCHDOG %q: use on or off", value)
	}
	for _, column := range strings.Split(getenv("SAFEWRITE_PARTITION_BY"), ",") {
		if column = strings.TrimSpace(column); column != "" {
			cfg.partitionBy = append(cfg.partitionBy, column)
		}
	}
	switch cfg.inputFormat {
	case "", "parquet", "csv", "json", "arrow":
	default:
		return cfg, fmt.Errorf("invalid SAFEWRITE_INPUT_FORMAT %q: use parquet, csv, json or arrow", cfg.inputFormat)
	}
	if value := getenv("SAFEWRITE_LOG_LEVEL"); value != "" {
		if err := cfg.logLevel.UnmarshalText([]byte(value)); err != nil {
			return cfg, fmt.Errorf("invalid SAFEWRITE_LOG_LEVEL %q: use debug, info, warn or error", value)
		}
	}
	return cfg, nil
}
