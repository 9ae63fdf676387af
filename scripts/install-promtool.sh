#!/usr/bin/env bash
# Install the promtool that checks the alerting rules of deploy/observability/ into the project folder
# .tools/prometheus/.
#
# It takes Debian's `prometheus` package (Prometheus 2.42, whose promtool checks and unit-tests rule
# files), downloads it with `apt-get download` and unpacks it with `dpkg -x`: nothing is installed
# system-wide and no Prometheus server is started. Idempotent: a second run only prints the path.
#
# Usage: scripts/install-promtool.sh   -> prints the absolute path of the promtool binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${PROMTOOL_TOOLS_DIR:-$ROOT/.tools/prometheus}"
PACKAGE="prometheus"
BIN="$DEST/usr/bin/promtool"

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

command -v apt-get >/dev/null || { echo "install-promtool: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }
command -v dpkg >/dev/null || { echo "install-promtool: dpkg not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# apt fetches as its unprivileged _apt user where it can: let that user write the download.
if [[ "$(id -u)" == 0 ]] && id _apt >/dev/null 2>&1; then
  chown _apt "$WORK"
fi
cd "$WORK"

# apt-get download fetches into the current folder; the package lists may be missing or stale
# on a fresh machine, so refresh them once and retry.
if ! apt-get download "$PACKAGE" >&2; then
  echo "install-promtool: refreshing the package lists (apt-get update)" >&2
  apt-get update >&2
  apt-get download "$PACKAGE" >&2
fi

DEB="$(ls -1 "$WORK"/"$PACKAGE"_*.deb | head -n 1)"
# Only promtool is kept: the package also holds the server and its web assets (about 90 MB).
dpkg -x "$DEB" "$WORK/unpacked"
rm -rf "$DEST"
mkdir -p "$DEST/usr/bin"
cp "$WORK/unpacked/usr/bin/promtool" "$BIN"
dpkg-deb -f "$DEB" Version >"$DEST/VERSION"

if [[ ! -x "$BIN" ]]; then
  echo "install-promtool: $BIN missing after unpacking $(basename "$DEB")" >&2
  exit 1
fi
"$BIN" --version >&2
echo "$BIN"
