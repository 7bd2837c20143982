// `--model ani2x` where a model goes: predict (with the ensemble spread per frame), simulate (with
// the spread watchdog), eval, the library's loadModel; and the refusals of commands that need an ET.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { loadModel, EnsembleModel, Dynamics } from '../../src/index.js';
import { Hartree } from '../../src/units.js';

const xyz = join(fixturesDir, 'torchani', 'molecules.xyz');
const reference = JSON.parse(readFileSync(join(fixturesDir, 'torchani', 'ani2x-reference.json'), 'utf8')) as { molecules: { ensemble: { energy: number } }[] };
const tmp = mkdtempSync(join(tmpdir(), 'oreo-ani-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('oreo predict --model ani2x: ensemble energies in eV with the spread of each frame', () => {
  const r = runOreo(['predict', '--model', 'ani2x', '--input', xyz, '--frames', '0,4', '--dtype', 'float64']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.kind, 'ani-ensemble');
  assert.equal(out.levelOfTheory, 'ANI-2x (ωB97X/6-31G(d))');
  assert.deepEqual(out.units.spread, { energy: 'eV', maxForce: 'eV/Å', meanForce: 'eV/Å' });
  assert.deepEqual(out.frames.map((f: { frame: number }) => f.frame), [0, 4]);
  for (const f of out.frames as { frame: number; energy: number; spread: { energy: number; maxForce: number; meanForce: number } }[]) {
    const ref = reference.molecules[f.frame].ensemble.energy;
    assert.ok(Math.abs(f.energy / Hartree - ref) <= 1e-12 * Math.abs(ref), `frame ${f.frame}`);
    assert.ok(f.spread.energy > 0 && f.spread.maxForce >= f.spread.meanForce && f.spread.meanForce > 0);
  }
});

test('oreo simulate --model ani2x stops when the force spread passes --max-force-spread, keeping the run', () => {
  const out = join(tmp, 'md');
  const r = runOreo(['simulate', '--model', 'ani2x', '--init', `${xyz}:2`, '--steps', '40', '--save-every', '5', '--temperature', '300', '--seed', '1',
    '--max-force-spread', '0.01', '--on-spread', 'stop', '--out', out, '--quiet']);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /stopped early: ensemble force spread [\d.]+ eV\/Å .* passed 0\.01 eV\/Å by step \d+/);
  const bad = runOreo(['simulate', '--model', 'lj', '--init', `${xyz}:0`, '--steps', '2', '--max-force-spread', '0.1', '--out', join(tmp, 'lj')]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--max-force-spread needs an ensemble model/);
});

test('commands that need an ET refuse ani2x by name; eval runs it', () => {
  const r = runOreo(['export', '--model', 'ani2x', '--format', 'torchmdnet', '--out', join(tmp, 'x.ckpt')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /an ANI ensemble \(ani2x, ANI-2x \(ωB97X\/6-31G\(d\)\)\); this command needs an ET model/);
  const e = runOreo(['eval', '--model', 'ani2x', '--data', 'data/rmd17/rmd17_ethanol_test_01.npz', '--limit', '2']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).conformations, 2);
});

test("loadModel('ani2x') in the library: an EnsembleModel with spread, and a Dynamics calculator", () => {
  const m = loadModel('ani2x');
  assert.ok(m instanceof EnsembleModel);
  assert.equal(m.size, 8);
  assert.deepEqual(m.elements, [1, 6, 7, 8, 16, 9, 17]);
  const text = readFileSync(xyz, 'utf8').split('\n');
  const n = Number(text[0]);
  const z: number[] = [], positions: number[][] = [];
  for (const line of text.slice(2, 2 + n)) {
    const [s, x, y, w] = line.split(/\s+/);
    z.push({ H: 1, C: 6, O: 8 }[s as 'H' | 'C' | 'O']);
    positions.push([Number(x), Number(y), Number(w)]);
  }
  const r = m.energyAndForces({ z, positions });
  assert.ok(Math.abs(r.energy / Hartree - reference.molecules[0].ensemble.energy) < 1e-6);
  assert.equal(r.memberEnergies.length, 8);
  assert.equal(r.forceSpread.length, n);
  assert.throws(() => m.energyAndForces({ z: [35, 35], positions: [[0, 0, 0], [2.3, 0, 0]] }), /has Br/);
  const md = new Dynamics(m, { z, positions }, { thermostat: 'nve', temperature: 300, timestep: 0.5, seed: 2 });
  const res = md.run(4);
  assert.equal(res.steps, 4);
  assert.ok(md.positions.every(Number.isFinite));
});
