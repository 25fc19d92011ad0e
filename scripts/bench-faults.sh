#!/usr/bin/env bash
# A whole run of the example suite with its chaos profile's faults at
# probability 0 (every request through the fault links, none faulted)
# against the same run with no `faults` section, and the chaos profile
# itself for scale. All from a fresh state (`--reset`) with seed 1,
# interleaved BENCH_RUNS times (default 5); prints the median wall time of
# each and the ratios to the run without faults. A link's cost per request
# is in `cargo bench -p prometheus-test --bench recording_proxy` (the
# `forwarded` row).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/bench.sh
source "$root/scripts/lib/bench.sh"
runs="$(bench_runs 5)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-test-bench-faults.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# The chaos profile's entries (examples/todo-task/tests/config.yaml), none
# of which can fire.
quiet='[
  {link: "runner->*", request: "POST /audit/*", probability: 0, reset: {}},
  {link: "runner->worker1", request: "POST /receipt/*", probability: 0, cut: {after_bytes: 0}},
  {worker: worker2, rounds: 3, probability: 0, crash: {}},
  {link: "*->*", probability: 0, latency: {ms: 10, jitter_ms: 10}}
]'

cd "$root"
cargo test -q -p todo-task --test e2e --no-run >/dev/null 2>&1

suite=(cargo test -q -p todo-task --test e2e -- --reset --seed 1)
none=() quiet_ms=() chaos=()
for _ in $(seq 1 "$runs"); do
  BENCH_LOG="$scratch/none.log" none+=("$(timed "${suite[@]}")")
  BENCH_LOG="$scratch/quiet.log" quiet_ms+=("$(timed env PROMETHEUS_TEST_SET_FAULTS="$quiet" "${suite[@]}")")
  BENCH_LOG="$scratch/chaos.log" chaos+=("$(timed env PROMETHEUS_TEST_SET_FAULTS=chaos "${suite[@]}")")
done
grep -q 'faults: seed 1' "$scratch/quiet.log" || { echo "the quiet run drew no faults: is the override read?" >&2; exit 1; }
n="$(median "${none[@]}")" q="$(median "${quiet_ms[@]}")" c="$(median "${chaos[@]}")"
printf 'the example suite, %s runs each (load %s):\n' "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  no faults section                         %6s ms\n' "$n"
printf '  the chaos entries at probability 0        %6s ms  (%.2fx; target <= 1.10x)\n' "$q" "$(python3 -c "print($q / $n)")"
printf '  the chaos profile                         %6s ms  (%.2fx)\n' "$c" "$(python3 -c "print($c / $n)")"
