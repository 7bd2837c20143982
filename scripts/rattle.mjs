// Benchmark inputs for docs/performance.md: N frames made from the frames of INPUT (taken in
// turn, cycling), every coordinate moved by seeded Gaussian noise (σ Å, default 0.05), written
// as extxyz without labels. Run after `npm run build`:
//   node scripts/rattle.mjs data/qm9/qm9_3d_graphium_micro958.extxyz qm9-rattled-200.extxyz 200
//   node scripts/rattle.mjs docs/ani2x/caffeine-init.xyz caffeine-rattled-50.extxyz 50
import { readExtxyzFile, formatExtxyzFrame } from '../dist/src/data/extxyz.js';
import { writeFileSync } from 'node:fs';

const [input, out, count, sigma = '0.05'] = process.argv.slice(2);
if (!count) throw new Error('usage: node scripts/rattle.mjs INPUT OUT N [SIGMA]');
let seed = 2026;
const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
const source = readExtxyzFile(input);
const frames = Array.from({ length: Number(count) }, (_, i) => source[i % source.length]);
writeFileSync(out, frames.map((f) => formatExtxyzFrame({ z: f.z, positions: f.positions.map((v) => v + Number(sigma) * gauss()), info: {}, arrays: {} })).join(''));
console.log(`wrote ${frames.length} rattled frames (${frames.reduce((n, f) => n + f.z.length, 0)} atoms) to ${out}`);
