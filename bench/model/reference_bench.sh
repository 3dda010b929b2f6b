#!/usr/bin/env bash
# End-to-end prefill (pp512) and decode (tg128) speed on the reference models listed in
# ../shared/reference/BENCH.md, printed beside llama.cpp's numbers from that file.
# Usage: bench/model/reference_bench.sh [BUILD_DIR] [THREADS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
threads=${2:-2}
reps=${3:-5}
shared=${MOESCOPE_SHARED_DIR:-../shared}
bench_md="$shared/reference/BENCH.md"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| model | pp512 moescope | pp512 llama.cpp | tg128 moescope | tg128 llama.cpp |\n|---|---:|---:|---:|---:|\n'
for model in $(awk -F'|' '/^\| [a-z]/ && $2 !~ /model/ {gsub(/ /, "", $2); print $2}' "$bench_md"); do
  json=$("$build/app/moescope" bench --model "$shared/reference/models/$model.gguf" \
         -p 512 -n 128 -t "$threads" -r "$reps" --json 2>/dev/null)
  ours=$(python3 -c '
import json, sys
runs = json.loads(sys.stdin.read())
runs = runs if isinstance(runs, list) else runs.get("results", runs.get("runs", []))
get = lambda kind: next(r for r in runs if r.get("test", "").startswith(kind))
fmt = lambda r: "%.0f ± %.0f" % (r["avg_ts"], r["stddev_ts"])
print(fmt(get("pp")) + "|" + fmt(get("tg")))' <<<"$json")
  ref=$(awk -F'|' -v m="$model" '{gsub(/ /, "", $2)} $2 == m {print $4 "|" $5}' "$bench_md")
  printf '| %s | %s | %s | %s | %s |\n' "$model" "${ours%%|*}" "$(echo "${ref%%|*}" | xargs)" \
    "${ours##*|}" "$(echo "${ref##*|}" | xargs)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
