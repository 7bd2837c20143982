/**
 * The two stages of ET-OREO as library calls: pre-train on a mix of sources with splits that are
 * written once and reused, and fine-tune from a pre-trained (oreo or TorchMD-Net) model on a
 * target set, refusing any conformation that was in the pre-training test split. Both end with a
 * per-element energy calibration and a model file ready for `predict` / `simulate`.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readSplitIndices } from '../data/split-indices.js';
import { configFromHyperParameters } from '../model/config.js';
import { loadDataset } from '../data/dataset.js';
import { loadOrCreateSplits, selectPart, readSplits, assertNoLeak, SplitLookup } from '../data/splits.js';
import { contentHash, geometryKey } from '../data/identity.js';
import { readConformations } from '../data/read.js';
import type { Conformation } from '../data/conformation.js';
import { createPotential } from '../model/init.js';
import { loadPotential } from '../model/load.js';
import { saveModel } from '../model/io/native.js';
import { Potential } from '../model/potential.js';
import { addAtomref } from '../model/prior.js';
import { OreoError, InputError } from '../errors.js';
import { PretrainConfig } from './run-config.js';
import { train, TrainConfig } from './trainer.js';
import { ObjectiveConfig } from './objective.js';
import { calibrateElementEnergies, fitElementConstants } from './calibrate.js';
import { evaluate } from './evaluate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeLossCurve } from './loss-plot.js';
import { Tensor } from '../engine/index.js';
import { compositionOf, type TrainingComposition } from '../model/card.js';
import { deriveSeed, finetuneOrder } from '../random.js';
import { addHead, keepHead, makeDefaultHead } from '../model/head-edit.js';
import { findHead, headForSource, headIdOf, headTakes, type HeadCard } from '../model/multi-head.js';
import { surveyShardSets, ShardStream, type ShardSetSpec } from '../data/shard-stream.js';
import { objectiveApplies } from './objective.js';
import type { TrainObserver } from './loop.js';

function elementsOf(confs: Conformation[]): number[] {
  return [...new Set(confs.flatMap((c) => [...c.z]))].sort((a, b) => a - b);
}

/**
 * The heads of the config with their levels as the corpora record them: for a shard set written
 * by `oreo corpus build` (its manifest.json beside shards/), the level whose name the head's
 * level matches gives its full name, key, program, version and settings.
 */
function headsWithRecordedLevels(cfg: PretrainConfig): HeadCard[] | undefined {
  if (!cfg.heads) return undefined;
  type Level = { name: string; key?: string; description?: { program?: string; version?: string; settings?: Record<string, unknown> } };
  const levels: Level[] = [];
  for (const s of cfg.data.shardSources) {
    const manifest = join(s.shards, '..', 'manifest.json');
    if (!existsSync(manifest)) continue;
    try {
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { levels?: Level[] };
      for (const l of m.levels ?? []) if (typeof l?.name === 'string' && !levels.some((x) => x.key === l.key)) levels.push(l);
    } catch {
      // A manifest that cannot be read only means the head's card stays as the config wrote it.
    }
  }
  return cfg.heads.map((h) => {
    const l = levels.find((x) => x.name === h.level || x.name.startsWith(`${h.level} `));
    if (!l) return { ...h };
    const d = l.description ?? {};
    return { ...h, program: h.program ?? d.program, version: h.version ?? d.version, recorded: { name: l.name, key: l.key, program: d.program, version: d.version, settings: d.settings } };
  });
}

/**
 * A new model for pre-training: the ET of the config, with one head per level of theory when the
 * config lists heads (the default under TorchMD-Net's names, every other fresh under heads.<id>.).
 */
function pretrainModel(cfg: PretrainConfig): Potential {
  const pot = createPotential(cfg.model, { dtype: cfg.dtype, seed: cfg.training.seed });
  const heads = headsWithRecordedLevels(cfg);
  if (!heads || heads.length < 2) {
    if (heads) pot.meta.heads = heads;
    return pot;
  }
  const def = heads.find((h) => h.default)!;
  for (const h of heads) if (!h.default) addHead(pot, h, 'fresh', deriveSeed(cfg.training.seed, `head:${h.id}`), def);
  return pot;
}

