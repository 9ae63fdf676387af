#!/usr/bin/env bash
# Install the headless Chromium that renders `troupe report` pages in the tests into the project folder
# .tools/chromium/.
#
# A Chromium or Chrome already on the PATH is used as it is (the script only links it). Otherwise it takes
# Debian's `chromium` package and those of its dependencies the machine lacks (what `apt-get install
# --simulate` would install), downloads them with `apt-get download` and unpacks them with `dpkg -x`;
# a wrapper, .tools/chromium/chromium, points the loader at the unpacked libraries. Nothing is installed
# system-wide. Idempotent: a second run only prints the path.
#
# Usage: scripts/install-chromium.sh   -> prints the absolute path of the chromium command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${CHROMIUM_TOOLS_DIR:-$ROOT/.tools/chromium}"
BIN="$DEST/chromium"

works() {
  "$1" --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1
}

if [[ -x "$BIN" ]] && works "$BIN"; then
  echo "$BIN"
  exit 0
fi

for name in chromium chromium-browser google-chrome google-chrome-stable; do
  if FOUND="$(command -v "$name")" && works "$FOUND"; then
    rm -rf "$DEST"
    mkdir -p "$DEST"
    ln -s "$FOUND" "$BIN"
    echo "system: $FOUND" >"$DEST/VERSION"
    echo "$BIN"
    exit 0
  fi
done

source "$ROOT/scripts/debian-packages.sh"
debian_work_dir install-chromium

missing() {
  apt-get install --simulate --no-install-recommends chromium 2>/dev/null | awk '/^Inst /{print $2}'
}

# The package lists may be missing or stale on a fresh machine: refresh them once and retry.
PACKAGES="$(missing || true)"
if [[ -z "$PACKAGES" ]] || ! apt-get download $PACKAGES >&2; then
  echo "install-chromium: refreshing the package lists (apt-get update)" >&2
  apt-get update >&2
  PACKAGES="$(missing)"
  [[ -n "$PACKAGES" ]] || { echo "install-chromium: apt offers no chromium package" >&2; exit 1; }
  apt-get download $PACKAGES >&2
fi

rm -rf "$DEST"
mkdir -p "$DEST/root"
for deb in "$WORK"/*.deb; do
  dpkg -x "$deb" "$DEST/root"
done
dpkg-deb -f "$WORK"/chromium_*.deb Version >"$DEST/VERSION"

LIBRARY_DIRS="$(find "$DEST/root" -name '*.so*' -printf '%h\n' | sort -u | tr '\n' ':')"
cat >"$BIN" <<EOF
#!/usr/bin/env bash
# Debian's chromium, unpacked by scripts/install-chromium.sh with the libraries this machine lacked.
export LD_LIBRARY_PATH="${LIBRARY_DIRS}\${LD_LIBRARY_PATH:-}"
exec "$DEST/root/usr/lib/chromium/chromium" "\$@"
EOF
chmod +x "$BIN"

if ! works "$BIN"; then
  echo "install-chromium: $BIN does not start:" >&2
  "$BIN" --headless --no-sandbox --disable-gpu --version >&2 || true
  exit 1
fi
"$BIN" --headless --no-sandbox --disable-gpu --version >&2
echo "$BIN"
