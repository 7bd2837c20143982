// Nose–Hoover as MDsim integrates it: step-by-step agreement with MDsim's own integrator (fixture),
// with the update formulas re-evaluated here in ASE units, and the physics on a 20-atom cluster.
// Also the Nose–Hoover chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms, maxwellBoltzmannVelocities } from '../../src/md/atoms.js';
import { LennardJones } from '../../src/md/potentials/lennard-jones.js';
import { Morse } from '../../src/md/potentials/morse.js';
import { NoseHoover } from '../../src/md/integrators/nose-hoover.js';
import { NoseHooverChain } from '../../src/md/integrators/nose-hoover-chain.js';
import type { Integrator } from '../../src/md/integrators/types.js';
import { Simulation } from '../../src/md/simulation.js';
import { Rng } from '../../src/random.js';
import { aseTimeInFs, kB } from '../../src/units.js';
import { argon20Positions, fccCluster, loadNoseHooverFixture } from './helpers.js';

test('reproduces MDsim NoseHoover (run under ASE) step by step on 20 LJ argon atoms', () => {
  const fx = loadNoseHooverFixture();
  const n = fx.symbols.length;
  assert.ok(fx.symbols.every((s) => s === 'Ar'));
  const atoms = new Atoms({
    z: new Array(n).fill(18),
    positions: fx.initial.positions.flat(),
    // the fixture's velocities are Å per ASE time unit
    velocities: fx.initial.velocities.flat().map((v) => v / aseTimeInFs),
    masses: fx.masses_amu,
  });
  const lj = new LennardJones({ epsilon: fx.lennard_jones.epsilon_eV, sigma: fx.lennard_jones.sigma_A, rc: fx.lennard_jones.rc_A });
  const nh = new NoseHoover(fx.dt_fs, fx.temperature_K, n, fx.ttime);
  const sim = new Simulation(atoms, lj, nh);
  assert.equal(fx.frames[fx.frames.length - 1].step, 400);
  let checked = 0;
  for (const frame of fx.frames) {
    while (sim.step < frame.step) sim.advance();
    const x = frame.positions.flat(), v = frame.velocities.flat();
    let dx = 0, dv = 0;
    for (let k = 0; k < 3 * n; k++) {
      dx = Math.max(dx, Math.abs(atoms.positions[k] - x[k]));
      dv = Math.max(dv, Math.abs(atoms.velocities[k] * aseTimeInFs - v[k]));
    }
    // round-off for the first steps; the chaotic cluster amplifies it slowly afterwards
    const tol = frame.step <= 5 ? 1e-12 : 1e-8;
    assert.ok(dx < tol, `step ${frame.step}: positions differ by ${dx} Å`);
    assert.ok(dv < tol, `step ${frame.step}: velocities differ by ${dv} Å/ASE-time`);
    assert.ok(Math.abs(sim.energy - frame.epot) < 1e-10, `step ${frame.step}: Epot`);
    assert.ok(Math.abs(sim.kineticEnergy() - frame.ekin) < 1e-10, `step ${frame.step}: Ekin`);
    // ζ is 1/time: ASE units → 1/fs
    assert.ok(Math.abs(nh.zeta * aseTimeInFs - frame.zeta) < 1e-10, `step ${frame.step}: zeta ${nh.zeta * aseTimeInFs} vs ${frame.zeta}`);
    checked++;
  }
  assert.equal(checked, fx.frames.length);
  assert.ok(Math.abs(nh.zeta) > 1e-4, 'the thermostat is doing something');
});

test('matches the MDsim update formulas evaluated independently, in ASE units', () => {
  // MDsim works in ASE units (time unit ≈ 10.18 fs, where eV/(Å·amu) is an acceleration); oreo
  // works in fs. Re-derive 60 steps here from the formulas of the notes (§4.1) in ASE units.
  const n = 5;
  const z = Int32Array.from([6, 8, 1, 1, 7]);
  const positions = fccCluster(n, 1.4);
  for (let i = 0; i < positions.length; i++) positions[i] += 0.07 * Math.sin(2.3 * i);
  const calc = new Morse({ epsilon: 2, rho0: 4, r0: 1.4 });
  const dtFs = 0.5, T = 500, ttime = 20;
  const atoms = new Atoms({ z, positions });
  maxwellBoltzmannVelocities(atoms, T, new Rng(4));
  const m = Array.from(atoms.masses);
  let x = Array.from(atoms.positions);
  let v = Array.from(atoms.velocities, (vi) => vi * aseTimeInFs);
  const sim = new Simulation(atoms, calc, new NoseHoover(dtFs, T, n, ttime));

  const dt = dtFs / aseTimeInFs;
  const kT = kB * T;
  const Q = 3 * n * kT * (ttime * dt) ** 2;
  const Kstar = 0.5 * 3 * n * kT;
  const KE = (vel: number[]) => vel.reduce((s, vi, k) => s + 0.5 * m[Math.floor(k / 3)] * vi * vi, 0);
  const accel = (pos: number[]) => Array.from(calc.compute(z, Float64Array.from(pos)).forces, (f, k) => f / m[Math.floor(k / 3)]);
  let zeta = 0;
  let a = accel(x);
  for (let step = 1; step <= 60; step++) {
    const K0 = KE(v);
    x = x.map((xi, k) => xi + v[k] * dt + (a[k] - zeta * v[k]) * dt * dt * 0.5);
    const vHalf = v.map((vi, k) => vi + (dt / 2) * (a[k] - zeta * vi));
    const aNew = accel(x);
    zeta += ((dt / 2) * (K0 - Kstar)) / Q;
    zeta += ((dt / 2) * (KE(vHalf) - Kstar)) / Q;
    v = vHalf.map((vh, k) => (vh + (dt / 2) * aNew[k]) / (1 + (dt / 2) * zeta));
    a = aNew;
    sim.advance();
    for (let k = 0; k < 3 * n; k++) {
      assert.ok(Math.abs(sim.atoms.positions[k] - x[k]) < 1e-11, `step ${step}: x[${k}]`);
      assert.ok(Math.abs(sim.atoms.velocities[k] * aseTimeInFs - v[k]) < 1e-11 * Math.max(1, Math.abs(v[k])), `step ${step}: v[${k}]`);
    }
    const nh = sim.integrator as NoseHoover;
    assert.ok(Math.abs(nh.zeta * aseTimeInFs - zeta) < 1e-11 * Math.max(1, Math.abs(zeta)), `step ${step}: zeta`);
  }
  // the MDsim constants as stated: Q = 3N·kT·(ttime·dt)², K* = 3N·kT/2
  const nh = sim.integrator as NoseHoover;
  assert.ok(Math.abs(nh.Q - Q * aseTimeInFs ** 2) < 1e-12 * nh.Q);
  assert.ok(Math.abs(nh.targetKinetic - Kstar) < 1e-15);
});

