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