/**
 * Per-element energies of every head from the training rows of its level (a multi-head model), or
 * of the one head from all rows: the MAE after the fit, overall (row-weighted) and per head.
 */
function calibrateHeads(pot: Potential, labelled: Conformation[]): { mae: number; byHead: Record<string, { rows: number; mae_meV: number | null }> } {
  const pick = (rows: Conformation[]) => rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / 2000)) === 0);
  if (!pot.isMultiHead()) return { mae: calibrateElementEnergies(pot, pick(labelled)).mae, byHead: {} };
  const heads = pot.heads();
  const byHead: Record<string, { rows: number; mae_meV: number | null }> = {};
  let sum = 0;
  let n = 0;
  for (const h of heads) {
    const rows = pick(labelled.filter((c) => headForSource(heads, c.source ?? '').id === h.id));
    if (rows.length === 0) {
      byHead[h.id] = { rows: 0, mae_meV: null };
      continue;
    }
    const mae = calibrateElementEnergies(pot.withHead(h.id), rows).mae;
    byHead[h.id] = { rows: rows.length, mae_meV: 1000 * mae };
    sum += mae * rows.length;
    n += rows.length;
  }
  (pot.meta.heads as HeadCard[]).forEach((h) => {
    // A head without rows here (the heads a fine-tune keeps but does not train) keeps its card.
    const c = byHead[h.id];
    if (c && c.rows > 0) Object.assign(h, { calibrationRows: c.rows, energyCalibrationMAE_meV: c.mae_meV });
  });
  return { mae: n > 0 ? sum / n : NaN, byHead };
}

/**
 * Finish a run: calibrate element energies, record metadata, save model.oreo and a loss plot.
 * `trainSet` is the training set, or for streamed data a sample of it with the elements and
 * composition of the whole (`described`).
 */
function finish(
  pot: Potential,
  trainSet: Conformation[],
  outDir: string,
  meta: Record<string, unknown>,
  described?: { elements: number[]; composition: TrainingComposition },
): { model: string; calibrationMAE_meV: number | null; calibrationByHead?: Record<string, { rows: number; mae_meV: number | null }> } {
  let calibrationMAE: number | null = null;
  let calibrationByHead: Record<string, { rows: number; mae_meV: number | null }> | undefined;
  const labelled = trainSet.filter((c) => c.energy !== undefined);
  if (labelled.length > 0 && pot.params.has('prior_model.0.atomref.weight')) {
    // Up to 2000 labelled conformations (per head) pin the per-element constants well; each head from its own level's rows.
    const c = calibrateHeads(pot, labelled);
    calibrationMAE = Number.isFinite(c.mae) ? 1000 * c.mae : null;
    if (pot.isMultiHead()) calibrationByHead = c.byHead;
  }
  const known = new Set<number>((pot.meta.elements as number[] | undefined) ?? []);
  for (const e of described?.elements ?? elementsOf(trainSet)) known.add(e);
  Object.assign(pot.meta, meta, {
    elements: [...known].sort((a, b) => a - b),
    energyCalibrationMAE_meV: calibrationMAE,
    // What the model is for: a fine-tune replaces its base's composition with its own data's.
    composition: described?.composition ?? compositionOf(trainSet),
  });
  const model = join(outDir, 'model.oreo');
  saveModel(pot, model);
  writeLossCurve(join(outDir, 'log.jsonl'), join(outDir, 'loss'));
  return { model, calibrationMAE_meV: calibrationMAE, ...(calibrationByHead ? { calibrationByHead } : {}) };
}

export interface StageOptions {
  resume?: boolean;
  quiet?: boolean;
  /** Attached to the training loop (e.g. the CLI's progress printer). */
  observers?: TrainObserver[];
}

