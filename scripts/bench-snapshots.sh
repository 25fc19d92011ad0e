#!/usr/bin/env bash
# What snapshots cost the example suite (examples/todo-task): whole runs
# from a fresh state with snapshots (the default) against the same runs with
# `snapshots: off`, interleaved, against one private mongod. Prints each
# side's median wall time and the ratio, the median time of one snapshot
# (the run's own summary line), the restore of a resumed run, and the bytes
# the snapshots keep after a full run.
#
#   scripts/bench-snapshots.sh                 # 7 runs of each
#   BENCH_RUNS=15 scripts/bench-snapshots.sh
#
# The suite's data folder and ports are moved into target/bench-snapshots/,
# so the example's own state is left alone. The e2e binary is run directly
# (cargo's up-to-date check is not timed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/mongod.sh
source scripts/lib/mongod.sh
ensure_mongod
# shellcheck source=lib/bench.sh
source scripts/lib/bench.sh
runs="$(bench_runs 7)" || exit 2
work="$PWD/target/bench-snapshots"
rm -rf "$work"
mkdir -p "$work/data"
cp examples/todo-task/tests/data/todos.json "$work/data/"

echo "building the e2e test binary (debug, as cargo test builds it)" >&2
e2e="$(cargo test --locked -p todo-task --test e2e --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "e2e" and m.get("executable"):
        print(m["executable"])')"
start_bench_mongod "$work/mongod"
export PROMETHEUS_TEST_SET_DATA_DIR="$work/data"
export PROMETHEUS_TEST_SET_BASE_PORT=5830
export BENCH_LOG="$work/last.log"
# The example's config.yaml is found next to its test file.
cd examples/todo-task
echo "$runs interleaved run(s) of each" >&2

on=()
off=()
each=()
for i in $(seq 1 "$runs"); do
  on+=("$(timed "$e2e" --reset)")
  each+=("$(sed -n 's/.* taken, \([0-9.]*\) ms each (median)$/\1/p' "$BENCH_LOG")")
  off+=("$(timed env PROMETHEUS_TEST_SET_SNAPSHOTS=off "$e2e" --reset)")
  echo "run $i: snapshots ${on[-1]} ms (${each[-1]} ms each), off ${off[-1]} ms" >&2
done

# One more full run, then a failure in round 2's receipt step and its resume.
timed "$e2e" --reset >/dev/null
kept="$(du -sb "$work/data/.snapshots" | cut -f1)"
restores=()
for i in $(seq 1 "$runs"); do
  if PROMETHEUS_TEST_SET_FAIL_RECEIPT_IN_ROUND=2 "$e2e" --reset >"$BENCH_LOG" 2>&1; then
    echo "the receipt step did not fail as asked; see $BENCH_LOG" >&2
    exit 1
  fi
  timed "$e2e" >/dev/null
  restores+=("$(sed -n 's/^prometheus-test: restored the world before .* in \([0-9]*\) ms$/\1/p' "$BENCH_LOG")")
done

a="$(median "${on[@]}")"
b="$(median "${off[@]}")"
printf 'whole run, snapshots on:  median %s ms\nwhole run, snapshots off: median %s ms\nratio: %s\n' \
  "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }')"
printf 'one snapshot (the runs'"'"' own medians): median %s ms\n' "$(median "${each[@]}")"
printf 'restore of round 2'"'"'s receipt step on resume: median %s ms\n' "$(median "${restores[@]}")"
printf 'kept after a full run: %s bytes (load average %s)\n' "$kept" "$(cut -d' ' -f1-3 /proc/loadavg)"
