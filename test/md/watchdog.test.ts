// MD that cannot fail silently: the stability watchdog in the one MD loop (src/md/loop.ts) stops
// `runSimulation`, the library's `Dynamics` and (through the same loop) the browser worker when a
// bond breaks, the temperature runs away or NVE energy drifts, naming what and when; the benchmark
// path (watchdog off) still runs on. Systems: analytic potentials whose breaking time is known in
// closed form, and the bundled ethanol model on rMD17 ethanol for the CLI acceptance cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dynamics } from '../../src/api/dynamics.js';
import type { Calculator, EnergyForces } from '../../src/calculator.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { readCheckpoint, runSimulation } from '../../src/md/run.js';
import { createAnalyticCalculator } from '../../src/md/potentials/registry.js';
import { massOf } from '../../src/elements.js';
import { accelerationFactor } from '../../src/units.js';
import { createSimulation } from '../../src/md/setup.js';
import { MdLoop } from '../../src/md/loop.js';
import { Watchdog } from '../../src/md/watchdog.js';
import { runOreo } from '../cli.js';
import { repoRoot } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-watchdog-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/**
 * H2 at 0.74 Å with a constant force F pulling atom 1 along +x and −F on atom 0 (E = −F·(x1 − x0)):
 * from rest the separation grows as d(t) = d0 + (F/m)·t² (each atom accelerates at F/m, opposite
 * ways), so the bond is 0.5 Å longer at t* = sqrt(0.5·m/F), exactly.
 */
class Pull implements Calculator {
  readonly name = 'constant pull';
  constructor(private readonly f: number) {}
  compute(_z: Int32Array, x: Float64Array): EnergyForces {
    const forces = new Float64Array(6);
    forces[0] = -this.f;
    forces[3] = this.f;
    return { energy: -this.f * (x[3] - x[0]), forces };
  }
}

const h2 = { z: [1, 1], positions: [0, 0, 0, 0.74, 0, 0] };
const F = 0.5; // eV/Å
const mH = massOf(1);
// a = F/m · accelerationFactor in Å/fs² (eV/Å/amu → Å/fs²).
const tBreak = Math.sqrt(0.5 / ((F / mH) * accelerationFactor)); // fs

test('a bond pulled apart stops the run at the analytic breaking time, naming the bond; the trajectory is kept', async () => {
  const dt = 0.1;
  const out = join(tmp, 'pull');
  const res = await runSimulation(
    { outDir: out, initial: { ...h2, z: Int32Array.from(h2.z), positions: Float64Array.from(h2.positions), velocities: new Float64Array(6) }, thermostat: 'nve', dt, temperature: 0, steps: 10000, saveEvery: 50, seed: 1, minTemperature: 0 },
    new Pull(F),
  );
  assert.equal(res.status, 'stopped');
  assert.ok(res.collapse, 'no collapse recorded');
  assert.equal(res.collapse!.kind, 'bond');
  assert.match(res.reason!, /^collapsed at [0-9.]+ ps \(step \d+\): bond H0–H1 \(atoms 0 and 1, 0-based\) is 1\.24\d Å against 0\.740 Å/);
  // The first step whose stretch exceeds 0.5 Å: t* rounded up to the step grid.
  const expectedStep = Math.ceil(tBreak / dt - 1e-9);
  assert.ok(Math.abs(res.step - expectedStep) <= 1, `stopped at step ${res.step}, analytic ${expectedStep} (t* = ${tBreak.toFixed(3)} fs)`);
  const frames = readExtxyzFile(join(out, 'trajectory.extxyz'));
  // Saved frames up to the collapse, and the collapse frame itself, last.
  assert.equal(frames.length, Math.floor(res.step / 50) + 1 + (res.step % 50 ? 1 : 0));
  assert.equal(frames.at(-1)!.info.step, res.step);
  const ckpt = readCheckpoint(out);
  assert.equal(ckpt.status, 'stopped');
  assert.equal(ckpt.stopReason, res.reason);
  assert.equal(readFileSync(join(out, 'thermo.csv'), 'utf8').trim().split('\n').length, frames.length + 1);
});