export async function pretrain(cfg: PretrainConfig, options: StageOptions = {}) {
  mkdirSync(cfg.out, { recursive: true });
  if (cfg.data.shardSources.length) return pretrainStreamed(cfg, options);
  const sources = await loadDataset(cfg.data);
  const holdOut: { path: string; conformations: Conformation[] }[] = [];
  for (const p of cfg.splits.holdOut) holdOut.push({ path: p, conformations: await readConformations(p) });
  const splitsPath = join(cfg.out, 'splits.json');
  const { splits } = loadOrCreateSplits(
    splitsPath,
    sources.map((s) => ({ name: s.config.name, path: s.config.path, conformations: s.conformations, split: s.config.split, fileCount: s.fileCount })),
    { seed: cfg.data.seed, val: cfg.splits.val, test: cfg.splits.test, holdOut },
  );
  const trainSet: Conformation[] = [];
  const valSet: Conformation[] = [];
  for (const s of sources) {
    // With several heads, rows are routed by source name: a file's rows carry its path, so name them by the config's source.
    const named = (cs: Conformation[]) => (cfg.heads ? cs.map((c) => ({ ...c, source: s.config.name })) : cs);
    const tr = named(selectPart(splits, s.config.path, s.conformations, 'train'));
    // Weights: repeat a source's training conformations (fractional part by a seeded pick).
    const w = s.config.weight;
    for (let r = 0; r < Math.floor(w); r++) trainSet.push(...tr);
    const frac = w - Math.floor(w);
    if (frac > 0) trainSet.push(...tr.filter((_, i) => ((i * 2654435761) >>> 0) / 2 ** 32 < frac));
    valSet.push(...named(selectPart(splits, s.config.path, s.conformations, 'val')));
  }
  // With --resume the trainer restores the weights from the run's checkpoint.
  const pot = pretrainModel(cfg);
  const t0 = Date.now();
  const result = train({ pot, train: trainSet, val: valSet, objective: cfg.objective, config: cfg.training, outDir: cfg.out, resume: options.resume, quiet: options.quiet, observers: options.observers });
  const done = finish(pot, trainSet, cfg.out, {
    name: 'oreo pre-trained ET',
    stage: 'pretrain',
    objective: cfg.objective,
    training: cfg.training,
    sources: sources.map((s) => ({ name: s.config.name, kind: s.config.kind, conformations: s.conformations.length, sha256: s.sha256 })),
    splits: splitsPath,
    steps: result.steps,
    stoppedOn: result.stoppedOn,
    trainSeconds: result.trainSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
  });
  return { ...result, ...done, splits: splitsPath as string | null, train: trainSet.length, val: valSet.length };
}

/**
 * Pre-training on shard sets, streamed (src/data/shard-stream.ts): one survey pass takes the
 * validation set (at most valCap), a calibration sample and the counts; then the loop draws
 * batches from the stream, whose position goes into every checkpoint.
 */
async function pretrainStreamed(cfg: PretrainConfig, options: StageOptions) {
  const specs: ShardSetSpec[] = cfg.data.shardSources.map((s) => ({ name: s.name, dir: s.shards, weight: s.weight, level: s.level, valDir: s.val }));
  const accept = (c: Conformation) => objectiveApplies(c, cfg.objective);
  const t0 = Date.now();
  const survey = surveyShardSets(specs, { seed: cfg.data.seed, valCap: cfg.data.valCap, sampleCap: 2000, accept });
  const data = new ShardStream(specs, { seed: cfg.training.seed, bufferSize: cfg.data.shuffleBuffer, accept, epochSize: survey.epochSize });
  const counts = specs.map((s, k) => ({ name: s.name, shards: s.dir, level: s.level ?? null, weight: s.weight, train: survey.trainRows[k], val: survey.valRows[k], test: survey.testRows[k] }));
  if (survey.epochSize === 0) throw new OreoError(`the shard sources hold no training conformations that the objective applies to: ${JSON.stringify(counts)}`);
  const pot = pretrainModel(cfg);
  const result = train({ pot, data, val: survey.val, objective: cfg.objective, config: cfg.training, outDir: cfg.out, resume: options.resume, quiet: options.quiet, observers: options.observers });
  const composition = { ...compositionOf(survey.sample, `formulas of a sample of ${survey.sample.length} training conformations`), conformations: Math.round(survey.epochSize) };
  const done = finish(
    pot,
    survey.sample,
    cfg.out,
    {
      name: 'oreo pre-trained ET',
      stage: 'pretrain',
      objective: cfg.objective,
      training: cfg.training,
      sources: counts,
      shuffleBuffer: cfg.data.shuffleBuffer,
      steps: result.steps,
      stoppedOn: result.stoppedOn,
      trainSeconds: result.trainSeconds,
      wallSeconds: (Date.now() - t0) / 1000,
    },
    { elements: survey.elements, composition },
  );
  return { ...result, ...done, splits: null as string | null, train: Math.round(survey.epochSize), val: survey.val.length };
}