function argonCluster(temperature: number, seed: number): Atoms {
  const atoms = new Atoms({ z: new Array(20).fill(18), positions: argon20Positions() });
  maxwellBoltzmannVelocities(atoms, temperature, new Rng(seed));
  return atoms;
}

const argonLJ = () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: Infinity });

/** Time-averaged T after a 10% burn-in, and the extended energy's largest deviation. */
function thermostatRun(integrator: Integrator, temperature: number, steps: number, seed = 3) {
  const sim = new Simulation(argonCluster(temperature, seed), argonLJ(), integrator);
  const h0 = sim.conservedEnergy();
  const e0 = sim.totalEnergy();
  let sumT = 0, count = 0, maxDevH = 0, maxDevE = 0;
  for (let s = 1; s <= steps; s++) {
    sim.advance();
    if (s > steps / 10) {
      sumT += sim.temperature();
      count++;
    }
    maxDevH = Math.max(maxDevH, Math.abs(sim.conservedEnergy() - h0));
    maxDevE = Math.max(maxDevE, Math.abs(sim.totalEnergy() - e0));
  }
  return { meanT: sumT / count, maxDevH, maxDevE };
}

test('Nose–Hoover (MDsim) on 20 atoms: time-averaged T within 2% of the target', () => {
  const T = 30;
  const { meanT, maxDevE } = thermostatRun(new NoseHoover(2, T, 20, 20), T, 60_000);
  assert.ok(Math.abs(meanT / T - 1) < 0.02, `mean T ${meanT} K`);
  assert.ok(maxDevE > 0.05, 'the thermostat exchanges energy with the cluster');
});

test('Nose–Hoover (MDsim): the extended-system energy is conserved to first order in dt', () => {
  // MDsim's ζ update uses K at t and at the half step, which makes the scheme first-order in ζ:
  // H = E + Qζ² + 3N·kT·η drifts at a rate ∝ dt. Halving dt at a fixed thermostat time
  // (τ = ttime·dt = 40 fs) halves the deviation; a wrong H (or thermostat) would not converge.
  const T = 30;
  const run = (dt: number) => thermostatRun(new NoseHoover(dt, T, 20, 40 / dt), T, Math.round(2000 / dt));
  const coarse = run(1), fine = run(0.5);
  const ratio = coarse.maxDevH / fine.maxDevH;
  assert.ok(ratio > 1.7 && ratio < 2.3, `deviation ratio ${ratio} (${coarse.maxDevH}, ${fine.maxDevH})`);
  // and it is small next to the energy the thermostat moves in and out
  assert.ok(coarse.maxDevH < 0.05 * coarse.maxDevE, `ΔH ${coarse.maxDevH} vs ΔE ${coarse.maxDevE}`);
});

test('Nose–Hoover chain on 20 atoms: T within 2%, extended energy conserved to second order', () => {
  const T = 30;
  const long = thermostatRun(new NoseHooverChain(2, T, 20, 20, 3), T, 60_000);
  assert.ok(Math.abs(long.meanT / T - 1) < 0.02, `mean T ${long.meanT} K`);
  assert.ok(long.maxDevH < 1e-3 * long.maxDevE, `ΔH ${long.maxDevH} vs ΔE ${long.maxDevE}`);
  const run = (dt: number) => thermostatRun(new NoseHooverChain(dt, T, 20, 40 / dt, 3), T, Math.round(2000 / dt));
  const ratio = run(1).maxDevH / run(0.5).maxDevH;
  assert.ok(ratio > 3 && ratio < 5.3, `deviation ratio ${ratio}`);
});

test('thermostat state round-trips: a restored integrator continues identically', () => {
  for (const make of [() => new NoseHoover(2, 30, 20, 20), () => new NoseHooverChain(2, 30, 20, 20, 3)]) {
    const a = new Simulation(argonCluster(30, 5), argonLJ(), make());
    for (let s = 0; s < 300; s++) a.advance();
    const saved = JSON.parse(JSON.stringify(a.integrator.getState()));
    const restoredIntegrator = a.integrator instanceof NoseHoover
      ? new NoseHoover(2, 30, 20, 20, saved)
      : new NoseHooverChain(2, 30, 20, 20, 3, saved);
    const b = new Simulation(a.atoms.clone(), argonLJ(), restoredIntegrator, { step: a.step, forces: a.forces, energy: a.energy });
    for (let s = 0; s < 300; s++) {
      a.advance();
      b.advance();
    }
    assert.deepEqual(b.atoms.positions, a.atoms.positions);
    assert.deepEqual(b.atoms.velocities, a.atoms.velocities);
    assert.equal(b.conservedEnergy(), a.conservedEnergy());
  }
});
