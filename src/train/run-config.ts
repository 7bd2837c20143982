/**
 * The pre-training config file (JSON): which data, which model, which objective, which schedule.
 * Every key is checked before any data is read or any step is taken; an unknown key or a bad
 * value fails naming the key.
 *
 * {
 *   "data":      { "seed": 0, "sources": [ { "name", "path", "kind": "equilibrium"|"off-equilibrium",
 *                                            "weight", "cap", "split", "format", "options" } ] },
 *                or shard sets, streamed (src/data/shard-stream.ts):
 *                { "seed": 0, "shuffleBuffer": 10000, "valCap": 2000,
 *                  "sources": [ { "name", "shards": DIR, "weight", "level": "GFN2-xTB", "val": DIR } ] },
 *   "model":     { TorchMD-Net ET hyper-parameters: embedding_dimension, num_layers, num_rbf, … },
 *   "objective": "et-oreo" | "et-ore" | "supervised" | { forces, zeroForce, denoise, energy, sigma, denoiseTarget },
 *   "training":  { lr, lrStart, warmupSteps, factor, patience, minLr, valEvery, batchSize, maxSteps, seed, clip, weightDecay,
 *                  timeLimitMinutes (training clock budget, 0 = none) },
 *   "splits":    { "val": 0.05, "test": 0.05, "holdOut": ["…/rmd17_aspirin_test_01.npz"] },
 *   "dtype":     "float32" | "float64",
 *   "out":       "runs/pretrain",
 *   "heads":     [ { "id": "dft", "level": "PBE/def2-SVP", "default": true },          (optional: one output head
 *                  { "id": "xtb", "level": "GFN2-xTB", "program": "xtb", "match": ["GFN2-xTB"] } ]   per level of theory)
 * }
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { parseDatasetConfig, DatasetConfig } from '../data/dataset.js';
import { ETConfig, configFromHyperParameters, defaultConfig } from '../model/config.js';
import { ObjectiveConfig, PRESETS, ET_OREO, checkObjective } from './objective.js';
import { TrainConfig, paperDefaults, checkTrainConfig } from './config.js';
import { checkHeads, type HeadCard } from '../model/multi-head.js';

export interface PretrainConfig {
  data: DatasetConfig;
  model: ETConfig;
  objective: ObjectiveConfig;
  training: TrainConfig;
  splits: { val: number; test: number; holdOut: string[] };
  dtype: 'float32' | 'float64';
  out: string;
  /**
   * One output head per level of theory (src/model/multi-head.ts), or none for a single-head
   * model. Rows go through the head whose `match` (default: its level) takes their source name
   * ("<source> | <level>" matches by its level), others through the default head.
   */
  heads?: HeadCard[];
}

const TOP = ['data', 'model', 'objective', 'training', 'splits', 'dtype', 'out', 'heads'];
const HEAD_KEYS = ['id', 'level', 'program', 'version', 'match', 'default'];

/** The `heads` section: a list of { id, level, program?, version?, match?, default? }, exactly one default. */
export function parseHeads(raw: unknown, file: string): HeadCard[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) throw new InputError(file, "'heads' must be a non-empty list of { id, level, default?, match?, program?, version? }", undefined, 'heads');
  const heads = raw.map((h, i) => {
    const where = `heads[${i}]`;
    if (!h || typeof h !== 'object' || Array.isArray(h)) throw new InputError(file, `${where} must be an object`, undefined, where);
    for (const k of Object.keys(h)) if (!HEAD_KEYS.includes(k)) throw new InputError(file, `unknown key '${where}.${k}' (known: ${HEAD_KEYS.join(', ')})`, undefined, `${where}.${k}`);
    const o = h as Record<string, unknown>;
    for (const k of ['id', 'level']) if (typeof o[k] !== 'string' || o[k] === '') throw new InputError(file, `${where}.${k} must be a non-empty string`, undefined, `${where}.${k}`);
    for (const k of ['program', 'version']) if (o[k] !== undefined && typeof o[k] !== 'string') throw new InputError(file, `${where}.${k} must be a string`, undefined, `${where}.${k}`);
    if (o.match !== undefined && !(Array.isArray(o.match) && o.match.length > 0 && o.match.every((m) => typeof m === 'string' && m !== ''))) {
      throw new InputError(file, `${where}.match must be a non-empty list of source or level names`, undefined, `${where}.match`);
    }
    if (o.default !== undefined && typeof o.default !== 'boolean') throw new InputError(file, `${where}.default must be true or false`, undefined, `${where}.default`);
    return { ...o, default: o.default === true } as HeadCard;
  });
  try {
    checkHeads(heads, 'heads');
  } catch (e) {
    throw new InputError(file, `${(e as Error).message}: mark the head of the level you fine-tune and predict with (the DFT-level one) "default": true`, undefined, 'heads');
  }
  return heads;
}

