#!/usr/bin/env bash
# Installs what is missing, builds, and runs MoEScope's main job.
set -euo pipefail
cd "$(dirname "$0")"
tools/setup-deps.sh
tools/build.sh
# The main job: the summary of the built-in default model (resources/models/).
exec build/app/moescope inspect "$@"
