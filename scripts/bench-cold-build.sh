#!/usr/bin/env bash
# Cold build of a minimal suite: what a new user waits for on the first
# `cargo test`. A throwaway crate with one step on one worker depends on
# prometheus-test by path; each build starts from an empty target directory
# and runs `cargo build --tests --offline --timings`.
#
#   scripts/bench-cold-build.sh            # the working tree, once
#   scripts/bench-cold-build.sh REV .      # REV against the working tree
#
# Each argument is a git revision of this repository or `.` (the working
# tree). With several, the builds are interleaved (BENCH_RUNS rounds of one
# build each), and the script prints the median wall time and CPU time of
# each, their ratios to the first, the build units, the compile time summed
# over units, and the crates that took longest.
#
# Environment: BENCH_RUNS (default 1), BENCH_JOBS (cargo -j, default: all
# cores), BENCH_MANIFEST_EXTRA (TOML appended to the suite's Cargo.toml, e.g.
# a `[profile.dev.package."*"]` section to try), BENCH_MANIFEST_EXTRA_<N>
# (the same for the Nth argument only, counted from 0, so that a manifest
# setting is compared with the same revision in one invocation:
# `BENCH_MANIFEST_EXTRA_1='…' scripts/bench-cold-build.sh HEAD HEAD`),
# BENCH_KEEP=1 keeps the scratch folder (timings HTML included).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${BENCH_RUNS:-1}"
jobs="${BENCH_JOBS:-$(nproc)}"
if [ "$#" -eq 0 ]; then
    set -- .
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/prometheus-test-cold-build.XXXXXX")"
worktrees=()
cleanup() {
    for tree in "${worktrees[@]}"; do
        git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $scratch" >&2
    else
        rm -rf "$scratch"
    fi
}
trap cleanup EXIT

# The checkout each argument names.
checkouts=()
labels=()
for index in $(seq 0 $(($# - 1))); do
    revision="${@:$((index + 1)):1}"
    if [ "$revision" = . ]; then
        checkouts+=("$root")
        labels+=("working tree")
    else
        tree="$scratch/checkout-$index"
        git -C "$root" worktree add --detach --quiet "$tree" "$revision"
        worktrees+=("$tree")
        checkouts+=("$tree")
        labels+=("$(git -C "$root" rev-parse --short "$revision")")
    fi
done

# The minimal suite, written once per checkout (its Cargo.lock is the checkout's).
write_suite() {
    local checkout="$1" suite="$2" extra="$3"
    mkdir -p "$suite/src" "$suite/tests"
    : >"$suite/src/lib.rs"
    cp "$checkout/Cargo.lock" "$suite/Cargo.lock"
    cat >"$suite/Cargo.toml" <<EOF
[package]
name = "minimal-suite"
version = "0.0.0"
edition = "2024"
publish = false

[dev-dependencies]
prometheus-test = { path = "$checkout/prometheus-test" }
anyhow = "1"

[[test]]
name = "e2e"
path = "tests/e2e.rs"
harness = false

[workspace]

$extra
EOF
    cat >"$suite/tests/e2e.rs" <<'EOF'
use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1)]
async fn does_the_task(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let response = runner.http().post(format!("{}/task", worker.url())).send().await?;
    anyhow::ensure!(response.status().is_success(), "task: {}", response.status());
    Ok(())
}

prometheus_test::main!();
EOF
}

for index in "${!checkouts[@]}"; do
    own_extra="BENCH_MANIFEST_EXTRA_$index"
    if [ -n "${!own_extra:-}" ]; then
        labels[index]="${labels[$index]}+extra"
    fi
    write_suite "${checkouts[$index]}" "$scratch/suite-$index" "${!own_extra:-${BENCH_MANIFEST_EXTRA:-}}"
done

echo "cold build of a minimal suite, cargo -j$jobs, $runs run(s) each; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
    for index in "${!checkouts[@]}"; do
        suite="$scratch/suite-$index"
        target="$scratch/target-$index-$run"
        mkdir -p "$scratch/timings-$index"
        start=$(date +%s%N)
        # CPU time (user + system of cargo and every rustc) as well as wall
        # time: on a shared machine it moves far less than the wall time.
        (cd "$suite" && CARGO_TARGET_DIR="$target" /usr/bin/time -f '%U %S' -o "$scratch/timings-$index/cpu-$run" \
            cargo build --tests --offline --timings -j"$jobs" --quiet)
        took_ms=$((($(date +%s%N) - start) / 1000000))
        cp "$target/cargo-timings/cargo-timing.html" "$scratch/timings-$index/run-$run.html"
        rm -rf "$target"
        printf '  run %d  %-14s %5d.%d s  cpu %5.0f s  (load %s)\n' "$run" "${labels[$index]}" $((took_ms / 1000)) $((took_ms % 1000 / 100)) \
            "$(awk '{ print $1 + $2 }' "$scratch/timings-$index/cpu-$run")" "$(cut -d' ' -f1 /proc/loadavg)"
    done
done

python3 - "$scratch" "${#checkouts[@]}" "${labels[@]}" <<'EOF'
import json, pathlib, re, statistics, sys

scratch = pathlib.Path(sys.argv[1])
count = int(sys.argv[2])
labels = sys.argv[3:3 + count]

def units(html):
    """The per-unit data cargo's timings page embeds."""
    match = re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S)
    return json.loads(match.group(1)) if match else []

def wall(html):
    match = re.search(r"<td>Total time:</td><td>([0-9.]+)s", html)
    return float(match.group(1)) if match else float("nan")

def cpu(path):
    user, system = path.read_text().split()[-2:]
    return float(user) + float(system)

medians = []
cpu_medians = []
for index, label in enumerate(labels):
    pages = sorted((scratch / f"timings-{index}").glob("run-*.html"))
    htmls = [page.read_text() for page in pages]
    totals = [wall(html) for html in htmls]
    median = statistics.median(totals)
    medians.append(median)
    cpu_median = statistics.median(cpu(path) for path in (scratch / f"timings-{index}").glob("cpu-*"))
    cpu_medians.append(cpu_median)
    data = units(htmls[-1])
    versions = {}
    for unit in data:
        versions.setdefault(unit["name"], set()).add(unit.get("version", ""))
    per_crate = {}
    for unit in data:
        # A crate built in two versions (rustls 0.21 and 0.23) shows each.
        name = unit["name"]
        if len(versions[name]) > 1:
            name += " " + unit.get("version", "")
        key = name + ("" if unit.get("target", "") in ("", " (lib)") else unit.get("target", ""))
        per_crate[key] = per_crate.get(key, 0.0) + unit["duration"]
    compile_seconds = statistics.median(sum(unit["duration"] for unit in units(html)) for html in htmls)
    print(f"\n{label}: median {median:.1f} s (cargo's total time), {len(data)} build units, "
          f"median {compile_seconds:.0f} s of compile time summed over units, "
          f"median {cpu_median:.0f} s of CPU time")
    for name, duration in sorted(per_crate.items(), key=lambda item: -item[1])[:15]:
        print(f"  {duration:6.1f} s  {name}")

if count > 1:
    print()
    for label, median, cpu_median in zip(labels[1:], medians[1:], cpu_medians[1:]):
        print(f"{label} / {labels[0]}: {median / medians[0]:.2f}x wall, "
              f"{cpu_median / cpu_medians[0]:.2f}x CPU")
EOF
