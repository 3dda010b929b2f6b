#!/usr/bin/env bash
# Installs what is missing, builds, and runs MoEScope's main job.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup-deps.sh
tools/build.sh
exec build/app/moescope inspect "${MOESCOPE_MODEL:-../shared/reference/models/llama-moe-q8_0.gguf}"
