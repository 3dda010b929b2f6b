#!/usr/bin/env bash
# Builds the engine and storage tests with sanitizers and runs them:
#   tools/sanitize.sh address   ASan + UBSan over every engine/storage test (build-asan/)
#   tools/sanitize.sh thread    TSan over the tests that exercise engine threads (build-tsan/)
#   tools/sanitize.sh           both
set -euo pipefail
cd "$(dirname "$0")/.."

run_one() {
  local kind=$1 dir=$2 sanitizers=$3 filter=$4
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOESCOPE_BUILD_GUI=OFF \
      -DMOESCOPE_BUILD_BENCH=OFF "-DMOESCOPE_SANITIZE=$sanitizers" >/dev/null
  fi
  cmake --build "$dir" --parallel "$(nproc)"
  echo "== $kind sanitizer tests"
  # halt_on_error makes any report fail the test that produced it.
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc)" --timeout 900 ${filter:+-R "$filter"}
}

what=${1:-all}
if [ "$what" = address ] || [ "$what" = all ]; then
  run_one address build-asan address,undefined ""
fi
if [ "$what" = thread ] || [ "$what" = all ]; then
  run_one thread build-tsan thread "ThreadPool|Offload|Store|Loader|Writer|Storage|Kernel"
fi
