#!/usr/bin/env bash
# Build llama.cpp's `llama-server` (MIT) into the project folder .tools/llama-server/.
#
# The embedded model runs behind it: it decodes several requests at once (parallel slots with
# continuous batching) and takes OpenAI's `json_schema` response format. The sources are the
# llama.cpp that the pinned llama-cpp-python sdist vendors (vendor/llama.cpp), fetched from PyPI with
# `pip download` and checked against their sha256. Only the server target is built: Release, static,
# no web UI, no HTTPS, no curl. About 4 minutes on two cores, once: a second run finds the binary
# and only prints its path.
#
# One line of the sources changes: the whitespace its JSON-schema grammars allow between tokens,
# from up to two newlines and twenty tabs or spaces to one optional space (as llama-cpp-python's own
# converter has it). Given the room, a small model such as Gemma 3 270M fills its answer with
# whitespace until `max_tokens` cuts it.
#
# Usage: scripts/install-llama-server.sh   -> prints the absolute path of the llama-server binary.
# LLAMA_SERVER_TOOLS_DIR overrides the destination, LLAMA_SERVER_BUILD_JOBS the parallel jobs (2).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${LLAMA_SERVER_TOOLS_DIR:-$ROOT/.tools/llama-server}"
BIN="$DEST/bin/llama-server"
JOBS="${LLAMA_SERVER_BUILD_JOBS:-2}"
# The same version as the `embedded` extra in pyproject.toml (tests/llm/test_embedded.py checks it).
LLAMA_CPP_PYTHON_VERSION="0.3.36"
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
STAMP="llama-cpp-python $LLAMA_CPP_PYTHON_VERSION vendor/llama.cpp, compact JSON whitespace, portable CPU"
# Not `-march=native`: a machine may announce CPU features its virtual machine does not let a process use
# (AMX tiles), and the native build then dies on its first matrix. On x86-64 the build targets AVX2, FMA
# and F16C (x86-64-v3), which every machine with AVX2 runs; elsewhere the compiler's defaults.
CPU_FLAGS=(-DGGML_NATIVE=OFF)
if [[ "$(uname -m)" == "x86_64" ]] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  CPU_FLAGS+=(-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON)
fi

if [[ -x "$BIN" && "$(cat "$DEST/VERSION" 2>/dev/null)" == "$STAMP" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi

for tool in cmake c++ tar; do
  command -v "$tool" >/dev/null || { echo "install-llama-server: $tool not found" >&2; exit 1; }
done
PIP="$ROOT/.venv/bin/pip"
[[ -x "$PIP" ]] || PIP="python3 -m pip"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
started=$SECONDS

echo "install-llama-server: fetching the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist" >&2
echo "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION --hash=sha256:$SDIST_SHA256" >"$WORK/requirements.txt"
$PIP download --quiet --no-deps --no-binary :all: --require-hashes -r "$WORK/requirements.txt" \
  -d "$WORK/sdist" >&2
SDIST="$(ls -1 "$WORK"/sdist/llama_cpp_python-*.tar.gz | head -n 1)"

mkdir -p "$WORK/src"
tar -xzf "$SDIST" -C "$WORK/src" --strip-components=3 \
  "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"

GRAMMAR_SOURCE="$WORK/src/common/json-schema-to-grammar.cpp"
COMPACT_SPACE='const std::string SPACE_RULE = "\" \"?";'
COMPACT_SPACE="$COMPACT_SPACE" awk '/^const std::string SPACE_RULE = / { print ENVIRON["COMPACT_SPACE"]; next } { print }' \
  "$GRAMMAR_SOURCE" >"$GRAMMAR_SOURCE.patched"
mv "$GRAMMAR_SOURCE.patched" "$GRAMMAR_SOURCE"
grep -qxF "$COMPACT_SPACE" "$GRAMMAR_SOURCE" \
  || { echo "install-llama-server: the SPACE_RULE of $GRAMMAR_SOURCE was not found" >&2; exit 1; }

echo "install-llama-server: building llama-server with $JOBS jobs (a few minutes)" >&2
cmake -S "$WORK/src" -B "$WORK/build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF \
  "${CPU_FLAGS[@]}" >"$WORK/configure.log" 2>&1 \
  || { tail -n 40 "$WORK/configure.log" >&2; exit 1; }
cmake --build "$WORK/build" --target llama-server -j "$JOBS" >"$WORK/build.log" 2>&1 \
  || { tail -n 60 "$WORK/build.log" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST/bin"
cp "$WORK/build/bin/llama-server" "$BIN"
cp "$WORK/src/LICENSE" "$DEST/LICENSE"
echo "$STAMP" >"$DEST/VERSION"
"$BIN" --version >&2 || { echo "install-llama-server: $BIN does not run" >&2; exit 1; }
echo "install-llama-server: built in $((SECONDS - started)) s" >&2
echo "$BIN"
