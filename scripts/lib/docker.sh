# shellcheck shell=bash
# Sourced by scripts that run container workers (scripts/test.sh,
# scripts/bench-containers.sh). Defines:
#   ensure_docker         makes a Docker Engine answer and exports DOCKER_HOST
#   stop_docker           stops the engine ensure_docker started (if it did)
#   build_binary_image    TAG PATH...: a local image holding PATHs and the
#                         shared libraries they link, made without any registry
#
# ensure_docker's order: an engine already answering at $DOCKER_HOST or the
# default socket is used as it is. Otherwise, as root: Debian's `docker.io` is
# installed with apt-get when `dockerd` is missing, and `dockerd` is started
# with storage overlay2, its socket, pidfile, log, data and exec roots in a
# temporary folder, and DOCKER_HOST pointing at that socket. stop_docker (call
# it at exit) stops that daemon and removes the folder. Messages go to stderr;
# returns non-zero (never exits) when no engine can be had.

_PT_DOCKER_DIR=""

_pt_docker_log() {
  printf 'docker: %s\n' "$*" >&2
}

# True when the engine at $DOCKER_HOST (or the default socket) answers.
_pt_docker_answers() {
  command -v docker >/dev/null 2>&1 && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

ensure_docker() {
  if _pt_docker_answers; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    _pt_docker_log "no engine answers at ${DOCKER_HOST:-the default socket}, and one can only be started as root"
    return 1
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
      _pt_docker_log "dockerd is missing and Debian's docker.io can only be installed with apt-get"
      return 1
    fi
    _pt_docker_log "installing Debian's docker.io"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; } >&2; then
      _pt_docker_log "apt-get could not install docker.io"
      return 1
    fi
  fi
  _PT_DOCKER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/pt-dockerd.XXXXXX")"
  local dir="$_PT_DOCKER_DIR"
  _pt_docker_log "starting dockerd (socket, log and data in $dir)"
  dockerd --host "unix://$dir/docker.sock" --pidfile "$dir/dockerd.pid" \
    --data-root "$dir/data" --exec-root "$dir/exec" --storage-driver overlay2 \
    >"$dir/dockerd.log" 2>&1 &
  export DOCKER_HOST="unix://$dir/docker.sock"
  local n=0
  until _pt_docker_answers; do
    n=$((n + 1))
    if [ "$n" -ge 60 ] || ! [ -e "/proc/$!" ]; then
      _pt_docker_log "dockerd did not answer within 30 s; its last log lines:"
      tail -n 15 "$dir/dockerd.log" >&2
      stop_docker
      unset DOCKER_HOST
      return 1
    fi
    sleep 0.5
  done
}

stop_docker() {
  local dir="$_PT_DOCKER_DIR" pid n=0
  [ -n "$dir" ] || return 0
  _PT_DOCKER_DIR=""
  if pid="$(cat "$dir/dockerd.pid" 2>/dev/null)" && kill -TERM "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 150 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # A daemon killed hard may leave its overlay mounts behind.
  grep -o " $dir/[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dir"
}

# build_binary_image TAG PATH... — imports an image named TAG whose root holds
# each PATH (a file or a folder, absolute) at its own path, the shared
# libraries `ldd` lists for its executables and shared objects
# (and the dynamic loader), /etc/hosts naming localhost, and an empty /tmp; the
# first PATH is the image's command. No registry is involved: the tarball goes
# to `docker import`.
build_binary_image() {
  local tag="$1" first="$2" root file lib linked
  shift
  root="$(mktemp -d "${TMPDIR:-/tmp}/pt-image.XXXXXX")"
  mkdir -p "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
  for file in "$@"; do
    if ! [ -e "$file" ]; then
      _pt_docker_log "cannot build image $tag: $file does not exist"
      rm -rf "$root"
      return 1
    fi
    mkdir -p "$root$(dirname "$file")"
    cp -aL "$file" "$root$file"
    # A folder's shared objects (e.g. Python's lib-dynload) bring their libraries too.
    for linked in $(find "$file" -type f \( -path "$file" -o -name '*.so*' \)); do
      for lib in $(ldd "$linked" 2>/dev/null | grep -oE '/[^ ]+'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -Ln "$lib" "$root$lib"
      done
    done
  done
  if ! tar -C "$root" -c . | docker import --change "CMD [\"$first\"]" - "$tag" >/dev/null; then
    _pt_docker_log "docker import of image $tag failed"
    rm -rf "$root"
    return 1
  fi
  rm -rf "$root"
}
