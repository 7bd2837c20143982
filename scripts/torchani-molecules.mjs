// Writes test/fixtures/torchani/molecules.xyz: the structures scripts/torchani-reference.py
// evaluates with TorchANI. 3D from SMILES with OpenChemLib (src/chem/smiles.ts, seed 1), then
// every coordinate moved by a seeded uniform ±0.05 Å so forces are far from zero.
// Run after `npm run build`: node scripts/torchani-molecules.mjs
import { writeFileSync } from 'node:fs';
import { conformersFromSmiles } from '../dist/src/chem/smiles.js';
import { symbolOf } from '../dist/src/elements.js';

const molecules = [
  ['ethanol', 'CCO'],
  ['chlorofluorothiophene-carboxamide', 'NC(=O)c1cc(F)c(Cl)s1'],
  ['methanesulfonyl-chloride', 'CS(=O)(=O)Cl'],
  ['chlorobenzotrifluoride', 'FC(F)(F)c1ccc(Cl)cc1'],
  ['caffeine', 'Cn1cnc2c1c(=O)n(C)c(=O)n2C'],
  ['sulfamethoxazole', 'Cc1cc(NS(=O)(=O)c2ccc(N)cc2)no1'],
];
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
let out = '';
for (const [name, smiles] of molecules) {
  const s = conformersFromSmiles(smiles, { seed: 1 })[0];
  out += `${s.z.length}\nname=${name} smiles=${smiles}\n`;
  for (let a = 0; a < s.z.length; a++) {
    const p = [0, 1, 2].map((c) => s.positions[3 * a + c] + 0.1 * (rand() - 0.5));
    out += `${symbolOf(s.z[a])} ${p.map((v) => v.toFixed(6)).join(' ')}\n`;
  }
}
writeFileSync(new URL('../test/fixtures/torchani/molecules.xyz', import.meta.url), out);
console.log(out.split('\n').filter((l) => l.startsWith('name=')).join('\n'));
