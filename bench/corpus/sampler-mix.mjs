// Measures each sampler of src/sampling on the same QM9 molecules: reference calculations and
// wall time per kept label, the spread of forces, of energies above the minimum and of geometries
// (RMSD from the relaxed structure), and how many samples were left out. Used to choose the default
// mix (docs/corpus.md). Usage: node bench/corpus/sampler-mix.mjs MOLECULES.csv N [OUT.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { conformersFromSmiles } from '../../dist/src/chem/smiles.js';
import { XtbCalculator } from '../../dist/src/qm/xtb.js';
import { levelOfTheory } from '../../dist/src/qm/level.js';
import { graphFromPairs } from '../../dist/src/sampling/bonds.js';
import { sampleMolecule } from '../../dist/src/sampling/sample.js';

const [file, nArg, outFile] = process.argv.slice(2);
const n = Number(nArg ?? 20);
const lines = readFileSync(file, 'utf8').split('\n').slice(1).filter(Boolean).slice(0, n);
const plans = {
  'normal-modes 300 K': { normalModes: { temperatures: [300], perTemperature: 8 } },
  'normal-modes 600 K': { normalModes: { temperatures: [600], perTemperature: 8 } },
  'normal-modes 1000 K': { normalModes: { temperatures: [1000], perTemperature: 8 } },
  'md 300 K every 10': { md: { temperatures: [300], framesPerTemperature: 4, every: 10 } },
  'md 600 K every 10': { md: { temperatures: [600], framesPerTemperature: 4, every: 10 } },
  'md 1000 K every 10': { md: { temperatures: [1000], framesPerTemperature: 4, every: 10 } },
  'rattle 0.05 Å': { rattle: { count: 8, sigma: 0.05 } },
  'rattle 0.10 Å': { rattle: { count: 8, sigma: 0.1 } },
};
const acc = Object.fromEntries(Object.keys(plans).map((k) => [k, { labels: 0, calcs: 0, seconds: 0, rejected: 0, fRms: [], eAbove: [], rmsd: [] }]));
const x = new XtbCalculator();
const level = levelOfTheory(x.describe()).key;
for (const [i, line] of lines.entries()) {
  const smiles = line.split(',')[1];
  const c = conformersFromSmiles(smiles, { seed: 1 })[0];
  let r;
  try {
    r = x.optimize(c.z, c.positions, { level: 'normal' });
  } catch (err) {
    process.stderr.write(`${i + 1}/${lines.length} ${smiles}: relaxation failed (${err.message.slice(0, 80)}); skipped\n`);
    continue;
  }
  const e0 = x.compute(c.z, r.positions).energy;
  const bonds = graphFromPairs(c.bonds, c.z.length);
  for (const [name, plan] of Object.entries(plans)) {
    const a = acc[name];
    const t0 = performance.now();
    const s = sampleMolecule({ z: c.z, positions: r.positions, bonds, seed: 7 + i, reference: x, referenceLevel: level }, plan);
    let calcs = s.calculations;
    for (const smp of s.samples) {
      let lab = smp.labels[0];
      if (!lab) {
        lab = x.compute(c.z, smp.positions);
        calcs++;
      }
      let f2 = 0;
      for (const f of lab.forces) f2 += f * f;
      a.fRms.push(Math.sqrt(f2 / lab.forces.length));
      a.eAbove.push((1000 * (lab.energy - e0)) / c.z.length);
      let d2 = 0;
      for (let k = 0; k < smp.positions.length; k++) d2 += (smp.positions[k] - r.positions[k]) ** 2;
      a.rmsd.push(Math.sqrt(d2 / c.z.length));
    }
    a.seconds += (performance.now() - t0) / 1000;
    a.calcs += calcs;
    a.labels += s.samples.length;
    a.rejected += Object.values(s.rejected).reduce((p, q) => p + q, 0);
  }
  process.stderr.write(`${i + 1}/${lines.length} ${smiles}\n`);
}
const stat = (v) => {
  const m = v.reduce((p, q) => p + q, 0) / v.length;
  const sd = Math.sqrt(v.reduce((p, q) => p + (q - m) ** 2, 0) / v.length);
  return { mean: +m.toFixed(3), sd: +sd.toFixed(3), max: +Math.max(...v).toFixed(3) };
};
const table = Object.entries(acc).map(([name, a]) => ({
  sampler: name,
  labels: a.labels,
  rejected: a.rejected,
  calcsPerLabel: +(a.calcs / a.labels).toFixed(2),
  secondsPerLabel: +(a.seconds / a.labels).toFixed(4),
  forceRms_eV_A: stat(a.fRms),
  energyAboveMin_meV_per_atom: stat(a.eAbove),
  rmsdFromMin_A: stat(a.rmsd),
}));
console.log(JSON.stringify(table, null, 1));
if (outFile) writeFileSync(outFile, JSON.stringify({ molecules: lines.length, table }, null, 1));