export interface FinetuneOptions {
  from: string;
  data: string;
  nTrain: number;
  nVal: number;
  splits?: string;
  objective: ObjectiveConfig;
  training: TrainConfig;
  out: string;
  dtype?: 'float32' | 'float64';
  resume?: boolean;
  quiet?: boolean;
  observers?: TrainObserver[];
  /** Evaluate on this file at the end (e.g. the rMD17 test file). */
  test?: string;
  /** Keep only the architecture of `from` and start from fresh weights (the from-scratch baseline). */
  scratch?: boolean;
  /** TorchMD-Net-style splits.npz (idx_train, idx_val) of `data`'s frames, in place of a seeded draw. */
  splitIndices?: string;
  /**
   * Energy standardization as TorchMD-Net's `standardize`: before training, the output scale
   * `std` is set to the spread of the training energies (after per-element constants). Only for
   * fresh weights: it rescales every atomic output.
   */
  standardize?: boolean;
  /**
   * Which head of a multi-head `from` to start from (src/model/multi-head.ts): its id or level,
   * 'new' for a fresh head on the pre-trained representation; default: the head whose level is
   * `level`, else the model's default head. The fine-tuned model keeps only that head.
   */
  head?: string;
  /** The level of theory of the data (recorded as the fine-tuned head's level; picks the head). */
  level?: string;
  /**
   * Keep every head of a multi-head `from`: the head trained becomes the default, the others stay
   * as they were (on a representation that moves under them).
   */
  keepHeads?: boolean;
}

