/**
 * Turning finished jobs into the corpus: shards that training streams, a molecule table and a
 * manifest. Everything here is a function of the job results and the molecule list in input
 * order, never of the order jobs finished in, so the corpus hash is the same however the work
 * was spread.
 *
 * Layout of a corpus directory:
 *   manifest.json     counts, sources, levels of theory, settings, hashes (see CorpusManifest)
 *   molecules.jsonl   one line per input molecule: identity, source file and line, split, counts
 *   shards/           oreo shards (src/data/shards.ts): one row per (conformation, level of
 *                     theory); shard sources are "<source> | <level>" so a trainer can pick a level;
 *                     per-row props: molecule, conformer, conformation, sampler, temperature, seed, split
 *   jobs/             finished jobs (store.ts), kept so that a changed setting redoes only what changed
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { basename, join } from 'node:path';
import { OreoError } from '../errors.js';
import { symbolOf } from '../elements.js';
import { geometryKey } from '../data/identity.js';
import { deriveSeed } from '../random.js';
import { ShardWriter, type ShardIndex } from '../data/shards.js';
import type { LevelOfTheory } from '../qm/level.js';
import { SAMPLER_NAMES } from '../sampling/sample.js';
import type { JobSettings, MoleculeJob } from './job.js';
import type { InvalidMolecule, MoleculeInput } from './molecules.js';
import { readJob } from './store.js';

export const CORPUS_FORMAT = 'oreo-corpus';
export const MANIFEST = 'manifest.json';
export const MOLECULES = 'molecules.jsonl';
export const SHARDS = 'shards';

export type SplitPart = 'train' | 'val' | 'test';
const SPLIT_CODE: Record<SplitPart, number> = { train: 0, val: 1, test: 2 };

export interface SplitSettings {
  seed: number;
  val: number;
  test: number;
}

/** Split of a molecule from its idcode alone: stable when molecules are added or reordered. */
export function splitOf(idcode: string, s: SplitSettings): SplitPart {
  const u = deriveSeed(s.seed, idcode) / 4294967296;
  return u < s.test ? 'test' : u < s.test + s.val ? 'val' : 'train';
}

export interface Histogram {
  min: number;
  max: number;
  mean: number;
  /** "lo-hi" → count, bins of 10 atoms. */
  bins: Record<string, number>;
}

export interface CorpusCounts {
  molecules: number;
  /** Molecules with at least one conformation. */
  labelledMolecules: number;
  failedMolecules: number;
  invalidInputs: number;
  /** Inputs identical to an earlier one (same SMILES or structure), stored once. */
  duplicateInputs: number;
  conformations: number;
  /** Shard rows: one per conformation and level of theory. */
  labels: number;
  byKind: Record<string, number>;
  bySampler: Record<string, number>;
  byLevel: Record<string, number>;
  bySource: Record<string, number>;
  bySplit: Record<string, { molecules: number; conformations: number }>;
  /** Atoms of each element over all conformations. */
  elements: Record<string, number>;
  atomsPerMolecule: Histogram;
  rejected: Record<string, number>;
  skipped: Record<string, number>;
  failureReasons: Record<string, number>;
  heldOut: number;
  referenceCalculations: number;
}

export interface CorpusManifest {
  format: typeof CORPUS_FORMAT;
  version: 1;
  settings: JobSettings;
  splits: SplitSettings;
  inputs: { file: string; source: string; sha256: string; molecules: number; invalid: number }[];
  heldOut: { file: string; sha256: string; geometries: number }[];
  levels: LevelOfTheory[];
  counts: CorpusCounts;
  invalid: InvalidMolecule[];
  failures: { ordinal: number; file: string; line: number; smiles?: string; reason: string }[];
  shards: { dir: string; precision: 'f64' | 'f32'; files: { file: string; count: number; bytes: number; sha256: string }[]; bytes: number };
  bytesPerConformation: number;
  hashes: { molecules: string; shards: string; corpus: string };
  /** Worker time spent on the jobs (sum of job wall times), s; informational, not hashed. */
  jobSeconds: number;
}

function inc(r: Record<string, number>, k: string, n = 1): void {
  r[k] = (r[k] ?? 0) + n;
}

export interface AssembleOptions {
  dir: string;
  molecules: MoleculeInput[];
  jobs: MoleculeJob[];
  invalid: InvalidMolecule[];
  inputs: CorpusManifest['inputs'];
  settings: JobSettings;
  splits: SplitSettings;
  heldOut: { file: string; sha256: string; keys: Set<string> }[];
  shardSize?: number;
  precision?: 'f64' | 'f32';
}

