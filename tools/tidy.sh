#!/usr/bin/env bash
# Runs clang-tidy with the checks of .clang-tidy over the project's own sources (app, views,
# storage, engine; their headers through HeaderFilterRegex), using build/compile_commands.json.
#
#   tools/tidy.sh            every source file (about 20 minutes of CPU: a separate CI stage)
#   tools/tidy.sh BASE       only the source files changed since BASE (a commit or branch)
#   tools/tidy.sh FILE...    the given source files
#
# Needs a configured and built tree in build/ (generated Qt headers); MOESCOPE_BUILD_DIR
# overrides. Runs nproc files at a time; exits 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "$(basename "$0"): not a git checkout; skipped"
  exit 0
fi
BUILD_DIR=${MOESCOPE_BUILD_DIR:-build}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
DIRS=(app views storage engine)

if ! command -v "$CLANG_TIDY" >/dev/null 2>&1; then
  echo "tidy.sh: $CLANG_TIDY not found (apt-get install clang-tidy)" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  echo "tidy.sh: $BUILD_DIR/compile_commands.json is missing (run tools/build.sh first)" >&2
  exit 1
fi

files=()
if [ $# -eq 0 ]; then
  mapfile -t files < <(git ls-files "${DIRS[@]/%//*.cpp}")
elif [ $# -eq 1 ] && git rev-parse --verify --quiet "$1^{commit}" >/dev/null; then
  mapfile -t files < <(git diff --name-only --diff-filter=d "$1" -- "${DIRS[@]/%//*.cpp}")
else
  files=("$@")
fi
# Only files that the build compiles (a GUI-less build has no app/ or views/ entries).
compiled=()
for f in "${files[@]}"; do
  grep -q "\"file\": \"[^\"]*/$f\"" "$BUILD_DIR/compile_commands.json" && compiled+=("$f")
done
if [ ${#compiled[@]} -eq 0 ]; then
  echo "tidy.sh: no source file to check"
  exit 0
fi

echo "== clang-tidy over ${#compiled[@]} files"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
printf '%s\0' "${compiled[@]}" |
  xargs -0 -n 1 -P "$(nproc)" "$CLANG_TIDY" -p "$BUILD_DIR" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1 || status=$?
grep -E "(warning|error): " "$log" | sort -u || true
if [ "$status" -ne 0 ]; then
  echo "tidy.sh: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "tidy.sh: ${#compiled[@]} files clean"
