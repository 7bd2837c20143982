#!/usr/bin/env bash
# Peak memory (max RSS) of a short pre-training run as the data grows: the ten bundled rMD17
# training sets, 1×, 4× and 16× (each file taken that many times under distinct names), trained
# (a) streamed from shards written by `oreo data shard` and (b) held in memory from the files.
# Usage: scripts/pretrain-memory.sh [WORK_DIR] [STEPS]   (needs `npm run build` first)
set -euo pipefail
WORK=${1:-runs/pretrain-memory}
STEPS=${2:-300}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OREO="node $ROOT/bin/oreo.js"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
MODEL='{"embedding_dimension": 32, "num_layers": 2, "num_rbf": 16, "num_heads": 4, "cutoff_upper": 5, "prior_model": "Atomref"}'
TRAINING="{\"lr\": 5e-4, \"warmupSteps\": 50, \"valEvery\": 100, \"batchSize\": 16, \"maxSteps\": $STEPS, \"seed\": 1}"
sources() { # $1 = copies
  local out="" sep=""
  for r in $(seq 1 "$1"); do
    for f in "$ROOT"/data/rmd17/rmd17_*_train_01.npz; do
      m=$(basename "$f" _train_01.npz); m=${m#rmd17_}
      out="$out$sep{\"name\": \"$m-$r\", \"path\": \"$f\", \"kind\": \"off-equilibrium\"}"; sep=", "
    done
  done
  echo "$out"
}
# Validation for the streamed runs: the rMD17 test frames, as shards.
echo "{\"sources\": [{\"name\": \"ethanol-test\", \"path\": \"$ROOT/data/rmd17/rmd17_ethanol_test_01.npz\", \"kind\": \"off-equilibrium\", \"cap\": 500}, {\"name\": \"aspirin-test\", \"path\": \"$ROOT/data/rmd17/rmd17_aspirin_test_01.npz\", \"kind\": \"off-equilibrium\", \"cap\": 500}]}" > "$WORK/val.json"
[ -f "$WORK/val-shards/index.json" ] || $OREO data shard --config "$WORK/val.json" --out "$WORK/val-shards" > /dev/null
printf '%-6s %-9s %14s %12s %10s\n' data path conformations "max RSS MB" "wall s"
for R in 1 4 16; do
  echo "{\"seed\": 0, \"sources\": [$(sources $R)]}" > "$WORK/data-${R}x.json"
  [ -f "$WORK/shards-${R}x/index.json" ] || $OREO data shard --config "$WORK/data-${R}x.json" --out "$WORK/shards-${R}x" --shard-size 5000 > /dev/null
  echo "{\"data\": {\"seed\": 0, \"sources\": [{\"name\": \"rmd17\", \"shards\": \"$WORK/shards-${R}x\", \"val\": \"$WORK/val-shards\"}]}, \"model\": $MODEL, \"objective\": \"et-ore\", \"training\": $TRAINING, \"out\": \"$WORK/run-stream-${R}x\"}" > "$WORK/stream-${R}x.json"
  echo "{\"data\": {\"seed\": 0, \"sources\": [$(sources $R)]}, \"model\": $MODEL, \"objective\": \"et-ore\", \"training\": $TRAINING, \"out\": \"$WORK/run-memory-${R}x\"}" > "$WORK/memory-${R}x.json"
  for path in stream memory; do
    rm -rf "$WORK/run-$path-${R}x"
    /usr/bin/time -f '%M %e' -o "$WORK/time-$path-${R}x.txt" $OREO pretrain --config "$WORK/$path-${R}x.json" > "$WORK/run-$path-${R}x.out" 2> "$WORK/run-$path-${R}x.err"
    read -r kb secs < "$WORK/time-$path-${R}x.txt"
    printf '%-6s %-9s %14s %12.0f %10s\n' "${R}x" "$path" "$((R * 10000))" "$((kb / 1024))" "$secs"
  done
done
