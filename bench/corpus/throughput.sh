#!/usr/bin/env bash
# Labels per second of `oreo corpus build` with 1 and 2 embedded workers on the first N molecules
# of the bundled QM9 list (default mix), each from an empty directory; prints wall and CPU time
# (user+sys of oreo and every xtb it ran), the load before and after, and the CPU model.
# Usage: bench/corpus/throughput.sh N OUTDIR [extra corpus-build flags…]
set -euo pipefail
N=${1:-40}; OUT=${2:-/tmp/oreo-throughput}; shift 2 || true
cd "$(dirname "$0")/../.."
lscpu | grep 'Model name'
mkdir -p "$OUT"
for W in 1 2; do
  rm -rf "$OUT/w$W"
  echo "== $W worker(s), $N molecules; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  TIMEFORMAT="wall %R s, user %U s, sys %S s"
  time node bin/oreo.js corpus build --molecules data/qm9/qm9_smiles_presnova_19k.csv --limit "$N" --out "$OUT/w$W" --workers "$W" --quiet "$@" > "$OUT/w$W.summary" 2> "$OUT/w$W.log"
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  grep -E 'corpus hash|conformations|labels|worker time|storage' "$OUT/w$W.summary"
done
