/**
 * `oreo corpus build`: molecule lists in, a labelled corpus out (see assemble.ts for the layout).
 *
 * 1. Read every molecule list; invalid SMILES stop the build naming file and line (or are
 *    counted and listed with skipInvalid).
 * 2. One job per molecule, keyed by its inputs and the settings (job.ts). Jobs whose result file
 *    exists are done; the rest run on the embedded pool (default) or a BullMQ queue.
 * 3. Assemble shards, molecule table and manifest from the results in input order.
 *
 * Resuming is running the same command again: finished jobs are kept, unfinished ones redone.
 * `settings.json` in the directory records the settings of the first run; a run with other
 * settings is refused rather than mixing two corpora in one directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { basename, join } from 'node:path';
import { OreoError } from '../errors.js';
import { contentHash, geometryKey } from '../data/identity.js';
import { iterateConformations } from '../data/read.js';
import { assembleCorpus, type CorpusManifest, type SplitSettings } from './assemble.js';
import { canonicalJson, jobKey, type JobSettings, type MoleculeJob } from './job.js';
import { polymerMolecules, readMolecules, type InvalidMolecule, type MoleculeInput, type ReadMoleculesOptions } from './molecules.js';
import { runPool } from './pool.js';
import { runOnQueue } from './queue.js';
import { readArchiveIndex, restoreFromArchive } from './archive.js';
import { hasJob, writeJob, type StoredJob } from './store.js';

export interface CorpusInput extends ReadMoleculesOptions {
  path: string;
}

export interface BuildProgress {
  /** Molecules finished (this run and earlier ones) and in all. */
  done: number;
  total: number;
  /** Of the finished molecules this run, how many gave no conformation. */
  failed: number;
  /** Conformation labels per second over this run. */
  labelsPerSecond: number;
  /** Labels made this run. */
  labels: number;
  etaSeconds: number;
  elapsedSeconds: number;
  final: boolean;
}