test('--allow-unstable goes on, warns once, and still reports the collapse', async () => {
  const warnings: string[] = [];
  const res = await runSimulation(
    { outDir: join(tmp, 'pull-allowed'), initial: { z: Int32Array.from(h2.z), positions: Float64Array.from(h2.positions), velocities: new Float64Array(6) }, thermostat: 'nve', dt: 0.1, temperature: 0, steps: 400, seed: 1, minTemperature: 0, stability: { allowUnstable: true } },
    new Pull(F),
    { log: (m) => warnings.push(m) },
  );
  assert.equal(res.status, 'completed');
  assert.equal(res.step, 400);
  assert.equal(res.collapse?.kind, 'bond');
  assert.equal(warnings.filter((w) => /warning: collapsed at/.test(w)).length, 1);
});

test('without the watchdog (the MD17 benchmark path) the same run goes on to the end', async () => {
  const res = await runSimulation(
    { outDir: join(tmp, 'pull-off'), initial: { z: Int32Array.from(h2.z), positions: Float64Array.from(h2.positions), velocities: new Float64Array(6) }, thermostat: 'nve', dt: 0.1, temperature: 0, steps: 400, seed: 1, minTemperature: 0, stability: false },
    new Pull(F),
  );
  assert.equal(res.status, 'completed');
  assert.equal(res.collapse, undefined);
});

test('a harmonic molecule with a time step past Verlet\'s stability limit stops; at a sane step it runs through', async () => {
  // Harmonic bonds on water: ω of the O–H stretch ≈ 1/(9 fs); dt = 8 fs makes Verlet unstable.
  const water = { z: Int32Array.from([8, 1, 1]), positions: Float64Array.from([0, 0, 0, 0.9572, 0, 0, -0.24, 0.9266, 0]) };
  const calc = createAnalyticCalculator('harmonic', water);
  const res = await runSimulation({ outDir: join(tmp, 'drift'), initial: water, thermostat: 'nve', dt: 8, temperature: 300, steps: 200, seed: 3 }, calc);
  assert.equal(res.status, 'stopped');
  assert.ok(res.collapse && ['energy', 'bond', 'temperature'].includes(res.collapse.kind), res.reason);
  // At a sane time step the same system runs through.
  const ok = await runSimulation({ outDir: join(tmp, 'drift-ok'), initial: water, thermostat: 'nve', dt: 0.2, temperature: 300, steps: 2000, seed: 3 }, calc);
  assert.equal(ok.status, 'completed', ok.reason);
});

/** Free atoms whose reported energy rises by 0.1 eV per call: energy that is not the integral of the forces. */
class LeakyEnergy implements Calculator {
  readonly name = 'leaky energy';
  private calls = 0;
  compute(_z: Int32Array, x: Float64Array): EnergyForces {
    return { energy: 0.1 * this.calls++, forces: new Float64Array(x.length) };
  }
}

test('NVE energy drift beyond 0.05 eV/atom stops the run naming the energy, at the step the drift passes it', async () => {
  const res = await runSimulation(
    { outDir: join(tmp, 'leak'), initial: { z: Int32Array.from([6, 6]), positions: Float64Array.from([0, 0, 0, 1.5, 0, 0]) }, thermostat: 'nve', dt: 0.5, temperature: 50, steps: 100, seed: 1, stability: { bonds: [] } },
    new LeakyEnergy(),
  );
  assert.equal(res.collapse?.kind, 'energy', res.reason);
  // Two atoms: tolerance 0.1 eV; the energy is 0.1·step above the start, so step 2 passes it.
  assert.equal(res.step, 2);
  assert.match(res.reason!, /total energy drifted by \+0\.200 eV .* in NVE \(tolerance 0\.100 eV = 0\.0500 eV\/atom\)/);
});

test('every thermostat stops on a collapse, and the library Dynamics says why', () => {
  for (const thermostat of ['nve', 'nose-hoover', 'nhc', 'langevin'] as const) {
    const md = new Dynamics(new Pull(F), { ...h2, velocities: [0, 0, 0, 0, 0, 0] }, { thermostat, temperature: 300, timestep: 0.1, seed: 1, stopLimits: { minTemperature: 0 } });
    const r = md.run(5000);
    assert.ok(r.stopped, `${thermostat}: ran ${r.steps} steps without stopping`);
    assert.match(r.stopped!, /collapsed at [0-9.]+ ps .*bond H0–H1/, `${thermostat}: ${r.stopped}`);
    assert.equal(r.collapse?.kind, 'bond');
    assert.ok(r.steps < 5000);
  }
  // Turned off, Dynamics runs the requested steps.
  const md = new Dynamics(new Pull(F), { ...h2, velocities: [0, 0, 0, 0, 0, 0] }, { thermostat: 'nve', timestep: 0.1, stability: false, stopLimits: { minTemperature: 0 } });
  assert.deepEqual(md.run(300), { steps: 300 });
});