function known<T extends object>(file: string, section: string, obj: unknown, defaults: T): T {
  if (obj === undefined) return { ...defaults };
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new InputError(file, `'${section}' must be an object`, undefined, section);
  for (const k of Object.keys(obj)) {
    if (!(k in defaults)) throw new InputError(file, `unknown key '${section}.${k}' (known: ${Object.keys(defaults).join(', ')})`, undefined, `${section}.${k}`);
  }
  return { ...defaults, ...(obj as Partial<T>) };
}

export function parseObjective(raw: unknown, file: string): ObjectiveConfig {
  if (raw === undefined) return { ...ET_OREO };
  if (typeof raw === 'string') {
    const p = PRESETS[raw];
    if (!p) throw new InputError(file, `unknown objective '${raw}' (known: ${Object.keys(PRESETS).join(', ')})`, undefined, 'objective');
    return { ...p };
  }
  const o = known(file, 'objective', raw, ET_OREO);
  checkObjective(o, file);
  return o;
}

export function parsePretrainConfig(raw: unknown, file: string): PretrainConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(file, 'the config must be a JSON object');
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!TOP.includes(k)) throw new InputError(file, `unknown key '${k}' (known: ${TOP.join(', ')})`, undefined, k);
  if (obj.data === undefined) throw new InputError(file, "missing 'data' (the sources to train on)", undefined, 'data');
  const data = parseDatasetConfig(obj.data, file);
  for (const s of data.sources) {
    if (!existsSync(s.path)) throw new InputError(file, `source '${s.name}': file ${s.path} does not exist`, undefined, 'data.sources.path');
  }
  if (data.sources.length && data.shardSources.length) {
    throw new InputError(file, 'the sources mix files and shard sets: write the files to shards with `oreo data shard` and name those, or train on files alone', undefined, 'data.sources');
  }
  for (const s of data.shardSources) {
    for (const d of [s.shards, s.val]) {
      if (d !== undefined && !existsSync(join(d, 'index.json'))) throw new InputError(file, `source '${s.name}': ${d} is not a shard directory (no index.json)`, undefined, 'data.sources.shards');
    }
  }
  const modelRaw = known(file, 'model', obj.model, { ...defaultConfig, prior_model: 'Atomref' } as unknown as Record<string, unknown>);
  const model = configFromHyperParameters(modelRaw, file);
  const objective = parseObjective(obj.objective, file);
  const training = known(file, 'training', obj.training, paperDefaults);
  checkTrainConfig(training, file);
  const splits = known(file, 'splits', obj.splits, { val: 0.05, test: 0.05, holdOut: [] as string[] });
  for (const k of ['val', 'test'] as const) {
    if (!(typeof splits[k] === 'number' && splits[k] >= 0 && splits[k] < 1)) throw new InputError(file, `splits.${k} must be in [0, 1)`, undefined, `splits.${k}`);
  }
  const base = dirname(resolve(file));
  splits.holdOut = (splits.holdOut ?? []).map((p) => (isAbsolute(p) ? p : resolve(base, p)));
  for (const p of splits.holdOut) if (!existsSync(p)) throw new InputError(file, `hold-out file ${p} does not exist`, undefined, 'splits.holdOut');
  if (data.shardSources.length && (splits.holdOut.length || (obj.splits as { val?: unknown } | undefined)?.val !== undefined || (obj.splits as { test?: unknown } | undefined)?.test !== undefined)) {
    // Shards carry their split (the corpus's split prop) or were written one part at a time.
    throw new InputError(file, "'splits' applies to file sources; shard sets carry their split (the corpus's split prop, or oreo data shard --splits … --part) and their hold-outs were applied when they were built", undefined, 'splits');
  }
  const dtype = (obj.dtype ?? 'float32') as PretrainConfig['dtype'];
  if (dtype !== 'float32' && dtype !== 'float64') throw new InputError(file, `dtype must be float32 or float64, got ${JSON.stringify(dtype)}`, undefined, 'dtype');
  if (obj.out !== undefined && typeof obj.out !== 'string') throw new InputError(file, 'out must be a folder path', undefined, 'out');
  const out = typeof obj.out === 'string' ? (isAbsolute(obj.out) ? obj.out : resolve(process.cwd(), obj.out)) : resolve('runs', 'pretrain');
  const heads = parseHeads(obj.heads, file);
  if (heads && model.prior_model !== 'Atomref') throw new InputError(file, "several heads need model.prior_model 'Atomref': each level's per-element energies go in its head's Atomref", undefined, 'heads');
  return { data, model, objective, training, splits, dtype, out, ...(heads ? { heads } : {}) };
}

export function readPretrainConfig(path: string): PretrainConfig {
  if (!existsSync(path)) throw new InputError(path, 'config file not found');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, `not valid JSON (${(e as Error).message})`);
  }
  return parsePretrainConfig(raw, path);
}
