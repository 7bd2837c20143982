// MD steps per second of a reference calculator as the MD calculator, through the loop
// `oreo simulate` runs (src/md/run.ts runSimulation): Nosé–Hoover 300 K, dt 0.5 fs, seed 1.
// For docs/performance.md (ANI-2x against GFN2-xTB on the same molecule). Run after `npm run build`:
//   /usr/bin/time -v node scripts/bench-md-calculator.mjs ani2x|xtb INIT.xyz STEPS OUTDIR
import { createReferenceCalculator } from '../dist/src/qm/registry.js';
import { runSimulation } from '../dist/src/md/run.js';
import { readInitialStructure } from '../dist/src/md/init.js';

const [name, init, steps, out] = process.argv.slice(2);
if (!out) throw new Error('usage: node scripts/bench-md-calculator.mjs ani2x|xtb INIT.xyz STEPS OUTDIR');
const calculator = createReferenceCalculator(name, { parallel: 1 });
const start = await readInitialStructure(init);
calculator.checkElements(Int32Array.from(start.atoms.z));
calculator.compute(Int32Array.from(start.atoms.z), Float64Array.from(start.atoms.positions)); // load/start outside the timing
const t0 = performance.now();
const r = await runSimulation(
  { outDir: out, overwrite: true, initial: start.atoms, init, model: name, thermostat: 'nose-hoover', dt: 0.5, temperature: 300, steps: Number(steps), saveEvery: 10, seed: 1, progressSeconds: 1e9 },
  calculator,
  {},
);
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ calculator: name, init, atoms: start.atoms.z.length, steps: r.step, status: r.status, seconds: +seconds.toFixed(2), stepsPerSecond: +(r.step / seconds).toFixed(2) }));
