// Several levels of theory in one model (src/model/multi-head.ts): heads on one ET representation,
// checked on real rMD17 frames with the bundled aspirin ET: identical heads agree, a non-default
// head's forces are −∂E/∂r by finite differences, a step on one level's batch moves only the
// representation and that level's head, the .oreo round trip, and the export of one head as a
// plain TorchMD-Net checkpoint (read back by oreo, and by TorchMD-Net itself where installed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPotential } from '../../src/model/load.js';
import type { Potential } from '../../src/model/potential.js';
import { addHead, keepHead } from '../../src/model/head-edit.js';
import { serializeModel, parseModel, saveModel } from '../../src/model/io/native.js';
import { saveTorchMDNet } from '../../src/model/io/torchmdnet-export.js';
import { FastEnergyForces } from '../../src/model/fast/energy-forces.js';
import { representationShapes } from '../../src/model/et.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { makeBatch } from '../../src/data/batch.js';
import { MultiHeadGradients, groupByHead } from '../../src/train/multi-head.js';
import { AdamW } from '../../src/train/optimizer.js';
import { setTrainingThreads } from '../../src/train/parallel-gradients.js';
import { ET_OREO } from '../../src/train/objective.js';
import { Rng } from '../../src/random.js';
import { finetune } from '../../src/train/stages.js';
import { listModels } from '../../src/web/catalog.js';
import { paperDefaults } from '../../src/train/trainer.js';
import { repoRoot } from '../paths.js';
import { runOreo } from '../cli.js';
import { skipUnlessTorchMDNet, torchmdnetPython, torchmdnetSource } from '../system-tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'oreo-multi-head-'));
const modelFile = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
const aspirinFile = join(repoRoot, 'data', 'rmd17', 'rmd17_aspirin_test_01.npz');
const aspirin = readMd17Npz(aspirinFile);
const FRAMES = [0, 400, 999];
const frames = FRAMES.map((i) => aspirin[i]);
const DFT = { id: 'dft', level: 'PBE/def2-SVP', program: 'ORCA' };
const XTB = { id: 'xtb', level: 'GFN2-xTB', program: 'xtb' };

function twoHeads(start: string, dtype: 'float32' | 'float64' = 'float64'): Potential {
  const pot = loadPotential(modelFile, { dtype });
  addHead(pot, XTB, start, 7, DFT);
  return pot;
}

function predictAll(pot: Potential, path: 'autodiff' | 'fast'): { energy: number; forces: number[] }[] {
  const fast = path === 'fast' ? new FastEnergyForces(pot) : null;
  return frames.map((c) => {
    if (fast) {
      const r = fast.compute(c.z, c.positions);
      return { energy: r.energy[0], forces: [...r.forces] };
    }
    const p = pot.predict({ z: c.z, positions: c.positions });
    return { energy: p.energy.data[0], forces: [...p.forces.data] };
  });
}

test('two heads holding the same weights give identical energies and forces through either head, on both paths', () => {
  const pot = twoHeads('default');
  const single = loadPotential(modelFile, { dtype: 'float64' });
  assert.deepEqual(pot.heads().map((h) => [h.id, h.default]), [['dft', true], ['xtb', false]]);
  for (const path of ['autodiff', 'fast'] as const) {
    const ref = predictAll(single, path);
    assert.deepEqual(predictAll(pot.withHead('dft'), path), ref, path);
    assert.deepEqual(predictAll(pot.withHead('xtb'), path), ref, path);
    assert.deepEqual(predictAll(pot.withHead('GFN2-xTB'), path), ref, `${path}: a head named by its level`);
    assert.deepEqual(predictAll(pot, path), ref, `${path}: the model itself predicts through its default head`);
  }
  // The view shares the model's tensors: no copies.
  const view = pot.withHead('xtb');
  assert.equal(view.params.get('representation_model.embedding.weight'), pot.params.get('representation_model.embedding.weight'));
  assert.equal(view.params.get('output_model.output_network.0.update_net.0.weight'), pot.params.get('heads.xtb.output_model.output_network.0.update_net.0.weight'));
  assert.ok(![...view.params.keys()].some((k) => k.startsWith('heads.')));
  assert.throws(() => pot.withHead('b3lyp'), /no head 'b3lyp'.*dft \(PBE\/def2-SVP, ORCA, default\).*xtb \(GFN2-xTB, xtb\)/);
});

