// The library API as another project sees it: imported by the package's own name ('oreo', through
// package.json "exports"), so a missing or wrong export fails here, not in a user's project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runOreo } from '../cli.js';
import { dataDir, repoRoot } from '../paths.js';

// Resolved by Node at run time (the package's self-reference), typed from the source it builds from.
const PACKAGE = 'oreo';
const importOreo = (): Promise<typeof import('../../src/index.js')> => import(PACKAGE);

const modelPath = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
const aspirin = join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz');

test("import { loadModel, readStructures } from 'oreo' gives oreo predict's energy and forces", async () => {
  const oreo = await importOreo();
  const model = oreo.loadModel(modelPath);
  const [frame] = await oreo.readStructures(aspirin, { limit: 1 });
  const r = model.energyAndForces(frame);
  const p = JSON.parse(runOreo(['predict', '--model', modelPath, '--input', aspirin, '--frames', '0']).stdout);
  const ref = p.frames[0] as { energy: number; forces: number[][] };
  assert.ok(Math.abs(r.energy - ref.energy) <= 1e-9 * Math.abs(ref.energy), `${r.energy} vs ${ref.energy}`);
  const flat = ref.forces.flat();
  assert.equal(r.forces.length, flat.length);
  for (let i = 0; i < flat.length; i++) assert.ok(Math.abs(r.forces[i] - flat[i]) <= 1e-6 * Math.max(1, Math.abs(flat[i])), `F[${i}]`);
  // A batch gives each molecule's numbers as a single call does.
  const [b0, b1] = model.energyAndForcesBatch([frame, frame]);
  assert.ok(Math.abs(b0.energy - r.energy) <= 1e-6 * Math.abs(r.energy) && Math.abs(b1.energy - r.energy) <= 1e-6 * Math.abs(r.energy));
});

test("Dynamics from 'oreo' runs MD with observers and refuses a bad interval", async () => {
  const { loadModel, readStructures, Dynamics, OreoError } = await importOreo();
  const model = loadModel(modelPath);
  const [frame] = await readStructures(aspirin, { limit: 1 });
  const md = new Dynamics(model, frame, { thermostat: 'nose-hoover', temperature: 500, timestep: 0.5, seed: 3 });
  const seen: number[] = [];
  md.attach((d) => void seen.push(d.step), 5);
  const res = md.run(20);
  assert.equal(res.steps, 20);
  assert.deepEqual(seen, [0, 5, 10, 15, 20]);
  assert.ok(md.positions.every(Number.isFinite));
  assert.throws(() => md.attach(() => undefined, 0), OreoError);
});
