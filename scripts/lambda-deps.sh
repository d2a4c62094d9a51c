#!/usr/bin/env bash
# Installs what the Lambda tests need and lints the deploy template:
#
#   - aws-lambda-rie, the Lambda Runtime Interface Emulator, with go install
#     into $(go env GOPATH)/bin (reused when present);
#   - cfn-lint, pinned, in a virtual environment under
#     ${SAFEWRITE_CACHE:-$HOME/.cache/safewrite}/cfn-lint (reused when present);
#
# then runs cfn-lint on deploy/template.yaml. The Go tests find both tools
# in those places, or through SAFEWRITE_RIE and SAFEWRITE_CFN_LINT.
set -euo pipefail

readonly RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
readonly CFN_LINT_VERSION="1.51.0"

say() { printf 'lambda-deps.sh: %s\n' "$*" >&2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
	gopath="$(go env GOPATH)"
	gobin="${gopath%%:*}/bin"
fi
if [[ -x "$gobin/aws-lambda-rie" ]]; then
	say "reusing $gobin/aws-lambda-rie"
else
	say "installing $RIE_MODULE into $gobin"
	go install "$RIE_MODULE"
fi

venv="${SAFEWRITE_CACHE:-$HOME/.cache/safewrite}/cfn-lint"
cfn_lint="$venv/bin/cfn-lint"
if [[ -x "$cfn_lint" ]] && [[ "$("$cfn_lint" --version 2>/dev/null)" == "cfn-lint $CFN_LINT_VERSION" ]]; then
	say "reusing $cfn_lint ($CFN_LINT_VERSION)"
else
	say "installing cfn-lint $CFN_LINT_VERSION into $venv"
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi

say "running cfn-lint on deploy/template.yaml"
"$cfn_lint" deploy/template.yaml
say "deploy/template.yaml passed cfn-lint $CFN_LINT_VERSION"
