#!/usr/bin/env bash
# Configures (once) and builds the release tree in build/. Quick when nothing changed.
# MOESCOPE_WERROR=ON|OFF in the environment sets the CMake option of that name (warnings as errors;
# ./test.sh sets ON) and reconfigures an existing tree whose setting differs; unset, the tree keeps
# what it has.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${MOESCOPE_BUILD_DIR:-build}
werror=()
[ -n "${MOESCOPE_WERROR:-}" ] && werror=("-DMOESCOPE_WERROR=$MOESCOPE_WERROR")
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${werror[@]}" "$@"
elif [ -n "${MOESCOPE_WERROR:-}" ] &&
  ! grep -qx "MOESCOPE_WERROR:BOOL=$MOESCOPE_WERROR" "$BUILD_DIR/CMakeCache.txt"; then
  cmake -S . -B "$BUILD_DIR" "${werror[@]}" "$@" >/dev/null
fi
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
