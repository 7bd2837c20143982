// Pre-training on two levels of theory at once: a real corpus (six small molecules, each
// conformation labelled by GFN2-xTB and by ANI-2x, built by `oreo corpus build`) streamed into a
// two-head model, each level through its own head and with its own per-element energies. One
// head fitting both levels is what gave a 142 eV calibration MAE on the corpus: checked here
// against the same run with a single head.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadPotential } from '../../src/model/load.js';
import { configFromHyperParameters } from '../../src/model/config.js';
import { createPotential } from '../../src/model/init.js';
import { addHead } from '../../src/model/head-edit.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { ET_OREO } from '../../src/train/objective.js';
import { train, paperDefaults } from '../../src/train/trainer.js';
import { dataDir } from '../paths.js';
import { parsePretrainConfig } from '../../src/train/run-config.js';
import { runOreo } from '../cli.js';
import { skipUnless } from '../system-tools.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-multi-head-pretrain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const tiny = { embedding_dimension: 16, num_layers: 1, num_rbf: 8, num_heads: 2, cutoff_upper: 4, prior_model: 'Atomref' };

test('a streamed pre-training on GFN2-xTB and ANI-2x labels: one head per level, each calibrated on its own level', { skip: skipUnless('xtb') }, (t) => {
  const smi = join(dir, 'molecules.smi');
  writeFileSync(smi, ['O water', 'CO methanol', 'CCO ethanol', 'C=O formaldehyde', 'CC ethane', 'CC=O acetaldehyde'].join('\n') + '\n');
  const corpus = join(dir, 'corpus');
  const built = runOreo(['corpus', 'build', '--molecules', smi, '--calculators', 'xtb,ani2x', '--workers', '1', '--out', corpus,
    '--conformers', '1', '--relax-cycles', '200', '--nm-temperatures', '500', '--nm-samples', '2', '--md-temperatures', '500',
    '--md-frames', '1', '--md-every', '2', '--rattle', '1', '--rattle-sigma', '0.05', '--seed', '1', '--no-hold-out'], { timeout: 300_000 });
  assert.equal(built.status, 0, built.stderr);
  const shards = join(corpus, 'shards');
  const config = (out: string, heads: unknown) => {
    const file = join(dir, `${out}.json`);
    writeFileSync(file, JSON.stringify({
      data: { seed: 0, shuffleBuffer: 16, valCap: 20, sources: [
        { name: 'corpus-xtb', shards, level: 'GFN2-xTB' },
        { name: 'corpus-ani', shards, level: 'ANI-2x' },
      ] },
      model: tiny,
      objective: 'et-oreo',
      training: { lr: 1e-3, warmupSteps: 1, valEvery: 4, batchSize: 6, maxSteps: 8, seed: 1 },
      ...(heads ? { heads } : {}),
      dtype: 'float64',
      out: join(dir, out),
    }));
    return file;
  };
  const heads = [
    { id: 'ani', level: 'ANI-2x', program: 'oreo (ANI-2x ensemble)', default: true },
    { id: 'xtb', level: 'GFN2-xTB', program: 'xtb' },
  ];
  const two = runOreo(['pretrain', '--config', config('two-heads', heads)], { timeout: 300_000 });
  assert.equal(two.status, 0, two.stderr);
  const r = JSON.parse(two.stdout.slice(0, two.stdout.lastIndexOf('}') + 1));
  // Each level's energies fitted through its own head: tens of meV for these few molecules.
  for (const id of ['ani', 'xtb']) {
    assert.ok(r.heads[id].rows > 10, `${id}: ${r.heads[id].rows} calibration rows`);
    assert.ok(r.heads[id].mae_meV < 500, `${id}: calibration MAE ${r.heads[id].mae_meV} meV`);
  }
  const model = loadPotential(join(dir, 'two-heads', 'model.oreo'));
  assert.deepEqual(model.heads().map((h) => [h.id, h.level, h.default]), [['ani', 'ANI-2x', true], ['xtb', 'GFN2-xTB', false]]);
  // Each head's level as the corpus manifest records it.
  const [ani, xtb] = model.heads();
  assert.equal(ani.recorded?.name, 'ANI-2x (ωB97X/6-31G(d))');
  assert.equal(xtb.recorded?.program, 'xtb');
  assert.match(String(xtb.version), /^\d+\.\d+/);
  // The two Atomrefs hold two levels' per-element energies: GFN2-xTB's and ωB97X's hydrogen differ by far more than 1 eV.
  const hA = model.withHead('ani').params.get('prior_model.0.atomref.weight')!.data[1];
  const hX = model.withHead('xtb').params.get('prior_model.0.atomref.weight')!.data[1];
  assert.ok(Math.abs(hA - hX) > 1, `H: ${hA} vs ${hX} eV`);
  // One head for both levels: its one Atomref cannot fit both (the corpus's 142 eV failure).
  const one = runOreo(['pretrain', '--config', config('one-head', null)], { timeout: 300_000 });
  assert.equal(one.status, 0, one.stderr);
  const single = JSON.parse(one.stdout.slice(0, one.stdout.lastIndexOf('}') + 1));
  t.diagnostic(`calibration MAE: two heads ani ${r.heads.ani.mae_meV.toFixed(1)} meV (${r.heads.ani.rows} rows), xtb ${r.heads.xtb.mae_meV.toFixed(1)} meV (${r.heads.xtb.rows} rows); one head ${single.energyCalibrationMAE_meV.toFixed(0)} meV`);
  assert.ok(single.energyCalibrationMAE_meV > 20 * Math.max(r.heads.ani.mae_meV, r.heads.xtb.mae_meV), `one head ${single.energyCalibrationMAE_meV} meV vs two heads ${r.heads.ani.mae_meV}, ${r.heads.xtb.mae_meV}`);
});

