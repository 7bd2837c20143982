/**
 * The dataset layer: a JSON config names the sources of a training mix, each with its kind
 * (equilibrium / off-equilibrium), a sampling weight and an optional cap; sources are loaded in
 * memory or written to binary shards for streaming.
 *
 *   {
 *     "seed": 1,
 *     "sources": [
 *       { "name": "md17-aspirin", "path": "rmd17/rmd17_aspirin_train_01.npz", "kind": "off-equilibrium" },
 *       { "name": "pcqm", "path": "pcqm4mv2/graphium_pcqm4mv2-2k.csv", "kind": "equilibrium", "weight": 0.5, "cap": 1000 },
 *       { "name": "aspirin-test", "path": "rmd17/rmd17_aspirin_test_01.npz", "kind": "off-equilibrium", "split": "test" }
 *     ]
 *   }
 *
 * Paths are relative to the config file. `weight` is the expected number of times each
 * conformation of the source is used per epoch (0.5: a random half; 2: twice). `cap` keeps at
 * most that many conformations, a seeded random subset kept in file order. `split` forces the
 * whole source into the test set ("test") or keeps it out of the test set ("train"); default
 * "auto" splits it by the fractions of the splits file. `options` are reader options (units,
 * level of theory, oldLabels, forcesAreGradients).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InputError, OreoError } from '../errors.js';
import type { Conformation, ConformationKind } from './conformation.js';
import { iterateConformations, FORMATS, type FormatName } from './read.js';
import type { ReadOptions } from './read-options.js';
import { deriveSeed, permutation, SplitStream } from '../random.js';
import { ShardWriter, type ShardIndex, type ShardWriterOptions } from './shards.js';
import { contentHash } from './identity.js';

export type SplitRole = 'auto' | 'train' | 'test';

export interface SourceConfig {
  name: string;
  /** Absolute after reading the config (resolved against the config's directory). */
  path: string;
  kind: ConformationKind;
  weight: number;
  cap?: number;
  split: SplitRole;
  format?: FormatName;
  options: Pick<ReadOptions, 'energyUnit' | 'lengthUnit' | 'forcesAreGradients' | 'level' | 'oldLabels'>;
}

/** A shard set as a training source: `{ "name", "shards": DIR, "weight", "level", "val": DIR }`. */
export interface ShardSourceConfig {
  name: string;
  /** Absolute after reading the config. */
  shards: string;
  weight: number;
  /** Level of theory to keep ("GFN2-xTB" keeps the corpus's "<source> | GFN2-xTB" rows). */
  level?: string;
  /** Validation shards for a set whose rows carry no split prop (absolute). */
  val?: string;
}

export interface DatasetConfig {
  seed: number;
  /** Files read into memory (or written to shards by `oreo data shard`). */
  sources: SourceConfig[];
  /** Shard sets streamed by the trainer (`oreo pretrain`); never held in memory. */
  shardSources: ShardSourceConfig[];
  /** Conformations in the streaming shuffle buffer (default 10 000). */
  shuffleBuffer: number;
  /** Most validation conformations kept from shard sets (a seeded sample; default 2000). */
  valCap: number;
  /** The config file, when read from one. */
  file?: string;
}

const SOURCE_KEYS = new Set(['name', 'path', 'kind', 'weight', 'cap', 'split', 'format', 'options']);
const SHARD_SOURCE_KEYS = new Set(['name', 'shards', 'weight', 'level', 'val']);
const TOP_KEYS = ['seed', 'sources', 'shuffleBuffer', 'valCap'];
const OPTION_KEYS = new Set(['energyUnit', 'lengthUnit', 'forcesAreGradients', 'level', 'oldLabels']);