test('forces through a non-default (fresh) head are −∂E/∂r by central differences', () => {
  const pot = twoHeads('fresh');
  // A fresh head has a zero Atomref; give it per-element constants so the prior is exercised.
  const ref = pot.params.get('heads.xtb.prior_model.0.atomref.weight')!;
  for (const [z, e] of [[1, -13.6], [6, -1030], [8, -2040]]) ref.data[z] = e;
  const view = pot.withHead('xtb');
  const c = frames[1];
  const p = view.predict({ z: c.z, positions: c.positions });
  assert.notEqual(p.energy.data[0], pot.withHead('dft').predict({ z: c.z, positions: c.positions }).energy.data[0]);
  const h = 1e-5;
  let worst = 0;
  for (const i of [0, 4, 11, 20, 37, 62]) {
    const x = Float64Array.from(c.positions);
    x[i] += h;
    const ep = view.energy({ z: c.z, positions: x }).data[0];
    x[i] -= 2 * h;
    const em = view.energy({ z: c.z, positions: x }).data[0];
    const fd = -(ep - em) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - p.forces.data[i]));
  }
  assert.ok(worst < 1e-6, `|F − FD| up to ${worst} eV/Å`);
});

test('a training step on a batch of level A changes the representation and head A only (AdamW with weight decay)', () => {
  const pot = twoHeads('fresh');
  const before = new Map([...pot.params].map(([k, t]) => [k, Float64Array.from(t.data)]));
  const confs = frames.map((c) => ({ ...c, source: 'aspirin | GFN2-xTB' }));
  const batch = makeBatch(confs);
  assert.deepEqual(groupByHead(pot.heads(), batch).map((g) => [g.head.id, g.mols]), [['xtb', [0, 1, 2]]]);
  const heads = new MultiHeadGradients(pot, ET_OREO, 'auto', () => {});
  const opt = new AdamW(pot.trainable(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  const r = heads.step(batch, new Rng(3));
  assert.ok(Number.isFinite(r.value));
  opt.update(r.grads, 1e-3);
  const rep = representationShapes(pot.config);
  const changed = (k: string) => pot.params.get(k)!.data.some((v, i) => v !== before.get(k)![i]);
  let moved = 0;
  pot.trainable().forEach(([k], j) => {
    if (k.startsWith('heads.xtb.output_model.') || rep.has(k)) {
      assert.ok(r.grads[j], `${k} should get a gradient`);
      // Every tensor with a non-zero gradient moves (a few biases feed nothing the energy sees).
      if (r.grads[j]!.data.some((g) => g !== 0)) assert.ok(changed(k), `${k} should move`);
      if (changed(k)) moved++;
    } else {
      assert.ok(!changed(k), `${k} (the default head) must not move or decay`);
      assert.ok(opt.m.get(k)!.every((v) => v === 0), `${k}: no moment`);
      assert.equal(opt.t.get(k), 0);
    }
  });
  assert.ok(moved > 20, `${moved} tensors moved`);
  // Buffers never train: both Atomrefs, std and mean stay.
  for (const k of ['prior_model.0.atomref.weight', 'heads.xtb.prior_model.0.atomref.weight', 'std', 'mean', 'heads.xtb.std']) assert.ok(!changed(k), k);
  heads.dispose();
});

test('a batch of two levels: each sub-batch through its head, the loss their molecule-weighted mean', () => {
  const pot = twoHeads('default');
  const confs = frames.map((c, i) => ({ ...c, source: i === 1 ? 'aspirin | GFN2-xTB' : 'rmd17-aspirin' }));
  const heads = new MultiHeadGradients(pot, { ...ET_OREO, denoise: 0 }, 'auto', () => {});
  const mixed = heads.step(makeBatch(confs), new Rng(1));
  // With identical heads the split cannot change the loss or the representation's gradient.
  const single = new MultiHeadGradients(loadPotential(modelFile, { dtype: 'float64' }), { ...ET_OREO, denoise: 0 }, 'auto', () => {});
  const whole = single.step(makeBatch(frames), new Rng(1));
  assert.ok(Math.abs(mixed.value - whole.value) < 1e-9 * Math.abs(whole.value), `${mixed.value} vs ${whole.value}`);
  const names = pot.trainable().map(([k]) => k);
  const k = names.indexOf('representation_model.embedding.weight');
  const g1 = mixed.grads[k]!.data, g0 = whole.grads[single.pot.trainable().findIndex(([n]) => n === 'representation_model.embedding.weight')]!.data;
  for (let i = 0; i < g0.length; i++) assert.ok(Math.abs(g1[i] - g0[i]) <= 1e-9 * (1 + Math.abs(g0[i])), `embedding grad ${i}`);
  // Each head got the gradient of its own rows: together they are the single head's.
  const last = names.filter((n) => n.startsWith('output_model.') && n.endsWith('.weight')).pop()!;
  const a = names.indexOf(last);
  const b = names.indexOf(`heads.xtb.${last}`);
  const w = whole.grads[single.pot.trainable().findIndex(([n]) => n === last)]!.data;
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(mixed.grads[a]!.data[i] + mixed.grads[b]!.data[i] - w[i]) <= 1e-9 * (1 + Math.abs(w[i])));
  heads.dispose();
  single.dispose();
});

test('.oreo round trip keeps every head; keepHead gives a plain single-head model; a damaged head list is named', () => {
  const pot = twoHeads('fresh');
  const file = join(tmp, 'two.oreo');
  saveModel(pot, file);
  const back = loadPotential(file);
  assert.deepEqual(back.heads(), pot.heads());
  assert.deepEqual([...back.params.keys()].sort(), [...pot.params.keys()].sort());
  for (const id of ['dft', 'xtb']) assert.deepEqual(predictAll(back.withHead(id), 'fast'), predictAll(pot.withHead(id), 'fast'), id);
  // The browser app's model list shows the heads.
  const shown = listModels(tmp).find((m) => m.id === 'two.oreo')!;
  assert.deepEqual(shown.info.heads, [{ id: 'dft', level: 'PBE/def2-SVP', default: true }, { id: 'xtb', level: 'GFN2-xTB', default: false }]);
  const plain = keepHead(back, 'xtb');
  assert.ok(!plain.isMultiHead());
  assert.deepEqual(plain.heads(), [{ ...XTB, default: true }]);
  assert.deepEqual(predictAll(plain, 'fast'), predictAll(back.withHead('xtb'), 'fast'));
  // Two defaults in the file's head list: refused with the file and field.
  pot.meta.heads = pot.heads().map((h) => ({ ...h, default: true }));
  assert.throws(() => parseModel(serializeModel(pot), 'bad.oreo'), /bad\.oreo.*meta\.heads.*exactly one head must be the default/s);
});

test('oreo export --head writes one head as a plain TorchMD-Net checkpoint; predict --head and eval --head use it', () => {
  const pot = twoHeads('fresh', 'float32');
  const file = join(tmp, 'two-f32.oreo');
  saveModel(pot, file);
  const ckpt = join(tmp, 'xtb.ckpt');
  const r = runOreo(['export', '--model', file, '--format', 'torchmdnet', '--head', 'xtb', '--out', ckpt]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).head, 'xtb');
  const back = loadPotential(ckpt);
  assert.deepEqual(back.heads(), [{ id: 'xtb', level: 'GFN2-xTB', default: true }], 'the level of theory travels in the side record');
  const view = pot.withHead('xtb');
  assert.deepEqual([...back.params.keys()].sort(), [...view.params.keys()].sort());
  for (const [k, t] of view.params) assert.deepEqual([...back.params.get(k)!.data], [...t.data], k);
  assert.deepEqual(predictAll(back, 'autodiff'), predictAll(view, 'autodiff'));
  const xyz = join(tmp, 'one.xyz');
  const c = frames[0];
  writeFileSync(xyz, `${c.z.length}\n\n` + [...c.z].map((z, i) => `${['', 'H', '', '', '', '', 'C', 'N', 'O'][z]} ${c.positions[3 * i]} ${c.positions[3 * i + 1]} ${c.positions[3 * i + 2]}`).join('\n') + '\n');
  for (const head of ['xtb', 'dft']) {
    const p = runOreo(['predict', '--model', file, '--input', xyz, '--head', head]);
    assert.equal(p.status, 0, p.stderr);
    const out = JSON.parse(p.stdout);
    assert.equal(out.head, head);
    const want = new FastEnergyForces(pot.withHead(head)).compute(c.z, Float64Array.from(c.positions)).energy[0];
    assert.ok(Math.abs(out.frames[0].energy - want) < 1e-3, `${head}: ${out.frames[0].energy} vs ${want}`);
  }
  const unknown = runOreo(['predict', '--model', file, '--input', xyz, '--head', 'b3lyp']);
  assert.notEqual(unknown.status, 0, unknown.stderr);
  assert.match(unknown.stderr, /two-f32\.oreo.*no head 'b3lyp'.*dft.*xtb/s);
  const e = runOreo(['eval', '--model', file, '--data', aspirinFile, '--limit', '4', '--head', 'dft']);
  assert.equal(e.status, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).head, 'dft');
  // MD through a non-default head: recorded in the run, so --resume uses the same head.
  const md = join(tmp, 'md-xtb');
  const s = runOreo(['simulate', '--model', file, '--head', 'xtb', '--input', xyz, '--steps', '4', '--out', md, '--seed', '1', '--temperature', '100']);
  assert.equal(s.status, 0, s.stderr);
  assert.match(readFileSync(join(md, 'state.json'), 'utf8'), /"head":\s*"xtb"/);
  const resumed = runOreo(['simulate', '--resume', md, '--steps', '6']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const lj = runOreo(['simulate', '--model', 'lj', '--head', 'xtb', '--input', xyz, '--steps', '2', '--out', join(tmp, 'md-lj')]);
  assert.notEqual(lj.status, 0);
  assert.match(lj.stderr, /--head applies to learned models only/);
});

