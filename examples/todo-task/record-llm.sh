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
ready="$certs/stdout"
llm_pid=""

stop_llm() {
  if [[ -n "$llm_pid" ]]; then
    kill "$llm_pid" 2>/dev/null || true
    wait "$llm_pid" 2>/dev/null || true
  fi
  rm -rf "$certs"
}
trap stop_llm EXIT

python3 "$here/fake-llm/server.py" --port "$port" --host llm.todo-task.test \
  --certs "$certs" >"$ready" &
llm_pid=$!

# Wait for its `ready` line (making the certificates takes a moment).
for _ in $(seq 1 100); do
  if grep -qx ready "$ready" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$llm_pid" 2>/dev/null; then
    echo "record-llm.sh: the fake LLM exited before it was ready" >&2
    exit 1
  fi
  sleep 0.1
done
if ! grep -qx ready "$ready"; then
  echo "record-llm.sh: the fake LLM did not say \`ready\` within 10 s" >&2
  exit 1
fi
echo "record-llm.sh: fake LLM on https://127.0.0.1:$port (as llm.todo-task.test)"

cd "$here"
PROMETHEUS_TEST_SET_HTTP_CA_FILE="$certs/ca.pem" \
  cargo test -p todo-task --test e2e -- --reset --record all "$@"

echo "record-llm.sh: cassettes written to $here/tests/cassettes;" \
  "review them (git diff) and commit them: the suite replays them offline"