test('a two-head run stopped and resumed ends with the same weights bit for bit (per-parameter AdamW counts in the checkpoint)', () => {
  const frames = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz')).slice(0, 24);
  // Two "levels": the same frames, half named as a GFN2-xTB corpus source (its labels are not xtb's: only the routing matters here).
  const data = frames.map((c, i) => ({ ...c, kind: 'off-equilibrium' as const, source: i % 3 === 0 ? 'ethanol | GFN2-xTB' : 'rmd17-ethanol' }));
  const model = () => {
    const pot = createPotential(configFromHyperParameters({ ...tiny, precision: 64 }), { dtype: 'float64', seed: 2 });
    addHead(pot, { id: 'xtb', level: 'GFN2-xTB' }, 'fresh', 5, { id: 'dft', level: 'PBE/def2-SVP' });
    return pot;
  };
  const cfg = { ...paperDefaults, lr: 1e-3, warmupSteps: 2, valEvery: 3, batchSize: 2, maxSteps: 10, seed: 4, weightDecay: 0.01 };
  const a = model();
  train({ pot: a, train: data.slice(0, 20), val: data.slice(20), objective: ET_OREO, config: cfg, outDir: join(dir, 'resume-a'), quiet: true });
  const b = model();
  train({ pot: b, train: data.slice(0, 20), val: data.slice(20), objective: ET_OREO, config: cfg, outDir: join(dir, 'resume-b'), quiet: true, stopAfter: 7 });
  const b2 = model();
  train({ pot: b2, train: data.slice(0, 20), val: data.slice(20), objective: ET_OREO, config: cfg, outDir: join(dir, 'resume-b'), quiet: true, resume: true });
  for (const [name, t] of a.params) assert.deepEqual([...b2.params.get(name)!.data], [...t.data], name);
});

test("the config's heads are checked before anything is read: one default, known keys, ids usable as --head", () => {
  const file = join(dir, 'bad-heads.json');
  const data = { seed: 0, sources: [{ name: 'eth', path: join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz'), kind: 'off-equilibrium', cap: 4 }] };
  const parse = (heads: unknown, model: Record<string, unknown> = tiny) => () => parsePretrainConfig({ data, model, heads }, file);
  assert.throws(parse([{ id: 'a', level: 'X' }, { id: 'b', level: 'Y' }]), /bad-heads\.json.*exactly one head must be the default \(found 0\).*"default": true/s);
  assert.throws(parse([{ id: 'a', level: 'X', default: true }, { id: 'a', level: 'Y' }]), /head 'a' is listed twice/);
  assert.throws(parse([{ id: 'new', level: 'X', default: true }]), /head id 'new'/);
  assert.throws(parse([{ id: 'a', level: 'X', default: true, weight: 2 }]), /unknown key 'heads\[0\]\.weight'/);
  assert.throws(parse([{ id: 'a', level: '', default: true }]), /heads\[0\]\.level must be a non-empty string/);
  assert.throws(parse([{ id: 'a', level: 'X', default: true }], { ...tiny, prior_model: null }), /several heads need model\.prior_model 'Atomref'/);
  const ok = parsePretrainConfig({ data, model: tiny, heads: [{ id: 'dft', level: 'PBE/def2-SVP', default: true }, { id: 'xtb', level: 'GFN2-xTB', match: ['GFN2-xTB'] }] }, file);
  assert.deepEqual(ok.heads?.map((h) => [h.id, h.default]), [['dft', true], ['xtb', false]]);
});