test('TorchMD-Net 2.x load_model reads an exported non-default head and predicts what oreo predicts through it', { skip: skipUnlessTorchMDNet() }, () => {
  const pot = twoHeads('fresh');
  const ref = pot.params.get('heads.xtb.prior_model.0.atomref.weight')!;
  for (const [z, e] of [[1, -13.6], [6, -1030], [8, -2040]]) ref.data[z] = e;
  const view = pot.withHead('xtb');
  const ckpt = join(tmp, 'xtb-f64.ckpt');
  saveTorchMDNet(view, ckpt, { precision: 64 });
  const r = spawnSync(torchmdnetPython(), [join(repoRoot, 'scripts', 'torchmdnet-check-export.py'), '--torchmdnet', torchmdnetSource(),
    '--input', aspirinFile, '--frames', FRAMES.join(','), '--model', ckpt], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const theirs = JSON.parse(r.stdout.trim().split('\n').pop()!).models[0];
  const ours = predictAll(view, 'autodiff');
  ours.forEach((o, i) => {
    assert.ok(Math.abs(o.energy - theirs.frames[i].energy) <= 1e-9 * Math.abs(o.energy), `frame ${i} energy ${o.energy} vs ${theirs.frames[i].energy}`);
    const tf = (theirs.frames[i].forces as number[][]).flat();
    o.forces.forEach((f, k) => assert.ok(Math.abs(f - tf[k]) <= 1e-9 * 10, `frame ${i} force ${k}`));
  });
});

test('oreo finetune from a two-head model: --head NAME, the head of --level, --head new; the result keeps one head, as default', async () => {
  const pot = twoHeads('fresh');
  const file = join(tmp, 'two-for-finetune.oreo');
  saveModel(pot, file);
  const last = [...pot.params.keys()].filter((k) => k.startsWith('output_model.') && k.endsWith('.weight')).pop()!;
  const trainData = join(repoRoot, 'data', 'rmd17', 'rmd17_aspirin_train_01.npz');
  // One step at a learning rate of 1e-12: the weights are those of the head it started from.
  const training = { ...paperDefaults, lr: 1e-12, lrStart: 1e-12, warmupSteps: 1, valEvery: 1, batchSize: 4, maxSteps: 1, seed: 0 };
  const run = async (name: string, extra: { head?: string; level?: string; keepHeads?: boolean }) => {
    const r = await finetune({ from: file, data: trainData, nTrain: 4, nVal: 2, objective: { ...ET_OREO, denoise: 0, zeroForce: 0 }, training, out: join(tmp, `ft-${name}`), dtype: 'float64', quiet: true, ...extra });
    return loadPotential(r.model);
  };
  const near = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).every((v, i) => Math.abs(v - b[i]) < 1e-8);
  const xtb = await run('xtb', { head: 'xtb', level: 'PBE/def2-SVP' });
  assert.ok(!xtb.isMultiHead());
  assert.deepEqual(xtb.heads().map((h) => [h.id, h.level, h.default]), [['pbe', 'PBE/def2-SVP', true]]);
  assert.equal(xtb.meta.startedFromHead, 'xtb');
  assert.ok(near(xtb.params.get(last)!.data, pot.params.get(`heads.xtb.${last}`)!.data));
  const byLevel = await run('level', { level: 'GFN2-xTB' });
  assert.equal(byLevel.meta.startedFromHead, 'xtb');
  assert.deepEqual(byLevel.heads().map((h) => [h.id, h.level]), [['xtb', 'GFN2-xTB']]);
  const plain = await run('default', {});
  assert.equal(plain.meta.startedFromHead, 'dft');
  assert.ok(near(plain.params.get(last)!.data, pot.params.get(last)!.data));
  const fresh = await run('new', { head: 'new', level: 'PBE/def2-SVP' });
  assert.equal(fresh.meta.startedFromHead, 'new');
  assert.ok(!near(fresh.params.get(last)!.data, pot.params.get(last)!.data) && !near(fresh.params.get(last)!.data, pot.params.get(`heads.xtb.${last}`)!.data));
  // --keep-heads: the trained head becomes the default, the other is kept exactly as it was.
  const kept = await run('keep', { head: 'xtb', keepHeads: true });
  assert.ok(kept.isMultiHead());
  assert.deepEqual(kept.heads().map((h) => [h.id, h.default]), [['dft', false], ['xtb', true]]);
  assert.equal(kept.meta.startedFromHead, 'xtb');
  assert.ok(near(kept.params.get(last)!.data, pot.params.get(`heads.xtb.${last}`)!.data));
  for (const k of [last, 'prior_model.0.atomref.weight', 'std', 'mean']) assert.deepEqual([...kept.params.get(`heads.dft.${k}`)!.data], [...pot.params.get(k)!.data], k);
  assert.equal((kept.heads()[0] as { energyCalibrationMAE_meV?: unknown }).energyCalibrationMAE_meV, undefined);
  // The representation is the pre-trained one in every case.
  const emb = 'representation_model.embedding.weight';
  for (const m of [xtb, byLevel, plain, fresh, kept]) assert.ok(near(m.params.get(emb)!.data, pot.params.get(emb)!.data));
});

