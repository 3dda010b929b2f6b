#!/usr/bin/env bash
# Takes docs/report-html.png and docs/report-pdf.png: records the built-in model into a trace
# (moescope record, with a prompt holding hostile HTML), writes report.html and report.pdf with
# `moescope report`, shoots the HTML with headless Chromium and page 1 of the PDF with pdftoppm.
#
#   tools/report_screenshots.sh [TRACE]   (default: record a fresh trace)
# Environment: MOESCOPE_BUILD_DIR (default build), OUT (default docs), KEEP=1 keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${MOESCOPE_BUILD_DIR:-build}
OUT=${OUT:-docs}
BIN="$BUILD_DIR/app/moescope"
# Chromium is needed for this script only, so it is not in setup-deps.sh.
command -v chromium >/dev/null 2>&1 || tools/apt-install-missing.sh chromium
command -v pdftoppm >/dev/null 2>&1 || tools/apt-install-missing.sh poppler-utils
CHROMIUM=$(command -v chromium)
if [ ! -x "$BIN" ]; then
  MOESCOPE_BUILD_DIR="$BUILD_DIR" tools/build.sh
fi

WORK=$(mktemp -d)
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$WORK"' EXIT; fi
TRACE=${1:-}
if [ -z "$TRACE" ]; then
  TRACE="$WORK/trace.sqlite"
  if ! "$BIN" record --trace "$TRACE" --label "default model <demo>" --quiet -n 160 --seed 7 \
    --expert-slots 24 --prefetch same-prev --link nvme \
    --prompt 'The package <script>alert(1)</script> & "quotes" is' >"$WORK/record.log" 2>&1; then
    cat "$WORK/record.log" >&2
    exit 1
  fi
fi

"$BIN" report --trace "$TRACE" --out "$WORK/report.html"
"$BIN" report --trace "$TRACE" --out "$WORK/report.pdf"

mkdir -p "$OUT"
# Chromium wants a writable home and prints GPU/dbus noise on stderr.
HOME="$WORK" "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1280,2000 --screenshot="$OUT/report-html.png" "file://$WORK/report.html" \
  >/dev/null 2>&1
pdftoppm -r 80 -f 1 -l 1 -png -singlefile "$WORK/report.pdf" "$OUT/report-pdf"
echo "wrote $OUT/report-html.png and $OUT/report-pdf.png${KEEP:+ (work dir $WORK)}"
