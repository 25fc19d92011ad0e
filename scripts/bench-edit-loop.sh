#!/usr/bin/env bash
# The edit loop (`--watch`) against the rebuild alone and a plain
# `cargo test -- STEP --exact`, with the example's workers and with workers
# that take 3 s to start: see scripts/bench-edit-loop.py. BENCH_RUNS edits
# each (default 5); prints medians and ratios.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/python.sh
source "$root/scripts/lib/python.sh"
ensure_python3 || exit 1
exec python3 "$root/scripts/bench-edit-loop.py"