/** Validate a parsed config object; `file` names it in errors and anchors relative paths. */
export function parseDatasetConfig(raw: unknown, file: string): DatasetConfig {
  const base = dirname(resolve(file));
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(file, 'the dataset config must be a JSON object');
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!TOP_KEYS.includes(k)) throw new InputError(file, `unknown key '${k}' (known: ${TOP_KEYS.join(', ')})`, undefined, k);
  const positiveInt = (k: 'shuffleBuffer' | 'valCap', fallback: number): number => {
    const v = obj[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new InputError(file, `${k} must be a positive integer`, undefined, k);
    return v;
  };
  const shuffleBuffer = positiveInt('shuffleBuffer', 10_000);
  const valCap = positiveInt('valCap', 2000);
  const seed = obj.seed === undefined ? 0 : obj.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new InputError(file, 'seed must be an integer', undefined, 'seed');
  if (!Array.isArray(obj.sources) || obj.sources.length === 0) throw new InputError(file, "'sources' must be a non-empty list", undefined, 'sources');
  const names = new Set<string>();
  const shardSources: ShardSourceConfig[] = [];
  const fileSources = obj.sources.filter((s, i) => {
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw new InputError(file, 'each source must be an object', `source ${i}`);
    if (!('shards' in s)) return true;
    shardSources.push(parseShardSource(s as Record<string, unknown>, `source ${i}`, file, base, names));
    return false;
  });
  const sources = fileSources.map((s, i): SourceConfig => {
    const rec = `source ${(obj.sources as unknown[]).indexOf(s)}`;
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!SOURCE_KEYS.has(k)) throw new InputError(file, `unknown key '${k}' (known: ${[...SOURCE_KEYS].join(', ')})`, rec, k);
    if (typeof o.name !== 'string' || o.name === '') throw new InputError(file, 'needs a non-empty name', rec, 'name');
    if (names.has(o.name)) throw new InputError(file, `duplicate source name '${o.name}'`, rec, 'name');
    names.add(o.name);
    if (typeof o.path !== 'string' || o.path === '') throw new InputError(file, 'needs a path', rec, 'path');
    if (o.kind !== 'equilibrium' && o.kind !== 'off-equilibrium') {
      throw new InputError(file, `kind must be 'equilibrium' or 'off-equilibrium', got ${JSON.stringify(o.kind)}`, rec, 'kind');
    }
    const weight = o.weight === undefined ? 1 : o.weight;
    if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) throw new InputError(file, 'weight must be a number ≥ 0', rec, 'weight');
    if (o.cap !== undefined && (typeof o.cap !== 'number' || !Number.isInteger(o.cap) || o.cap < 1)) {
      throw new InputError(file, 'cap must be a positive integer', rec, 'cap');
    }
    const split = o.split === undefined ? 'auto' : o.split;
    if (split !== 'auto' && split !== 'train' && split !== 'test') throw new InputError(file, "split must be 'auto', 'train' or 'test'", rec, 'split');
    if (o.format !== undefined && !(typeof o.format === 'string' && o.format in FORMATS)) {
      throw new InputError(file, `unknown format ${JSON.stringify(o.format)} (known: ${Object.keys(FORMATS).join(', ')})`, rec, 'format');
    }
    const options = (o.options ?? {}) as Record<string, unknown>;
    if (typeof options !== 'object' || Array.isArray(options)) throw new InputError(file, 'options must be an object', rec, 'options');
    for (const k of Object.keys(options)) if (!OPTION_KEYS.has(k)) throw new InputError(file, `unknown reader option '${k}' (known: ${[...OPTION_KEYS].join(', ')})`, rec, `options.${k}`);
    const path = isAbsolute(o.path) ? o.path : resolve(base, o.path);
    return {
      name: o.name,
      path,
      kind: o.kind,
      weight,
      cap: o.cap as number | undefined,
      split,
      format: o.format as FormatName | undefined,
      options: options as SourceConfig['options'],
    };
  });
  return { seed, sources, shardSources, shuffleBuffer, valCap, file };
}

function parseShardSource(o: Record<string, unknown>, rec: string, file: string, base: string, names: Set<string>): ShardSourceConfig {
  for (const k of Object.keys(o)) if (!SHARD_SOURCE_KEYS.has(k)) throw new InputError(file, `unknown key '${k}' for a shard source (known: ${[...SHARD_SOURCE_KEYS].join(', ')})`, rec, k);
  if (typeof o.name !== 'string' || o.name === '') throw new InputError(file, 'needs a non-empty name', rec, 'name');
  if (names.has(o.name)) throw new InputError(file, `duplicate source name '${o.name}'`, rec, 'name');
  names.add(o.name);
  const dir = (k: 'shards' | 'val'): string => {
    const v = o[k];
    if (typeof v !== 'string' || v === '') throw new InputError(file, `${k} must be a shard directory (made by oreo data shard or oreo corpus build)`, rec, k);
    return isAbsolute(v) ? v : resolve(base, v);
  };
  const weight = o.weight === undefined ? 1 : o.weight;
  if (typeof weight !== 'number' || !(weight >= 0) || !Number.isFinite(weight)) throw new InputError(file, 'weight must be a number ≥ 0', rec, 'weight');
  if (o.level !== undefined && (typeof o.level !== 'string' || o.level === '')) throw new InputError(file, 'level must be a level-of-theory name, e.g. "GFN2-xTB"', rec, 'level');
  return { name: o.name, shards: dir('shards'), weight, level: o.level as string | undefined, val: o.val === undefined ? undefined : dir('val') };
}

export function readDatasetConfig(path: string): DatasetConfig {
  if (!existsSync(path)) throw new InputError(path, 'no such dataset config');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(path, `not valid JSON: ${(err as Error).message}`);
  }
  return parseDatasetConfig(raw, path);
}

/** The indices a cap keeps: a seeded random subset of size `cap`, in increasing order. */
export function capIndices(count: number, cap: number | undefined, seed: number, name: string): Int32Array | undefined {
  if (cap === undefined || cap >= count) return undefined;
  const p = permutation(count, deriveSeed(seed, `cap:${name}`)).subarray(0, cap);
  return Int32Array.from(p).sort();
}

