// runSimulation: files on disk, checkpoints, bit-for-bit resume, early stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { LennardJones } from '../../src/md/potentials/lennard-jones.js';
import { readCheckpoint, runSimulation, type Progress, type SimulationOptions } from '../../src/md/run.js';
import type { ThermostatKind } from '../../src/md/integrators/types.js';
import { OreoError } from '../../src/errors.js';
import { aseTimeInFs, kB } from '../../src/units.js';
import { argon20Positions } from './helpers.js';

const lj = () => new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: 10 });
const tmp = () => mkdtempSync(join(tmpdir(), 'oreo-md-'));

function options(outDir: string, thermostat: ThermostatKind, steps: number, extra: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    outDir,
    initial: { z: new Array(20).fill(18), positions: argon20Positions() },
    thermostat,
    dt: 2,
    temperature: 40,
    steps,
    saveEvery: 10,
    seed: 12345,
    ...extra,
  };
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');

test('writes an ASE-style trajectory, thermo.csv and a checkpoint', async () => {
  const dir = tmp();
  try {
    const progress: Progress[] = [];
    const result = await runSimulation(options(dir, 'nose-hoover', 200), lj(), { onProgress: (p) => progress.push(p) });
    assert.equal(result.status, 'completed');
    assert.equal(result.step, 200);
    assert.equal(result.frames, 21);
    assert.equal(result.evaluations, 200); // one force evaluation per step
    const thermo = read(dir, 'thermo.csv').trim().split('\n');
    assert.equal(thermo[0], 'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K');
    assert.equal(thermo.length, 22);
    const frames = readExtxyzFile(join(dir, 'trajectory.extxyz'));
    assert.equal(frames.length, 21);
    frames.forEach((f, i) => {
      const [time, etot, epot, ekin, temp] = thermo[i + 1].split(',').map(Number);
      assert.equal(f.info.step, 10 * i);
      assert.equal(time, (10 * i * 2) / 1000);
      assert.equal(f.info.energy, epot);
      assert.ok(Math.abs(etot - epot - ekin) < 1e-15);
      // T from the saved velocities, and momenta = m·v in ASE units
      const v = f.arrays.velocities, p = f.arrays.momenta;
      let e = 0;
      for (let a = 0; a < 20; a++) for (let k = 0; k < 3; k++) {
        const vk = v[3 * a + k];
        e += 0.5 * 39.948 * (vk * aseTimeInFs) ** 2; // ½mv² in eV with v in ASE units
        assert.ok(Math.abs(p[3 * a + k] - 39.948 * vk * aseTimeInFs) <= 1e-15 * Math.abs(p[3 * a + k]) + 1e-300);
      }
      assert.ok(Math.abs(e - ekin) < 1e-12 * ekin);
      assert.ok(Math.abs(temp - (2 * ekin) / (3 * 20 * kB)) < 1e-9);
      assert.equal(f.arrays.forces.length, 60);
    });
    const ckpt = readCheckpoint(dir);
    assert.equal(ckpt.status, 'completed');
    assert.equal(ckpt.step, 200);
    assert.deepEqual(Array.from(ckpt.atoms.positions), Array.from(frames[20].positions)); // shortest-repr floats read back exactly
    assert.equal(ckpt.settings.seed, 12345);
    assert.ok(progress.length >= 1 && progress[progress.length - 1].final);
    assert.equal(progress[progress.length - 1].step, 200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const thermostat of ['nve', 'nose-hoover', 'nhc', 'langevin'] as ThermostatKind[]) {
  test(`restart (${thermostat}): 2N steps equal N steps + resume + N steps, bit for bit`, async () => {
    const straight = tmp(), split = tmp();
    try {
      await runSimulation(options(straight, thermostat, 300), lj());
      const first = await runSimulation(options(split, thermostat, 150), lj());
      assert.equal(first.status, 'completed');
      const second = await runSimulation({ outDir: split, resume: true, steps: 300 }, lj());
      assert.equal(second.status, 'completed');
      assert.equal(second.evaluations, 150);
      for (const f of ['trajectory.extxyz', 'thermo.csv']) assert.equal(read(split, f), read(straight, f), f);
      const a = readCheckpoint(straight), b = readCheckpoint(split);
      assert.deepEqual(b.atoms.positions, a.atoms.positions);
      assert.deepEqual(b.atoms.velocities, a.atoms.velocities);
      assert.deepEqual(b.integrator, a.integrator);
    } finally {
      rmSync(straight, { recursive: true, force: true });
      rmSync(split, { recursive: true, force: true });
    }
  });
}

test('resume drops frames written after the checkpoint (crash between checkpoints)', async () => {
  const straight = tmp(), crashed = tmp();
  try {
    await runSimulation(options(straight, 'langevin', 300), lj());
    await runSimulation(options(crashed, 'langevin', 120), lj());
    const atStep120 = read(crashed, 'state.json');
    await runSimulation({ outDir: crashed, resume: true, steps: 250 }, lj());
    // as if the process died after writing frames up to step 250 but before its last checkpoint
    writeFileSync(join(crashed, 'state.json'), atStep120);
    const resumed = await runSimulation({ outDir: crashed, resume: true, steps: 300 }, lj());
    assert.equal(resumed.evaluations, 180);
    for (const f of ['trajectory.extxyz', 'thermo.csv']) assert.equal(read(crashed, f), read(straight, f), f);
  } finally {
    rmSync(straight, { recursive: true, force: true });
    rmSync(crashed, { recursive: true, force: true });
  }
});

test('an interrupted run checkpoints and resumes to the same result', async () => {
  const straight = tmp(), interrupted = tmp();
  try {
    await runSimulation(options(straight, 'nhc', 100), lj());
    const controller = new AbortController();
    let frames = 0;
    const r1 = await runSimulation(options(interrupted, 'nhc', 100, { signal: controller.signal }), lj(), {
      onFrame: () => {
        if (++frames === 4) controller.abort(); // after the frame of step 30
      },
    });
    assert.equal(r1.status, 'interrupted');
    assert.equal(r1.step, 30);
    assert.equal(readCheckpoint(interrupted).status, 'interrupted');
    const r2 = await runSimulation({ outDir: interrupted, resume: true }, lj());
    assert.equal(r2.status, 'completed');
    assert.equal(r2.step, 100);
    for (const f of ['trajectory.extxyz', 'thermo.csv']) assert.equal(read(interrupted, f), read(straight, f), f);
  } finally {
    rmSync(straight, { recursive: true, force: true });
    rmSync(interrupted, { recursive: true, force: true });
  }
});

test('stops early when the temperature explodes, keeping the output so far', async () => {
  const dir = tmp();
  try {
    const positions = argon20Positions();
    positions[3] = positions[0] + 0.8; // atom 1 almost on top of atom 0: a huge repulsion
    positions[4] = positions[1];
    positions[5] = positions[2];
    const result = await runSimulation(options(dir, 'nve', 1000, { initial: { z: new Array(20).fill(18), positions }, saveEvery: 1 }), lj());
    assert.equal(result.status, 'stopped');
    assert.match(result.reason!, /temperature .* rose above 100000 K at step \d+/);
    assert.ok(result.step < 1000);
    const frames = readExtxyzFile(join(dir, 'trajectory.extxyz'));
    assert.equal(frames.length, result.step); // frames 0 .. step−1; the broken state is not saved
    assert.equal(read(dir, 'thermo.csv').trim().split('\n').length, result.step + 1);
    const ckpt = readCheckpoint(dir);
    assert.equal(ckpt.status, 'stopped');
    assert.match(ckpt.stopReason!, /rose above/);
    await assert.rejects(runSimulation({ outDir: dir, resume: true }, lj()), /stopped early/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stops early when the temperature falls below the minimum', async () => {
  const dir = tmp();
  try {
    // two atoms at rest at the bottom of the well stay at T = 0
    const r = 2 ** (1 / 6) * 3.4;
    const result = await runSimulation(
      options(dir, 'nve', 100, { initial: { z: [18, 18], positions: [0, 0, 0, r, 0, 0], velocities: new Float64Array(6) } }),
      lj(),
    );
    assert.equal(result.status, 'stopped');
    assert.match(result.reason!, /fell below 0.1 K at step 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a frame hook can stop the run with its own reason', async () => {
  const dir = tmp();
  try {
    const result = await runSimulation(options(dir, 'langevin', 500), lj(), {
      onFrame: (sim) => (sim.step === 50 ? 'bond criterion' : undefined),
    });
    assert.equal(result.status, 'stopped');
    assert.equal(result.reason, 'bond criterion');
    assert.equal(readExtxyzFile(join(dir, 'trajectory.extxyz')).length, 6);
    const ckpt = readCheckpoint(dir); // the state itself is sound: it is the checkpoint
    assert.equal(ckpt.status, 'stopped');
    assert.equal(ckpt.step, 50);
    assert.equal(ckpt.stopReason, 'bond criterion');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('refuses bad settings and conflicting resumes before any step', async () => {
  const dir = tmp();
  try {
    await assert.rejects(runSimulation(options(dir, 'berendsen' as ThermostatKind, 10), lj()), /unknown thermostat 'berendsen'/);
    await assert.rejects(runSimulation(options(dir, 'nve', 10, { dt: 0 }), lj()), /--dt must be > 0/);
    await assert.rejects(runSimulation(options(dir, 'nve', 10, { dt: -1 }), lj()), /--dt must be > 0/);
    await assert.rejects(runSimulation(options(dir, 'langevin', 10, { temperature: 0 }), lj()), /needs --temperature > 0/);
    await assert.rejects(runSimulation(options(dir, 'nve', 10, { saveEvery: 0 }), lj()), /save-every must be an integer/);
    await assert.rejects(runSimulation({ outDir: dir, resume: true }, lj()), /does not exist/);
    const restricted = new LennardJones({ epsilon: 0.0104, sigma: 3.4, rc: 10, elements: [10] });
    await assert.rejects(runSimulation(options(dir, 'nve', 10), restricted), (e: Error) => e instanceof OreoError && /covers Ne .* Ar/.test(e.message));
    await runSimulation(options(dir, 'nve', 10), lj());
    await assert.rejects(runSimulation(options(dir, 'nve', 10), lj()), /already holds a simulation/);
    await assert.rejects(runSimulation({ outDir: dir, resume: true, dt: 1 }, lj()), /cannot resume with dt = 1/);
    await assert.rejects(runSimulation({ outDir: dir, resume: true, steps: 5 }, lj()), /already at step 10/);
    const again = await runSimulation(options(dir, 'nve', 10, { overwrite: true }), lj());
    assert.equal(again.status, 'completed');
    // a truncated trajectory cannot be resumed silently
    copyFileSync(join(dir, 'thermo.csv'), join(dir, 'trajectory.extxyz'));
    await assert.rejects(runSimulation({ outDir: dir, resume: true, steps: 20 }, lj()), /trajectory.extxyz has \d+ bytes but the checkpoint/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
