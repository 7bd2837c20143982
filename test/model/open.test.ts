// One way into a model: openModel(bytes) tells every kind oreo reads from the bytes alone (no
// file name, no extension), the Node wrapper opens the same from a path, and nothing under
// src/model/open.ts imports a Node module, so the browser bundle opens models the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModel, openModelBytes } from '../../src/model/open.js';
import { openModelFile, loadEnergyModel } from '../../src/model/load.js';
import { serializePropertyModel } from '../../src/model/heads/property-file.js';
import { attachPropertyHead } from '../../src/model/heads/property.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { initParameters } from '../../src/model/init.js';
import { Potential } from '../../src/model/potential.js';
import { AniEnsemble } from '../../src/model/ani/ensemble.js';
import { fixturesDir, repoRoot } from '../paths.js';

const ckpt = join(fixturesDir, 'torchmdnet', 'et-tiny', 'model.ckpt');
const aspirin = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');

test('openModel tells an oreo ET, a TorchMD-Net checkpoint, a property model and an ANI ensemble from their bytes', () => {
  const et = openModel(readFileSync(aspirin), 'a');
  assert.equal(et.kind, 'et');
  assert.ok(et.model instanceof Potential);
  assert.deepEqual(et.model.predictionUnits(), { energy: 'eV', forces: 'eV/Å', known: true });

  const tmd = openModel(readFileSync(ckpt), 'b');
  assert.equal(tmd.kind, 'torchmd-net');
  // A TorchMD-Net checkpoint does not record its training data's units.
  assert.deepEqual((tmd.model as Potential).predictionUnits(), { energy: 'model', forces: 'model/Å', known: false });

  const cfg = configFromHyperParameters({ embedding_dimension: 16, num_layers: 1, num_rbf: 8, num_heads: 2, cutoff_upper: 4 });
  const prop = attachPropertyHead(cfg, initParameters(cfg, 'float32', 1), 'float32', { task: 'property', type: 'mlp', target: 'homo', unit: 'eV', reduce: 'sum', mean: -6, std: 0.5 });
  const bytes = serializePropertyModel(prop);
  const opened = openModel(bytes, 'c');
  assert.equal(opened.kind, 'property');
  assert.equal(opened.kind === 'property' && opened.model.head.target, 'homo');
  // As a force field it is refused by name, saying what it predicts.
  assert.throws(() => openModelBytes(bytes, 'c.oreo'), /c\.oreo.*property model \(it predicts 'homo'\)/);

  const ani = openModel(readFileSync(join(repoRoot, 'models', 'ani2x.oreo')), 'd');
  assert.equal(ani.kind, 'ani-ensemble');
  assert.ok(ani.model instanceof AniEnsemble);

  assert.throws(() => openModel(new TextEncoder().encode('not a model at all'), 'e.bin'), /e\.bin.*not a model file/);
  assert.throws(() => openModel(new Uint8Array([0x80, 2, 3, 4]), 'f.pt'), /f\.pt/);
});

test('the path wrapper opens the same model as the bytes, and names a missing file', () => {
  const fromPath = openModelFile(ckpt);
  const fromBytes = openModel(readFileSync(ckpt), ckpt);
  assert.equal(fromPath.kind, fromBytes.kind);
  const a = fromPath.model as Potential;
  const b = fromBytes.model as Potential;
  assert.deepEqual([...a.params.keys()], [...b.params.keys()]);
  for (const [k, t] of a.params) assert.deepEqual([...t.data], [...b.params.get(k)!.data], k);
  assert.ok(loadEnergyModel('oreo-aspirin-et4x64') instanceof Potential, 'a bundled model by name');
  assert.throws(() => openModelFile('/nonexistent/model.oreo'), /model\.oreo.*model file not found/);
});

test('nothing src/model/open.ts imports, directly or not, is a Node module', () => {
  const start = fileURLToPath(new URL('../../src/model/open.js', import.meta.url));
  const seen = new Set<string>();
  const stack = [start];
  const nodeImports: string[] = [];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^(?:import|export)\s+(?:[^'";]*?from\s+)?['"]([^'"]+)['"]/gm)) {
      if (m[1].startsWith('node:') || !m[1].startsWith('.')) {
        if (m[1].startsWith('node:')) nodeImports.push(`${file} → ${m[1]}`);
      } else {
        stack.push(resolve(dirname(file), m[1]));
      }
    }
  }
  assert.ok(seen.size > 10, `walked ${seen.size} modules`);
  assert.deepEqual(nodeImports, []);
});
