#!/usr/bin/env bash
# Checks the C++ formatting against .clang-format (clang-format 14, Debian 12).
#
#   tools/check_format.sh            every tracked .cpp/.h file except those listed in
#                                    tools/format_baseline.txt (files that predate the check and
#                                    are not reformatted in one sweep, so that open branches merge)
#   tools/check_format.sh BASE       only the lines changed since BASE (a commit or branch, e.g.
#                                    main), baseline files included: run it before you commit
#   tools/check_format.sh --fix      reformats the failing files of the first form in place
#
# Prints one line per file that differs and exits 1 if any does. A baseline file that is formatted
# by now gets a note, so that its line can go (the list only shrinks).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "$(basename "$0"): not a git checkout; skipped"
  exit 0
fi
BASELINE=tools/format_baseline.txt
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}

if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
  echo "check_format.sh: $CLANG_FORMAT not found (apt-get install clang-format)" >&2
  exit 1
fi

if [ $# -ge 1 ] && [ "$1" != --fix ]; then
  # Changed lines only: clang-format-diff reformats just the hunks of the diff.
  base=$1
  diff_tool=$(command -v clang-format-diff || command -v clang-format-diff-14 || true)
  if [ -z "$diff_tool" ]; then
    echo "check_format.sh: clang-format-diff not found (apt-get install clang-format)" >&2
    exit 1
  fi
  out=$(git diff -U0 --no-color "$base" -- '*.cpp' '*.h' | "$diff_tool" -p1 -binary "$CLANG_FORMAT")
  if [ -n "$out" ]; then
    printf '%s\n' "$out"
    echo "check_format.sh: the lines changed since $base are not formatted (the diff above fixes them)" >&2
    exit 1
  fi
  echo "check_format.sh: the lines changed since $base are formatted"
  exit 0
fi

fix=0
[ "${1:-}" = --fix ] && fix=1
declare -A baseline=()
if [ -f "$BASELINE" ]; then
  while IFS= read -r f; do
    [ -n "$f" ] && [ "${f#\#}" = "$f" ] && baseline["$f"]=1
  done <"$BASELINE"
fi

bad=0 checked=0
while IFS= read -r f; do
  [ -f "$f" ] || continue
  checked=$((checked + 1))
  if "$CLANG_FORMAT" --dry-run -Werror "$f" >/dev/null 2>&1; then
    if [ -n "${baseline[$f]:-}" ]; then
      echo "note: $f is formatted now; delete its line from $BASELINE"
    fi
  elif [ -z "${baseline[$f]:-}" ]; then
    if [ "$fix" = 1 ]; then
      "$CLANG_FORMAT" -i "$f"
      echo "$f: reformatted"
    else
      echo "$f: not formatted (clang-format -i $f)"
      bad=$((bad + 1))
    fi
  fi
done < <(git ls-files '*.cpp' '*.h')

if [ "$bad" -gt 0 ]; then
  echo "check_format.sh: $bad of $checked files need attention (tools/check_format.sh --fix)" >&2
  exit 1
fi
echo "check_format.sh: $checked files checked, ${#baseline[@]} in the baseline, all as expected"
