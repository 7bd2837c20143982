#!/bin/sh
# ANI-2x against GFN2-xTB as labeller and as MD calculator, side by side in one run, for
# docs/performance.md. Every figure is the wall clock of `/usr/bin/time -v` around the command
# (start-up, model loading and process spawning included). Run after `npm run build`:
#   sh scripts/bench-ani-vs-xtb.sh OUTDIR
set -e
out=${1:?usage: sh scripts/bench-ani-vs-xtb.sh OUTDIR}
mkdir -p "$out"
node scripts/rattle.mjs data/qm9/qm9_3d_graphium_micro958.extxyz "$out/qm9-rattled-200.extxyz" 200
node scripts/rattle.mjs docs/ani2x/caffeine-init.xyz "$out/caffeine-rattled-50.extxyz" 50
lscpu | grep 'Model name' > "$out/cpu.txt"
timed() { # name, command...
  name=$1; shift
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$out/$name.time"
  /usr/bin/time -v "$@" > "$out/$name.out" 2>> "$out/$name.time"
  echo "$name $(grep 'Elapsed (wall' "$out/$name.time" | awk '{print $NF}') $(grep 'Maximum resident' "$out/$name.time" | awk '{print $NF}')KB load $(cut -d' ' -f1-3 /proc/loadavg)"
}
for w in 1 2; do
  timed label-qm9-ani2x-w$w node bin/oreo.js label --calculator ani2x --input "$out/qm9-rattled-200.extxyz" --out "$out/qm9-ani2x-w$w.extxyz" --workers $w --overwrite --quiet
  timed label-qm9-xtb-w$w node bin/oreo.js label --calculator xtb --input "$out/qm9-rattled-200.extxyz" --out "$out/qm9-xtb-w$w.extxyz" --workers $w --overwrite --quiet
  timed label-caffeine-ani2x-w$w node bin/oreo.js label --calculator ani2x --input "$out/caffeine-rattled-50.extxyz" --out "$out/caffeine-ani2x-w$w.extxyz" --workers $w --overwrite --quiet
  timed label-caffeine-xtb-w$w node bin/oreo.js label --calculator xtb --input "$out/caffeine-rattled-50.extxyz" --out "$out/caffeine-xtb-w$w.extxyz" --workers $w --overwrite --quiet
done
for m in caffeine ibuprofen; do
  timed md-$m-ani2x node scripts/bench-md-calculator.mjs ani2x docs/ani2x/$m-init.xyz 400 "$out/md-$m-ani2x"
  timed md-$m-xtb node scripts/bench-md-calculator.mjs xtb docs/ani2x/$m-init.xyz 100 "$out/md-$m-xtb"
done
# A larger set, so that start-up (ANI: each thread opening the 55 MB model) weighs less.
node scripts/rattle.mjs data/qm9/qm9_3d_graphium_micro958.extxyz "$out/qm9-rattled-2000.extxyz" 2000
for w in 1 2; do
  timed label-qm9x2000-ani2x-w$w node bin/oreo.js label --calculator ani2x --input "$out/qm9-rattled-2000.extxyz" --out "$out/qm9x2000-ani2x-w$w.extxyz" --workers $w --overwrite --quiet
  timed label-qm9x2000-xtb-w$w node bin/oreo.js label --calculator xtb --input "$out/qm9-rattled-2000.extxyz" --out "$out/qm9x2000-xtb-w$w.extxyz" --workers $w --overwrite --quiet
done
