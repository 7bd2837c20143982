// Geometry optimisation: FIRE and L-BFGS (src/optimize) reach known minima of analytic potentials,
// take about the step counts ASE's own FIRE and LBFGS take from the same start (where Python with
// ASE is installed), relax a molecule with GFN2-xTB to xtb's own optimiser's energy (where xtb is
// installed), and `oreo optimize` writes the structure and its path and exits 3 when the step
// limit comes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { minimize, maxAtomForce } from '../../src/optimize/index.js';
import { LennardJones } from '../../src/md/potentials/lennard-jones.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { writeStructureFile } from '../../src/data/write.js';
import { runOreo } from '../cli.js';
import { skipUnless, systemPython } from '../system-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-optimize-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A 13-atom icosahedron (centre + 12 vertices, σ = 1) with a fixed, non-symmetric distortion. */
function distortedIcosahedron(): Float64Array {
  const phi = (1 + Math.sqrt(5)) / 2;
  const v: number[][] = [[0, 0, 0]];
  for (const a of [-1, 1]) for (const b of [-phi, phi]) v.push([0, a, b], [a, b, 0], [b, 0, a]);
  const scale = 1.1 / Math.hypot(1, phi);
  const out = new Float64Array(39);
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.16;
  v.forEach((p, i) => p.forEach((x, k) => (out[3 * i + k] = x * scale + rnd())));
  return out;
}

const z13 = new Int32Array(13).fill(18);
// rc = 100σ: every pair counts; the shift at rc (−4e-12 ε per pair) is far below what is compared.
const lj = new LennardJones({ epsilon: 1, sigma: 1, rc: 100 });
/** Global minimum of LJ13, the Mackay icosahedron (Wales & Doye, J. Phys. Chem. A 101, 5111 (1997); Cambridge Cluster Database). */
const LJ13_MIN = -44.326801;

for (const method of ['fire', 'lbfgs'] as const) {
  test(`${method}: a distorted LJ13 icosahedron relaxes to the known minimum −44.326801 ε`, () => {
    const r = minimize(lj, z13, distortedIcosahedron(), { method, fmax: 1e-4, steps: 2000 });
    assert.ok(r.converged, r.reason);
    assert.ok(r.fmax < 1e-4 && maxAtomForce(r.forces) === r.fmax);
    assert.ok(Math.abs(r.energy - LJ13_MIN) < 1e-5, `E = ${r.energy}`);
    assert.equal(r.evaluations, r.steps + 1);
  });
}

test('the step limit ends a run as not converged, with the reason', () => {
  const r = minimize(lj, z13, distortedIcosahedron(), { method: 'fire', fmax: 1e-4, steps: 3 });
  assert.equal(r.converged, false);
  assert.equal(r.steps, 3);
  assert.match(r.reason!, /not converged: fmax .* > 0\.0001 after 3 steps/);
});

test('FIRE and L-BFGS take about as many steps as ASE\'s FIRE and LBFGS from the same start', { skip: skipUnless('python3-ase') }, () => {
  const x = distortedIcosahedron();
  const script = `
import json, sys
import numpy as np
from ase import Atoms
from ase.calculators.lj import LennardJones
from ase.optimize import FIRE, LBFGS
x = np.array(json.load(sys.stdin)).reshape(-1, 3)
out = {}
for name, cls in [('fire', FIRE), ('lbfgs', LBFGS)]:
    a = Atoms('Ar13', positions=x)
    a.calc = LennardJones(sigma=1.0, epsilon=1.0, rc=100.0)
    opt = cls(a, logfile=None)
    opt.run(fmax=0.01, steps=2000)
    out[name] = {'steps': opt.nsteps, 'energy': a.get_potential_energy()}
print(json.dumps(out))
`;
  const r = spawnSync(systemPython(), ['-c', script], { input: JSON.stringify(Array.from(x)), encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const ase = JSON.parse(r.stdout) as Record<'fire' | 'lbfgs', { steps: number; energy: number }>;
  for (const method of ['fire', 'lbfgs'] as const) {
    const mine = minimize(lj, z13, x, { method, fmax: 0.01, steps: 2000 });
    assert.ok(mine.converged);
    // Same algorithm and parameters: the step counts agree up to round-off near the threshold.
    assert.ok(Math.abs(mine.steps - ase[method].steps) <= Math.max(2, 0.05 * ase[method].steps), `${method}: oreo ${mine.steps} steps, ASE ${ase[method].steps}`);
    assert.ok(Math.abs(mine.energy - ase[method].energy) < 1e-3, `${method}: oreo ${mine.energy}, ASE ${ase[method].energy}`);
  }
});

// Formaldehyde, slightly off its minimum.
const ch2o = { z: Int32Array.from([6, 8, 1, 1]), positions: Float64Array.from([0, 0, 0, 1.25, 0.05, 0, -0.6, 0.95, 0, -0.55, -0.9, 0.1]) };

test('L-BFGS with GFN2-xTB reaches the energy xtb\'s own optimiser reaches', { skip: skipUnless('xtb') }, () => {
  const xtb = new XtbCalculator();
  const mine = minimize(xtb, ch2o.z, ch2o.positions, { method: 'lbfgs', fmax: 0.005, steps: 200 });
  assert.ok(mine.converged, mine.reason);
  const theirs = xtb.optimize(ch2o.z, ch2o.positions, { level: 'tight' });
  assert.ok(theirs.converged);
  assert.ok(Math.abs(mine.energy - theirs.energy) < 2e-4, `oreo ${mine.energy} eV, xtb ANCopt ${theirs.energy} eV`);
});

test('oreo optimize: writes the relaxed structure and its path; the step limit gives exit 3', () => {
  const start = join(tmp, 'lj13.xyz');
  writeStructureFile(start, [{ z: z13, positions: distortedIcosahedron() }]);
  const out = join(tmp, 'relaxed.extxyz');
  const ok = runOreo(['optimize', '--input', start, '--model', 'lj:epsilon=1,sigma=1,rc=100', '--optimizer', 'fire', '--fmax', '0.001', '--out', out, '--quiet']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^converged: E .* → -44\.3268\d* eV/);
  const [relaxed] = readExtxyzFile(out);
  assert.equal(relaxed.info.converged, true);
  assert.ok(Math.abs((relaxed.info.energy as number) - LJ13_MIN) < 1e-4);
  const path = readExtxyzFile(join(tmp, 'relaxed.path.extxyz'));
  assert.equal(path.length, (relaxed.info.steps as number) + 1);
  assert.ok((path[0].info.energy as number) > (path.at(-1)!.info.energy as number));

  const cut = runOreo(['optimize', '--input', start, '--model', 'lj:epsilon=1,sigma=1,rc=100', '--steps', '2', '--out', join(tmp, 'cut.xyz'), '--quiet']);
  assert.equal(cut.status, 3, cut.stdout + cut.stderr);
  assert.match(cut.stdout, /NOT converged \(not converged: fmax .* after 2 steps/);
  assert.equal(readExtxyzFile(join(tmp, 'cut.xyz'))[0].info.converged, false);
});
