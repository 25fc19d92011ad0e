"""Plays the soak suite (prometheus-test/examples/soak.rs) for SOAK_ROUNDS
rounds and prints what the harness costs as the run grows.

    python3 benches/soak/drive.py SUITE_BINARY WORK_DIR [CHROMIUM]

Reads the run's `--format json` event stream as it comes: a step's overhead
is its `exec_time` minus the time of its HTTP call, which the step measures
around the call and appends to SOAK_TIMINGS (the recorded exchanges'
durations are whole milliseconds; the step's call takes about one). A step's
cycle is the time from the previous step's result line to its own, minus its
HTTP call: the overhead plus what the harness does between steps (recording,
saving the state, writing events). Samples the suite process's
/proc/PID/status (VmHWM, the peak RSS so far) and /proc/PID/io at the end of
round 100 and of the last round, and its peak RSS at exit (wait4). Then opens
data/report.html from disk in headless Chromium, when one is given.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS_PER_ROUND = 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_fields(pid, name):
    """The `key: value` fields of /proc/PID/NAME, as integers (kB for status)."""
    fields = {}
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                key, _, value = line.partition(":")
                parts = value.split()
                if parts and parts[0].isdigit():
                    fields[key.strip()] = int(parts[0])
    except OSError:
        pass
    return fields


def set_up(work, rounds):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with open(os.path.join(work, "config.yaml"), "w") as f:
        f.write(
            f"task_id: soak\nmax_rounds: {rounds}\nhealth_path: /health\n"
            f"server_entrypoint: {os.path.join(HERE, 'worker.py')}\n"
        )
    workers = {f"worker{i}": {"port": free_port()} for i in (1, 2, 3)}
    with open(os.path.join(work, "workers.json"), "w") as f:
        json.dump(workers, f)


def play(binary, work, rounds):
    """Runs the suite; returns (steps, samples, rusage, wall seconds, tail seconds)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "SOAK_STATE")}
    env["PROMETHEUS_TEST_CONFIG"] = os.path.join(work, "config.yaml")
    env["SOAK_TIMINGS"] = os.path.join(work, "timings.txt")
    started = time.monotonic()
    child = subprocess.Popen(
        [binary, "--format=json", "-Z", "unstable-options"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(work, "stderr.log"), "w"),
        text=True,
        bufsize=1,
    )
    steps = []  # (round, name, exec ms, cycle ms)
    samples = {}
    last_result = None
    for line in child.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("type") == "test" and event.get("event") in ("ok", "failed"):
            if event["event"] == "failed":
                print(f"step failed: {line.strip()}", file=sys.stderr)
            now = time.monotonic()
            cycle = (now - last_result) * 1000 if last_result else 0.0
            steps.append((event["round"], event["name"], event["exec_time"] * 1000, cycle))
            last_result = now
            if len(steps) % STEPS_PER_ROUND == 0:
                round_done = len(steps) // STEPS_PER_ROUND
                io = proc_fields(child.pid, "io")
                samples[round_done] = (proc_fields(child.pid, "status"), io)
    _, status, rusage = os.wait4(child.pid, 0)
    ended = time.monotonic()
    if status != 0:
        print(f"the suite exited with status {status}; see {work}/stderr.log", file=sys.stderr)
    http = {}
    with open(env["SOAK_TIMINGS"]) as f:
        for line in f:
            round_, name, micros = line.split()
            http[(int(round_), name)] = int(micros) / 1000
    steps = [
        (r, e, http.get((r, name.rsplit("::", 1)[-1]), 0), c) for r, name, e, c in steps
    ]
    return steps, samples, rusage, ended - started, ended - (last_result or ended)


def chromium_wall_ms(chromium, page, *args):
    """(wall ms, stdout) of one headless Chromium opening `page` with `args`."""
    profile = tempfile.mkdtemp()
    try:
        started = time.monotonic()
        out = subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={profile}", *args, f"file://{page}",
            ],
            capture_output=True, text=True, timeout=300,
        )
        return (time.monotonic() - started) * 1000, out.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot_ms(chromium, page, work):
    """Wall ms of a headless screenshot of `page`'s first screen (1400x900)."""
    shot = os.path.join(work, "first-screen.png")
    wall, _ = chromium_wall_ms(chromium, page, f"--screenshot={shot}", "--window-size=1400,900")
    return wall


