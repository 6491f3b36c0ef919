#!/usr/bin/env bash
# The main job on the demo sky, with the documented commands in order:
# demo sky -> ids -> features -> training set -> models (through the generated training scripts)
# -> predictions (through the generated get_all_preds scripts) -> combined predictions -> report.
# Models are trained on CCD 1 of the field and scored on the whole field; the report scores only
# the light curves the models never saw.
# Usage: scripts/run_demo.sh [workdir]   (default: ./demo)
set -euo pipefail
WORK="${1:-demo}"
FIELD=301
NCORE="${SCOPE_DEMO_NCORE:-$(nproc)}"
# A demo-sized frequency grid (~1.7e5 trial frequencies instead of the production ~5e5): periods
# down to 36 min, four samples per peak. Set SCOPE_DEMO_GRID="" for the production grid.
GRID="${SCOPE_DEMO_GRID---max-freq 40 --samples-per-peak 4}"
# Smaller or faster runs (the end-to-end test uses these): extra scope-demo-data flags, the fewest
# positives a class needs to be trained, and DNN epochs.
DEMO_FLAGS="${SCOPE_DEMO_FLAGS:-}"
XGB_MIN="${SCOPE_DEMO_XGB_MIN_COUNT:-40}"
DNN_MIN="${SCOPE_DEMO_DNN_MIN_COUNT:-150}"
EPOCHS="${SCOPE_DEMO_DNN_EPOCHS:-30}"
mkdir -p "$WORK"
cd "$WORK"
export SCOPE_CONFIG="$PWD/config.yaml"
export TF_CPP_MIN_LOG_LEVEL=2 TF_ENABLE_ONEDNN_OPTS=0 WANDB_MODE=disabled
start=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }

step "1. demo sky: a synthetic ZTF field $FIELD with known truth"
# shellcheck disable=SC2086
scope-demo-data --field "$FIELD" --force $DEMO_FLAGS

step "2. light-curve ids of the field"
get-quad-ids --field "$FIELD" --multi-quads --minobs 20
get-quad-ids --field "$FIELD" --whole-field --minobs 20

step "3. features of every quadrant (CPU period search: LS, CE, AOV and the nested LS_CE_AOV)"
# One process for the whole field: the same per-quadrant files as eight separate runs, but imports and
# compiled kernels are loaded once; the bar counts light curves. A rerun skips finished quadrants.
# shellcheck disable=SC2086
generate-features --field "$FIELD" --whole-field --doCPU --doRemoveTerrestrial --Ncore "$NCORE" $GRID

step "4. training set: demo labels + features of CCD 1"
scope-build-training-set --labels labels.parquet \
  --features generated_features/field_${FIELD}/gen_features_field_${FIELD}_ccd_1_quad_*.parquet \
  --output training_set.parquet

step "5. models: generated training scripts, run as generated"
rm -f train_xgb.sh train_dnn.sh
create-training-script --algorithm xgb --filename train_xgb.sh --min-count "$XGB_MIN" \
  --path-dataset training_set.parquet --add-keywords "--skip-cv --save --random-state 7"
create-training-script --algorithm dnn --filename train_dnn.sh --min-count "$DNN_MIN" \
  --path-dataset training_set.parquet \
  --add-keywords "--save --scale-features median_std --epochs $EPOCHS --patience 6 --batch-size 32 --random-state 7"
bash train_xgb.sh
bash train_dnn.sh
assemble-training-stats --group-name experiment --algorithm xgb

step "6. predictions for the whole field: generated get_all_preds scripts"
create-inference-script --group-name experiment --algorithm xgb --feature-directory generated_features --overwrite
create-inference-script --group-name experiment --algorithm dnn --feature-directory generated_features --overwrite
./get_all_preds_xgb.sh "$FIELD"
./get_all_preds_dnn.sh "$FIELD"
combine-preds --specific-field "$FIELD" --merge-dnn-xgb --overwrite

step "7. report: held-out predictions against the demo truth"
scope-demo-report --predictions preds_xgb/field_${FIELD}/field_${FIELD}.parquet \
  preds_dnn/field_${FIELD}/field_${FIELD}.parquet --exclude-training-set training_set.parquet \
  --output-dir report
cat report/report.md

echo
echo "== done in $(( $(date +%s) - start )) s; outputs under $PWD (report/ has the plots)"
