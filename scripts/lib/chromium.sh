# shellcheck shell=bash
# Sourced by scripts and tests that open the HTML report in a real browser or
# validate the JUnit report. Defines:
#   ensure_chromium  makes headless Chromium available, exports PROMETHEUS_TEST_CHROMIUM
#   ensure_xmllint   makes xmllint (libxml2) available, exports PROMETHEUS_TEST_XMLLINT
#
# Order for each: the variable if already set to an executable, then the tool on
# PATH, then, as root with apt-get, Debian's package (`chromium`,
# `libxml2-utils`). Messages go to stderr; returns non-zero (never exits) when
# the tool cannot be had.

_pt_tool_log() {
  printf '%s\n' "$*" >&2
}

# _pt_ensure_debian_tool VAR COMMAND PACKAGE
_pt_ensure_debian_tool() {
  local var="$1" command="$2" package="$3" found
  found="${!var:-}"
  if [ -n "$found" ]; then
    if [ -x "$found" ]; then
      export "${var}=${found}"
      return 0
    fi
    _pt_tool_log "$command: $var=$found is not an executable file"
    return 1
  fi
  if found="$(command -v "$command")"; then
    export "${var}=${found}"
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    _pt_tool_log "$command: not found, and Debian's $package can only be installed as root with apt-get"
    return 1
  fi
  _pt_tool_log "$command: installing Debian's $package"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >&2; then
    _pt_tool_log "$command: apt-get could not install $package"
    return 1
  fi
  if ! found="$(command -v "$command")"; then
    _pt_tool_log "$command: $package is installed but $command is not on PATH"
    return 1
  fi
  export "${var}=${found}"
}

ensure_chromium() {
  _pt_ensure_debian_tool PROMETHEUS_TEST_CHROMIUM chromium chromium
}

ensure_xmllint() {
  _pt_ensure_debian_tool PROMETHEUS_TEST_XMLLINT xmllint libxml2-utils
}
