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

source "$ROOT/scripts/debian-packages.sh"
debian_work_dir install-promtool
debian_download install-promtool "$PACKAGE"

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
