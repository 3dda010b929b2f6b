#!/usr/bin/env bash
# Stress test of the trace's promises with the real binary: nothing committed is lost, nothing
# crashes, no trace is deleted.
#   tools/stress.sh [--kills N] [--writers N] [--corruptions N] [--binary PATH] [--model GGUF]
# 1. N recordings into one trace, each killed with SIGKILL at a random moment: the tokens a reader
#    saw committed just before the kill must still be there, and the trace must open.
# 2. Concurrent writers (records creating and appending to one new trace) and readers (runs,
#    replay, report, export) on it: every writer succeeds, no reader crashes or calls it damaged.
# 3. Random byte corruptions of a trace: runs, replay, report and export exit 0, 1 or 2 with at
#    most one line of error, within a timeout, and leave no temporary file.
# Prints the counts and exits 1 when anything was lost, crashed, hung or deleted.
set -uo pipefail
cd "$(dirname "$0")/.."

kills=20 writers=4 corruptions=100
binary=build/app/moescope
model=resources/models/moescope-default-q8_0.gguf
while [ $# -gt 0 ]; do
  case $1 in
    --kills) kills=$2; shift 2 ;;
    --writers) writers=$2; shift 2 ;;
    --corruptions) corruptions=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "usage: $0 [--kills N] [--writers N] [--corruptions N] [--binary PATH] [--model GGUF]" >&2
       exit 2 ;;
  esac
done
command -v sqlite3 >/dev/null || { echo "stress: needs the sqlite3 command (apt-get install sqlite3)" >&2; exit 2; }
[ -x "$binary" ] || { echo "stress: no binary $binary (build app/moescope first)" >&2; exit 2; }
binary=$(realpath "$binary")
model=$(realpath "$model")
work=$(mktemp -d /tmp/moescope-stress-XXXXXX)
trap 'rm -rf "$work"' EXIT

lost=0 crashes=0 deleted=0 hangs=0 unopenable=0 writer_failures=0 damaged=0 multiline=0 leftovers=0
reader_runs=0 command_runs=0

# Records with a slow emulated link, so that a run lasts seconds.
record() {  # TRACE [extra flags]
  local trace=$1; shift
  "$binary" record --trace "$trace" --model "$model" --quiet --temp 0 --threads 1 \
    --prompt "The quick brown fox jumps over the lazy dog" -n 200 --link emmc \
    --link-bandwidth 40MB/s "$@"
}

count() {  # TRACE SQL: one number from a read-only connection ("" when the query fails)
  sqlite3 -readonly -cmd ".timeout 5000" "$1" "$2" 2>/dev/null
}

# A command of ours that ends with a signal (a code above 128) crashed, unless we sent it.
check_exit() {  # CODE WHAT
  if [ "$1" -ge 124 ]; then
    if [ "$1" -eq 124 ]; then hangs=$((hangs + 1)); else crashes=$((crashes + 1)); fi
    echo "  $2: exit $1" >&2
  fi
}

# ---- 1. SIGKILL during recording ----------------------------------------------------------------
trace=$work/killed.sqlite
for ((i = 1; i <= kills; i++)); do
  record "$trace" >/dev/null 2>&1 &
  pid=$!
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.05 + (r % 1500) / 1000 }')"
  # What a reader sees committed of every run right now, then the kill.
  before=$(count "$trace" "SELECT count(*) FROM tokens")
  runs_before=$(count "$trace" "SELECT count(*) FROM runs")
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ ! -e "$trace" ]; then
    [ -n "$runs_before" ] && [ "$runs_before" -gt 0 ] && deleted=$((deleted + 1))
    continue
  fi
  after=$(count "$trace" "SELECT count(*) FROM tokens")
  if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -lt "$before" ]; then
    lost=$((lost + before - after))
  fi
  timeout 60 "$binary" runs --trace "$trace" >/dev/null 2>&1
  code=$?
  check_exit $code "runs after kill $i"
  [ $code -ne 0 ] && unopenable=$((unopenable + 1))
  timeout 120 "$binary" replay --trace "$trace" --quiet >/dev/null 2>&1
  check_exit $? "replay after kill $i"