test('on two training threads, the heads share one helper and a two-level step matches one thread to rounding', () => {
  const pot = twoHeads('fresh');
  const confs = [0, 100, 200, 300, 500, 700, 800, 900].map((i, k) => ({ ...aspirin[i], source: k % 2 ? 'aspirin | GFN2-xTB' : 'rmd17-aspirin' }));
  const step = (threads: 1 | 2) => {
    setTrainingThreads(threads);
    const heads = new MultiHeadGradients(pot, { ...ET_OREO, denoise: 0 }, 'fused', () => {});
    try {
      const r = heads.step(makeBatch(confs), new Rng(2));
      assert.equal(heads.threads, threads);
      return r;
    } finally {
      heads.dispose();
      setTrainingThreads(1);
    }
  };
  const one = step(1), two = step(2);
  assert.ok(Math.abs(one.value - two.value) <= 1e-10 * Math.abs(one.value), `${one.value} vs ${two.value}`);
  one.grads.forEach((g, k) => {
    assert.equal(g === null, two.grads[k] === null);
    if (g) for (let i = 0; i < g.size; i++) assert.ok(Math.abs(g.data[i] - two.grads[k]!.data[i]) <= 1e-9 * (1 + Math.abs(g.data[i])), `param ${k}[${i}]`);
  });
});
