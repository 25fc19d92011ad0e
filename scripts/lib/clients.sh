# shellcheck shell=bash
# Sourced by scripts that run the recording proxy's tests against the HTTP
# clients real workers use, installed from their registries into the target
# folder (nothing global). Defines:
#   ensure_http_clients  installs them once, exports
#     PROMETHEUS_TEST_CLIENTS_PYTHON  a Python with requests, httpx and anthropic
#     PROMETHEUS_TEST_CLIENTS_NODE    a folder whose node_modules holds undici
# Messages go to stderr; returns non-zero (never exits) when they cannot be had.

# The versions tested; a change here reinstalls.
_PT_PYTHON_CLIENTS="requests==2.34.2 httpx==0.28.1 anthropic==2.17.0"
_PT_NODE_CLIENTS="undici@6.29.1"

ensure_http_clients() {
  local root dir python stamp
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  dir="$root/target/http-clients"
  python="$dir/venv/bin/python"
  stamp="$dir/installed"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$_PT_PYTHON_CLIENTS $_PT_NODE_CLIENTS" ]; then
    printf 'installing the HTTP clients the proxy tests use: %s, %s\n' \
      "$_PT_PYTHON_CLIENTS" "$_PT_NODE_CLIENTS" >&2
    rm -rf "$dir" && mkdir -p "$dir/node" || return 1
    if ! python3 -m venv "$dir/venv" >&2; then
      printf 'http clients: python3 -m venv failed (Debian: apt-get install python3-venv)\n' >&2
      return 1
    fi
    # shellcheck disable=SC2086 # the list is words on purpose
    if ! "$python" -m pip install --quiet --disable-pip-version-check $_PT_PYTHON_CLIENTS >&2; then
      printf 'http clients: pip could not install %s\n' "$_PT_PYTHON_CLIENTS" >&2
      return 1
    fi
    if ! command -v npm >/dev/null 2>&1; then
      printf 'http clients: npm is not installed (Node.js 20 or later)\n' >&2
      return 1
    fi
    if ! (cd "$dir/node" && npm install --silent --no-audit --no-fund "$_PT_NODE_CLIENTS" >&2); then
      printf 'http clients: npm could not install %s\n' "$_PT_NODE_CLIENTS" >&2
      return 1
    fi
    printf '%s' "$_PT_PYTHON_CLIENTS $_PT_NODE_CLIENTS" >"$stamp"
  fi
  export PROMETHEUS_TEST_CLIENTS_PYTHON="$python"
  export PROMETHEUS_TEST_CLIENTS_NODE="$dir/node"
}
