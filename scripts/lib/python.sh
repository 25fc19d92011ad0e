# shellcheck shell=bash
# ensure_python3 — makes python3 available: the example's middle server and
# the tests' worker fixtures are small python3 programs. As root on Debian it
# is installed with apt-get when missing; elsewhere a missing python3 is an
# error naming what to install. Messages go to stderr.
ensure_python3() {
  if command -v python3 >/dev/null; then
    return 0
  fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing python3 (the example's middle server and the worker fixtures)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >&2
    return
  fi
  echo "python3 is needed by the example's middle server and the worker fixtures: install it" >&2
  return 1
}
