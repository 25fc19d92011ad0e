#!/usr/bin/env bash
# Side-by-side benchmark of the example suite (examples/todo-task): this
# harness, the Python original prometheus-test 0.1.10 running a port of the
# same steps (benches/vs-python/original/), and the physical limit, in
# interleaved runs against one private mongod and the same todo-task binary.
# Prints medians per phase and the ratios. See benches/vs-python/README.md.
#
#   scripts/bench-vs-python.sh                        # 5 runs of each, debug build
#   BENCH_RUNS=9 BENCH_PROFILE=release scripts/bench-vs-python.sh
#
# Builds the test binary and todo-task once (debug, as `cargo test` does, or
# release with BENCH_PROFILE=release); installs prometheus-test
# 0.1.10 (with pymongo 4.13.2, the last release that talks to MongoDB 4.0,
# and PyNaCl + base58, which it imports without declaring) into
# target/bench-vs-python/venv; keeps its work files in target/bench-vs-python/.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/mongod.sh
source scripts/lib/mongod.sh
ensure_mongod

# shellcheck source=lib/bench.sh
source scripts/lib/bench.sh
runs="$(bench_runs 5)" || exit 2
profile="${BENCH_PROFILE:-debug}"
case "$profile" in
  debug) profile_flags=() ;;
  release) profile_flags=(--release) ;;
  *)
    echo "BENCH_PROFILE=$profile: expected debug or release" >&2
    exit 2
    ;;
esac
work="$PWD/target/bench-vs-python"
mkdir -p "$work"

echo "building the e2e test binary and todo-task ($profile)" >&2
test_bin="$(cargo test --locked "${profile_flags[@]}" -p todo-task --test e2e --no-run --message-format=json 2>/dev/null |
  python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "e2e":
        print(m["executable"])
')"
if [[ -z "$test_bin" || ! -x "$test_bin" ]]; then
  echo "cannot find the e2e test binary: run \`cargo test ${profile_flags[*]} -p todo-task --test e2e --no-run\` to see why" >&2
  exit 1
fi
# The harness runs `cargo_bin: todo-task` from next to the test binary: the same file.
todo_bin="$(dirname "$(dirname "$test_bin")")/todo-task"
if [[ ! -x "$todo_bin" ]]; then
  echo "no todo-task binary at $todo_bin after building the e2e test" >&2
  exit 1
fi

venv="$work/venv"
if ! "$venv/bin/python" -c 'import prometheus_test, nacl, base58, pymongo' 2>/dev/null; then
  echo "installing prometheus-test 0.1.10 into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q prometheus-test==0.1.10 pymongo==4.13.2 pynacl base58
fi

rm -rf "$work/mongod"
start_bench_mongod "$work/mongod"
echo "$runs run(s) of each; $profile build" >&2

"$venv/bin/python" benches/vs-python/bench.py --runs "$runs" --test-bin "$test_bin" \
  --todo-bin "$todo_bin" --mongo-uri "$MONGO_URI" --work "$work" --profile "$profile"
