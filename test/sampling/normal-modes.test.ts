// Normal modes and sampling: the Jacobi eigen-solver against the definition (A v = λ v, V orthonormal),
// wavenumbers against xtb's own frequency analysis of the same Hessian (a reference oreo did not
// write), ANI-1-style displacements against the harmonic energy they must carry, and the bonding
// check against broken and formed bonds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformersFromSmiles } from '../../src/chem/smiles.js';
import { symbolOf } from '../../src/elements.js';
import { Rng } from '../../src/random.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { bondingChange, graphFromPairs, perceiveBonds } from '../../src/sampling/bonds.js';
import { symmetricEigen } from '../../src/linalg.js';
import { normalModes, sampleNormalModes, wavenumberToEigenvalue } from '../../src/sampling/normal-modes.js';
import { kB } from '../../src/units.js';
import { skipUnless } from '../system-tools.js';

test('symmetricEigen: A v = λ v and orthonormal vectors for a random symmetric matrix', () => {
  const n = 12;
  const rng = new Rng(3);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 0; k < n; k++) {
    if (k) assert.ok(values[k] >= values[k - 1]);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
      assert.ok(Math.abs(av - values[k] * vectors[k * n + i]) < 1e-10);
    }
    for (let l = 0; l < n; l++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += vectors[k * n + i] * vectors[l * n + i];
      assert.ok(Math.abs(d - (k === l ? 1 : 0)) < 1e-12);
    }
  }
});

test('wavenumbers from the xtb Hessian agree with xtb’s own frequency analysis', { skip: skipUnless('xtb') }, () => {
  const c = conformersFromSmiles('CCO', { seed: 1 })[0];
  const xtb = new XtbCalculator();
  const relaxed = xtb.optimize(c.z, c.positions, { level: 'tight' }).positions;
  const nm = normalModes(c.z, relaxed, xtb.hessian(c.z, relaxed));
  assert.equal(nm.wavenumbers.length, 3 * c.z.length - 6);
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-nm-'));
  try {
    const xyz = `${c.z.length}\n\n` + Array.from(c.z, (zi, a) => `${symbolOf(zi)} ${relaxed[3 * a].toFixed(12)} ${relaxed[3 * a + 1].toFixed(12)} ${relaxed[3 * a + 2].toFixed(12)}`).join('\n') + '\n';
    writeFileSync(join(dir, 'm.xyz'), xyz);
    execFileSync('xtb', ['m.xyz', '--hess', '--norestart'], { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: 'ignore' });
    // vibspectrum rows: mode, symmetry, wavenumber (cm⁻¹), …; the six rigid-body rows read 0.
    const theirs = readFileSync(join(dir, 'vibspectrum'), 'utf8')
      .split('\n')
      .filter((l) => /^\s+\d+\s/.test(l))
      .map((l) => Number(l.trim().split(/\s+/).at(-4)))
      .filter((w) => w !== 0);
    assert.equal(theirs.length, nm.wavenumbers.length);
    // xtb's mass table differs from ASE's in the last digits, hence 0.5 cm⁻¹ rather than round-off.
    theirs.forEach((w, k) => assert.ok(Math.abs(w - nm.wavenumbers[k]) < 0.5, `mode ${k}: xtb ${w}, oreo ${nm.wavenumbers[k]}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a normal-mode sample carries (3/2)·s·N·k_B·T of harmonic energy, s in [0, 1), as ANI-1 prescribes', () => {
  // Two atoms on a spring: one vibration, λ known, so the energy of each displacement is checkable.
  const z = Int32Array.from([1, 1]);
  const positions = Float64Array.from([0, 0, 0, 0.74, 0, 0]);
  const k = 36; // eV/Å²
  const h = new Float64Array(36);
  const pairs: [number, number, number][] = [
    [0, 0, k],
    [3, 3, k],
    [0, 3, -k],
    [3, 0, -k],
  ];
  for (const [i, j, v] of pairs) h[i * 6 + j] = v;
  const nm = normalModes(z, positions, h);
  assert.equal(nm.eigenvalues.length, 1);
  const mass = nm.masses[0];
  assert.ok(Math.abs(nm.eigenvalues[0] - (2 * k) / mass) < 1e-9);
  const rng = new Rng(11);
  const T = 600;
  let maxFraction = 0;
  for (let i = 0; i < 200; i++) {
    const s = sampleNormalModes(positions, nm, rng, { temperature: T, minWavenumber: 1 });
    const d = s.positions[3] - s.positions[0] - 0.74;
    // Energy of the spring from the bond stretch alone equals the harmonic energy of the sample.
    const spring = 0.5 * k * d * d;
    assert.ok(Math.abs(spring - s.harmonicEnergy) < 1e-9 * Math.max(1, spring));
    const fraction = s.harmonicEnergy / (1.5 * 2 * kB * T);
    assert.ok(fraction >= 0 && fraction < 1);
    maxFraction = Math.max(maxFraction, fraction);
  }
  assert.ok(maxFraction > 0.8, 'the total fraction s is drawn over [0, 1)');
  // Soft modes are floored: a 10 cm⁻¹ spring moves as far as a 100 cm⁻¹ one at most.
  assert.ok(wavenumberToEigenvalue(100) > wavenumberToEigenvalue(10));
});

test('bonding check: a stretched bond within the hysteresis is kept, a broken or a new bond is named', () => {
  const c = conformersFromSmiles('CO', { seed: 1 })[0];
  const bonds = graphFromPairs(c.bonds, c.z.length);
  assert.deepEqual([...perceiveBonds(c.z, c.positions)].sort(), [...bonds].sort());
  assert.equal(bondingChange(c.z, c.positions, bonds), null);
  const o = Array.from(c.z).indexOf(8);
  const cIdx = Array.from(c.z).indexOf(6);
  const moved = (f: number) => {
    const p = Float64Array.from(c.positions);
    for (let d = 0; d < 3; d++) p[3 * o + d] = c.positions[3 * cIdx + d] + f * (c.positions[3 * o + d] - c.positions[3 * cIdx + d]);
    return p;
  };
  assert.equal(bondingChange(c.z, moved(1.2), bonds), null);
  assert.match(bondingChange(c.z, moved(1.8)!, bonds) ?? '', /C\d+–O\d+ broken at/);
  // Two hydrogens pushed onto each other form an H–H bond.
  const hs = Array.from(c.z).flatMap((zi, a) => (zi === 1 ? [a] : []));
  const p = Float64Array.from(c.positions);
  for (let d = 0; d < 3; d++) p[3 * hs[1] + d] = p[3 * hs[0] + d] + (d === 0 ? 0.3 : 0);
  assert.match(bondingChange(c.z, p, bonds) ?? '', /H\d+–H\d+ formed at 0\.30 Å/);
});