test('runaway temperature: a thermostat far below what the system heats to trips the ceiling', () => {
  // Constant pull with watched bonds switched off (none given) → the kinetic energy grows as t².
  const md = new Dynamics(new Pull(5), { ...h2, velocities: [0, 0, 0, 0, 0, 0] }, { thermostat: 'langevin', temperature: 100, timestep: 0.5, seed: 2, stability: { bonds: [] } });
  const r = md.run(100000);
  assert.equal(r.collapse?.kind, 'temperature', r.stopped);
  assert.match(r.stopped!, /temperature \d+ K ran away \(ceiling 1000 K/);
});

test('a thermostat that drains a shattered molecule below 0.1 K is reported as the collapse it is', () => {
  // Atoms at rest (T = 0 < 0.1 K, MDsim's lower limit) with a bond 1 Å longer than the reference.
  const z = Int32Array.from([6, 1]);
  const sim = createSimulation({ z, positions: Float64Array.from([0, 0, 0, 2.1, 0, 0]), velocities: new Float64Array(6) }, new Pull(0), {
    thermostat: 'nose-hoover', dt: 0.5, temperature: 300, ttime: 20, friction: 0.01, chainLength: 3, seed: 1, initTemperature: 0,
  });
  const watchdog = new Watchdog(sim, { thermostat: 'nose-hoover', temperature: 300 }, { referencePositions: [0, 0, 0, 1.1, 0, 0] });
  const stop = new MdLoop(sim, { watchdog, allowUnstable: true }).inspect();
  assert.ok(stop);
  assert.match(stop!.reason, /^collapsed at 0 ps \(step 0\): bond C0–H1 .* is 2\.100 Å against 1\.100 Å at the start.*; then temperature 0\.000 K fell below 0\.1 K/);
  // Without the watchdog it would only have said the temperature fell.
  assert.match(new MdLoop(sim).inspect()!.reason, /^temperature 0\.000 K fell below 0\.1 K/);
});

const ethanol = join(repoRoot, 'data', 'rmd17', 'rmd17_ethanol_test_01.npz') + ':0';
const ethanolModel = join(repoRoot, 'models', 'oreo-ethanol-et4x64.oreo');

test('oreo simulate: NVE at dt 5 fs on ethanol exits non-zero naming the energy or a bond', () => {
  const r = runOreo(['simulate', '--model', ethanolModel, '--init', ethanol, '--steps', '400', '--dt', '5', '--thermostat', 'nve', '--seed', '1', '--out', join(tmp, 'eth-nve'), '--quiet']);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /stopped: collapsed at [0-9.]+ ps \(step \d+\): (total energy drifted|bond [A-Z][a-z]?\d+–)/);
});

test('oreo simulate: Langevin at 5000 K on ethanol exits non-zero naming a bond; --allow-unstable runs on with exit 0', () => {
  const args = ['simulate', '--model', ethanolModel, '--init', ethanol, '--steps', '200', '--thermostat', 'langevin', '--temperature', '5000', '--seed', '1', '--quiet'];
  const r = runOreo([...args, '--out', join(tmp, 'eth-hot')]);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /collapsed at [0-9.]+ ps \(step \d+\): bond [A-Z][a-z]?\d+–[A-Z][a-z]?\d+ \(atoms \d+ and \d+, 0-based\) is [0-9.]+ Å/);
  const frames = readExtxyzFile(join(tmp, 'eth-hot', 'trajectory.extxyz'));
  assert.ok(frames.length >= 2, 'the trajectory up to the collapse is kept');
  const on = runOreo([...args, '--out', join(tmp, 'eth-hot-on'), '--allow-unstable']);
  assert.equal(on.status, 0, on.stdout + on.stderr);
  assert.match(on.stdout, /completed 200 steps .*UNSTABLE: collapsed at/);
  assert.match(on.stderr, /warning: collapsed at/);
});
