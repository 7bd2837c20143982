// `oreo build`: SMILES → 3D structure files (xyz/extxyz/SDF) that oreo's own readers read back,
// with identity and provenance in each record; bad SMILES name file and line; relaxation with
// xtb (its own optimiser) or a model (oreo's L-BFGS) lands near a minimum of that calculator; and
// the new user's walk with caffeine: build with xtb, then MD with the bundled pre-trained model,
// which does not hold caffeine together and must say so (exit 3), not report "completed".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Molecule } from 'openchemlib';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { readConformations } from '../../src/data/read.js';
import { parseSdf } from '../../src/data/sdf.js';
import { readFileSync } from 'node:fs';
import { maxAtomForce } from '../../src/optimize/minimize.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { loadCalculator } from '../../src/model/load.js';
import { runOreo } from '../cli.js';
import { repoRoot } from '../paths.js';
import { skipUnless } from '../system-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-build-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const CAFFEINE = 'Cn1cnc2c1c(=O)n(C)c(=O)n2C';

test('build writes xyz and SDF that oreo reads back, with identity and provenance', async () => {
  const xyz = join(tmp, 'caffeine.xyz');
  const r = runOreo(['build', '--smiles', CAFFEINE, '--out', xyz, '--seed', '3', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const [f] = readExtxyzFile(xyz);
  assert.equal(f.z.length, 24);
  assert.equal(f.info.formula, 'C8H10N4O2');
  assert.equal(f.info.smiles, CAFFEINE);
  assert.equal(f.info.seed, 3);
  assert.equal(f.info.charge, 0);
  assert.ok(typeof f.info.canonical_smiles === 'string' && typeof f.info.idcode === 'string');

  const sdf = join(tmp, 'caffeine.sdf');
  assert.equal(runOreo(['build', '--smiles', CAFFEINE, '--out', sdf, '--seed', '3', '--quiet']).status, 0);
  const [c] = await readConformations(sdf);
  assert.deepEqual(Array.from(c.z), Array.from(f.z));
  for (let k = 0; k < c.positions.length; k++) assert.ok(Math.abs(c.positions[k] - f.positions[k]) < 1e-4);
  // The bonds travel with the SDF: OpenChemLib reads the same molecule back.
  const molfile = readFileSync(sdf, 'utf8').split('$$$$')[0];
  assert.equal(Molecule.fromMolfile(molfile).getIDCode(), f.info.idcode);
  assert.equal(parseSdf(readFileSync(sdf, 'utf8'), sdf).length, 1);
});

test('several conformers, and a SMILES file whose third line is bad gives an error naming file and line', () => {
  const out = join(tmp, 'several.xyz');
  assert.equal(runOreo(['build', '--smiles', 'CCCCO', '--conformers', '3', '--out', out, '--quiet']).status, 0);
  const frames = readExtxyzFile(out);
  assert.ok(frames.length >= 2 && frames.length <= 3, `${frames.length} conformers`);
  assert.deepEqual(frames.map((x) => x.info.conformer), frames.map((_, i) => i));

  const smi = join(tmp, 'list.smi');
  writeFileSync(smi, '# molecules\nCCO ethanol\nc1ccccc1 benzene\nC1CC(C\n');
  const bad = runOreo(['build', '--smiles-file', smi, '--out', join(tmp, 'list.xyz')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /list\.smi.*line 4.*C1CC\(C/);
  writeFileSync(smi, 'CCO ethanol\nc1ccccc1 benzene\n');
  assert.equal(runOreo(['build', '--smiles-file', smi, '--out', join(tmp, 'list.xyz'), '--quiet']).status, 0);
  assert.deepEqual(readExtxyzFile(join(tmp, 'list.xyz')).map((x) => x.info.name), ['ethanol', 'benzene']);
});

test('--relax with a model file: oreo L-BFGS to fmax, recorded in the file', async () => {
  const model = join(repoRoot, 'models', 'oreo-ethanol-et4x64.oreo');
  const out = join(tmp, 'ethanol-relaxed.xyz');
  const r = runOreo(['build', '--smiles', 'CCO', '--relax', model, '--fmax', '0.02', '--out', out, '--quiet']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const [f] = readExtxyzFile(out);
  assert.equal(f.info.relax_converged, true);
  assert.match(String(f.info.relaxed_with), /L-BFGS, fmax 0\.02/);
  const calc = await loadCalculator(model);
  const { forces, energy } = calc.compute(f.z, f.positions);
  assert.ok(maxAtomForce(forces) < 0.02);
  assert.ok(Math.abs(energy - (f.info.energy as number)) < 1e-8);
});

test('caffeine: build --relax xtb lands at an xtb minimum; MD with the bundled pre-trained model stops as collapsed (exit 3)', { skip: skipUnless('xtb') }, () => {
  const sdf = join(tmp, 'caffeine-xtb.sdf');
  const b = runOreo(['build', '--smiles', CAFFEINE, '--relax', 'xtb', '--out', sdf, '--quiet']);
  assert.equal(b.status, 0, b.stdout + b.stderr);
  const [c] = parseSdf(readFileSync(sdf, 'utf8'), sdf);
  const { forces } = new XtbCalculator().compute(c.z, c.positions);
  // xtb's "normal" level stops at gradients ~1e-3 Eh/bohr ≈ 0.05 eV/Å; 4 decimals in SDF add little.
  assert.ok(maxAtomForce(forces) < 0.1, `fmax ${maxAtomForce(forces)} eV/Å at the relaxed structure`);
  const md = runOreo(['simulate', '--model', join(repoRoot, 'models', 'oreo-pretrained-et4x64.oreo'), '--init', sdf, '--temperature', '300', '--steps', '2000', '--seed', '1', '--out', join(tmp, 'caffeine-md'), '--quiet']);
  assert.equal(md.status, 3, md.stdout + md.stderr);
  assert.match(md.stdout, /stopped: collapsed at [0-9.]+ ps \(step \d+\): bond [A-Z]\d+–[A-Z]\d+/);
  assert.doesNotMatch(md.stdout, /completed/);
});
