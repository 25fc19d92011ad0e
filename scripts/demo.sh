#!/usr/bin/env bash
# Runs the example suite (examples/todo-task): three workers of a real Koii-style
# task server, MongoDB fixtures, several rounds of task -> submission -> audit.
# Extra arguments go to the test binary, e.g. `scripts/demo.sh --reset` or
# `scripts/demo.sh 'steps::audit::audits_its_peer[worker3]' --exact`.
# MongoDB needs no setup: the runtime uses MONGO_URI, localhost:27017,
# PROMETHEUS_TEST_MONGOD or mongod on PATH, else downloads mongod on first use.
# Its middle server (a service of the suite) is a python3 program, installed
# here as root on Debian when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/python.sh
source scripts/lib/python.sh
ensure_python3 || exit 1
exec cargo test --locked -p todo-task --test e2e -- "$@"
