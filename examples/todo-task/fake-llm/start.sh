# shellcheck shell=bash
# Sourced by the scripts that need the fake LLM running (record-llm.sh,
# scripts/bench-recording.sh). Defines:
#   start_fake_llm PORT CERTS  starts fake-llm/server.py on 127.0.0.1:PORT as
#                              llm.todo-task.test, its CA made in CERTS
#                              (CERTS/ca.pem), and waits for its `ready` line;
#                              sets FAKE_LLM_PID. Returns non-zero, saying why
#                              on stderr, when it does not come up in 10 s.
#   stop_fake_llm              stops it (nothing when it is not running).

FAKE_LLM_PID=""

start_fake_llm() {
  local port="$1" certs="$2" here ready
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  mkdir -p "$certs"
  ready="$certs/stdout"
  python3 "$here/server.py" --port "$port" --host llm.todo-task.test \
    --certs "$certs" >"$ready" &
  FAKE_LLM_PID=$!
  # Making the certificates takes a moment.
  for _ in $(seq 1 100); do
    if grep -qx ready "$ready" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$FAKE_LLM_PID" 2>/dev/null; then
      echo "the fake LLM exited before it was ready" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the fake LLM did not say \`ready\` within 10 s" >&2
  return 1
}

stop_fake_llm() {
  if [[ -n "$FAKE_LLM_PID" ]]; then
    kill "$FAKE_LLM_PID" 2>/dev/null || true
    wait "$FAKE_LLM_PID" 2>/dev/null || true
    FAKE_LLM_PID=""
  fi
}
