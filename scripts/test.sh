#!/usr/bin/env bash
# Runs every Go test against a throwaway MinIO server on 127.0.0.1.
#
#   bash scripts/test.sh                      # go test ./...
#   bash scripts/test.sh ./objstore/... -v    # given packages and flags
#   bash scripts/test.sh -run TestStore       # flags only: ./... is added
#
# Needs only Go, curl and python3 (for the cfn-lint venv). MinIO and the
# Lambda runtime emulator are built with `go install` on first use (several
# minutes) and reused from $(go env GOPATH)/bin after that; set MINIO_BIN to
# use another MinIO binary, and SAFEWRITE_SKIP_LAMBDA_DEPS=1 to skip the
# Lambda tool installs (the Lambda tests then skip, or fail under CI=true). The default test timeout is 60m; a
# -timeout flag in the arguments overrides it.
set -euo pipefail

readonly MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

say() { printf 'test.sh: %s\n' "$*" >&2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# The Lambda tests need the runtime emulator and cfn-lint; this installs
# both (reused when present) and lints the deploy template.
if [[ "${SAFEWRITE_SKIP_LAMBDA_DEPS:-}" != "1" ]]; then
	bash scripts/lambda-deps.sh
fi

# Locate or build MinIO.
gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gopath="$(go env GOPATH)"
	gobin="${gopath%%:*}/bin"
fi
minio="${MINIO_BIN:-$gobin/minio}"
if [[ ! -x "$minio" ]]; then
	if pgrep -f "go install github.com/minio/minio" >/dev/null; then
		say "waiting up to 30 minutes for a MinIO build that is already running"
		for _ in $(seq 1 900); do
			pgrep -f "go install github.com/minio/minio" >/dev/null || break
			sleep 2
		done
	fi
	if [[ ! -x "$minio" ]]; then
		say "installing MinIO ($MINIO_MODULE) into $gobin; this takes several minutes the first time"
		go install "$MINIO_MODULE"
	fi
fi
[[ -x "$minio" ]] || { say "MinIO binary $minio not found after install: set MINIO_BIN"; exit 1; }

workdir="$(mktemp -d "${TMPDIR:-/tmp}/safewrite-minio.XXXXXX")"
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

source scripts/minio.sh
start_minio "$minio" "$workdir"

# Arguments that name packages replace ./...; flags alone keep it.
packages=("./...")
for arg in "$@"; do
	case "$arg" in
	. | ./* | ../* | github.com/*) packages=(); break ;;
	esac
done

say "MinIO ready at $AWS_ENDPOINT_URL_S3; running go test -timeout 60m $* ${packages[*]}"
set +e
go test -timeout 60m "$@" "${packages[@]}"
status=$?
set -e
say "go test exited with status $status; stopping MinIO"
exit "$status"
