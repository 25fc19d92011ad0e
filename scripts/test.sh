#!/usr/bin/env bash
# Runs every test of the workspace: formatting, lints, docs, the benchmarks'
# build, unit tests, trybuild UI tests, the framework's process and MongoDB
# tests against real servers, the CLI contract tests, and the example's
# end-to-end suite. On a fresh machine the runtime downloads mongod on first
# use. Ends with one line: `tests: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/python.sh
source scripts/lib/python.sh
ensure_python3 || exit 1

# A tool some tests need and this script cannot provide: under CI (`CI` set to
# anything but empty, 0 or false, as CI services set it) the run stops here,
# naming it, and those tests would fail too; elsewhere they skip with a notice.
# unavailable WHAT TESTS
unavailable() {
  if [[ -n "${CI:-}" && "$CI" != 0 && "$CI" != false ]]; then
    echo "error: $1, why above: under CI (CI=$CI) $2 must run, not skip" >&2
    exit 1
  fi
  echo "notice: $1: $2 skip" >&2
}
# The report tests open the HTML report in headless Chromium and validate the
# JUnit file with xmllint (Debian packages, installed here when missing).
# shellcheck source=lib/chromium.sh
source scripts/lib/chromium.sh
ensure_chromium || unavailable "no headless Chromium (scripts/lib/chromium.sh ensure_chromium)" "the browser tests of the HTML report"
ensure_xmllint || unavailable "no xmllint (scripts/lib/chromium.sh ensure_xmllint)" "the JUnit schema check"
# The recording proxy is tested with the HTTP clients real workers use (Python's
# requests, httpx and the anthropic SDK; Node's undici), installed from their
# registries into target/http-clients.
# shellcheck source=lib/clients.sh
source scripts/lib/clients.sh
ensure_http_clients || unavailable "no Python/Node HTTP clients (scripts/lib/clients.sh ensure_http_clients)" "the recording proxy's client tests"
# Container workers' tests need a Docker Engine (started here as root when none
# answers, and stopped at exit).
# shellcheck source=lib/docker.sh
source scripts/lib/docker.sh
ensure_docker || unavailable "no Docker Engine (scripts/lib/docker.sh ensure_docker)" "the container worker tests"
trap stop_docker EXIT
cargo nextest --version >/dev/null 2>&1 || cargo install --locked cargo-nextest # tests/nextest.rs runs suites under it

step() { printf '\n==> %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (all targets, warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
step "benchmarks build"
cargo bench --workspace --no-run --locked
log="$(mktemp)"
trap 'rm -f "$log"; stop_docker' EXIT
status=0
step "cargo test (unit, integration, UI and doc tests; the example apart)"
cargo test --workspace --exclude todo-task --locked --no-fail-fast 2>&1 | tee "$log" || status=$?
# The example's e2e suite resumes from its state file: `--reset` starts it
# from round 1, so every run of this script tests the same thing.
step "the example: its unit tests, then its e2e suite from a fresh state (--reset)"
cargo test -p todo-task --locked --no-fail-fast --bins 2>&1 | tee -a "$log" || status=$?
cargo test -p todo-task --locked --no-fail-fast --test e2e -- --reset 2>&1 | tee -a "$log" || status=$?
if _pt_docker_answers; then
  # Again with worker3 (the one its churn step stops and starts) as a
  # container of the example's binary (an image imported here, no registry):
  # workers.container.json; and the middle server as a container the suite
  # builds from examples/todo-task/middle/Dockerfile, on a Python image
  # imported here (its `FROM`: BASE=todo-task-python:local).
  step "the example with worker3 in a container and its middle server built from its Dockerfile"
  bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/todo-task"
  system_python=/usr/bin/python3
  [[ -x "$system_python" ]] || system_python=python3
  python="$("$system_python" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
  stdlib="$("$system_python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
  if build_binary_image todo-task-worker:local "$bin" && build_binary_image todo-task-python:local "$python" "$stdlib"; then
    PROMETHEUS_TEST_SET_WORKERS_CONFIG=workers.container.json \
    PROMETHEUS_TEST_SET_SERVICES__MIDDLE__BUILD="{context: ../middle, args: {BASE: todo-task-python:local}}" \
    PROMETHEUS_TEST_SET_SERVICES__MIDDLE__COMMAND="[$python, /app/server.py]" \
      cargo test -p todo-task --locked --no-fail-fast --test e2e -- --reset 2>&1 | tee -a "$log" || status=$?
    if ! grep -qE '^prometheus-test: middle: (built image|image .* is up to date)' "$log"; then
      echo "error: the container run did not build the middle server's image" >&2
      status=1
    fi
  else
    status=1
  fi
fi
sum() { grep -E '^test result:' "$log" | grep -oE "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }'; }
printf '\ntests: %s passed, %s failed\n' "$(sum passed)" "$(sum failed)"
exit "$status"