/** `from` as a file of TorchMD-Net hyper-parameters (JSON): an architecture with no weights. */
function isArchitectureFile(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

export async function finetune(o: FinetuneOptions) {
  let all = await readConformations(o.data, { kind: 'off-equilibrium' });
  const before0 = all.length;
  const pretrainSplits = o.splits ? readSplits(o.splits) : undefined;
  if (pretrainSplits) {
    // Conformations the pre-training run kept for its test split are never drawn for training
    // or validation here; assertNoLeak below then checks the result rather than assuming it.
    const lookup = new SplitLookup(pretrainSplits);
    const sha = contentHash(o.data);
    const before = all.length;
    all = all.filter((c, i) => lookup.partOf(sha, c.index ?? i) !== 'test' && !lookup.testGeometries.has(geometryKey(c)));
    if (!o.quiet && all.length < before) {
      process.stderr.write(`excluded ${before - all.length} conformations of ${o.data} that are in the pre-training test split\n`);
    }
  }
  let trainSet: Conformation[];
  let valSet: Conformation[];
  if (o.splitIndices) {
    ({ trainSet, valSet } = pickByIndices(o, all, before0));
  } else {
    if (o.nTrain + o.nVal > all.length) {
      throw new OreoError(`${o.data} has ${all.length} conformations; --train ${o.nTrain} + --val ${o.nVal} is more`);
    }
    // Seeded shuffle of the file, then train / val slices (TorchMD-Net's convention).
    const order = finetuneOrder(all.length, o.training.seed);
    trainSet = order.slice(0, o.nTrain).map((i) => all[i]);
    valSet = order.slice(o.nTrain, o.nTrain + o.nVal).map((i) => all[i]);
  }
  let testSet: Conformation[] | undefined;
  if (o.test) testSet = await readConformations(o.test, { kind: 'off-equilibrium' });
  if (pretrainSplits) {
    const report = assertNoLeak(pretrainSplits, { train: trainSet, val: valSet, test: testSet });
    for (const w of report.warnings) if (!o.quiet) process.stderr.write(`warning: ${w}\n`);
  }
  const pot = startingModel(o);
  ensureAtomref(pot);
  pot.checkElements(Int32Array.from(elementsOf(trainSet)));
  // With --resume the checkpoint's weights and buffers replace these; the set-up is redone
  // only so that a fresh start and a resumed one see the same model before the checkpoint loads.
  const energyPrep = prepareEnergyScale(pot, trainSet, o);
  if (energyPrep && !o.quiet) process.stderr.write(`${energyPrep}\n`);
  const t0 = Date.now();
  const result = train({ pot, train: trainSet, val: valSet, objective: o.objective, config: o.training, outDir: o.out, resume: o.resume, quiet: o.quiet, observers: o.observers });
  const done = finish(pot, trainSet, o.out, {
    name: `oreo ET fine-tuned on ${o.data.split('/').pop()}`,
    stage: 'finetune',
    from: o.scratch || isArchitectureFile(o.from) ? `architecture of ${o.from}, fresh weights` : o.from,
    splitIndices: o.splitIndices ?? null,
    standardized: energyPrep,
    data: o.data,
    nTrain: trainSet.length,
    nVal: valSet.length,
    objective: o.objective,
    training: o.training,
    steps: result.steps,
    stoppedOn: result.stoppedOn,
    trainSeconds: result.trainSeconds,
    wallSeconds: (Date.now() - t0) / 1000,
  });
  let test = null;
  if (testSet) {
    test = evaluate(pot, testSet);
    writeFileAtomic(join(o.out, 'test-metrics.json'), JSON.stringify(test, null, 2) + '\n');
  }
  // Which frames of `data` trained and validated, so a reader can check the split.
  const frames = { train: trainSet.map((c) => c.index ?? -1), val: valSet.map((c) => c.index ?? -1) };
  return { ...result, ...done, test, frames };
}

/** TorchMD-Net models without a prior get an (all-zero) Atomref so calibration has a place to go. */
function ensureAtomref(pot: Potential): void {
  addAtomref(pot);
}

/** The model training starts from: pre-trained weights, or fresh ones of an architecture. */
function startingModel(o: FinetuneOptions): Potential {
  if (isArchitectureFile(o.from)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(o.from, 'utf8'));
    } catch (err) {
      throw new InputError(o.from, `cannot read the architecture (TorchMD-Net hyper-parameters as JSON): ${(err as Error).message}`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(o.from, 'expected a JSON object of TorchMD-Net hyper-parameters');
    const cfg = configFromHyperParameters(raw as Record<string, unknown>, o.from);
    return createPotential(cfg, { dtype: o.dtype, seed: o.training.seed });
  }
  const loaded = loadPotential(o.from, { dtype: o.dtype });
  if (o.scratch) return createPotential(loaded.config, { dtype: loaded.dtype, seed: o.training.seed });
  if (o.head === undefined && o.level === undefined && !loaded.isMultiHead()) return loaded;
  if (o.keepHeads && !loaded.isMultiHead() && o.head !== 'new') throw new OreoError(`--keep-heads: ${o.from} has one head; there is nothing to keep besides it`);
  return startingHead(loaded, o);
}

/**
 * A plain single-head model of the head a fine-tune starts from: `--head NAME`, `--head new` (a
 * fresh head on the pre-trained representation), else the head of the data's level, else the
 * default. Its card records the data's level (when given) and where it started.
 */
function startingHead(loaded: Potential, o: FinetuneOptions): Potential {
  const heads = loaded.heads();
  let start: HeadCard;
  if (o.keepHeads) return keepingHeads(loaded, o);
  if (o.head === 'new') {
    start = { id: 'new', level: o.level ?? 'unrecorded' };
    const fresh = keepHead(loaded, 'default');
    addHead(fresh, { id: 'fresh', level: start.level, default: true }, 'fresh', deriveSeed(o.training.seed, 'finetune-head'));
    const plain = keepHead(fresh, 'fresh');
    plain.meta.heads = [{ id: headIdOf(start.level), level: start.level, default: true }];
    plain.meta.startedFromHead = 'new';
    return plain;
  }
  if (o.head !== undefined) start = findHead(loaded.meta, o.head);
  else start = (o.level !== undefined ? heads.find((h) => h.level === o.level || headTakes(h, o.level!)) : undefined) ?? heads.find((h) => h.default) ?? heads[0];
  const plain = keepHead(loaded, start.id);
  const level = o.level ?? start.level;
  plain.meta.heads = [{ ...(plain.meta.heads as HeadCard[])[0], id: level === start.level ? start.id : headIdOf(level), level, default: true }];
  plain.meta.startedFromHead = start.id;
  return plain;
}

/** `--keep-heads`: the whole multi-head model, with the head to fine-tune as its default. */
function keepingHeads(loaded: Potential, o: FinetuneOptions): Potential {
  const heads = loaded.heads();
  if (o.head === 'new') {
    const level = o.level ?? 'unrecorded';
    let id = headIdOf(level);
    while (heads.some((h) => h.id === id)) id = `${id}-ft`;
    addHead(loaded, { id, level, default: true }, 'fresh', deriveSeed(o.training.seed, 'finetune-head'));
    loaded.meta.startedFromHead = 'new';
    return loaded;
  }
  const start = o.head !== undefined
    ? findHead(loaded.meta, o.head)
    : (o.level !== undefined ? heads.find((h) => h.level === o.level || headTakes(h, o.level!)) : undefined) ?? heads.find((h) => h.default) ?? heads[0];
  makeDefaultHead(loaded, start.id);
  loaded.meta.startedFromHead = start.id;
  return loaded;
}

/**
 * Train / validation frames named by a splits.npz. Indices are frames of the data file as read;
 * a frame the pre-training test split holds is an error here, not a silent drop, because the
 * indices were chosen by someone else and must mean the same frames.
 */
function pickByIndices(o: FinetuneOptions, kept: Conformation[], nFrames: number): { trainSet: Conformation[]; valSet: Conformation[] } {
  const idx = readSplitIndices(o.splitIndices!, nFrames);
  const byFrame = new Map<number, Conformation>();
  kept.forEach((c, i) => byFrame.set(c.index ?? i, c));
  const take = (part: Int32Array, field: string) =>
    [...part].map((f) => {
      const c = byFrame.get(f);
      if (!c) throw new InputError(o.splitIndices!, `frame ${f} of ${o.data} is in the pre-training test split (${o.splits})`, undefined, field);
      return c;
    });
  return { trainSet: take(idx.train, 'idx_train'), valSet: take(idx.val, 'idx_val') };
}

/**
 * Put the model's energies on the training set's scale before training, when the objective has
 * an energy term: without it the first steps fit a constant offset of thousands of eV (the
 * energy term's gradient swamps the force term's). Per-element constants go into the Atomref
 * prior (least squares); with `standardize`, `std` becomes the spread of what is left, so the
 * network's outputs start on the scale of the energies they must fit (TorchMD-Net's
 * standardization). Returns a line for the log, or null when nothing was done.
 */
function prepareEnergyScale(pot: Potential, trainSet: Conformation[], o: FinetuneOptions): string | null {
  const fresh = o.scratch || isArchitectureFile(o.from);
  if (o.standardize && !fresh) {
    throw new OreoError('--standardize rescales every atomic output of the model; use it for fresh weights (--scratch or an architecture .json), not a pre-trained model');
  }
  const labelled = trainSet.filter((c) => c.energy !== undefined && Number.isFinite(c.energy));
  if (o.standardize && labelled.length < 2) throw new OreoError(`--standardize needs energies: ${o.data} has ${labelled.length} labelled training conformations`);
  if (!(o.standardize || o.objective.energy > 0) || labelled.length === 0) return null;
  let line = '';
  if (o.standardize) {
    // Spread of the energies after the best per-element constants alone (no network).
    const fit = fitElementConstants(labelled, new Float64Array(labelled.length));
    const resid = labelled.map((c, i) => c.energy! - fit.A[i].reduce((sum, n, k) => sum + n * fit.coef[k], 0));
    const m = resid.reduce((a, b) => a + b, 0) / resid.length;
    const std = Math.sqrt(resid.reduce((a, b) => a + (b - m) ** 2, 0) / (resid.length - 1));
    if (!(std > 0)) throw new OreoError(`--standardize: the training energies of ${o.data} do not vary (std ${std} eV)`);
    pot.params.get('std')!.data[0] = std;
    line = `standardized: std ${std.toPrecision(6)} eV (spread of ${labelled.length} training energies after per-element constants); `;
  }
  const fit = calibrateElementEnergies(pot, labelled);
  const refs = Object.entries(fit.refs).map(([z, v]) => `${z}: ${v.toFixed(4)}`).join(', ');
  return `${line}per-element energies before training (eV) {${refs}}, energy MAE ${(1000 * fit.mae).toFixed(1)} meV`;
}
