#!/usr/bin/env bash
# What snapshots cost the example suite (examples/todo-task): whole runs
# from a fresh state with snapshots (the default) against the same runs with
# `snapshots: off`, interleaved, against a private standalone mongod (every
# snapshot surveys the collections) and against a private one-member replica
# set (snapshots read the oplog). Prints each side's median wall time and the
# ratio, the median time of one snapshot (the runs' own summary lines), the
# restore of a resumed run, the bytes the snapshots keep after a full run,
# and one snapshot of the store alone (`snapshot::tests::timings`: three
# collections of 1,000, 1,000 and 10 documents and three files) when nothing
# changed, one document changed and 1,000 documents changed, on both servers.
# Then what the managed mongod's start costs standalone and as a one-member
# replica set (`mongo::managed::tests::start_timings`: new and kept data
# folders), and what a replica set would gain a plain run of the example:
# the whole runs' saving (standalone minus replica set, snapshots on) against
# the start's extra cost.
# Everything is built as `cargo test` builds it (debug).
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
echo "building the store's timings (snapshot::tests::timings)" >&2
cargo test --locked -p prometheus-test --lib --no-run >/dev/null 2>&1
lib_test() {
  cargo test --locked -p prometheus-test --lib "$1" -- --ignored --nocapture --exact 2>/dev/null
}
start_bench_mongod "$work/mongod"
standalone_uri="$MONGO_URI"

# A second private mongod, a one-member replica set (journaled, as a replica
# set needs), made primary with `replSetInitiate` sent over the wire.
start_replica_set() {
  local dir="$1" port
  mkdir -p "$dir"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$PROMETHEUS_TEST_MONGOD" --dbpath "$dir" --port "$port" --bind_ip 127.0.0.1 \
    --logpath "$dir/mongod.log" --wiredTigerCacheSizeGB 0.25 --replSet pt-bench >/dev/null 2>&1 &
  replica_set_pid=$!
  trap 'kill "$bench_mongod_pid" "$replica_set_pid" 2>/dev/null; wait "$bench_mongod_pid" "$replica_set_pid" 2>/dev/null || true' EXIT
  python3 - "$port" <<'PY' || { echo "the replica set did not become primary; see $dir/mongod.log" >&2; exit 1; }
import socket, struct, sys, time
port = int(sys.argv[1])
def bson(doc):
    out = b""
    for key, value in doc.items():
        name = key.encode() + b"\0"
        if isinstance(value, str):
            raw = value.encode() + b"\0"
            out += b"\x02" + name + struct.pack("<i", len(raw)) + raw
        elif isinstance(value, int):
            out += b"\x10" + name + struct.pack("<i", value)
        elif isinstance(value, list):
            out += b"\x04" + name + bson({str(i): v for i, v in enumerate(value)})
        else:
            out += b"\x03" + name + bson(value)
    return struct.pack("<i", len(out) + 5) + out + b"\0"
def command(doc):
    body = struct.pack("<I", 0) + b"\0" + bson(doc)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body)
                size = struct.unpack("<i", s.recv(4, socket.MSG_WAITALL))[0]
                return s.recv(size - 4, socket.MSG_WAITALL)
        except OSError:
            time.sleep(0.1)
    sys.exit(1)
host = "127.0.0.1:%d" % port
command({"replSetInitiate": {"_id": "pt-bench", "members": [{"_id": 0, "host": host}]}, "$db": "admin"})
for _ in range(600):
    if b"\x08ismaster\x00\x01" in command({"isMaster": 1, "$db": "admin"}):
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
  replica_set_uri="mongodb://127.0.0.1:$port"
  echo "replica set on 127.0.0.1:$port" >&2
}
start_replica_set "$work/replica-set"

export PROMETHEUS_TEST_SET_DATA_DIR="$work/data"
export PROMETHEUS_TEST_SET_BASE_PORT=5830
export BENCH_LOG="$work/last.log"
# The example's config.yaml is found next to its test file.
cd examples/todo-task
echo "$runs interleaved run(s) of each, on each server" >&2

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}

# Whole runs on the server at $1, named $2; prints the summary lines.
whole_runs() {
  local on=() off=() each=()
  export MONGO_URI="$1"
  for i in $(seq 1 "$runs"); do
    on+=("$(timed "$e2e" --reset)")
    each+=("$(sed -n 's/.* taken, \([0-9.]*\) ms each (median)$/\1/p' "$BENCH_LOG")")
    off+=("$(timed env PROMETHEUS_TEST_SET_SNAPSHOTS=off "$e2e" --reset)")
    echo "$2, run $i: snapshots ${on[-1]} ms (${each[-1]} ms each), off ${off[-1]} ms" >&2
  done
  local a b
  a="$(median "${on[@]}")"
  b="$(median "${off[@]}")"
  printf '%s: whole run, snapshots on: median %s ms; off: median %s ms; ratio %s; one snapshot (the runs'"'"' own medians): median %s ms\n' \
    "$2" "$a" "$b" "$(ratio "$a" "$b")" "$(median "${each[@]}")"
}

standalone_line="$(whole_runs "$standalone_uri" "example, standalone mongod")"
replica_set_line="$(whole_runs "$replica_set_uri" "example, replica set (oplog)")"

# One more full run, then a failure in round 2's receipt step and its resume.
export MONGO_URI="$standalone_uri"
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

cd ../..
echo "the store alone (snapshot::tests::timings)" >&2
store="$(MONGO_URI="$standalone_uri" lib_test snapshot::tests::timings | grep '^one snapshot, ')"
echo "the managed mongod's start (mongo::managed::tests::start_timings)" >&2
start="$(BENCH_RUNS="$runs" lib_test mongo::managed::tests::start_timings | grep '^managed mongod start')"
# The medians of the whole runs with snapshots on, and of the starts.
on_median() {
  sed -n 's/.*snapshots on: median \([0-9.]*\) ms;.*/\1/p' <<<"$1"
}
start_median() {
  sed -n "s/.*$1 \([0-9]*\) ms.*/\1/p" <<<"$start"
}
saved="$(awk -v a="$(on_median "$standalone_line")" -v b="$(on_median "$replica_set_line")" 'BEGIN { print a - b }')"
extra_new="$(awk -v a="$(start_median 'primary): new')" -v b="$(start_median 'standalone: new')" 'BEGIN { print a - b }')"
extra_kept="$(awk -v a="$(start_median 'ms), kept')" -v b="$(start_median 'ms, kept')" 'BEGIN { print a - b }')"

printf '%s\n' "$standalone_line" "$replica_set_line"
printf 'restore of round 2'"'"'s receipt step on resume (standalone): median %s ms\n' "$(median "${restores[@]}")"
printf 'kept after a full run: %s bytes\n' "$kept"
printf '%s\n' "$store"
printf '%s\n' "$start"
printf 'the managed mongod as a replica set, for a run of the example with snapshots on: %s ms saved by its snapshots (standalone minus replica set; negative: the replica set is slower), %s ms (new data folder) or %s ms (kept data folder) more to start; %s\n' \
  "$saved" "$extra_new" "$extra_kept" "$(awk -v s="$saved" -v k="$extra_kept" 'BEGIN { if (s > 0) printf "a kept start pays after %.0f runs", k / s + 0.5; else print "it never pays, even started once for many runs" }')"
printf 'load average %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