def open_in_chromium(chromium, page):
    """(script-ready ms inside the page, wall ms of a headless --dump-dom)."""
    wall, dom = chromium_wall_ms(chromium, page, "--dump-dom")
    marker = 'data-render-ms="'
    ready = None
    if 'data-ready="true"' in dom and marker in dom:
        at = dom.index(marker) + len(marker)
        ready = int(dom[at:dom.index('"', at)])
    return ready, wall


def tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def main():
    binary, work = sys.argv[1], os.path.abspath(sys.argv[2])
    chromium = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    rounds = int(os.environ.get("SOAK_ROUNDS", "1000"))
    set_up(work, rounds)
    steps, samples, rusage, wall, tail = play(binary, work, rounds)
    if len(steps) < STEPS_PER_ROUND:
        sys.exit("the suite played no round")
    played = len(steps) // STEPS_PER_ROUND
    print(f"soak: {played} rounds x {STEPS_PER_ROUND} steps in {wall:.1f} s "
          f"({tail:.2f} s after the last step: the reports and the exit)")
    print("tenth  rounds        overhead  cycle     step      HTTP     written/step")
    tenth = max(1, played // 10)
    medians = []
    cycles = []
    for t in range(10):
        first, last = t * tenth + 1, (t + 1) * tenth if t < 9 else played
        chunk = [s for s in steps if first <= s[0] <= last]
        if not chunk:
            continue
        overhead = statistics.median(e - x for _, e, x, _ in chunk)
        cycle = statistics.median(c - x for _, _, x, c in chunk[1:] or chunk)
        medians.append(overhead)
        before = samples.get(first - 1, samples.get(first))
        after = samples.get(last)
        written = "-"
        if before and after and last > first - 1:
            wrote = after[1].get("write_bytes", 0) - (before[1].get("write_bytes", 0) if first > 1 else 0)
            written = f"{wrote / len(chunk) / 1024:.1f} KiB"
        cycles.append(cycle)
        print(f"{t + 1:>5}  {first:>5}-{last:<5}  {overhead:6.2f} ms {cycle:6.2f} ms "
              f"{statistics.median(e for _, e, _, _ in chunk):6.2f} ms "
              f"{statistics.median(x for _, _, x, _ in chunk):6.2f} ms  {written}")
    print(f"median step overhead, last tenth / first tenth: {medians[-1] / max(medians[0], 0.001):.2f}x "
          f"({medians[-1]:.2f} / {medians[0]:.2f} ms); cycle: "
          f"{cycles[-1] / max(cycles[0], 0.001):.2f}x ({cycles[-1]:.2f} / {cycles[0]:.2f} ms)")
    def peak(round_):
        sample = samples.get(round_)
        return sample[0].get("VmHWM") if sample else None
    at100, at_end = peak(min(100, played)), peak(played)
    print(f"peak RSS: round {min(100, played)} {at100 / 1024:.1f} MiB, round {played} "
          f"{at_end / 1024:.1f} MiB ({at_end / at100:.2f}x), whole run with the reports "
          f"{rusage.ru_maxrss / 1024:.1f} MiB")
    io = samples[played][1]
    print(f"written to disk per step: {io.get('write_bytes', 0) / len(steps) / 1024:.1f} KiB "
          f"(write_bytes; all writes incl. stdout: {io.get('wchar', 0) / len(steps) / 1024:.1f} KiB)")
    page = os.path.join(work, "data", "report.html")
    if os.path.exists(page):
        beside = os.path.join(work, "data", "report-data")
        extra = tree_bytes(beside) if os.path.isdir(beside) else 0
        print(f"report: {os.path.getsize(page) / 1024 / 1024:.2f} MiB page"
              + (f" + {extra / 1024 / 1024:.2f} MiB in report-data/" if extra else ""))
        if chromium:
            ready, wall_ms = open_in_chromium(chromium, page)
            empty = os.path.join(work, "empty.html")
            with open(empty, "w") as f:
                f.write("<!DOCTYPE html><title>empty</title><body></body>")
            _, empty_ms = open_in_chromium(chromium, empty)
            shot = min(screenshot_ms(chromium, page, work) for _ in range(3))
            empty_shot = min(screenshot_ms(chromium, empty, work) for _ in range(3))
            shown = f"{ready} ms" if ready is not None else "never (no data-ready)"
            print(f"report open in headless Chromium: script done at {shown} (in the page); "
                  f"first-screen screenshot {shot - empty_shot:.0f} ms over an empty page's "
                  f"({shot:.0f} / {empty_shot:.0f} ms, best of 3); "
                  f"--dump-dom {wall_ms:.0f} ms (an empty page: {empty_ms:.0f} ms)")
    else:
        print("report: not written")


if __name__ == "__main__":
    main()
