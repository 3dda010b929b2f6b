#!/usr/bin/env bash
# Installs the Debian 12 packages MoEScope needs to build, test and run; does nothing when all are
# present. Sourced by run.sh and test.sh.
set -euo pipefail

MOESCOPE_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev libzstd-dev libfmt-dev libpcre2-dev libsqlite3-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev fonts-noto-cjk
  clang poppler-utils sqlite3
  clang-format clang-tidy  # tools/check_format.sh, tools/tidy.sh
  python3  # tools/make_import_samples.py (import tests cross-check with Python's pickle)
  python3-numpy  # tools/train/check.py: the built-in model's parity test (numpy forward)
)

"$(dirname "$0")/apt-install-missing.sh" "${MOESCOPE_PACKAGES[@]}"
