#!/usr/bin/env bash
# Configures (once) and builds the release tree in build/. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${MOESCOPE_BUILD_DIR:-build}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
