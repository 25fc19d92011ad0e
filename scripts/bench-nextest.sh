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
mkdir -p "$work/data"
cp examples/todo-task/tests/data/todos.json "$work/data/"

echo "building the e2e test binary (debug, as both commands do)" >&2
cargo test --locked -p todo-task --test e2e --no-run >/dev/null 2>&1
cargo nextest list --locked -p todo-task --test e2e >/dev/null 2>&1

start_bench_mongod "$work/mongod"
export PROMETHEUS_TEST_SET_DATA_DIR="$work/data"
export PROMETHEUS_TEST_SET_BASE_PORT=5810
echo "$runs interleaved run(s) of each" >&2
export BENCH_LOG="$work/last.log"

plain=()
nextest=()
for i in $(seq 1 "$runs"); do
  t="$(timed cargo test --locked -p todo-task --test e2e -- --reset)"
  plain+=("$t")
  t="$(timed env PROMETHEUS_TEST_RESET=1 cargo nextest run --locked -p todo-task --test e2e)"
  nextest+=("$t")
  echo "run $i: cargo test ${plain[-1]} ms, cargo nextest run ${nextest[-1]} ms" >&2
done

p="$(median "${plain[@]}")"
n="$(median "${nextest[@]}")"
printf 'cargo test --test e2e:    median %s ms\ncargo nextest run (e2e): median %s ms\nratio: %s (load average %s)\n' \
  "$p" "$n" "$(awk -v n="$n" -v p="$p" 'BEGIN { printf "%.2fx", n / p }')" "$(cut -d' ' -f1-3 /proc/loadavg)"