export interface BuildOptions {
  inputs: CorpusInput[];
  /** Add polymer chains from the poly24-style builder as source "polymers". */
  polymers?: { units: { name: string; smiles: string }[]; loops: number[] };
  outDir: string;
  settings: JobSettings;
  splits: SplitSettings;
  /** Geometry files whose conformations must never enter the corpus (rMD17 test frames). */
  holdOut?: string[];
  workers?: number;
  /** redis://HOST:PORT: put jobs on a BullMQ queue instead of running them here. */
  queue?: string;
  queueName?: string;
  shardSize?: number;
  precision?: 'f64' | 'f32';
  /** A committed job archive (archive.ts): its jobs with matching keys count as done. */
  fromArchive?: string;
  onProgress?(p: BuildProgress): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

export const SETTINGS_FILE = 'settings.json';

function checkSettings(dir: string, settings: JobSettings): void {
  const path = join(dir, SETTINGS_FILE);
  const text = JSON.stringify(JSON.parse(canonicalJson(settings)), null, 1) + '\n';
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    if (old !== text) {
      throw new OreoError(
        `${dir} holds a corpus built with other settings (${SETTINGS_FILE}); use a new --out directory, ` +
          `or delete ${SETTINGS_FILE} to build with the new settings (jobs already done under other settings are kept but not used)`,
      );
    }
    return;
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(path, text);
}

export async function readAllMolecules(inputs: CorpusInput[], polymers?: BuildOptions['polymers']): Promise<{ molecules: MoleculeInput[]; invalid: InvalidMolecule[]; inputs: CorpusManifest['inputs'] }> {
  const molecules: MoleculeInput[] = [];
  const invalid: InvalidMolecule[] = [];
  const described: CorpusManifest['inputs'] = [];
  for (const input of inputs) {
    const r = await readMolecules(input.path, input, molecules.length);
    molecules.push(...r.molecules);
    invalid.push(...r.invalid);
    described.push({
      file: basename(input.path),
      source: input.source ?? basename(input.path),
      sha256: contentHash(input.path),
      molecules: r.molecules.length,
      invalid: r.invalid.length,
    });
  }
  if (polymers) {
    const r = polymerMolecules(polymers.units, polymers.loops, molecules.length);
    molecules.push(...r.molecules);
    described.push({
      file: 'polymers',
      source: 'polymers',
      sha256: createHash('sha256').update(r.molecules.map((m) => m.smiles).join('\n')).digest('hex'),
      molecules: r.molecules.length,
      invalid: 0,
    });
  }
  return { molecules, invalid, inputs: described };
}

export function jobsFor(molecules: MoleculeInput[], settings: JobSettings): MoleculeJob[] {
  return molecules.map((m) => {
    const base = { smiles: m.smiles, identity: m.identity, start: m.start, settings };
    return { key: jobKey(base), ...base };
  });
}

async function heldOutSets(paths: string[]): Promise<{ file: string; sha256: string; keys: Set<string> }[]> {
  const out = [];
  for (const p of paths) {
    const keys = new Set<string>();
    for await (const c of iterateConformations(p)) keys.add(geometryKey(c));
    out.push({ file: basename(p), sha256: contentHash(p), keys });
  }
  return out;
}

/**
 * The order jobs are handed out: each source's jobs spread evenly over the run (job i of a source
 * of n goes at fraction (i + ½)/n), so that a campaign stopped anywhere holds every source in
 * proportion (its PCQM4Mv2 molecules, with S and Cl, and its polymers, not only the first list's
 * molecules). Results do not depend on the order: jobs are keyed by their inputs.
 */
export function interleaveBySource<T>(items: T[], sourceOf: (item: T) => string): T[] {
  const count = new Map<string, number>();
  for (const it of items) count.set(sourceOf(it), (count.get(sourceOf(it)) ?? 0) + 1);
  const seen = new Map<string, number>();
  const keyed = items.map((it, order) => {
    const s = sourceOf(it);
    const i = seen.get(s) ?? 0;
    seen.set(s, i + 1);
    return { it, at: (i + 0.5) / count.get(s)!, order };
  });
  keyed.sort((a, b) => a.at - b.at || a.order - b.order);
  return keyed.map((k) => k.it);
}

export async function buildCorpus(o: BuildOptions): Promise<CorpusManifest> {
  const log = o.log ?? (() => undefined);
  const { molecules, invalid, inputs } = await readAllMolecules(o.inputs, o.polymers);
  if (molecules.length === 0) throw new OreoError('no valid molecules in the input');
  checkSettings(o.outDir, o.settings);
  const jobs = jobsFor(molecules, o.settings);
  // Several inputs may name the same molecule: one job, shared.
  const unique = new Map<string, MoleculeJob>();
  for (const j of jobs) if (!unique.has(j.key)) unique.set(j.key, j);
  if (o.fromArchive) {
    if (readArchiveIndex(o.fromArchive)?.precision === 'f32' && (o.precision ?? 'f64') === 'f64') {
      throw new OreoError(`${o.fromArchive} keeps f32 positions and forces: build with --precision f32`);
    }
    const r = restoreFromArchive(o.fromArchive, o.outDir, o.settings, unique.keys());
    log(`job archive ${o.fromArchive}: ${r.inArchive} of the ${unique.size} jobs are in it (${r.restored} restored now)`);
  }
  const sourceOf = new Map<string, string>();
  jobs.forEach((j, i) => sourceOf.has(j.key) || sourceOf.set(j.key, molecules[i].source));
  const todo = interleaveBySource(
    [...unique.values()].filter((j) => !hasJob(o.outDir, j.key)),
    (j) => sourceOf.get(j.key)!,
  );
  const total = unique.size;
  log(
    `${molecules.length} molecules (${unique.size} distinct jobs${invalid.length ? `, ${invalid.length} invalid inputs skipped` : ''}); ` +
      `${total - todo.length} done before, ${todo.length} to run ${o.queue ? `on the queue at ${o.queue}` : `on ${o.workers ?? 1} local worker(s)`}`,
  );
  const started = performance.now();
  let done = total - todo.length;
  let doneNow = 0;
  let failed = 0;
  let labels = 0;
  const report = (final: boolean) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = doneNow / Math.max(elapsed, 1e-9);
    o.onProgress?.({
      done,
      total,
      failed,
      labels,
      labelsPerSecond: labels / Math.max(elapsed, 1e-9),
      etaSeconds: doneNow > 0 ? (total - done) / rate : NaN,
      elapsedSeconds: elapsed,
      final,
    });
  };
  const onResult = (stored: StoredJob) => {
    writeJob(o.outDir, stored);
    done++;
    doneNow++;
    if (stored.result.conformations.length === 0) failed++;
    for (const c of stored.result.conformations) labels += c.labels.length;
    report(false);
  };
  if (todo.length) {
    if (o.queue) {
      await runOnQueue(todo, { url: o.queue, name: o.queueName, onResult, signal: o.signal });
    } else {
      await runPool(todo, { workers: o.workers ?? 1, onResult, signal: o.signal });
      if (o.signal?.aborted) throw new OreoError('stopped; rerun the same command to continue (finished molecules are kept)');
    }
  }
  report(true);
  log('assembling shards…');
  return assembleCorpus({
    dir: o.outDir,
    molecules,
    jobs,
    invalid,
    inputs,
    settings: o.settings,
    splits: o.splits,
    heldOut: await heldOutSets(o.holdOut ?? []),
    shardSize: o.shardSize,
    precision: o.precision,
  });
}
