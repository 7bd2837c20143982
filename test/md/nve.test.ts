// Velocity Verlet on a smooth potential (a 7-atom Morse cluster): the total energy stays within
// 1e-4 of its start over 1e5 steps, and the energy error shrinks as dt².
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms, maxwellBoltzmannVelocities, totalMomentum } from '../../src/md/atoms.js';
import { Morse } from '../../src/md/potentials/morse.js';
import { VelocityVerlet } from '../../src/md/integrators/velocity-verlet.js';
import { Simulation } from '../../src/md/simulation.js';
import { Rng } from '../../src/random.js';
import { fccCluster } from './helpers.js';

/** Largest |E(t) − E(0)| / |E(0)| over `time` fs of NVE at step dt. */
function energyError(dt: number, time: number): { maxRel: number; sim: Simulation } {
  const atoms = new Atoms({ z: new Array(7).fill(18), positions: fccCluster(7, 3.8) });
  maxwellBoltzmannVelocities(atoms, 40, new Rng(7), { zeroMomentum: true, zeroAngularMomentum: true });
  const sim = new Simulation(atoms, new Morse({ epsilon: 0.0104, rho0: 6, r0: 3.8 }), new VelocityVerlet(dt));
  const e0 = sim.totalEnergy();
  let maxDev = 0;
  const steps = Math.round(time / dt);
  for (let s = 0; s < steps; s++) {
    sim.advance();
    maxDev = Math.max(maxDev, Math.abs(sim.totalEnergy() - e0));
  }
  return { maxRel: maxDev / Math.abs(e0), sim };
}

test('NVE: relative energy error below 1e-4 over 1e5 steps at dt = 2 fs', () => {
  const { maxRel, sim } = energyError(2, 2e5);
  assert.equal(sim.step, 100_000);
  assert.ok(maxRel < 1e-4, `max relative energy error ${maxRel}`);
  assert.ok(maxRel > 0); // the integrator is not trivially frozen
  assert.ok(sim.temperature() > 5, 'the cluster is still moving');
  // momentum stays zero (forces are pairwise)
  assert.ok(Math.hypot(...totalMomentum(sim.atoms.masses, sim.atoms.velocities)) < 1e-12);
});

test('NVE: the energy error scales as dt²', () => {
  // over the same 20 ps: dt = 1 fs and dt = 4 fs differ by a factor 16 in dt²
  const small = energyError(1, 20_000).maxRel;
  const large = energyError(4, 20_000).maxRel;
  const order = Math.log(large / small) / Math.log(4);
  assert.ok(order > 1.7 && order < 2.3, `observed order ${order} (errors ${small}, ${large})`);
});
