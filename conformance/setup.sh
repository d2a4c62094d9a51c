#!/usr/bin/env bash
# Creates (or reuses) the Python venv of the conformance suite and prints its
# path on the last line of standard output.
#
# The venv lives in $SAFEWRITE_CONFORMANCE_CACHE/venv (default
# ~/.cache/safewrite-conformance/venv) and is rebuilt whenever the SHA-256 of
# requirements.txt plus the Python version differs from the one recorded at
# its creation. Needs python3 (3.9 or newer) with the venv module, and Java 17
# or newer for Spark; on Debian as root it installs the missing ones with apt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SAFEWRITE_CONFORMANCE_CACHE:-$HOME/.cache/safewrite-conformance}"
venv="$cache/venv"
requirements="$here/requirements.txt"

log() { echo "setup: $*" >&2; }

apt_install() {
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing $* with apt-get"
		apt-get update -qq >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
	else
		log "missing: $*; install it and run again"
		exit 1
	fi
}

# Java: Spark 4.0 runs on Java 17 or 21.
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ]; then
	apt_install openjdk-17-jre-headless
fi

python="${SAFEWRITE_PYTHON:-python3}"
if ! "$python" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
	apt_install python3 python3-venv
fi

stamp="$( (cat "$requirements"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" = "$stamp" ]; then
	log "reusing $venv (requirements hash ${stamp:0:12})"
else
	log "creating $venv (requirements hash ${stamp:0:12})"
	rm -rf "$venv"
	mkdir -p "$cache"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
	# Written last, so an interrupted install is redone on the next run.
	echo "$stamp" >"$venv/.requirements-sha256"
fi
echo "$venv"
