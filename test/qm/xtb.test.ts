// The xtb reference calculator against xtb itself. Most tests need the `xtb` program: without it
// they are skipped (test/system-tools.ts), except under OREO_REQUIRE_SYSTEM_TOOLS=1, which .ci/run
// sets after installing Debian's package, where a missing xtb fails the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConformations } from '../../src/data/read.js';
import { OreoError } from '../../src/errors.js';
import { symbolOf } from '../../src/elements.js';
import { parseXtbGradient, XtbCalculator } from '../../src/qm/xtb.js';
import { createReferenceCalculator } from '../../src/qm/registry.js';
import { Hartree } from '../../src/units.js';
import { dataDir } from '../paths.js';
import { skipUnless } from '../system-tools.js';

// Methanol from QM9, pushed off its minimum so that every force component is sizeable.
async function distortedMethanol(): Promise<{ z: Int32Array; positions: Float64Array }> {
  const [c] = await readConformations(join(dataDir, 'qm9', 'raw_xyz_first10', 'dsgdb9nsd_000008.xyz'));
  assert.deepEqual(Array.from(c.z).sort(), [1, 1, 1, 1, 6, 8]);
  return { z: c.z, positions: Float64Array.from(c.positions, (x, i) => x + 0.08 * Math.sin(1.7 * i + 0.3)) };
}

test('xtb forces are minus the derivative of its energy (central differences, every component)', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  // Tight SCC so that energy differences over 2h are not SCC noise.
  const calc = new XtbCalculator({ accuracy: 0.01 });
  const ref = calc.compute(z, positions);
  assert.equal(ref.forces.length, positions.length);
  const h = 1e-3; // Å: truncation error ~h² stays well under the tolerance
  let largest = 0;
  for (let k = 0; k < positions.length; k++) {
    const p = Float64Array.from(positions);
    p[k] += h;
    const ePlus = calc.compute(z, p).energy;
    p[k] -= 2 * h;
    const eMinus = calc.compute(z, p).energy;
    const fd = -(ePlus - eMinus) / (2 * h);
    largest = Math.max(largest, Math.abs(ref.forces[k]));
    assert.ok(Math.abs(fd - ref.forces[k]) < 5e-4, `component ${k}: finite difference ${fd} eV/Å, xtb ${ref.forces[k]} eV/Å`);
  }
  assert.ok(largest > 0.5, `the distorted structure should have sizeable forces, largest ${largest}`);
});

