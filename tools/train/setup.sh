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

"$(dirname "$0")/../apt-install-missing.sh" "${TRAIN_PACKAGES[@]}"