/** Write shards, molecules.jsonl and manifest.json from the finished jobs. */
export function assembleCorpus(o: AssembleOptions): CorpusManifest {
  const precision = o.precision ?? 'f64';
  const held = new Set<string>();
  for (const h of o.heldOut) for (const k of h.keys) held.add(k);
  // Pass 1: levels of theory and sources, so the shard sources are known before writing.
  const levels: LevelOfTheory[] = [];
  const levelIndex = new Map<string, number>();
  const sourceNames: string[] = [];
  for (const m of o.molecules) if (!sourceNames.includes(m.source)) sourceNames.push(m.source);
  for (const job of o.jobs) {
    const stored = readJob(o.dir, job.key);
    if (precision === 'f64' && stored.archived?.precision === 'f32') {
      throw new OreoError(
        `${o.dir}: job ${job.key} came from the f32 job archive ${stored.archived.archive} (${stored.archived.part}); ` +
          'assemble with --precision f32 (f64 shards would hold f32 numbers and not match a build from the original jobs)',
      );
    }
    for (const l of stored.result.levels) {
      if (!levelIndex.has(l.key)) {
        levelIndex.set(l.key, levels.length);
        levels.push(l);
      }
    }
  }
  const sourceIds = new Map<string, number>();
  const shardSources = sourceNames.flatMap((s) => levels.map((l) => ({ name: `${s} | ${l.name}`, level: l.key, source: s })));
  shardSources.forEach((s, id) => sourceIds.set(`${s.source}\u0000${s.level}`, id));
  const shardDir = join(o.dir, SHARDS);
  const tmpDir = `${shardDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  const writer = new ShardWriter(
    tmpDir,
    shardSources.map((s) => ({ name: s.name, kind: 'mixed' })),
    { shardSize: o.shardSize ?? 50_000, precision },
  );
  const counts: CorpusCounts = {
    molecules: o.molecules.length,
    labelledMolecules: 0,
    failedMolecules: 0,
    invalidInputs: o.invalid.length,
    duplicateInputs: 0,
    conformations: 0,
    labels: 0,
    byKind: {},
    bySampler: {},
    byLevel: {},
    bySource: {},
    bySplit: { train: { molecules: 0, conformations: 0 }, val: { molecules: 0, conformations: 0 }, test: { molecules: 0, conformations: 0 } },
    elements: {},
    atomsPerMolecule: { min: Infinity, max: -Infinity, mean: 0, bins: {} },
    rejected: {},
    skipped: {},
    failureReasons: {},
    heldOut: 0,
    referenceCalculations: 0,
  };
  const failures: CorpusManifest['failures'] = [];
  const molLines: string[] = [];
  let atomSum = 0;
  let jobSeconds = 0;
  let conformationId = 0;
  const byKey = new Map(o.jobs.map((j) => [j.key, j]));
  const firstWithKey = new Map<string, number>();
  o.molecules.forEach((m, i) => {
    const job = o.jobs[i];
    if (!job || !byKey.has(job.key)) throw new Error(`corpus: molecule ${m.ordinal} has no job`);
    const { result, run } = readJob(o.dir, job.key);
    const first = firstWithKey.get(job.key);
    if (first !== undefined) {
      // The same input twice (same SMILES in two lists): its conformations are stored once.
      counts.duplicateInputs++;
      molLines.push(JSON.stringify({ ordinal: m.ordinal, key: job.key, source: m.source, file: basename(m.file), line: m.line, smiles: m.smiles ?? null, duplicateOf: first }));
      return;
    }
    firstWithKey.set(job.key, m.ordinal);
    jobSeconds += run?.seconds ?? 0;
    const split = splitOf(m.identity.idcode, o.splits);
    const local = result.levels.map((l) => levelIndex.get(l.key)!);
    for (const [k, v] of Object.entries(result.rejected)) inc(counts.rejected, k, v);
    for (const [k, v] of Object.entries(result.skipped)) inc(counts.skipped, k, v);
    counts.referenceCalculations += result.calculations;
    let kept = 0;
    const z = Int32Array.from(result.z);
    for (const c of result.conformations) {
      const positions = Float64Array.from(c.positions);
      if (held.size && held.has(geometryKey({ z, positions }))) {
        counts.heldOut++;
        continue;
      }
      const id = conformationId++;
      kept++;
      const props = {
        molecule: m.ordinal,
        conformer: c.conformer,
        conformation: id,
        sampler: SAMPLER_NAMES.indexOf(c.sampler),
        temperature: c.temperature,
        seed: c.seed,
        split: SPLIT_CODE[split],
      };
      for (const l of c.labels) {
        const level = levels[local[l.level]];
        writer.add(
          { z, positions, energy: l.energy, forces: Float64Array.from(l.forces), kind: c.kind, index: id, props },
          sourceIds.get(`${m.source}\u0000${level.key}`)!,
        );
        counts.labels++;
        inc(counts.byLevel, level.name);
      }
      counts.conformations++;
      inc(counts.byKind, c.kind);
      inc(counts.bySampler, c.sampler);
      inc(counts.bySource, m.source);
      for (const zi of z) inc(counts.elements, symbolOf(zi));
    }
    counts.bySplit[split].molecules++;
    counts.bySplit[split].conformations += kept;
    if (kept > 0) {
      counts.labelledMolecules++;
      const n = z.length;
      atomSum += n;
      counts.atomsPerMolecule.min = Math.min(counts.atomsPerMolecule.min, n);
      counts.atomsPerMolecule.max = Math.max(counts.atomsPerMolecule.max, n);
      const lo = Math.floor(n / 10) * 10;
      inc(counts.atomsPerMolecule.bins, `${lo}-${lo + 9}`);
    } else {
      counts.failedMolecules++;
      const reason = result.failed ?? 'no conformation kept';
      for (const part of reason.split(', ')) inc(counts.failureReasons, part.replace(/ ×\d+$/, ''));
      failures.push({ ordinal: m.ordinal, file: basename(m.file), line: m.line, smiles: m.smiles, reason });
    }
    molLines.push(
      JSON.stringify({
        ordinal: m.ordinal,
        key: job.key,
        source: m.source,
        file: basename(m.file),
        line: m.line,
        smiles: m.smiles ?? null,
        canonicalSmiles: m.identity.canonicalSmiles,
        idcode: m.identity.idcode,
        formula: m.identity.formula,
        charge: m.identity.charge,
        unpaired: m.identity.unpaired,
        atoms: result.z.length,
        split,
        conformers: result.conformers,
        conformations: kept,
        failed: kept > 0 ? undefined : (result.failed ?? 'no conformation kept'),
      }),
    );
  });
  counts.atomsPerMolecule.mean = counts.labelledMolecules ? atomSum / counts.labelledMolecules : NaN;
  if (!counts.labelledMolecules) counts.atomsPerMolecule = { min: 0, max: 0, mean: NaN, bins: {} };
  const index: ShardIndex = writer.close();
  rmSync(shardDir, { recursive: true, force: true });
  renameSync(tmpDir, shardDir);
  const molText = molLines.join('\n') + '\n';
  writeFileAtomic(join(o.dir, MOLECULES), molText);
  const molHash = createHash('sha256').update(molText).digest('hex');
  const shardHash = createHash('sha256')
    .update(JSON.stringify({ precision: index.precision, sources: index.sources, shards: index.shards.map((s) => [s.count, s.sha256]) }))
    .digest('hex');
  const shardBytes = index.shards.reduce((s, e) => s + e.bytes, 0);
  const manifest: CorpusManifest = {
    format: CORPUS_FORMAT,
    version: 1,
    settings: o.settings,
    splits: o.splits,
    inputs: o.inputs,
    heldOut: o.heldOut.map((h) => ({ file: h.file, sha256: h.sha256, geometries: h.keys.size })),
    levels,
    counts,
    invalid: o.invalid,
    failures,
    shards: { dir: SHARDS, precision, files: index.shards.map((s) => ({ file: s.file, count: s.count, bytes: s.bytes, sha256: s.sha256 })), bytes: shardBytes },
    bytesPerConformation: counts.conformations ? shardBytes / counts.conformations : NaN,
    hashes: { molecules: molHash, shards: shardHash, corpus: createHash('sha256').update(`${molHash}\n${shardHash}\n`).digest('hex') },
    jobSeconds,
  };
  writeFileAtomic(join(o.dir, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
  return manifest;
}

export function isCorpusDir(dir: string): boolean {
  return existsSync(join(dir, MANIFEST)) && existsSync(join(dir, SHARDS));
}
