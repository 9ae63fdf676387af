# Sourced by the install-*.sh scripts: Debian packages fetched into a temporary folder and unpacked with
# `dpkg -x` into the project's .tools/, never installed system-wide.

# debian_work_dir TOOL: checks for apt-get and dpkg, makes $WORK (removed on exit) writable by apt's
# unprivileged _apt user, and changes into it.
debian_work_dir() {
  command -v apt-get >/dev/null || { echo "$1: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }
  command -v dpkg >/dev/null || { echo "$1: dpkg not found" >&2; exit 1; }
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  if [[ "$(id -u)" == 0 ]] && id _apt >/dev/null 2>&1; then
    chown _apt "$WORK"
  fi
  cd "$WORK"
}

# debian_download TOOL PACKAGE...: `apt-get download` into the current folder; the package lists may be
# missing or stale on a fresh machine, so they are refreshed once and the download retried.
debian_download() {
  local tool="$1"
  shift
  if ! apt-get download "$@" >&2; then
    echo "$tool: refreshing the package lists (apt-get update)" >&2
    apt-get update >&2
    apt-get download "$@" >&2
  fi
}
