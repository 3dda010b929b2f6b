#!/usr/bin/env bash
# Takes the screenshots in docs/screenshots/: starts the desktop app under Xvfb (a real X server,
# not the offscreen platform) with the built-in model, generates twice (recorded into a temporary
# trace), and saves the main window, token tooltips, every view, the prefetcher list, the window
# in German and Chinese, and the two runs compared in the Traces view (moescope --screenshots DIR;
# app/gui/screenshot_tour.h).
#
#   tools/screenshots.sh [OUT_DIR]        (default docs/screenshots)
# Environment: MOESCOPE_BUILD_DIR (default build), MOESCOPE_MODEL (default: the built-in model).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/screenshots}
BUILD_DIR=${MOESCOPE_BUILD_DIR:-build}
BIN="$BUILD_DIR/app/moescope"

need=()
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb xauth)
fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk" || need+=(fonts-noto-cjk)
((${#need[@]} == 0)) || tools/apt-install-missing.sh "${need[@]}"
if [ ! -x "$BIN" ]; then
  MOESCOPE_BUILD_DIR="$BUILD_DIR" tools/build.sh
fi

mkdir -p "$OUT"
# A fresh settings directory: the shots show the default layout and settings.
CONFIG=$(mktemp -d)
trap 'rm -rf "$CONFIG"' EXIT
model_args=()
if [ -n "${MOESCOPE_MODEL:-}" ]; then model_args=(--model "$MOESCOPE_MODEL"); fi
XDG_CONFIG_HOME="$CONFIG" QT_QPA_PLATFORM=xcb LC_ALL=C.UTF-8 \
  xvfb-run -a -s "-screen 0 1600x1000x24 -dpi 96" \
  "$BIN" --lang en "${model_args[@]}" --screenshots "$OUT"
echo "== screenshots in $OUT"
