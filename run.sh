#!/usr/bin/env bash
# Installs what is missing, builds, and runs MoEScope's main job on the built-in default model:
# with a display, the desktop app; without one (or with MOESCOPE_HEADLESS=1), it records a
# generation (25 % of the experts in fast memory, an emulated NVMe link) into
# out/default-run.sqlite and writes its HTML report to out/report.html.
# Arguments go to the app, or to `moescope record` in the headless job.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup-deps.sh
tools/build.sh
BIN=build/app/moescope

if [ -z "${MOESCOPE_HEADLESS:-}" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$BIN" "$@"
fi

mkdir -p out
TRACE=out/default-run.sqlite
REPORT=out/report.html
rm -f "$TRACE" "$TRACE-wal" "$TRACE-shm"
"$BIN" record --trace "$TRACE" --prompt "It is a truth universally acknowledged, that" \
  -n 128 --seed 42 --link nvme "$@"
"$BIN" report --trace "$TRACE" --out "$REPORT"
echo "trace:  $(realpath "$TRACE")"
echo "report: $(realpath "$REPORT")"
