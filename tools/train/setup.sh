#!/usr/bin/env bash
# Installs the Debian 12 packages the default-model training pipeline needs (tools/train/train.py):
# the Python stack, an optimised BLAS for torch, and the public-domain text packages the corpus is
# built from. Training is not part of CI, so these are kept out of tools/setup-deps.sh.
# Does nothing when everything is present.
set -euo pipefail

TRAIN_PACKAGES=(
  python3 python3-torch python3-numpy python3-sentencepiece
  libopenblas0-pthread           # Debian's torch otherwise falls back to the reference BLAS (~30x slower)
  libsword-utils                 # mod2imp, to export the SWORD modules as text
  r-cran-janeaustenr             # fiction: Jane Austen's six novels
  sword-text-web                 # scripture: World English Bible
  sword-comm-tdavid              # commentary: Spurgeon, The Treasury of David
  sword-comm-mhcc                # commentary: Matthew Henry's Concise Commentary
  jargon-text                    # hacker jargon: The Jargon File 4.4.7
  dict-devil                     # satire: Ambrose Bierce, The Devil's Dictionary
)

missing=()
for pkg in "${TRAIN_PACKAGES[@]}"; do
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
