import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Atoms, angularMomentum, kineticEnergy, maxwellBoltzmannVelocities, temperatureFromKinetic, totalMomentum,
} from '../../src/md/atoms.js';
import { Rng } from '../../src/random.js';
import { aseTimeInFs, kB } from '../../src/units.js';
import { fccCluster } from './helpers.js';

test('kinetic energy and temperature follow E = ½mv², T = 2E/(3N·kB) in ASE units', () => {
  // One carbon and one hydrogen with velocities given in ASE units (Å per ASE time unit), where
  // ½mv² is directly in eV; oreo stores Å/fs.
  const vAse = [0.01, -0.02, 0.005, 0.03, 0.0, -0.01];
  const atoms = new Atoms({ z: [6, 1], positions: [0, 0, 0, 1.1, 0, 0], velocities: vAse.map((v) => v / aseTimeInFs) });
  const expected = 0.5 * 12.011 * (0.01 ** 2 + 0.02 ** 2 + 0.005 ** 2) + 0.5 * 1.008 * (0.03 ** 2 + 0.01 ** 2);
  assert.ok(Math.abs(atoms.kineticEnergy() - expected) < 1e-15);
  assert.ok(Math.abs(atoms.temperature() - (2 * expected) / (3 * 2 * kB)) < 1e-9);
  assert.equal(temperatureFromKinetic(kineticEnergy(atoms.masses, atoms.velocities), 2), atoms.temperature());
});

test('Atoms checks its inputs', () => {
  assert.throws(() => new Atoms({ z: [1, 1], positions: [0, 0, 0] }), /6 position values/);
  assert.throws(() => new Atoms({ z: [], positions: [] }), /no atoms/);
  assert.throws(() => new Atoms({ z: [200], positions: [0, 0, 0] }), /no mass/);
});

test('Maxwell–Boltzmann velocities have variance kT/m per component and are reproducible', () => {
  const n = 4000;
  const z = Array.from({ length: n }, (_, i) => (i % 2 ? 1 : 8));
  const atoms = new Atoms({ z, positions: new Float64Array(3 * n) });
  maxwellBoltzmannVelocities(atoms, 500, new Rng(1));
  // m·v²/kT averages 1 per component, for light and heavy atoms alike
  for (const zi of [1, 8]) {
    let s = 0, c = 0;
    for (let i = 0; i < n; i++) if (atoms.z[i] === zi) for (let k = 0; k < 3; k++) {
      s += (atoms.masses[i] * atoms.velocities[3 * i + k] ** 2) * (aseTimeInFs ** 2) / (kB * 500);
      c++;
    }
    assert.ok(Math.abs(s / c - 1) < 0.05, `Z=${zi}: ${s / c}`);
  }
  assert.ok(Math.abs(atoms.temperature() / 500 - 1) < 0.05);
  const again = new Atoms({ z, positions: new Float64Array(3 * n) });
  maxwellBoltzmannVelocities(again, 500, new Rng(1));
  assert.deepEqual(again.velocities, atoms.velocities);
});

test('zero momentum, zero rotation and exact temperature options', () => {
  const positions = fccCluster(13, 2.5);
  for (let i = 0; i < positions.length; i++) positions[i] += 0.1 * Math.sin(7 * i); // break the symmetry
  const atoms = new Atoms({ z: Array.from({ length: 13 }, (_, i) => [1, 6, 8][i % 3]), positions });
  maxwellBoltzmannVelocities(atoms, 300, new Rng(3));
  const p0 = totalMomentum(atoms.masses, atoms.velocities);
  const L0 = angularMomentum(atoms.masses, atoms.positions, atoms.velocities);
  assert.ok(Math.hypot(...p0) > 1e-3 && Math.hypot(...L0) > 1e-3);
  maxwellBoltzmannVelocities(atoms, 300, new Rng(3), { zeroMomentum: true, zeroAngularMomentum: true, exactTemperature: true });
  assert.ok(Math.hypot(...totalMomentum(atoms.masses, atoms.velocities)) < 1e-12);
  assert.ok(Math.hypot(...angularMomentum(atoms.masses, atoms.positions, atoms.velocities)) < 1e-10);
  assert.ok(Math.abs(atoms.temperature() - 300) < 1e-9);
});

test('rotation removal works for a linear molecule (singular inertia tensor)', () => {
  const atoms = new Atoms({ z: [8, 6, 8], positions: [-1.16, 0, 0, 0, 0, 0, 1.16, 0, 0] });
  maxwellBoltzmannVelocities(atoms, 300, new Rng(9), { zeroMomentum: true, zeroAngularMomentum: true });
  assert.ok(Math.hypot(...angularMomentum(atoms.masses, atoms.positions, atoms.velocities)) < 1e-12);
  assert.ok(atoms.velocities.every(Number.isFinite));
  assert.ok(atoms.temperature() > 1); // the stretching motion along the axis survives
});
