#!/usr/bin/env bash
# A whole run of the example suite replayed from its cassettes against the
# same run live: its LLM calls forwarded to the fake LLM (on 127.0.0.1:5799)
# through the recording proxy and taped anew into a scratch folder
# (`--record all`). Both from a fresh state (`--reset`), interleaved
# BENCH_RUNS times (default 5); prints the median wall time of each and the
# ratio. The per-call costs are in `cargo bench -p prometheus-test --bench
# recording_proxy`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${BENCH_RUNS:-5}"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-test-bench-recording.XXXXXX")"
# shellcheck source=../examples/todo-task/fake-llm/start.sh
source "$root/examples/todo-task/fake-llm/start.sh"
cleanup() {
  stop_fake_llm
  rm -rf "$scratch"
}
trap cleanup EXIT

cd "$root"
start_fake_llm 5799 "$scratch/certs" 2>/dev/null || { echo "the fake LLM did not start" >&2; exit 1; }
cargo test -q -p todo-task --test e2e --no-run >/dev/null 2>&1

# run NAME ARGS...: one timed run of the suite; its wall time appended to $scratch/NAME.
run() {
  local name="$1"; shift
  local start end
  start="$(date +%s.%N)"
  if ! "$@" >"$scratch/$name.log" 2>&1; then
    echo "the $name run failed; its output:" >&2
    cat "$scratch/$name.log" >&2
    exit 1
  fi
  end="$(date +%s.%N)"
  python3 -c "print($end - $start)" >>"$scratch/$name"
}
for _ in $(seq 1 "$runs"); do
  run replayed cargo test -q -p todo-task --test e2e -- --reset --record replay
  run live env PROMETHEUS_TEST_SET_HTTP_CA_FILE="$scratch/certs/ca.pem" \
    PROMETHEUS_TEST_SET_RECORDING__CASSETTES="$scratch/cassettes" \
    cargo test -q -p todo-task --test e2e -- --reset --record all
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
replayed="$(median "$scratch/replayed")"
live="$(median "$scratch/live")"
printf 'the example suite, %s runs each (load %s):\n' "$runs" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '  live (forwarded to the fake LLM, taped)  %6.2f s\n' "$live"
printf '  replayed from the cassettes              %6.2f s  (%.2fx the live run)\n' \
  "$replayed" "$(python3 -c "print($replayed / $live)")"
