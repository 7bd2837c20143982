// Models know what they are for: the training composition on a model's card, and the warning a
// molecule-specific model gives before the first step on another molecule (CLI simulate and
// predict, library Dynamics), while it stays quiet on its own molecule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applicabilityWarning, compositionOf } from '../../src/model/card.js';
import { loadModel, readStructures, Dynamics } from '../../src/index.js';
import { runOreo } from '../cli.js';
import { repoRoot } from '../paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-card-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const aspirinModel = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
const ethanol = join(repoRoot, 'data', 'rmd17', 'rmd17_ethanol_test_01.npz');
const aspirin = join(repoRoot, 'data', 'rmd17', 'rmd17_aspirin_test_01.npz');

test('composition: formulas with counts, most frequent first; few molecules make a specific model', () => {
  const c = compositionOf([{ z: [6, 1, 1, 1, 1] }, { z: [8, 1, 1] }, { z: [1, 1, 1, 1, 6] }]);
  assert.deepEqual(c, { conformations: 3, molecules: 2, formulas: { CH4: 2, H2O: 1 }, truncated: false, specific: true });
  const many = compositionOf(Array.from({ length: 10 }, (_, k) => ({ z: new Array(k + 1).fill(1) })));
  assert.equal(many.specific, false);
  assert.match(applicabilityWarning({ composition: many }, [6, 8])!, /CO is not among the 10 molecules/);
  assert.equal(applicabilityWarning({ composition: c }, [1, 1, 8]), null);
  assert.equal(applicabilityWarning({}, [1, 1, 8]), null);
});

test('the bundled aspirin model warns on ethanol and not on aspirin (library and CLI, before the first step)', async () => {
  const model = loadModel(aspirinModel);
  const [eth] = await readStructures(ethanol, { limit: 1 });
  const [asp] = await readStructures(aspirin, { limit: 1 });
  assert.match(model.calculator().applicability!(Int32Array.from(eth.z))!, /molecule-specific: trained on C9H8O4 \(950 conformations\) only, but this structure is C2H6O/);
  assert.equal(model.calculator().applicability!(Int32Array.from(asp.z)), null);

  const warnings: string[] = [];
  const md = new Dynamics(model, eth, { temperature: 300, seed: 1, stability: { onWarning: (m) => warnings.push(m), allowUnstable: true } });
  assert.equal(md.step, 0);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^warning: .*molecule-specific/);

  const sim = runOreo(['simulate', '--model', aspirinModel, '--input', `${ethanol}:0`, '--steps', '2', '--out', join(tmp, 'md'), '--quiet']);
  const lines = sim.stderr.split('\n');
  const warn = lines.findIndex((l) => /warning: model .* is molecule-specific/.test(l));
  assert.ok(warn >= 0, sim.stderr);
  assert.ok(warn < lines.findIndex((l) => /^seed \d+;/.test(l)), 'the warning comes before the run starts');

  const pred = runOreo(['predict', '--model', aspirinModel, '--input', ethanol, '--frames', '0-2']);
  assert.equal(pred.status, 0);
  assert.equal(pred.stderr.match(/warning: .*molecule-specific/g)?.length, 1, pred.stderr);
  const quiet = runOreo(['predict', '--model', aspirinModel, '--input', aspirin, '--frames', '0']);
  assert.doesNotMatch(quiet.stderr, /warning/);
});
