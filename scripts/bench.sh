#!/usr/bin/env bash
# Measures `safewrite append` of flights-3m.parquet (3,000,000 rows) with
# the full crash-safety protocol, and the Go benchmark that compares it with
# an unprotected append of the same data.
#
#   bash scripts/bench.sh                # local folder; MinIO too when AWS_ENDPOINT_URL_S3 is set
#   bash scripts/bench.sh --start-minio  # also start a throwaway MinIO on 127.0.0.1
#   RUNS=5 BENCHTIME=5x bash scripts/bench.sh
#
# MinIO: --start-minio runs the binary that `bash scripts/test.sh` installs
# ($(go env GOPATH)/bin/minio, or MINIO_BIN), on a random 127.0.0.1 port with
# a temporary data folder. Without it, point AWS_ENDPOINT_URL_S3,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION at an S3-compatible
# server on 127.0.0.1 yourself. The MinIO figures measure loopback traffic
# to a server on the same 2 cores, not a network.
#
# Peak RSS comes from GNU time (`/usr/bin/time`), which the script installs
# with apt-get when it is missing and it runs as root; otherwise it polls
# VmHWM in /proc/<pid>/status.
set -euo pipefail

say() { printf 'bench.sh: %s\n' "$*" >&2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

runs="${RUNS:-3}"
benchtime="${BENCHTIME:-3x}"
start_minio=""
for arg in "$@"; do
	case "$arg" in
	--start-minio) start_minio=1 ;;
	*) say "unknown argument $arg: use --start-minio or none"; exit 2 ;;
	esac
done

shared="${SAFEWRITE_SHARED:-$(pwd)/../shared}"
input="$shared/data/flights-3m.parquet"
[[ -r "$input" ]] || { say "input $input not found: check out the project beside shared/ or set SAFEWRITE_SHARED"; exit 1; }
input_bytes="$(stat -c %s "$input")"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/safewrite-bench.XXXXXX")"
minio_pid=""
cleanup() {
	if [[ -n "$minio_pid" ]]; then
		kill "$minio_pid" 2>/dev/null || true
		wait "$minio_pid" 2>/dev/null || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# GNU time gives the peak RSS of the child; install it when possible.
gnu_time=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' true >/dev/null 2>&1; then
	gnu_time=/usr/bin/time
elif [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
	say "installing GNU time (Debian package time) for peak RSS"
	if apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq time >/dev/null 2>&1; }; then
		gnu_time=/usr/bin/time
	else
		say "apt-get install time failed; peak RSS comes from /proc polling instead"
	fi
fi

start_minio_server() {
	local gobin minio
	gobin="$(go env GOBIN)"
	[[ -n "$gobin" ]] || { gobin="$(go env GOPATH)"; gobin="${gobin%%:*}/bin"; }
	minio="${MINIO_BIN:-$gobin/minio}"
	[[ -x "$minio" ]] || { say "MinIO binary $minio not found: run 'bash scripts/test.sh' once to install it, or set MINIO_BIN"; exit 1; }
	source scripts/minio.sh
	start_minio "$minio" "$workdir"
	say "MinIO ready at $AWS_ENDPOINT_URL_S3"
}

[[ -n "$start_minio" ]] && start_minio_server

say "building the CLI"
cli="$workdir/safewrite"
go build -o "$cli" ./cmd/safewrite

# measure TABLE [FLAGS...] runs one append and prints its wall time in
# microseconds, the records it committed and its peak RSS in KiB.
measure() {
	local table="$1"
	shift
	local out="$workdir/append.json" rss="$workdir/rss" start end records peak
	start="$(date +%s%N)"
	if [[ -n "$gnu_time" ]]; then
		"$gnu_time" -f '%M' -o "$rss" "$cli" append --table "$table" --input "$input" --json "$@" >"$out"
		peak="$(tail -n 1 "$rss")"
	else
		"$cli" append --table "$table" --input "$input" --json "$@" >"$out" &
		local pid=$! hwm
		peak=0
		while kill -0 "$pid" 2>/dev/null; do
			hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
			[[ -n "$hwm" && "$hwm" -gt "$peak" ]] && peak="$hwm"
			sleep 0.01
		done
		wait "$pid"
	fi
	end="$(date +%s%N)"
	records="$(sed -n 's/^ *"numRecords": *\([0-9]*\).*/\1/p' "$out")"
	echo "$(( (end - start) / 1000 )) $records $peak"
}

# s3_create_bucket NAME creates a bucket with a SigV4-signed PUT.
s3_create_bucket() {
	curl -fsS -X PUT --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$AWS_ENDPOINT_URL_S3/$1" >/dev/null
}

targets=("local")
if [[ -n "${AWS_ENDPOINT_URL_S3:-}" ]]; then
	case "$AWS_ENDPOINT_URL_S3" in
	*127.0.0.1* | *localhost*) ;;
	*) say "AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3 is not on 127.0.0.1: this script only benchmarks a local server"; exit 1 ;;
	esac
	bucket="safewrite-bench-$$-$RANDOM"
	s3_create_bucket "$bucket"
	targets+=("minio")
else
	say "AWS_ENDPOINT_URL_S3 is not set: skipping MinIO (use --start-minio)"
fi

echo "## safewrite append, flights-3m.parquet ($input_bytes bytes), $runs runs each"
printf '%-8s %-12s %4s %10s %12s %9s %14s\n' target encoding run seconds rows/s MB/s "peak RSS MiB"
for target in "${targets[@]}"; do
	for encoding in passthrough rewrite; do
		flags=()
		[[ "$encoding" == rewrite ]] && flags=(--rewrite)
		for run in $(seq 1 "$runs"); do
			if [[ "$target" == local ]]; then
				table="$workdir/tables/$encoding-$run"
			else
				table="s3://$bucket/$encoding-$run"
			fi
			read -r micros records peak < <(measure "$table" "${flags[@]}")
			awk -v t="$target" -v e="$encoding" -v r="$run" -v us="$micros" -v n="$records" -v b="$input_bytes" -v kib="$peak" \
				'BEGIN { s = us / 1e6; printf "%-8s %-12s %4d %10.3f %12.0f %9.1f %14.1f\n", t, e, r, s, n / s, b / s / 1e6, kib / 1024 }'
		done
		[[ "$target" == local ]] && rm -rf "$workdir/tables"
	done
done

echo
echo "## go test -run '^\$' -bench BenchmarkAppendFlights3m -benchtime $benchtime ."
bench_out="$workdir/bench.txt"
go test -run '^$' -bench BenchmarkAppendFlights3m -benchtime "$benchtime" . | tee "$bench_out"

echo
echo "## safety overhead: protected vs unprotected, from ns/op (target: at most 5 %)"
awk '
	/^BenchmarkAppendFlights3m\// {
		split($1, parts, "/")
		store = parts[2]; mode = parts[3]; enc = parts[4]
		sub(/-[0-9]+$/, "", enc)
		for (i = 2; i <= NF; i++) if ($(i + 1) == "ns/op") ns[store "/" enc "/" mode] = $i
		seen[store "/" enc] = 1
	}
	END {
		for (k in seen) {
			p = ns[k "/protected"]; u = ns[k "/unprotected"]
			if (p == "" || u == "") continue
			printf "%-20s protected %8.1f ms  unprotected %8.1f ms  overhead %+6.1f %%\n", k, p / 1e6, u / 1e6, (p - u) / u * 100
		}
	}' "$bench_out" | sort