done
echo "kills: $kills SIGKILLs, lost committed tokens $lost, traces that do not open $unopenable"

# ---- 2. concurrent writers and readers -----------------------------------------------------------
trace=$work/shared.sqlite
pids=()
for ((i = 0; i < writers; i++)); do
  record "$trace" >"$work/writer$i.log" 2>&1 &
  pids+=($!)
done
readers_done=$work/readers.done
(
  n=0
  while [ ! -e "$readers_done" ]; do
    for cmd in "runs --trace $trace" "replay --trace $trace --quiet" \
               "report --trace $trace --out $work/live.html --quiet" \
               "export --trace $trace --format json --out $work/live.json --quiet"; do
      # shellcheck disable=SC2086
      timeout 120 "$binary" $cmd >/dev/null 2>"$work/reader.err"
      code=$?
      n=$((n + 1))
      if [ $code -ge 124 ]; then echo "crash $code: $cmd"; fi
      grep -q "damaged" "$work/reader.err" && echo "damaged: $cmd: $(head -c 300 "$work/reader.err")"
    done
  done
  echo "reads $n"
) >"$work/readers.log" &
reader_pid=$!
for pid in "${pids[@]}"; do
  wait "$pid" || writer_failures=$((writer_failures + 1))
done
touch "$readers_done"
wait "$reader_pid"
reader_runs=$(sed -n 's/^reads //p' "$work/readers.log")
reader_crashes=$(grep -c "^crash" "$work/readers.log")
damaged=$(grep -c "^damaged" "$work/readers.log")
crashes=$((crashes + reader_crashes))
grep -h "^crash\|^damaged" "$work/readers.log" >&2
if [ ! -e "$trace" ]; then
  deleted=$((deleted + 1))
  complete=0
else
  complete=$(count "$trace" "SELECT count(*) FROM runs WHERE status = 'complete'")
fi
[ "$writer_failures" -gt 0 ] && cat "$work"/writer*.log >&2
echo "concurrent: $writers writers ($writer_failures failed, $complete complete runs), $reader_runs reads ($reader_crashes crashed, $damaged called it damaged)"

# ---- 3. random corruptions --------------------------------------------------------------------------
pristine=$work/pristine.sqlite
"$binary" record --trace "$pristine" --model "$model" --quiet --temp 0 --threads 1 \
  --prompt "Once upon a time" -n 48 >/dev/null 2>&1
out=$work/out
for ((i = 1; i <= corruptions; i++)); do
  rm -rf "$out"
  mkdir -p "$out"
  bad=$out/bad.sqlite
  cp "$pristine" "$bad"
  python3 - "$bad" "$i" <<'EOF'
import random, sys
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
data = bytearray(open(path, 'rb').read())
for _ in range(rng.choice([1, 1, 2, 4, 16])):
    at = rng.randrange(len(data))
    data[at] ^= 1 << rng.randrange(8)
open(path, 'wb').write(data)
EOF
  for cmd in "runs --trace $bad" "replay --trace $bad --quiet" \
             "report --trace $bad --out $out/r.html --quiet" \
             "report --trace $bad --out $out/r.pdf --quiet" \
             "export --trace $bad --format json --out $out/e.json --quiet"; do
    # shellcheck disable=SC2086
    timeout 120 "$binary" $cmd >/dev/null 2>"$out/err"
    code=$?
    command_runs=$((command_runs + 1))
    check_exit $code "corruption $i: $cmd"
    if [ $code -ne 0 ] && [ "$(wc -l <"$out/err")" -gt 1 ]; then
      multiline=$((multiline + 1))
      echo "  corruption $i: $cmd: $(head -c 300 "$out/err")" >&2
    fi
  done
  left=$(find "$out" -name '.*' -type f | wc -l)
  leftovers=$((leftovers + left))
done
echo "corruptions: $corruptions files, $command_runs command runs, $multiline multi-line errors, $leftovers temporaries left"

echo "total: lost committed tokens $lost, crashes $crashes, hangs $hangs, deleted traces $deleted, damaged-while-live $damaged, writer failures $writer_failures"
[ $((lost + crashes + hangs + deleted + damaged + writer_failures + unopenable + multiline + leftovers)) -eq 0 ]
