#!/usr/bin/env bash
# Installs the Debian 12 packages MoEScope needs to build, test and run; does nothing when all are
# present. Sourced by run.sh and test.sh.
set -euo pipefail

MOESCOPE_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-dev libzstd-dev libfmt-dev libpcre2-dev libsqlite3-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev
  clang
)

missing=()
for pkg in "${MOESCOPE_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "error: missing packages (${missing[*]}) and not root, no sudo" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