test('xtb energy in eV equals the total energy xtb reports in its JSON output (Hartree)', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  const calc = new XtbCalculator();
  const { energy } = calc.compute(z, positions);
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-xtbjson-'));
  try {
    const lines = [String(z.length), ''];
    for (let a = 0; a < z.length; a++) lines.push(`${symbolOf(z[a])} ${positions[3 * a].toFixed(12)} ${positions[3 * a + 1].toFixed(12)} ${positions[3 * a + 2].toFixed(12)}`);
    writeFileSync(join(dir, 'm.xyz'), lines.join('\n') + '\n');
    const res = spawnSync(process.env.OREO_XTB ?? 'xtb', ['m.xyz', '--sp', '--json', '--norestart'], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const json = JSON.parse(readFileSync(join(dir, 'xtbout.json'), 'utf8')) as Record<string, unknown>;
    const eh = json['total energy'] as number;
    assert.equal(typeof eh, 'number');
    // The JSON prints 8 decimals of Hartree.
    assert.ok(Math.abs(energy / Hartree - eh) < 2e-8, `oreo ${energy / Hartree} Eh, xtb JSON ${eh} Eh`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('computeAsync runs calculations side by side and matches compute', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  const calc = new XtbCalculator();
  const shifted = Float64Array.from(positions, (x, i) => x + 0.03 * Math.cos(i));
  const [a, b] = await Promise.all([calc.computeAsync(z, positions), calc.computeAsync(z, shifted)]);
  const sa = calc.compute(z, positions);
  const sb = calc.compute(z, shifted);
  assert.equal(a.energy, sa.energy);
  assert.deepEqual(a.forces, sa.forces);
  assert.equal(b.energy, sb.energy);
  assert.notEqual(a.energy, b.energy);
});

test('a missing xtb program is a clear error, sync and async', async () => {
  const { z, positions } = await distortedMethanol();
  const calc = new XtbCalculator({ binary: '/nonexistent/bin/xtb' });
  assert.throws(() => calc.compute(z, positions), (e: Error) => e instanceof OreoError && /not found/.test(e.message) && /apt-get install xtb/.test(e.message));
  await assert.rejects(calc.computeAsync(z, positions), (e: Error) => e instanceof OreoError && /not found/.test(e.message));
  assert.throws(() => calc.describe(), /not found/);
});

test('elements beyond radon, impossible spin and empty input are refused before xtb runs', () => {
  const calc = new XtbCalculator({ binary: '/nonexistent/bin/xtb' });
  // The binary does not exist: these must fail on their own checks, not on starting xtb.
  assert.throws(() => calc.compute(Int32Array.from([92, 1]), new Float64Array([0, 0, 0, 0, 0, 1.9])), /no parameters for U \(Z=92\)/);
  assert.throws(() => calc.checkElements(Int32Array.from([6, 94])), /Pu/);
  // CH3O with no unpaired electron cannot exist.
  const z = Int32Array.from([6, 8, 1, 1, 1]);
  const pos = new Float64Array([0, 0, 0, 1.4, 0, 0, -0.5, 0.9, 0, -0.5, -0.9, 0, -0.4, 0, 1]);
  assert.throws(() => calc.compute(z, pos), /unpaired/);
  assert.throws(() => calc.compute(new Int32Array(0), new Float64Array(0)), /no atoms/);
  assert.throws(() => calc.compute(Int32Array.from([1, 1]), new Float64Array([0, 0, 0, 0, 0, NaN])), /not finite/);
  assert.throws(() => new XtbCalculator({ accuracy: -1 }), /accuracy/);
});

test('an open-shell molecule runs when its unpaired electron is declared', { skip: skipUnless('xtb') }, () => {
  const z = Int32Array.from([6, 8, 1, 1, 1]);
  const pos = new Float64Array([0, 0, 0, 1.4, 0, 0, -0.5, 0.9, 0, -0.5, -0.9, 0, -0.4, 0, 1]);
  const r = new XtbCalculator({ unpaired: 1 }).compute(z, pos);
  assert.ok(Number.isFinite(r.energy) && r.forces.every(Number.isFinite));
});

test('SCF non-convergence and the time limit give clear errors', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  assert.throws(() => new XtbCalculator({ maxIterations: 2 }).compute(z, positions), (e: Error) => e instanceof OreoError && /SCF did not converge within 2 iterations/.test(e.message));
  assert.throws(() => new XtbCalculator({ timeoutSeconds: 0.001 }).compute(z, positions), /did not finish within/);
  await assert.rejects(new XtbCalculator({ timeoutSeconds: 0.001 }).computeAsync(z, positions), /did not finish within/);
});

test('scratch directories are removed after successes and failures', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  const mine = mkdtempSync(join(tmpdir(), 'oreo-test-scratch-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = mine; // os.tmpdir() follows TMPDIR
  try {
    const calc = new XtbCalculator();
    calc.compute(z, positions);
    await calc.computeAsync(z, positions);
    assert.throws(() => new XtbCalculator({ maxIterations: 2 }).compute(z, positions));
    assert.throws(() => new XtbCalculator({ timeoutSeconds: 0.001 }).compute(z, positions));
    calc.optimize(z, positions, { level: 'crude', maxCycles: 2 });
    assert.deepEqual(readdirSync(mine), []);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(mine, { recursive: true, force: true });
  }
});

test('xtb optimisation lowers the energy to a point with small forces', { skip: skipUnless('xtb') }, async () => {
  const { z, positions } = await distortedMethanol();
  const calc = new XtbCalculator();
  const before = calc.compute(z, positions).energy;
  const opt = calc.optimize(z, positions, { level: 'tight' });
  assert.ok(opt.converged && opt.cycles > 0, JSON.stringify({ converged: opt.converged, cycles: opt.cycles }));
  assert.ok(opt.energy < before - 0.05, `energy ${before} → ${opt.energy} eV`);
  const after = calc.compute(z, opt.positions);
  assert.ok(Math.abs(after.energy - opt.energy) < 1e-6);
  const fmax = Math.max(...Array.from(after.forces, Math.abs));
  assert.ok(fmax < 0.02, `largest force after a tight optimisation ${fmax} eV/Å`);
  // Cycle limit reached: reported, not thrown.
  const short = calc.optimize(z, positions, { level: 'tight', maxCycles: 1 });
  assert.equal(short.converged, false);
});

test('describe() records program version, method and settings; the registry names calculators', { skip: skipUnless('xtb') }, () => {
  const d = createReferenceCalculator('xtb', { accuracy: 0.5 }).describe();
  assert.equal(d.program, 'xtb');
  assert.match(d.version, /^\d+\.\d+/);
  assert.equal(d.method, 'GFN2-xTB');
  assert.equal(d.settings.accuracy, 0.5);
  assert.equal(createReferenceCalculator('GFN1-xTB').describe().method, 'GFN1-xTB');
  assert.throws(() => createReferenceCalculator('psi4'), /not supported yet/);
  assert.throws(() => createReferenceCalculator('vasp'), /unknown reference calculator 'vasp'.*available: xtb/);
});

test('the gradient-file reader refuses files that do not fit the structure', () => {
  const good = [
    '$grad',
    '  cycle =      1    SCF energy =    -5.07037076185   |dE/dxyz| =  0.007222',
    '    0.00000000000000      0.00000000000000      0.22166487441798      O',
    '    0.00000000000000      1.43090062156260     -0.88665949767191      H',
    '    0.00000000000000     -1.43090062156260     -0.88665949767191      H',
    '  -1.2059716620784E-17   9.5409420601810E-17   2.9403372405581E-03',
    '   1.1994969514901E-17  -4.4262206397186E-03  -1.4701686202790E-03',
    '   6.4747105882520D-20   4.4262206397185E-03  -1.4701686202790E-03',
    '$end',
  ].join('\n');
  const g = parseXtbGradient(good, 3);
  assert.equal(g.energyHartree, -5.07037076185);
  assert.equal(g.gradientHartreePerBohr[2], 2.9403372405581e-3);
  assert.equal(g.gradientHartreePerBohr[6], 6.474710588252e-20);
  assert.throws(() => parseXtbGradient(good, 4), /expected 4 coordinate lines/);
  assert.throws(() => parseXtbGradient(good, 2), /more lines than the 2 atoms/);
  assert.throws(() => parseXtbGradient('$grad\n$end\n', 3), /no 'cycle =' line/);
});
