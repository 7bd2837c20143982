#!/usr/bin/env bash
# Is a corpus reproducible bit for bit? Builds the 10-molecule test list (small sampling) several
# times from empty directories and prints each build's shard hash (manifest hashes.shards: the
# bytes of every conformation, label and record):
#   twice with the default settings (same machine, same OpenBLAS kernels: must agree),
#   with OpenBLAS's kernel set pinned to Haswell and to Zen (what two different CPUs would pick),
#   and with OpenBLAS choosing by CPU ('auto'), which on this machine picks another set.
# Usage: bench/corpus/reproduce.sh OUTDIR
set -euo pipefail
OUT=${1:-/tmp/oreo-reproduce}
cd "$(dirname "$0")/../.."
lscpu | grep 'Model name'
FLAGS=(--molecules test/fixtures/corpus/ten.smi --workers 2 --quiet --conformers 1 --nm-temperatures 500 --nm-samples 2
       --md-temperatures 500 --md-frames 2 --md-every 5 --rattle 1 --no-hold-out)
rm -rf "$OUT"; mkdir -p "$OUT"
for run in haswell-1 haswell-2 zen auto; do
  core=${run%-*}; case $core in haswell) core=Haswell;; zen) core=Zen;; esac
  node bin/oreo.js corpus build "${FLAGS[@]}" --blas-core "$core" --out "$OUT/$run" > /dev/null
  node -e "const m=require('$OUT/$run/manifest.json'); console.log('$run'.padEnd(10), 'blas-core', '$core'.padEnd(8), 'shards', m.hashes.shards.slice(0,16), 'corpus', m.hashes.corpus.slice(0,16), m.counts.conformations, 'conformations')"
done
