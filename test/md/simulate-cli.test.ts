// `oreo simulate`: bad input fails before the run with a clear message; a run and its resume
// work end to end, with an analytic potential and with an imported TorchMD-Net model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from '../../src/cli/simulate.js';
import { formatExtxyzFrame, readExtxyzFile } from '../../src/data/extxyz.js';
import { readCheckpoint } from '../../src/md/run.js';
import { OreoError } from '../../src/errors.js';
import { runOreo } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { argon20Positions } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-simulate-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const argonXyz = join(tmp, 'argon.xyz');
writeFileSync(argonXyz, formatExtxyzFrame({ z: new Int32Array(20).fill(18), positions: argon20Positions(), info: {}, arrays: {} }));
const waterXyz = join(tmp, 'water.xyz');
writeFileSync(waterXyz, '3\nwater\nO 0 0 0\nH 0.9572 0 0\nH -0.24 0.9266 0\n');
const emptyXyz = join(tmp, 'empty.xyz');
writeFileSync(emptyXyz, '');

const base = (out: string) => ['--model', 'lj', '--init', argonXyz, '--steps', '40', '--dt', '2', '--temperature', '40', '--thermostat', 'nose-hoover', '--seed', '1', '--save-every', '10', '--out', out, '--quiet'];

function withOption(args: string[], key: string, value: string | null): string[] {
  const i = args.indexOf('--' + key);
  const copy = args.slice();
  if (value === null) copy.splice(i, 2);
  else copy[i + 1] = value;
  return copy;
}

