#!/usr/bin/env bash
# Runs the live Delta conformance suite: installs the pinned Python packages
# (setup.sh; Spark's Delta jars come from Maven Central on first use), builds
# the safewrite CLI, runs spark_suite.py and rewrites docs/conformance.md.
#
#   bash conformance/run.sh                   # full run, regenerates the matrix
#   bash conformance/run.sh --only "B plain"  # scenarios whose name contains the text
#
# Extra arguments go to spark_suite.py (see its --help). Exits non-zero when
# any matrix cell fails. Cache: $SAFEWRITE_CONFORMANCE_CACHE, default
# ~/.cache/safewrite-conformance (venv and Ivy jars). Shared sample data:
# $SAFEWRITE_SHARED, default ../shared beside the repository.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$(bash conformance/setup.sh | tail -n1)"

bin_dir="$(mktemp -d)"
trap 'rm -rf "$bin_dir"' EXIT
go build -o "$bin_dir/safewrite" ./cmd/safewrite

"$venv/bin/python" conformance/spark_suite.py \
	--safewrite "$bin_dir/safewrite" \
	--go-version "$(go version | cut -d' ' -f3-)" \
	"$@"
