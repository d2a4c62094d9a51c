# Shared by scripts/test.sh and scripts/bench.sh: starts a throwaway MinIO
# on 127.0.0.1 and exports the AWS_* variables that point the SDK at it.
#
#   source scripts/minio.sh
#   start_minio MINIO_BINARY WORKDIR   # sets minio_pid; data and log in WORKDIR
#
# The caller stops it (kill "$minio_pid") and defines say().

# port_free succeeds when nothing accepts connections on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

random_free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		port_free "$port" && { echo "$port"; return; }
	done
}

# start_minio starts MinIO, picking new ports if another process takes them
# first, and exits the script when it cannot.
start_minio() {
	local minio="$1" workdir="$2" ready="" port console_port try
	export MINIO_ROOT_USER="safewrite-test"
	export MINIO_ROOT_PASSWORD="safewrite-test-secret"
	export MINIO_BROWSER="off"
	for try in 1 2 3 4 5; do
		port="$(random_free_port)"
		console_port="$(random_free_port)"
		[[ "$port" == "$console_port" ]] && continue
		say "starting MinIO on 127.0.0.1:$port (data in $workdir/data, log in $workdir/minio.log)"
		"$minio" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:$console_port" \
			"$workdir/data" >"$workdir/minio.log" 2>&1 &
		minio_pid=$!
		for _ in $(seq 1 300); do
			if curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/live" 2>/dev/null; then
				ready=1
				break
			fi
			kill -0 "$minio_pid" 2>/dev/null || break
			sleep 0.1
		done
		[[ -n "$ready" ]] && break
		say "MinIO did not become ready (attempt $try); log:"
		tail -n 20 "$workdir/minio.log" >&2 || true
		kill "$minio_pid" 2>/dev/null || true
		wait "$minio_pid" 2>/dev/null || true
		minio_pid=""
	done
	[[ -n "$ready" ]] || { say "could not start MinIO"; exit 1; }

	export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port"
	export AWS_ACCESS_KEY_ID="$MINIO_ROOT_USER"
	export AWS_SECRET_ACCESS_KEY="$MINIO_ROOT_PASSWORD"
	export AWS_REGION="us-east-1"
	export AWS_EC2_METADATA_DISABLED="true"
	unset AWS_PROFILE AWS_SESSION_TOKEN
}
