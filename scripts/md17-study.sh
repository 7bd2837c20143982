#!/usr/bin/env bash
# The MD17 study of docs/results.md §6 (scratch vs ET-ORE vs ET-OREO on four rMD17 molecules),
# one step per call so that each can run, stop and resume on its own:
#
#   scripts/md17-study.sh pretrain et-oreo|et-ore
#   scripts/md17-study.sh finetune scratch|et-ore|et-oreo MOLECULE
#   scripts/md17-study.sh md scratch|et-ore|et-oreo MOLECULE [STEPS]      (default 200000 = 100 ps)
#
# Every step writes under runs/md17-study/ and resumes there when called again; when a step ends,
# its small result files (test metrics, a thinned training log, the MD benchmark's results.json
# and table.md) are copied to docs/md17-study/, which is in git: runs/ does not outlive a working
# session's machine, the results must. One budget for
# all twelve fine-tunes: the same 4 × 64 ET, 5000 steps of batch 8 (≈ 42 epochs of 950 frames),
# the same loss, learning-rate schedule and seed; only the starting weights differ.
set -euo pipefail
cd "$(dirname "$0")/.."
OREO="node bin/oreo.js"
RUNS=runs/md17-study
SPLIT=data/splits/rmd17_aspirin_train_01_rng1_950_50.npz   # frame indices, the same for every molecule's train_01
KEEP=docs/md17-study
what=${1:?usage: see the top of this file}

# keep RUN FILE...: copy a finished step's result files into $KEEP/RUN (write to a temp name, then rename).
keep() {
  local run=$1; shift
  mkdir -p "$KEEP/$run"
  for f in "$@"; do
    [[ -f $RUNS/$run/$f ]] || continue
    cp "$RUNS/$run/$f" "$KEEP/$run/$f.tmp" && mv "$KEEP/$run/$f.tmp" "$KEEP/$run/$f"
  done
  # The training log, every 50th step and the last (the full log is ~1 MB per run).
  if [[ -f $RUNS/$run/log.jsonl ]]; then
    awk 'NR % 50 == 1 { print; next } { last = $0 } END { if (last != "") print last }' "$RUNS/$run/log.jsonl" > "$KEEP/$run/log-thinned.jsonl.tmp" &&
      mv "$KEEP/$run/log-thinned.jsonl.tmp" "$KEEP/$run/log-thinned.jsonl"
  fi
}

case "$what" in
  pretrain)
    obj=${2:?et-oreo or et-ore}
    out=$RUNS/pretrain-$obj
    resume=(); [[ -f $out/checkpoint.oreo-train ]] && resume=(--resume)
    $OREO pretrain --config data/configs/md17-study/pretrain-$obj.json --steps 7000 --schedule cosine --time-limit 28 "${resume[@]}"
    keep pretrain-$obj   # the thinned log (pre-training writes no test metrics)
    ;;
  finetune)
    start=${2:?scratch, et-ore or et-oreo}; mol=${3:?molecule}
    out=$RUNS/ft-$mol-$start
    [[ -f $out/test-metrics.json ]] && { echo "$out: done"; exit 0; }
    case "$start" in
      scratch) from=(--from data/configs/md17-study/et-4x64.json --standardize) ;;
      et-ore|et-oreo) from=(--from $RUNS/pretrain-$start/model.oreo --splits $RUNS/pretrain-$start/splits.json) ;;
      *) echo "unknown start $start" >&2; exit 2 ;;
    esac
    resume=(); [[ -f $out/checkpoint.oreo-train ]] && resume=(--resume)
    $OREO finetune "${from[@]}" --data data/rmd17/rmd17_${mol}_train_01.npz --split-indices $SPLIT \
      --objective supervised --batch 8 --lr 1e-3 --lr-start 1e-6 --warmup 500 --steps 5000 --schedule cosine \
      --val-every 250 --seed 1 --test data/rmd17/rmd17_${mol}_test_01.npz --out $out "${resume[@]}"
    keep ft-$mol-$start test-metrics.json
    ;;
  md)
    # --stop-at-collapse: a seed ends at its first frame with a bond 0.5 Å off (its stability and
    # h(r), which uses the frames before it, are final there), so unstable seeds cost no more.
    start=${2:?scratch, et-ore or et-oreo}; mol=${3:?molecule}; steps=${4:-200000}
    out=$RUNS/md-$mol-$start
    if [[ -f $out/benchmark.json ]]; then
      $OREO benchmark md17 --resume --out $out --steps "$steps" --quiet
    else
      $OREO benchmark md17 --model $RUNS/ft-$mol-$start/model.oreo --molecule $mol --steps "$steps" --seeds 3 --out $out --no-plots --quiet --stop-at-collapse
    fi
    keep md-$mol-$start benchmark.json results.json table.md
    ;;
  *) echo "unknown step $what (pretrain, finetune, md)" >&2; exit 2 ;;
esac
