#!/usr/bin/env bash
# Tapes worker1's LLM calls again: starts the fake LLM (fake-llm/server.py)
# on 127.0.0.1:5799 with a fresh CA, runs the suite with `--record all`, and
# leaves the cassettes in tests/cassettes for review and commit. The suite's
# recording proxy sends llm.todo-task.test to 127.0.0.1:5799 (config.yaml's
# `recording.upstreams`) and trusts the fake's CA through `http_ca_file`.
#
#   examples/todo-task/record-llm.sh [more e2e arguments]
#
# Needs python3 and openssl. Any other arguments go to the e2e binary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port=5799
certs="$(mktemp -d "${TMPDIR:-/tmp}/todo-task-llm.XXXXXX")"
# shellcheck source=fake-llm/start.sh
source "$here/fake-llm/start.sh"

stop_llm() {
  stop_fake_llm
  rm -rf "$certs"
}
trap stop_llm EXIT

start_fake_llm "$port" "$certs" || exit 1
echo "record-llm.sh: fake LLM on https://127.0.0.1:$port (as llm.todo-task.test)"

cd "$here"
PROMETHEUS_TEST_SET_HTTP_CA_FILE="$certs/ca.pem" \
  cargo test -p todo-task --test e2e -- --reset --record all "$@"

echo "record-llm.sh: cassettes written to $here/tests/cassettes;" \
  "review them (git diff) and commit them: the suite replays them offline"
