"""Side-by-side benchmark: the todo-task example suite played by this harness,
by prometheus-test 0.1.10 (the Python port in original/), and the physical
limit (limit.py), interleaved against one mongod and the same todo-task binary.

Run through scripts/bench-vs-python.sh, which builds, installs the venv and
starts mongod. Usage:
    python bench.py --runs N --test-bin E2E --todo-bin TODO_TASK --mongo-uri URI --work DIR

Phases, per run (seconds; medians over the runs are printed):
- setup: from spawning the process to the start of the workers' launch
  (process start, configuration, MongoDB connection, reset, key loading).
  ours: spawn -> `N worker(s) ready in X s` line minus X.
  original: spawn -> TestEnvironment.__enter__ called (clock shared across
  processes: CLOCK_MONOTONIC). limit: connect + the writes.
- reset: MongoDB part of setup. ours: the ms in `MongoDB ... reset: ... in N ms`
  plus the time to the `post_load hook done` line. original: clear_data +
  load_data (its post-load hook inside). limit: connect + writes.
- start: ours: X of the `ready in` line. original: __enter__ (3 s sleep per
  worker). limit: spawn by hand, poll ports.
- steps: ours: `ready` line -> last step event (`--format json`). original: the
  round loop. limit: replay of the requests and reads.
- stop: ours: last step event -> process exit (workers stopped, summary).
  original: __exit__ + cleanup (SIGTERM, no wait). limit: SIGTERM + wait.
- total: spawn -> exit (original: -> run() returned; reaping is not timed).
- server: what the servers report for the steps' requests (the sum of their
  `POST|GET … -> status (N ms)` lines, whole milliseconds, so rounded down;
  readiness probes left out);
  client = steps - server: the harness, the steps' own work and the transport.

The output of each variant's last run is kept in <work>/{ours,original,limit}.log.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import layout  # noqa: E402

PHASES = ("setup", "reset", "start", "steps", "stop", "total", "server", "client")
SERVER_LINE = re.compile(r"(?:POST|GET) /(?!health)\S* -> \d+ \((\d+) ms\)")
READY = re.compile(r"(\d+) worker\(s\) ready in ([0-9.]+)s")
RESET = re.compile(r"MongoDB `[^`]*` reset: .* in (\d+) ms")


class RunFailed(Exception):
    pass


def timestamped_lines(process):
    for line in iter(process.stdout.readline, b""):
        yield time.perf_counter(), line.decode(errors="replace").rstrip("\n")


def run_ours(args, work):
    config = layout.ours_suite(work / "ours", layout.free_base_port())
    env = dict(os.environ, MONGO_URI=args.mongo_uri, PROMETHEUS_TEST_CONFIG=str(config))
    # --nocapture streams the workers' request lines, which give the server time.
    cmd = [args.test_bin, "--reset", "--format", "json", "-Z", "unstable-options", "--nocapture"]
    t0 = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=layout.REPO / "examples" / "todo-task", env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ready = reset_line = post_load = last_step = None
    boot = reset_ms = None
    output = []
    for t, line in timestamped_lines(process):
        output.append(line)
        if m := READY.search(line):
            ready, boot = t, float(m.group(2))
        elif m := RESET.search(line):
            reset_line, reset_ms = t, int(m.group(1))
        elif "post_load hook done" in line:
            post_load = t
        elif line.startswith("{"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("type") == "test" and event.get("event") in ("ok", "ignored", "failed"):
                last_step = t
                if event["event"] == "failed":
                    raise RunFailed("ours: step failed:\n" + "\n".join(output[-40:]))
    code = process.wait()
    t_exit = time.perf_counter()
    (work / "ours.log").write_text("\n".join(output) + "\n")
    if code != 0 or None in (ready, reset_line, post_load, last_step):
        raise RunFailed(f"ours: exit {code}, or a line is missing; output:\n" + "\n".join(output[-40:]))
    return with_server_time({
        "setup": ready - boot - t0,
        "reset": reset_ms / 1000 + (post_load - reset_line),
        "start": boot,
        "steps": last_step - ready,
        "stop": t_exit - last_step,
        "total": t_exit - t0,
    }, output)


def with_server_time(phases, lines):
    """Adds `server`: the time the servers report for the requests (the sum of
    their `POST|GET … (N ms)` lines, whole ms), and `client`: steps minus that."""
    phases["server"] = sum(int(m.group(1)) for line in lines if (m := SERVER_LINE.search(line))) / 1000
    phases["client"] = phases["steps"] - phases["server"]
    return phases


def run_python_script(args, cmd, cwd, env, who, work):
    phases_file = work / f"{who}.phases.json"
    phases_file.unlink(missing_ok=True)
    env = dict(env, BENCH_PHASES_FILE=str(phases_file))
    t0 = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = [line for _, line in timestamped_lines(process)]
    code = process.wait()
    (work / f"{who}.log").write_text("\n".join(output) + "\n")
    if code != 0 or not phases_file.exists():
        raise RunFailed(f"{who}: exit {code}; output:\n" + "\n".join(output[-40:]))
    phases = json.loads(phases_file.read_text())
    return t0, phases["done"], phases, output


def run_original(args, work):
    base_port = layout.free_base_port()
    config = layout.original_suite(work / "original", HERE / "original" / "server.py")
    env = dict(os.environ, MONGO_URI=args.mongo_uri, TODO_TASK_BIN=args.todo_bin, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, str(HERE / "original" / "e2e.py"), str(config), str(base_port)]
    t0, done, p, output = run_python_script(args, cmd, config.parent, env, "original", work)
    return with_server_time({
        "setup": p["start_called"] - t0,
        "reset": p["reset"],
        "start": p["start"],
        "steps": p["steps"],
        "stop": p["stop"],
        "total": done - t0,
    }, output)


def run_limit(args, work):
    env = dict(os.environ, MONGO_URI=args.mongo_uri)
    cmd = [sys.executable, str(HERE / "limit.py"), args.todo_bin, str(work / "limit")]
    _, _, p, _ = run_python_script(args, cmd, HERE, env, "limit", work)
    p["setup"] = p["reset"]
    p["total"] = p["reset"] + p["start"] + p["steps"] + p["stop"]
    lines = []
    for log in (work / "limit").glob("*.out"):
        lines += log.read_text().splitlines()
    return with_server_time(p, lines)


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def ratio(a, b):
    if b <= 0:
        return "-"
    r = a / b
    return f"{r:.3f}x" if r < 0.1 else f"{r:.2f}x"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--test-bin", required=True)
    parser.add_argument("--todo-bin", required=True)
    parser.add_argument("--mongo-uri", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--profile", default="debug", help="the build profile, for the table's title")
    args = parser.parse_args()
    args.test_bin = str(Path(args.test_bin).resolve())
    args.todo_bin = str(Path(args.todo_bin).resolve())
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)

    variants = [("ours", run_ours), ("original", run_original), ("limit", run_limit)]
    results = {name: [] for name, _ in variants}
    for i in range(args.runs):
        # Rotate the order so no variant always runs right after another.
        for name, run in variants[i % 3:] + variants[: i % 3]:
            results[name].append(run(args, work))
        line = "  ".join(f"{name} {fmt(results[name][-1]['total'])}" for name, _ in variants)
        print(f"run {i + 1}/{args.runs}: {line}", file=sys.stderr, flush=True)

    med = {name: {p: statistics.median(r[p] for r in runs) for p in PHASES} for name, runs in results.items()}
    requests = results["limit"][0]["requests"]
    print()
    print(f"todo-task e2e suite, {args.profile} build: 3 workers, 4 rounds, {requests} HTTP requests (a poll counted once); "
          f"medians of {args.runs} interleaved runs")
    header = f"{'phase':<8}{'ours':>11}{'original':>11}{'limit':>11}{'ours/original':>15}{'ours/limit':>12}"
    print(header)
    print("-" * len(header))
    for phase in PHASES:
        o, p, lim = med["ours"][phase], med["original"][phase], med["limit"][phase]
        print(f"{phase:<8}{fmt(o):>11}{fmt(p):>11}{fmt(lim):>11}{ratio(o, p):>15}{ratio(o, lim):>12}")
    print()
    total_ratio = med["ours"]["total"] / med["limit"]["total"]
    steps_ratio = med["ours"]["steps"] / med["original"]["steps"]
    print(f"goal: whole run <= 1.2x the limit: {total_ratio:.2f}x ({'met' if total_ratio <= 1.2 else 'not met'})")
    print(f"goal: steps no slower than the original: {steps_ratio:.2f}x ({'met' if steps_ratio <= 1.0 else 'not met'})")
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    try:
        main()
    except RunFailed as err:
        print(f"bench-vs-python: {err}", file=sys.stderr)
        sys.exit(1)
