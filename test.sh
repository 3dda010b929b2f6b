#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, runs the whole test suite (with it the
# no-function-over-120-lines rule, ctest LongFunctions), then the checks of docs/ci.md: formatting,
# clang-tidy on the files changed by the last commit, and a short fuzzing run of the GGUF reader;
# with MOESCOPE_SANITIZE_STAGE=1 also ASan + UBSan (tools/sanitize.sh address).
# Every check runs even when an earlier one failed; the exit code is 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup-deps.sh
MOESCOPE_WERROR=ON tools/build.sh

failed=()
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    echo "== $name: passed ($((SECONDS - start)) s)"
  else
    echo "== $name: FAILED ($((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

stage "format" tools/check_format.sh
# The commit's own files; the whole tree is the separate stage `tools/tidy.sh` (docs/ci.md).
if base=$(git rev-parse --verify --quiet "${MOESCOPE_TIDY_BASE:-HEAD~1}^{commit}"); then
  stage "clang-tidy (files changed since ${MOESCOPE_TIDY_BASE:-HEAD~1})" tools/tidy.sh "$base"
fi
stage "tests" ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 600
if command -v clang++ >/dev/null 2>&1; then
  stage "fuzz" tools/fuzz.sh "${MOESCOPE_FUZZ_SECONDS:-60}"
fi
# ASan + UBSan over the engine and storage tests: a build of its own (build-asan/), so a separate
# stage unless asked for (docs/ci.md has its cost).
if [ "${MOESCOPE_SANITIZE_STAGE:-0}" = 1 ]; then
  stage "asan+ubsan" tools/sanitize.sh address
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'test.sh: FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
