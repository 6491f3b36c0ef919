#!/usr/bin/env bash
# The main job on the demo sky, step by step with the documented commands.
# Usage: scripts/run_demo.sh [workdir]   (default: ./demo)
set -euo pipefail
WORK="${1:-demo}"
FIELD=301
mkdir -p "$WORK"
cd "$WORK"
export SCOPE_CONFIG="$PWD/config.yaml"
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 WANDB_MODE=disabled
start=$(date +%s)

echo "== 1. demo sky: a synthetic ZTF field $FIELD with known truth"
scope-demo-data --field "$FIELD"

echo "== 2. light-curve ids of the field"
get-quad-ids --field "$FIELD" --multi-quads --minobs 20
get-quad-ids --field "$FIELD" --whole-field --minobs 20

echo "== done in $(( $(date +%s) - start )) s; outputs under $PWD"
