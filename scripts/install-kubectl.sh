#!/usr/bin/env bash
# Install the kubectl that renders and checks deploy/ into the project folder .tools/kubectl/.
#
# It takes Debian's `kubernetes-client` package (kubectl 1.20, whose `kubectl kustomize` is the
# kustomize v2 the manifests are written for), downloads it with `apt-get download` and unpacks it
# with `dpkg -x`: nothing is installed system-wide, and a kubectl already on the machine is never
# touched or replaced. Idempotent: a second run only prints the path.
#
# Usage: scripts/install-kubectl.sh   -> prints the absolute path of the kubectl binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${KUBECTL_TOOLS_DIR:-$ROOT/.tools/kubectl}"
PACKAGE="kubernetes-client"
BIN="$DEST/usr/bin/kubectl"

if [[ -x "$BIN" ]] && "$BIN" version --client >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

source "$ROOT/scripts/debian-packages.sh"
debian_work_dir install-kubectl
debian_download install-kubectl "$PACKAGE"

DEB="$(ls -1 "$WORK"/"$PACKAGE"_*.deb | head -n 1)"
rm -rf "$DEST"
mkdir -p "$DEST"
dpkg -x "$DEB" "$DEST"
dpkg-deb -f "$DEB" Version >"$DEST/VERSION"

if [[ ! -x "$BIN" ]]; then
  echo "install-kubectl: $BIN missing after unpacking $(basename "$DEB")" >&2
  exit 1
fi
"$BIN" version --client >&2
echo "$BIN"
