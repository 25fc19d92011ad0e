#!/usr/bin/env bash
# Shared by the bench scripts.

# Prints BENCH_RUNS (default $1), or exits 2 naming it when it is not a
# positive whole number.
bench_runs() {
  local runs="${BENCH_RUNS:-$1}"
  if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "BENCH_RUNS=$runs: expected a positive whole number of runs" >&2
    exit 2
  fi
  echo "$runs"
}

# Starts a private mongod (scripts/lib/mongod.sh's ensure_mongod first) with
# its data in $1, stopped when the script exits, and exports MONGO_URI.
start_bench_mongod() {
  local dir="$1" port
  mkdir -p "$dir"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$PROMETHEUS_TEST_MONGOD" --dbpath "$dir" --port "$port" --bind_ip 127.0.0.1 \
    --logpath "$dir/mongod.log" --wiredTigerCacheSizeGB 0.25 >/dev/null 2>&1 &
  bench_mongod_pid=$!
  trap 'kill "$bench_mongod_pid" 2>/dev/null; wait "$bench_mongod_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      break
    fi
    if ! kill -0 "$bench_mongod_pid" 2>/dev/null; then
      echo "mongod exited during start-up; see $dir/mongod.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  export MONGO_URI="mongodb://127.0.0.1:$port"
  echo "mongod on 127.0.0.1:$port" >&2
}

# Runs "$@" with its output in $BENCH_LOG and prints its wall time in
# milliseconds; exits the script when it fails.
timed() {
  local start end
  start="$(date +%s%N)"
  if ! "$@" >"$BENCH_LOG" 2>&1; then
    echo "failed: $*; its output is in $BENCH_LOG" >&2
    exit 1
  fi
  end="$(date +%s%N)"
  echo $(((end - start) / 1000000))
}

# The median of its arguments.
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
