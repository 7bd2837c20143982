// The NeuroChem reader and the .oreo converter, on a tiny made-up ensemble in the published
// layout (test/fixtures/torchani/tiny-neurochem: 2 species, 2 members, other AEV constants, two
// ζ values, CELU, Gaussian and identity layers), checked against TorchANI's numbers for it
// (tiny-reference.json, written by scripts/torchani-reference.py from TorchANI 2.2.4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, cpSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fixturesDir } from '../paths.js';
import { readNeuroChemEnsemble } from '../../src/model/ani/neurochem-dir.js';
import { exportNeuroChem } from '../../src/model/ani/convert.js';
import { serializeAni, parseAniBytes } from '../../src/model/ani/file.js';
import { AniEnsemble } from '../../src/model/ani/ensemble.js';
import { loadEnergyModel, loadPotential } from '../../src/model/load.js';
import { openModelBytes } from '../../src/model/open.js';
import { parseNnf } from '../../src/model/ani/neurochem.js';
import { InputError } from '../../src/errors.js';
import { Hartree } from '../../src/units.js';
import { atomicNumber } from '../../src/elements.js';

const tinyDir = join(fixturesDir, 'torchani', 'tiny-neurochem');
const reference = JSON.parse(readFileSync(join(fixturesDir, 'torchani', 'tiny-reference.json'), 'utf8')) as {
  molecules: { name: string; symbols: string[]; positions: number[][]; members: { energy: number; forces: number[][] }[]; ensemble: { energy: number; forces: number[][] } }[];
};

test('the reader takes layer sizes and activations from the .nnf files, not from assumptions', () => {
  const d = readNeuroChemEnsemble(tinyDir);
  assert.deepEqual(d.aev.species, ['H', 'C']);
  assert.deepEqual(d.aev.Zeta, [32, 8]);
  assert.equal(d.members.length, 2);
  const layers = d.members[1].get('C')!.layers;
  assert.deepEqual(layers.map((l) => [l.in, l.out, l.activation]), [[28, 5, 'celu'], [5, 3, 'gaussian'], [3, 1, 'identity']]);
  assert.equal(layers[0].alpha, 0.1);
  assert.deepEqual(d.selfEnergies, [-0.5, -37.8]);
});

test('a converted tiny ensemble matches TorchANI: each member and the mean, energies and forces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ani-'));
  try {
    const out = join(dir, 'tiny.oreo');
    const r = exportNeuroChem(tinyDir, out, { name: 'tiny', levelOfTheory: 'made up' });
    assert.equal(r.members, 2);
    assert.equal(r.bytes, statSync(out).size);
    const m = loadEnergyModel(out, { dtype: 'float64' });
    assert.ok(m instanceof AniEnsemble);
    assert.equal(m.levelOfTheory, 'made up');
    assert.throws(() => loadPotential(out), /an ANI ensemble \(tiny, made up\).*needs an ET model/);
    for (const mol of reference.molecules) {
      const z = Int32Array.from(mol.symbols.map(atomicNumber));
      const res = m.compute(z, Float64Array.from(mol.positions.flat()), undefined, 1, { spread: true });
      const check = (e: number, f: ArrayLike<number>, ref: { energy: number; forces: number[][] }, who: string) => {
        assert.ok(Math.abs(e / Hartree - ref.energy) <= 1e-12 * Math.abs(ref.energy), `${who} energy`);
        const rf = ref.forces.flat();
        const fmax = Math.max(...rf.map(Math.abs));
        rf.forEach((v, i) => assert.ok(Math.abs(f[i] / Hartree - v) <= 1e-6 * fmax, `${who} F[${i}]: ${f[i] / Hartree} vs ${v}`));
      };
      mol.members.forEach((ref, k) => check(res.memberEnergies![k][0], res.memberForces![k], ref, `${mol.name} member ${k}`));
      check(res.energy[0], res.forces, mol.ensemble, `${mol.name} ensemble`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the .oreo round trip keeps every weight bit for bit and the provenance', () => {
  const d = readNeuroChemEnsemble(tinyDir, { name: 'tiny', source: 'test fixture' });
  const back = parseAniBytes(serializeAni(d), 'tiny.oreo');
  assert.deepEqual(back.aev, d.aev);
  assert.deepEqual(back.selfEnergies, d.selfEnergies);
  assert.equal(back.meta.source, 'test fixture');
  for (let m = 0; m < d.members.length; m++) {
    for (const [el, net] of d.members[m]) {
      const other = back.members[m].get(el)!;
      net.weights.forEach((w, k) => assert.deepEqual(other.weights[k], w));
      net.biases.forEach((b, k) => assert.deepEqual(other.biases[k], b));
    }
  }
  // The one byte-level entry point tells the kind from the header.
  assert.ok(openModelBytes(serializeAni(d), 'bytes') instanceof AniEnsemble);
});

test('broken NeuroChem input is refused naming the file and what is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ani-bad-'));
  try {
    cpSync(tinyDir, dir, { recursive: true });
    writeFileSync(join(dir, 'train1', 'networks', 'ANN-C.nnf-l2.wparam'), new Uint8Array(12));
    assert.throws(() => readNeuroChemEnsemble(dir), (e: Error) => e instanceof InputError && /ANN-C\.nnf-l2\.wparam.*12 bytes, expected 60/.test(e.message));
    writeFileSync(join(dir, 'train0', 'networks', 'ANN-H.nnf'), 'not compressed');
    assert.throws(() => readNeuroChemEnsemble(dir), /ANN-H\.nnf.*not a NeuroChem \.nnf file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseNnf('inputsize=4;\nlayer [\nnodes=2;\nactivation=3;\nblocksize=4;\nweights=FILE:w[8];\nbiases=FILE:b[2];\n]\n', 'x.nnf'), /activation code 3/);
  assert.throws(() => parseNnf('inputsize=4;\nlayer [\nnodes=1;\nactivation=6;\nblocksize=5;\nweights=FILE:w[5];\nbiases=FILE:b[1];\n]\n', 'y.nnf'), /does not follow/);
});
