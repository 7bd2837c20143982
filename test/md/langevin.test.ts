// Langevin (BAOAB): the temperature averages to the target, per-atom kinetic energies follow the
// Maxwell–Boltzmann (Gamma(3/2, kT)) law, and the velocity memory decays at the friction rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms, maxwellBoltzmannVelocities } from '../../src/md/atoms.js';
import { LennardJones } from '../../src/md/potentials/lennard-jones.js';
import { Langevin } from '../../src/md/integrators/langevin.js';
import { Simulation } from '../../src/md/simulation.js';
import { Rng } from '../../src/random.js';
import { kB, kineticFactor } from '../../src/units.js';
import { argon20Positions, NoInteraction } from './helpers.js';

/** erf(x) to ~1e-7 (Numerical Recipes' erfc Chebyshev fit). */
function erf(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const poly = -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const y = 1 - t * Math.exp(poly);
  return x >= 0 ? y : -y;
}

/** CDF of one atom's kinetic energy in units of kT under Maxwell–Boltzmann: Gamma(3/2, 1). */
function kineticCdf(e: number): number {
  return erf(Math.sqrt(e)) - 2 * Math.sqrt(e / Math.PI) * Math.exp(-e);
}

/** Kolmogorov–Smirnov distance between a sample and a CDF. */
function ksDistance(sample: number[], cdf: (x: number) => number): number {
  const s = sample.slice().sort((a, b) => a - b);
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const f = cdf(s[i]);
    d = Math.max(d, Math.abs(f - i / s.length), Math.abs(f - (i + 1) / s.length));
  }
  return d;
}

function runArgon(temperature: number, bathTemperature: number, friction: number, steps: number) {
  const atoms = new Atoms({ z: new Array(20).fill(18), positions: argon20Positions() });
  const rng = new Rng(1);
  maxwellBoltzmannVelocities(atoms, temperature, rng);
  const sim = new Simulation(atoms, new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: Infinity }), new Langevin(2, bathTemperature, friction, rng));
  let sumT = 0, count = 0, maxDevH = 0, heatMoved = 0, lastHeat = 0;
  const energies: number[] = [];
  const burnIn = 1000;
  const h0 = sim.conservedEnergy();
  const langevin = sim.integrator as Langevin;
  for (let s = 1; s <= steps; s++) {
    sim.advance();
    maxDevH = Math.max(maxDevH, Math.abs(sim.conservedEnergy() - h0));
    heatMoved += Math.abs(langevin.heat - lastHeat);
    lastHeat = langevin.heat;
    if (s <= burnIn) continue;
    sumT += sim.temperature();
    count++;
    // one sample per atom every 20 steps (the velocity memory is 1/γ = 20 fs = 10 steps)
    if (s % 20 === 0) {
      for (let i = 0; i < atoms.count; i++) {
        let v2 = 0;
        for (let k = 0; k < 3; k++) v2 += atoms.velocities[3 * i + k] ** 2;
        energies.push((0.5 * atoms.masses[i] * v2 * kineticFactor) / (kB * temperature));
      }
    }
  }
  return { meanT: sumT / count, energies, maxDevH, heatMoved };
}

test('Langevin: T averages to the target and kinetic energies are Maxwell–Boltzmann distributed', () => {
  const T = 30;
  const { meanT, energies, maxDevH, heatMoved } = runArgon(T, T, 0.05, 50_000);
  assert.ok(Math.abs(meanT / T - 1) < 0.01, `mean T ${meanT} K`);
  const d = ksDistance(energies, kineticCdf);
  // 49k samples: a correct sampler gives D ≲ 0.009 (several seeds tried); a bath 5% too hot or
  // too cold gives D ≳ 0.017
  assert.ok(d < 0.012, `KS distance ${d} over ${energies.length} samples`);
  const meanE = energies.reduce((a, b) => a + b, 0) / energies.length;
  assert.ok(Math.abs(meanE - 1.5) < 0.04, `mean kinetic energy ${meanE} kT per atom`);
  // with the heat given to the bath counted, E + heat is conserved up to the integration error
  assert.ok(maxDevH < 1e-6 * heatMoved, `E + heat moved by ${maxDevH} eV while ${heatMoved} eV of heat flowed`);
});

test('the same statistical test rejects a bath at the wrong temperature', () => {
  // guards the test above against being unable to fail: noise 5% too strong
  const { energies } = runArgon(30, 31.5, 0.05, 50_000);
  assert.ok(ksDistance(energies, kineticCdf) > 0.012);
});

test('Langevin velocity memory decays as exp(−γt) and the noise keeps ⟨v²⟩ = kT/m', () => {
  // Free particles: the O step is an exact Ornstein–Uhlenbeck update, so the friction and noise
  // amplitude can be read off directly.
  const n = 400, T = 300, dt = 1, gamma = 0.02, lag = 50; // γ·lag·dt = 1 → expected correlation e⁻¹
  const atoms = new Atoms({ z: new Array(n).fill(6), positions: new Float64Array(3 * n) });
  const rng = new Rng(17);
  maxwellBoltzmannVelocities(atoms, T, rng);
  const sim = new Simulation(atoms, new NoInteraction(), new Langevin(dt, T, gamma, rng));
  let num = 0, den = 0, v2 = 0, count = 0;
  for (let block = 0; block < 40; block++) {
    const v0 = Float64Array.from(atoms.velocities);
    for (let s = 0; s < lag; s++) sim.advance();
    for (let k = 0; k < v0.length; k++) {
      num += v0[k] * atoms.velocities[k];
      den += v0[k] * v0[k];
      v2 += atoms.velocities[k] ** 2;
      count++;
    }
  }
  const corr = num / den;
  assert.ok(Math.abs(corr - Math.exp(-gamma * lag * dt)) < 0.02, `correlation ${corr}, expected ${Math.exp(-1)}`);
  const expectedV2 = (kB * T) / (atoms.masses[0] * kineticFactor); // (Å/fs)²
  assert.ok(Math.abs(v2 / count / expectedV2 - 1) < 0.02, `⟨v²⟩ ratio ${v2 / count / expectedV2}`);
});

test('Langevin state round-trips through JSON, random generator included', () => {
  const make = () => new Atoms({ z: new Array(20).fill(18), positions: argon20Positions() });
  const a = new Simulation(make(), new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: Infinity }), new Langevin(2, 30, 0.01, new Rng(1)));
  for (let s = 0; s < 101; s++) a.advance();
  const saved = JSON.parse(JSON.stringify(a.integrator.getState()));
  const b = new Simulation(a.atoms.clone(), a.calculator, new Langevin(2, 30, 0.01, new Rng(999), saved), { forces: a.forces, energy: a.energy });
  for (let s = 0; s < 100; s++) {
    a.advance();
    b.advance();
  }
  assert.deepEqual(b.atoms.positions, a.atoms.positions);
  assert.deepEqual(b.atoms.velocities, a.atoms.velocities);
});
