// `oreo analyze` without --reference: the run's own first frames are the reference, and the report
// (console, metrics.json, report.html) states the model, thermostat, temperature and time step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOreo } from '../cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-analyze-noref-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('analyze a run with no reference data: its own start is the reference; the run is described', () => {
  const xyz = join(tmp, 'water.xyz');
  writeFileSync(xyz, '3\nwater\nO 0 0 0\nH 0.9572 0 0\nH -0.24 0.9266 0\n');
  const run = join(tmp, 'md');
  const sim = runOreo(['simulate', '--model', 'harmonic', '--input', xyz, '--steps', '400', '--dt', '0.25', '--temperature', '300', '--thermostat', 'langevin', '--save-every', '10', '--seed', '2', '--out', run, '--quiet']);
  assert.equal(sim.status, 0, sim.stdout + sim.stderr);
  const r = runOreo(['analyze', '--traj', run, '--reference-frames', '3']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /run {12}model harmonic, langevin at 300 K, dt 0\.25 fs, 400 steps, seed 2/);
  assert.match(r.stdout, /reference {6}3 first frames of the run itself/);
  const metrics = JSON.parse(readFileSync(join(run, 'analysis', 'metrics.json'), 'utf8'));
  assert.equal(metrics.run.thermostat, 'langevin');
  assert.equal(metrics.run.temperatureK, 300);
  assert.equal(metrics.run.dtFs, 0.25);
  assert.equal(metrics.run.model, 'harmonic');
  assert.equal(metrics.reference_frames, 3);
  assert.match(metrics.reference, /frames 0–2: the run's own start/);
  assert.match(readFileSync(join(run, 'analysis', 'report.html'), 'utf8'), /Run: model harmonic, langevin at 300 K, dt 0\.25 fs/);
  // A force MAE needs labelled frames: without --reference, --model asks for --test.
  const m = runOreo(['analyze', '--traj', run, '--model', 'x.oreo', '--out', join(tmp, 'an2')]);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /--model without --reference needs --test FILE/);
});
