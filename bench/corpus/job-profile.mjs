// Where a corpus job's time goes: runs real molecule jobs (src/corpus/job.ts) with the settings of
// a corpus build directory and times every reference call by phase — relaxation, Hessian, xtb MD
// steps, xtb single-point labels, ANI-2x labels — in wall and CPU seconds (oreo's own CPU plus its
// waited-for xtb children, from /proc/self/stat). The rest of a job (conformers, normal modes,
// checks) is the job's total minus those.
//
//   npm run build && node bench/corpus/job-profile.mjs SETTINGS_JSON MOLECULES_CSV FIRST COUNT [PLAN_JSON [MODEL]]
//
// PLAN_JSON replaces the settings' sampling plan (to time another mix); MODEL is the oreo model
// that drives model-md (e.g. models/ani2x.oreo: MD driven by ANI-2x, frames labelled by every
// reference calculator afterwards).
//
// e.g. node bench/corpus/job-profile.mjs runs/corpus-v1/settings.json data/qm9/qm9_smiles_presnova_19k.csv 1000 5
import { readFileSync } from 'node:fs';
import { XtbCalculator } from '../../dist/src/qm/xtb.js';
import { AniReferenceCalculator } from '../../dist/src/qm/ani.js';
import { jobsFor, readAllMolecules } from '../../dist/src/corpus/build.js';
import { runMoleculeJob } from '../../dist/src/corpus/job.js';

const [settingsPath, listPath, first = '0', count = '5', planJson, modelPath] = process.argv.slice(2);
if (!settingsPath || !listPath) {
  console.error('usage: node bench/corpus/job-profile.mjs SETTINGS_JSON MOLECULES_CSV [FIRST] [COUNT]');
  process.exit(2);
}
const TICK = 100; // clock ticks per second (getconf CLK_TCK on Linux)
function cpuSeconds() {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // fields 14–17 of stat (utime, stime, cutime, cstime) are 12–15 after the command name
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
}
const phases = {};
function charge(phase, wall, cpu) {
  const p = (phases[phase] ??= { calls: 0, wall: 0, cpu: 0 });
  p.calls++;
  p.wall += wall;
  p.cpu += cpu;
}
function wrap(cls, method, phaseOf) {
  const orig = cls.prototype[method];
  cls.prototype[method] = function (...args) {
    const phase = phaseOf(new Error().stack ?? '');
    const t0 = performance.now();
    const c0 = cpuSeconds();
    try {
      return orig.apply(this, args);
    } finally {
      charge(phase, (performance.now() - t0) / 1000, cpuSeconds() - c0);
    }
  };
}
wrap(XtbCalculator, 'optimize', () => 'xtb relaxation');
wrap(XtbCalculator, 'hessian', () => 'xtb Hessian');
wrap(XtbCalculator, 'compute', (stack) => (/\/md\//.test(stack) ? 'xtb MD steps' : 'xtb labels (single points)'));
wrap(AniReferenceCalculator, 'compute', () => 'ANI-2x labels');

const settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
if (planJson) settings.plan = JSON.parse(planJson);
const model = modelPath ? await (await import('../../dist/src/model/load.js')).loadCalculator(modelPath) : undefined;
if (model) {
  const orig = model.compute.bind(model);
  model.compute = (...args) => {
    const t0 = performance.now();
    const c0 = cpuSeconds();
    try {
      return orig(...args);
    } finally {
      charge('model MD steps', (performance.now() - t0) / 1000, cpuSeconds() - c0);
    }
  };
}
const { molecules } = await readAllMolecules([{ path: listPath, limit: Number(first) + Number(count) }]);
const jobs = jobsFor(molecules.slice(Number(first)), settings);
let total = { wall: 0, cpu: 0 };
let conformations = 0;
let labels = 0;
let atoms = 0;
// Load ANI-2x once before timing (the corpus loads it once per worker process).
new AniReferenceCalculator({ model: 'ani2x' }).compute(Int32Array.from([8, 1, 1]), Float64Array.from([0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0]));
for (const k of Object.keys(phases)) delete phases[k];
for (const job of jobs) {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const r = runMoleculeJob(job, model);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  total.wall += wall;
  total.cpu += cpu;
  conformations += r.conformations.length;
  for (const c of r.conformations) labels += c.labels.length;
  atoms += r.z.length;
  console.error(`${job.smiles}: ${r.z.length} atoms, ${r.conformers} conformers, ${r.conformations.length} conformations${r.failed ? ` (failed: ${r.failed})` : ''}, ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} CPU-s`);
}
const rows = Object.entries(phases).sort((a, b) => b[1].cpu - a[1].cpu);
const inCalls = rows.reduce((s, [, p]) => s + p.cpu, 0);
console.log(`${jobs.length} molecules, ${(atoms / jobs.length).toFixed(1)} atoms on average, ${conformations} conformations, ${labels} labels; ${total.wall.toFixed(1)} s wall, ${total.cpu.toFixed(1)} CPU-s`);
console.log('phase | calls | CPU-s | share of CPU | CPU-ms per call | wall s');
for (const [name, p] of rows) console.log(`${name} | ${p.calls} | ${p.cpu.toFixed(2)} | ${((100 * p.cpu) / total.cpu).toFixed(1)} % | ${((1000 * p.cpu) / p.calls).toFixed(1)} | ${p.wall.toFixed(1)}`);
console.log(`rest (conformers, normal modes, checks) | | ${(total.cpu - inCalls).toFixed(2)} | ${((100 * (total.cpu - inCalls)) / total.cpu).toFixed(1)} % | | ${(total.wall - rows.reduce((s, [, p]) => s + p.wall, 0)).toFixed(1)}`);
console.log(JSON.stringify({ molecules: jobs.length, conformations, labels, total, phases }));
