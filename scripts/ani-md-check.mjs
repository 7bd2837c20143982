// Starting structures for the ANI-2x MD check of docs/results.md: 3D from SMILES (OpenChemLib,
// src/chem/smiles.ts, seed 1), relaxed with GFN2-xTB's optimiser (XtbCalculator.optimize,
// level normal), written as xyz. Then, per molecule (the commands docs/results.md lists):
//   oreo simulate --model ani2x --init docs/ani2x/<name>-init.xyz --steps 20000 --dt 0.5 \
//     --temperature 300 --thermostat nose-hoover --seed 1 --out <dir>
//   oreo analyze --traj <dir> --reference docs/ani2x/<name>-init.xyz
// Run after `npm run build`: node scripts/ani-md-check.mjs
import { writeFileSync } from 'node:fs';
import { conformersFromSmiles } from '../dist/src/chem/smiles.js';
import { XtbCalculator } from '../dist/src/qm/xtb.js';
import { symbolOf } from '../dist/src/elements.js';

const molecules = { caffeine: 'Cn1cnc2c1c(=O)n(C)c(=O)n2C', ibuprofen: 'CC(C)Cc1ccc(cc1)C(C)C(=O)O' };
const xtb = new XtbCalculator();
for (const [name, smiles] of Object.entries(molecules)) {
  const s = conformersFromSmiles(smiles, { seed: 1 })[0];
  const r = xtb.optimize(s.z, s.positions);
  let out = `${s.z.length}\nname=${name} smiles=${smiles} relaxed=GFN2-xTB converged=${r.converged} cycles=${r.cycles}\n`;
  for (let a = 0; a < s.z.length; a++) out += `${symbolOf(s.z[a])} ${[0, 1, 2].map((c) => r.positions[3 * a + c].toFixed(6)).join(' ')}\n`;
  writeFileSync(new URL(`../docs/ani2x/${name}-init.xyz`, import.meta.url), out);
  console.log(name, s.z.length, 'atoms, converged', r.converged, 'cycles', r.cycles);
}
