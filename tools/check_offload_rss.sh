#!/usr/bin/env bash
# Checks the offloading memory bound: with experts offloaded, peak RSS stays within
#   non-expert weights + expert budget (arena) + a small fixed overhead
# on a synthetic MoE whose experts are several times the budget. Peak RSS is measured with
# /usr/bin/time -v. Usage: tools/check_offload_rss.sh [BUILD_DIR] [WORK_DIR]
# BUILD_DIR must have the targets make_synthetic_model and offload_probe built (every
# configuration defines them: cmake --build BUILD_DIR --target make_synthetic_model offload_probe).
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-${TMPDIR:-/tmp}/moescope-rss}
BUDGET=${BUDGET:-128MiB}
# Fixed overhead: code and libraries, threads, KV cache, activations, the store's scratch buffers
# (2 experts) and, for packs, one compressed frame.
OVERHEAD_MIB=${OVERHEAD_MIB:-32}
GEN=$BUILD/tools/make_synthetic_model/make_synthetic_model
PROBE=$BUILD/tools/make_synthetic_model/offload_probe
[[ -x /usr/bin/time ]] || { echo "install the 'time' package (GNU time)" >&2; exit 2; }
[[ -x $GEN && -x $PROBE ]] || { echo "build make_synthetic_model and offload_probe in $BUILD" >&2; exit 2; }
mkdir -p "$WORK"
MODEL=$WORK/synthetic-moe.gguf
PACK=$WORK/synthetic-moe.mxp
if [[ ! -f $MODEL ]]; then
  "$GEN" --out "$MODEL" --layers 8 --embd 1024 --ff 1536 --experts 16 --used 2 --vocab 512 >/dev/null
fi

value() { grep "^$1=" <<<"$2" | cut -d= -f2; }

# run NAME ARGS...: prints one table row; returns 1 if an offloaded run breaks the bound.
run() {
  local name=$1
  shift
  local out rss
  out=$( { /usr/bin/time -v "$PROBE" "$MODEL" --prompt 16 --decode 16 --threads 2 "$@" 2>"$WORK/time.txt"; } )
  rss=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
  local expert non_expert budget arena
  expert=$(value expert_bytes "$out")
  non_expert=$(value non_expert_bytes "$out")
  budget=$(value budget_bytes "$out")
  budget=${budget:-$expert}
  arena=$(value arena_bytes "$out")
  arena=${arena:-$expert}
  local bound_kib=$(( (non_expert + budget) / 1024 + OVERHEAD_MIB * 1024 ))
  local verdict=ok
  if [[ $name != resident && $rss -gt $bound_kib ]]; then verdict=EXCEEDED; fi
  printf "%-14s experts %4d MiB  non-expert %3d MiB  budget %4d MiB  arena %4d MiB  peak RSS %4d MiB  bound %4d MiB  %8s tok/s  %s\n" \
    "$name" $((expert >> 20)) $((non_expert >> 20)) $((budget >> 20)) $((arena >> 20)) $((rss / 1024)) \
    $((bound_kib / 1024)) "$(value decode_tok_s "$out")" "$verdict"
  [[ $verdict == ok ]]
}

status=0
run resident || status=1
run lru-per-layer --expert-budget "$BUDGET" --policy lru || status=1
run lru-global --expert-budget "$BUDGET" --policy lru-global || status=1
run lru-prefetch --expert-budget "$BUDGET" --policy lru --prefetch same-prev || status=1
[[ -f $PACK ]] || "$PROBE" "$MODEL" --write-pack "$PACK" >/dev/null
run lru-pack --expert-budget "$BUDGET" --policy lru --expert-pack "$PACK" || status=1
exit $status