function readOptionsOf(s: SourceConfig): ReadOptions & { format?: FormatName } {
  return { ...s.options, kind: s.kind, source: s.path, format: s.format };
}

export interface LoadedSource {
  config: SourceConfig;
  sha256: string;
  /** Conformations in file order (after the cap); `index` is the index in the file. */
  conformations: Conformation[];
  /** How many conformations the file has before the cap. */
  fileCount: number;
}

/** Read one source fully into memory, applying its cap. */
export async function loadSource(s: SourceConfig, seed: number): Promise<LoadedSource> {
  const all: Conformation[] = [];
  for await (const c of iterateConformations(s.path, readOptionsOf(s))) {
    c.kind = s.kind;
    all.push(c);
  }
  if (all.length === 0) throw new InputError(s.path, `source '${s.name}' has no conformations`);
  const keep = capIndices(all.length, s.cap, seed, s.name);
  const conformations = keep ? Array.from(keep, (i) => all[i]) : all;
  return { config: s, sha256: contentHash(s.path), conformations, fileCount: all.length };
}

export async function loadDataset(config: DatasetConfig): Promise<LoadedSource[]> {
  if (config.shardSources.length) {
    throw new InputError(config.file ?? 'dataset config', `sources ${config.shardSources.map((s) => `'${s.name}'`).join(', ')} are shard sets: they are streamed by oreo pretrain, not read into memory`);
  }
  const out: LoadedSource[] = [];
  for (const s of config.sources) out.push(await loadSource(s, config.seed));
  return out;
}

/**
 * One epoch's order over several sources, honouring weights: each conformation appears
 * floor(w) times plus once more with probability w − floor(w); the result is shuffled.
 * Entries are [source position, conformation position].
 */
export function weightedEpoch(sizes: number[], weights: number[], seed: number): Int32Array {
  if (sizes.length !== weights.length) throw new OreoError('weightedEpoch: sizes and weights differ in length');
  const rng = new SplitStream(seed);
  const picks: number[] = [];
  sizes.forEach((n, s) => {
    const w = weights[s];
    const whole = Math.floor(w);
    const frac = w - whole;
    for (let i = 0; i < n; i++) {
      let times = whole;
      if (frac > 0 && rng.next() < frac) times++;
      for (let t = 0; t < times; t++) picks.push(s, i);
    }
  });
  const m = picks.length / 2;
  const order = permutation(m, deriveSeed(seed, 'epoch'));
  const out = new Int32Array(picks.length);
  for (let k = 0; k < m; k++) {
    out[2 * k] = picks[2 * order[k]];
    out[2 * k + 1] = picks[2 * order[k] + 1];
  }
  return out;
}

export interface BuildShardsOptions extends ShardWriterOptions {
  /** Keep only conformations for which this returns true (e.g. the training part of a split). */
  filter?: (source: SourceConfig, sha256: string, index: number) => boolean;
  /** Called after each source and every `progressEvery` conformations. */
  onProgress?: (done: number, sourceName: string) => void;
  progressEvery?: number;
}

/**
 * Stream every source of a config into a shard set. Sources are read one record/group at a
 * time, so the mix never needs to fit in memory. With `resume`, conformations already in
 * finished shards are skipped.
 */
export async function buildShards(config: DatasetConfig, outDir: string, options: BuildShardsOptions = {}): Promise<ShardIndex> {
  if (config.shardSources.length) {
    throw new InputError(config.file ?? 'dataset config', `sources ${config.shardSources.map((s) => `'${s.name}'`).join(', ')} are shards already; train on them directly (oreo pretrain)`);
  }
  const hashes = config.sources.map((s) => contentHash(s.path));
  const writer = new ShardWriter(
    outDir,
    config.sources.map((s, i) => ({ name: s.name, path: s.path, sha256: hashes[i], kind: s.kind, weight: s.weight })),
    options,
  );
  let skip = writer.resumeFrom;
  let done = 0;
  const every = options.progressEvery ?? 100_000;
  for (let id = 0; id < config.sources.length; id++) {
    const s = config.sources[id];
    let keep: Int32Array | undefined;
    if (s.cap !== undefined) {
      // A cap needs the source's size first: count in one streaming pass.
      let count = 0;
      for await (const _ of iterateConformations(s.path, readOptionsOf(s))) count++;
      keep = capIndices(count, s.cap, config.seed, s.name);
    }
    let pos = 0;
    let k = 0;
    for await (const c of iterateConformations(s.path, readOptionsOf(s))) {
      const filePos = pos++;
      if (keep) {
        while (k < keep.length && keep[k] < filePos) k++;
        if (k >= keep.length || keep[k] !== filePos) continue;
      }
      if (options.filter && !options.filter(s, hashes[id], c.index ?? filePos)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      c.kind = s.kind;
      writer.add(c, id);
      done++;
      if (options.onProgress && done % every === 0) options.onProgress(done, s.name);
    }
    options.onProgress?.(done, s.name);
  }
  return writer.close();
}
