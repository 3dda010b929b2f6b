#!/usr/bin/env bash
# Builds the libFuzzer target for the GGUF reader with clang (ASan + UBSan) in build-fuzz/ and runs
# it for SECONDS (default 60) from a seed corpus of small valid files made by GgufWriter.
# Usage: tools/fuzz.sh [SECONDS]. Exits non-zero if the fuzzer finds a crash; the reproducer is
# written to build-fuzz/artifacts/ (replay it with: build-fuzz/tests/fuzz/gguf_fuzz FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_SECONDS=${1:-60}
BUILD_DIR=${MOESCOPE_FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2
  exit 1
fi

# Re-configuring is quick and keeps the flags in step with this script.
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMOESCOPE_BUILD_FUZZ=ON -DMOESCOPE_BUILD_GUI=OFF -DMOESCOPE_BUILD_TESTS=OFF \
  -DMOESCOPE_BUILD_BENCH=OFF -DMOESCOPE_SANITIZE=address,undefined \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" >/dev/null
cmake --build "$BUILD_DIR" --target gguf_fuzz gguf_fuzz_seeds

SEEDS="$BUILD_DIR/fuzz/seeds"
CORPUS="$BUILD_DIR/fuzz/corpus"  # grows across runs
ARTIFACTS="$BUILD_DIR/fuzz/artifacts"
LOG="$BUILD_DIR/fuzz/gguf_fuzz.log"
rm -rf "$SEEDS"
mkdir -p "$SEEDS" "$CORPUS" "$ARTIFACTS"
"$BUILD_DIR/tests/fuzz/gguf_fuzz_seeds" "$SEEDS"

echo "== fuzzing the GGUF reader for ${RUN_SECONDS}s (log: $LOG)"
status=0
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  "$BUILD_DIR/tests/fuzz/gguf_fuzz" -max_total_time="$RUN_SECONDS" -max_len=8192 -timeout=10 \
  -rss_limit_mb=2048 -dict=tests/fuzz/gguf.dict -artifact_prefix="$ARTIFACTS/" \
  -print_final_stats=1 "$CORPUS" "$SEEDS" >"$LOG" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
  tail -n 80 "$LOG" >&2
  echo "fuzz.sh: gguf_fuzz FAILED (exit $status); reproducer in $ARTIFACTS/" >&2
  exit "$status"
fi
grep -E "^Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb" "$LOG" || true
echo "== gguf_fuzz: no crash; corpus $(find "$CORPUS" -type f | wc -l) files"
