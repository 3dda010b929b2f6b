#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup-deps.sh
tools/build.sh
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 600
if command -v clang++ >/dev/null 2>&1; then
  tools/fuzz.sh "${MOESCOPE_FUZZ_SECONDS:-60}"
fi
