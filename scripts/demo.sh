#!/usr/bin/env bash
# Runs the example suite (examples/todo-task): three workers of a real Koii-style
# task server, MongoDB fixtures, several rounds of task -> submission -> audit.
# Extra arguments go to the test binary, e.g. `scripts/demo.sh --reset` or
# `scripts/demo.sh 'steps::audit::audits_its_peer[worker3]' --exact`.
# MongoDB needs no setup: the runtime uses MONGO_URI, localhost:27017,
# PROMETHEUS_TEST_MONGOD or mongod on PATH, else downloads mongod on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo test --locked -p todo-task --test e2e -- "$@"
