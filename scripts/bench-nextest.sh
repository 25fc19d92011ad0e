#!/usr/bin/env bash
# The example suite (examples/todo-task) under cargo-nextest against plain
# `cargo test --test e2e`: whole runs from a fresh state, as a user types
# them (cargo's up-to-date check included), interleaved, against one private
# mongod. Prints each side's median wall time and the ratio.
#
#   scripts/bench-nextest.sh                 # 5 runs of each
#   BENCH_RUNS=9 scripts/bench-nextest.sh
#
# The suite's data folder and ports are moved into target/bench-nextest/
# (PROMETHEUS_TEST_SET_DATA_DIR, PROMETHEUS_TEST_SET_BASE_PORT), so the
# example's own state is left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/mongod.sh
source scripts/lib/mongod.sh
ensure_mongod

# shellcheck source=lib/bench.sh
source scripts/lib/bench.sh
runs="$(bench_runs 5)" || exit 2
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "cargo-nextest is not installed: cargo install --locked cargo-nextest" >&2
  exit 1
fi
work="$PWD/target/bench-nextest"
rm -rf "$work"
mkdir -p "$work/data" "$work/mongod"
cp examples/todo-task/tests/data/todos.json "$work/data/"

echo "building the e2e test binary (debug, as both commands do)" >&2
cargo test --locked -p todo-task --test e2e --no-run >/dev/null 2>&1
cargo nextest list --locked -p todo-task --test e2e >/dev/null 2>&1

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port="$(free_port)"
"$PROMETHEUS_TEST_MONGOD" --dbpath "$work/mongod" --port "$port" --bind_ip 127.0.0.1 \
  --logpath "$work/mongod/mongod.log" --wiredTigerCacheSizeGB 0.25 >/dev/null 2>&1 &
mongod_pid=$!
trap 'kill "$mongod_pid" 2>/dev/null; wait "$mongod_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    break
  fi
  sleep 0.1
done
export MONGO_URI="mongodb://127.0.0.1:$port"
export PROMETHEUS_TEST_SET_DATA_DIR="$work/data"
export PROMETHEUS_TEST_SET_BASE_PORT=5810
echo "mongod on 127.0.0.1:$port; $runs interleaved run(s) of each" >&2

# Runs "$@" and prints its wall time in milliseconds; fails the script when it fails.
timed() {
  local start end
  start="$(date +%s%N)"
  if ! "$@" >"$work/last.log" 2>&1; then
    echo "failed: $*; its output is in $work/last.log" >&2
    exit 1
  fi
  end="$(date +%s%N)"
  echo $(((end - start) / 1000000))
}

plain=()
nextest=()
for i in $(seq 1 "$runs"); do
  t="$(timed cargo test --locked -p todo-task --test e2e -- --reset)"
  plain+=("$t")
  t="$(timed env PROMETHEUS_TEST_RESET=1 cargo nextest run --locked -p todo-task --test e2e)"
  nextest+=("$t")
  echo "run $i: cargo test ${plain[-1]} ms, cargo nextest run ${nextest[-1]} ms" >&2
done

median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
p="$(median "${plain[@]}")"
n="$(median "${nextest[@]}")"
printf 'cargo test --test e2e:    median %s ms\ncargo nextest run (e2e): median %s ms\nratio: %s (load average %s)\n' \
  "$p" "$n" "$(awk -v n="$n" -v p="$p" 'BEGIN { printf "%.2fx", n / p }')" "$(cut -d' ' -f1-3 /proc/loadavg)"
