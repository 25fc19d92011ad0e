#!/usr/bin/env bash
# Container workers: 10 started and ready through the fleet vs the same 10
# `docker run`s by hand in parallel, each waited for on its port (median
# milliseconds and their ratio), and the restart (stop + start) of one
# container worker (median milliseconds). BENCH_RUNS runs of each (default 5).
# Then what a `build` adds to a run when its context did not change (the
# example's middle server: a fingerprint and an image inspection, nothing
# sent to the engine), against its first build (target: <= 300 ms).
# Needs a Docker Engine (started here as root when none answers).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/bench.sh
source scripts/lib/bench.sh
# shellcheck source=lib/docker.sh
source scripts/lib/docker.sh
runs="$(bench_runs 5)"
ensure_docker || { echo "no Docker Engine: nothing to measure" >&2; exit 2; }
trap stop_docker EXIT

test_bin() {
  cargo test -p prometheus-test --lib --no-run --message-format json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "prometheus_test" in m["target"]["name"] and m["profile"]["test"]:
        print(m["executable"])'
}
bin="$(test_bin | tail -1)"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

fleet=() restart=() by_hand=()
python="$(/usr/bin/python3 -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null || python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')"
server="$PWD/prometheus-test/tests/fixtures/servers/good_server.py"
for _ in $(seq "$runs"); do
  out="$("$bin" process::tests::containers::bench_ten_container_workers --exact --ignored --nocapture 2>/dev/null)"
  fleet+=("$(grep -oE 'fleet_ms=[0-9]+' <<<"$out" | cut -d= -f2)")
  restart+=("$(grep -oE 'restart_ms=[0-9]+' <<<"$out" | cut -d= -f2)")
  ports=()
  for n in $(seq 10); do ports+=($((20000 + RANDOM % 20000))); done
  start=$(date +%s%N)
  for port in "${ports[@]}"; do
    docker run -d --init --network host --label pt-bench=1 -e PORT="$port" \
      prometheus-test-fixtures:local "$python" "$server" >/dev/null &
  done
  for port in "${ports[@]}"; do
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.005; done
  done
  by_hand+=($(( ($(date +%s%N) - start) / 1000000 )))
  wait
  docker ps -aq --filter label=pt-bench=1 | xargs -r docker rm -f >/dev/null
done
f="$(printf '%s\n' "${fleet[@]}" | median)"
h="$(printf '%s\n' "${by_hand[@]}" | median)"
r="$(printf '%s\n' "${restart[@]}" | median)"
echo "10 container workers ready: fleet ${f} ms, docker run by hand ${h} ms (median of $runs), ratio $(awk -v f="$f" -v h="$h" 'BEGIN { printf "%.2f", f / h }')"
echo "restart of one container worker: ${r} ms (median of $runs)"
out="$("$bin" process::tests::containers::bench_cached_build --exact --ignored --nocapture 2>/dev/null)"
cached="$(grep -oE 'cached_build_ms=[0-9]+' <<<"$out" | cut -d= -f2 | median)"
fresh="$(grep -oE 'fresh_build_ms=[0-9]+' <<<"$out" | cut -d= -f2)"
echo "a build whose context did not change: ${cached} ms (median of 5; target <= 300 ms); its first build ${fresh} ms"
