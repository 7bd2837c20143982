// `oreo dataset polymers`: a small run end to end with xtb, its files, its labels checked against
// the calculator, resuming, and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { readConformations } from '../../src/data/read.js';
import { COMBINED_FILE, generatePolymerDataset, MANIFEST_FILE, type PolymerManifest } from '../../src/polymers/dataset.js';
import { PAPER_UNITS } from '../../src/polymers/units.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { runOreo } from '../cli.js';
import { skipUnless } from '../system-tools.js';

test('a small polymer dataset: MD frames labelled by xtb, manifest, combined file, resume', { skip: skipUnless('xtb') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-polyds-'));
  try {
    const calc = new XtbCalculator();
    const options = {
      outDir: dir,
      units: [PAPER_UNITS.LAC1],
      loops: [1],
      calculator: calc,
      mdSteps: 6,
      saveEvery: 3,
      temperature: 600,
      relaxLevel: 'crude',
    };
    const first = await generatePolymerDataset(options);
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as PolymerManifest;
    assert.deepEqual(m, JSON.parse(JSON.stringify(first.manifest)));
    assert.equal(m.reference.method, 'GFN2-xTB');
    assert.equal(m.md.temperature, 600);
    assert.equal(m.systems.length, 1);
    const sys = m.systems[0];
    assert.equal(sys.name, 'LAC1-L1');
    assert.equal(sys.formula, 'C4H8O3');
    assert.equal(sys.status, 'completed');
    assert.equal(sys.frames, 3); // steps 0, 3, 6
    assert.equal(m.combined?.frames, 3);

    // Every saved frame carries xtb's energy and forces for its own positions.
    const traj = readExtxyzFile(join(dir, sys.trajectory));
    assert.deepEqual(traj.map((f) => f.info.step), [0, 3, 6]);
    const last = traj[2];
    const direct = calc.compute(last.z, last.positions);
    assert.ok(Math.abs((last.info.energy as number) - direct.energy) < 1e-9);
    for (let k = 0; k < direct.forces.length; k++) assert.ok(Math.abs(last.arrays.forces[k] - direct.forces[k]) < 1e-9);
    // Off equilibrium: MD moved the atoms away from the relaxed start.
    const start = readExtxyzFile(join(dir, sys.start))[0];
    assert.ok(Math.max(...Array.from(last.positions, (x, i) => Math.abs(x - start.positions[i]))) > 1e-3);

    // The combined file reads like any dataset, with the system named on every frame.
    const confs = await readConformations(join(dir, COMBINED_FILE));
    assert.equal(confs.length, 3);
    assert.ok(confs.every((c) => c.energy !== undefined && c.forces?.length === 45));
    assert.equal(readExtxyzFile(join(dir, COMBINED_FILE))[1].info.system, 'LAC1-L1');

    // Asking for more steps continues the MD from its checkpoint; the structure is reused.
    const more = await generatePolymerDataset({ ...options, mdSteps: 9 });
    assert.equal(more.manifest.systems[0].frames, 4);
    assert.deepEqual(readExtxyzFile(join(dir, sys.trajectory)).slice(0, 3), traj);
    assert.deepEqual(readExtxyzFile(join(dir, sys.start))[0], start);

    // Settings that change the data cannot be mixed into the same dataset.
    await assert.rejects(generatePolymerDataset({ ...options, temperature: 300 }), /other settings.*MD settings/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oreo dataset polymers refuses bad loop counts, malformed SMILES and unknown units', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-polycli-'));
  try {
    const run = (...args: string[]) => runOreo(['dataset', 'polymers', '--md-steps', '2', '--out', join(dir, 'out'), ...args]);
    const zero = run('--units', 'CK', '--loops', '0');
    assert.equal(zero.status, 1);
    assert.match(zero.stderr, /--loops: '0' is not a loop count/);
    const smiles = run('--units', '[*]CC(C[*]', '--loops', '1');
    assert.equal(smiles.status, 1);
    assert.match(smiles.stderr, /\[\*\]CC\(C\[\*\]'.*never closed/);
    const unknown = run('--units', 'PET', '--loops', '1');
    assert.match(unknown.stderr, /unknown repeat unit 'PET'/);
    const uranium = run('--units', '[*]O[U]O[*]', '--loops', '1');
    assert.match(uranium.stderr, /custom1-L1: GFN2-xTB has no parameters for U/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