async function failsWith(args: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(command.run(args), (e: Error) => {
    assert.ok(e instanceof OreoError, `not an OreoError: ${e.stack}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('bad input fails before the run starts, with a message naming the problem', async () => {
  const out = join(tmp, 'never');
  await failsWith(withOption(base(out), 'thermostat', 'berendsen'), /unknown thermostat 'berendsen' \(choose one of: nve, nose-hoover, nhc, langevin\)/);
  await failsWith(withOption(base(out), 'dt', '0'), /--dt must be > 0 fs/);
  await failsWith(withOption(base(out), 'dt', '-0.5'), /--dt must be > 0 fs/);
  await failsWith(withOption(base(out), 'dt', 'fast'), /--dt fast: not a number/);
  await failsWith(withOption(base(out), 'init', emptyXyz), /empty\.xyz: the file holds no frames/);
  await failsWith(withOption(base(out), 'init', argonXyz + ':3'), /frame 3 does not exist \(the file has 1 frames/);
  await failsWith(withOption(base(out), 'init', join(tmp, 'missing.xyz')), /missing\.xyz: file not found/);
  await failsWith(withOption(withOption(base(out), 'init', waterXyz), 'model', 'lj:elements=Ar'), /covers Ar but the structure also has O, H/);
  await failsWith(withOption(base(out), 'model', 'lj:size=3'), /unknown parameter 'size'/);
  await failsWith(withOption(base(out), 'model', join(tmp, 'nomodel.ckpt')), /no such file, and not an analytic potential/);
  await failsWith(withOption(base(out), 'steps', '2.5'), /--steps 2.5: must be an integer/);
  await failsWith(withOption(base(out), 'steps', null), /missing --steps/);
  await failsWith(withOption([...base(out), '--friction', '-1'], 'thermostat', 'langevin'), /--friction must be > 0 \(1\/fs\)/);
  await failsWith([...base(out), '--threads', '3'], /--threads 3: at most 2 compute threads/);
  await failsWith([...base(out), '--threads', '0'], /--threads 0: must be ≥ 1|--threads/);
  assert.ok(!existsSync(out), 'nothing was written');
});

test('without --dt, --temperature, --thermostat a run follows MDsim (0.5 fs, 500 K, Nosé–Hoover) and says so first', () => {
  const out = join(tmp, 'defaults');
  const r = runOreo(['simulate', '--model', 'lj', '--init', argonXyz, '--steps', '4', '--seed', '1', '--out', out, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split('\n')[0], 'oreo simulate: dt 0.5 fs (default), 500 K (default), nose-hoover (default) ttime 20·dt = 10 fs (default), 4 steps');
  const settings = readCheckpoint(out).settings;
  assert.deepEqual([settings.dt, settings.temperature, settings.thermostat, settings.ttime], [0.5, 500, 'nose-hoover', 20]);
  // Values given are not marked as defaults.
  const out2 = join(tmp, 'given');
  const r2 = runOreo(['simulate', '--model', 'lj', '--init', argonXyz, '--steps', '4', '--dt', '2', '--thermostat', 'langevin', '--out', out2, '--quiet']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(r2.stderr.split('\n')[0], 'oreo simulate: dt 2 fs, 500 K (default), langevin friction 0.01 /fs (default), 4 steps');
  const help = runOreo(['simulate', '--help']);
  assert.match(help.stdout, /--dt VALUE\s+time step, fs \(default 0\.5, as MDsim\)/);
  assert.match(help.stdout, /--thermostat VALUE\s+.*\(default nose-hoover, as MDsim\)/);
});

test('a run, a resume to a longer target, and the result equal to one straight run', async () => {
  const straight = join(tmp, 'straight');
  const split = join(tmp, 'split');
  assert.equal(await command.run(withOption(base(straight), 'steps', '80')), 0);
  assert.equal(await command.run(base(split)), 0);
  await failsWith(base(split), /already holds a simulation; continue it with --resume/);
  await failsWith(['--resume', split, '--init', argonXyz], /--input \(--init\) cannot be used with --resume/);
  await failsWith(['--resume', split, '--dt', '1', '--quiet'], /cannot resume with dt = 1/);
  assert.equal(await command.run(['--resume', split, '--steps', '80', '--quiet']), 0);
  for (const f of ['trajectory.extxyz', 'thermo.csv']) {
    assert.equal(readFileSync(join(split, f), 'utf8'), readFileSync(join(straight, f), 'utf8'), f);
  }
  assert.equal(readCheckpoint(split).settings.model, 'lj');
});

test('oreo simulate drives an imported TorchMD-Net model (exit code, files, progress line)', () => {
  const modelDir = join(fixturesDir, 'torchmdnet', 'et-tiny-vcut');
  const cases = JSON.parse(readFileSync(join(modelDir, 'cases.json'), 'utf8')).cases as { z: number[]; pos: number[][] }[];
  const init = join(tmp, 'molecule.extxyz');
  writeFileSync(init, formatExtxyzFrame({ z: Int32Array.from(cases[0].z), positions: Float64Array.from(cases[0].pos.flat()), info: {}, arrays: {} }));
  const out = join(tmp, 'et-run');
  const r = runOreo(['simulate', '--model', join(modelDir, 'model.ckpt'), '--init', init, '--steps', '10', '--dt', '0.5',
    '--temperature', '500', '--thermostat', 'langevin', '--save-every', '5', '--seed', '3', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /completed 10 steps \(0\.005 ps\)/);
  assert.match(r.stderr, /step 10\/10 .* ps .* T .* K .* Etot .* eV .* ns\/day/);
  const frames = readExtxyzFile(join(out, 'trajectory.extxyz'));
  assert.equal(frames.length, 3);
  assert.ok(frames.every((f) => Number.isFinite(f.info.energy as number) && f.arrays.forces.every(Number.isFinite)));
  // Two compute threads: the same trajectory, number for number.
  const out2 = join(tmp, 'et-run-2threads');
  const r2 = runOreo(['simulate', '--model', join(modelDir, 'model.ckpt'), '--init', init, '--steps', '10', '--dt', '0.5',
    '--temperature', '500', '--thermostat', 'langevin', '--save-every', '5', '--seed', '3', '--out', out2, '--threads', '2']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(readFileSync(join(out2, 'trajectory.extxyz'), 'utf8'), readFileSync(join(out, 'trajectory.extxyz'), 'utf8'));
  const bad = runOreo(['simulate', '--model', join(modelDir, 'model.ckpt'), '--init', init, '--steps', '20', '--dt', '0',
    '--temperature', '500', '--thermostat', 'langevin', '--out', join(tmp, 'bad')]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^oreo simulate: error: --dt must be > 0 fs/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/); // no stack trace
});
