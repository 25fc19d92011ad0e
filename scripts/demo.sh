#!/usr/bin/env bash
# Runs the example suite (examples/todo-task): three workers of a real Koii-style
# task server, MongoDB fixtures, several rounds of task -> submission -> audit.
# Extra arguments go to the test binary, e.g. `scripts/demo.sh --reset` or
# `scripts/demo.sh 'steps::audit::audits_its_peer[worker3]' --exact`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/mongod.sh
source scripts/lib/mongod.sh
ensure_mongod
exec cargo test --locked -p todo-task --test e2e -- "$@"
