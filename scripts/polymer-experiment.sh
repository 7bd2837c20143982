#!/usr/bin/env bash
# The polymer experiment of docs/results-polymers.md (issue 11, paper §4.2 / Fig. 2), scaled down
# to a 2-core machine: fine-tune on small CK and LAC1 chains (1–3 loops) labelled with GFN2-xTB,
# then run oreo MD of a 15-loop CK chain (362 atoms) and label its saved frames with xtb.
#
#   scripts/polymer-experiment.sh [PRETRAINED_MODEL]     (needs `xtb` on PATH: apt-get install xtb)
#
# Every step is resumable: re-running the script continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
OREO="node --import tsx scripts/oreo-dev.mjs"   # or `oreo` when installed
MODEL=${1:-runs/pretrain-small-500/model.oreo}
OUT=runs/polymers

# 1. Training data: xtb Langevin MD at 500 K of CK and LAC1 with 1, 2, 3 loops, a frame every 10 steps.
$OREO dataset polymers --units CK,LAC1 --loops 1,2,3 --md-steps 400 --temperature 500 --save-every 10 \
  --out $OUT/data --quiet

$OREO data inspect $OUT/data/polymers.extxyz

# 2. The unseen test system: a 15-loop CK chain, built and relaxed with xtb, no MD.
$OREO dataset polymers --units CK --loops 15 --md-steps 0 --out $OUT/ck15 --quiet

# 3. Fine-tune the pre-trained model on the small chains (forces only, the default et-ore objective).
$OREO finetune --from "$MODEL" --data $OUT/data/polymers.extxyz --train 200 --val 46 \
  --steps 400 --batch 4 --lr 5e-4 --warmup 40 --val-every 50 --seed 1 --out $OUT/finetune

# 4. oreo MD of the 15-loop chain: Nosé–Hoover at 500 K, dt 0.5 fs, 2 ps, a frame every 100 steps.
$OREO simulate --model $OUT/finetune/model.oreo --dtype float32 --init $OUT/ck15/CK-L15/start.xyz \
  --steps 4000 --dt 0.5 --temperature 500 --thermostat nose-hoover --save-every 100 --seed 1 \
  --zero-momentum --zero-rotation --out $OUT/md-ck15 --quiet

# 5. Label the saved frames with GFN2-xTB (the reference for forces and energies along the trajectory).
$OREO label --calculator xtb --input $OUT/md-ck15/trajectory.extxyz --out $OUT/md-ck15/xtb-labels.extxyz --workers 2 --quiet

# 6. Compare along the trajectory (force MAE, cosine, RMSD, energies) and draw the figures.
node --import tsx scripts/polymer-analysis.ts --traj $OUT/md-ck15 --labels $OUT/md-ck15/xtb-labels.extxyz \
  --out $OUT/analysis --img docs/img --prefix polymers-ck15 \
  --title "CK, 15 loops (C120H242, 362 atoms): oreo MD at 500 K vs GFN2-xTB"

# 7. Force errors of the pre-trained and the fine-tuned model on the same xtb-labelled frames.
$OREO eval --model "$MODEL" --data $OUT/md-ck15/xtb-labels.extxyz --out $OUT/analysis/eval-pretrained.json
$OREO eval --model $OUT/finetune/model.oreo --data $OUT/md-ck15/xtb-labels.extxyz --out $OUT/analysis/eval-finetuned.json
$OREO analyze --traj $OUT/md-ck15 --reference $OUT/ck15/polymers.extxyz --out $OUT/analyze-finetuned

# 8. Baseline: the same MD with the pre-trained model alone (xtb cannot converge on some of its frames).
$OREO simulate --model "$MODEL" --dtype float32 --init $OUT/ck15/CK-L15/start.xyz \
  --steps 1000 --dt 0.5 --temperature 500 --thermostat nose-hoover --save-every 100 --seed 1 \
  --zero-momentum --zero-rotation --out $OUT/md-ck15-pretrained --quiet
$OREO analyze --traj $OUT/md-ck15-pretrained --reference $OUT/ck15/polymers.extxyz --out $OUT/analyze-pretrained
$OREO label --calculator xtb --input $OUT/md-ck15-pretrained/trajectory.extxyz \
  --out $OUT/md-ck15-pretrained/xtb-labels.extxyz --workers 2 --skip-failed --quiet
node --import tsx scripts/polymer-analysis.ts --traj $OUT/md-ck15-pretrained --labels $OUT/md-ck15-pretrained/xtb-labels.extxyz \
  --out $OUT/analysis-pretrained --img $OUT/analysis-pretrained --prefix pretrained
