/**
 * Train / validation / test splits that hold across pre-training and fine-tuning.
 *
 * A splits file records, for each source, its content hash (sha256), its size and the indices
 * of its validation and test conformations (the rest is training), plus the geometry keys of all
 * test and validation conformations. It is written once (seeded) and reused: a later run checks
 * that every source still has the same content before trusting the indices.
 *
 * Two checks keep test data unseen:
 *  - `assertNoLeak(pretrain, finetune)`: nothing a fine-tuning run trains or validates on may be
 *    a test conformation of the pre-training splits, matched by (sha256, index) or by geometry,
 *    so the same frame in another file (MD17 vs rMD17, an xyz export) is caught too; and the
 *    fine-tuning test set must not have been trained on during pre-training.
 *  - `makeSplits(..., { holdOut })`: when pre-training splits are made, conformations that
 *    appear in the given held-out sets (e.g. the rMD17 test files used later) go to the test
 *    split, so the pre-trained model never sees them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { resolve } from 'node:path';
import { InputError, OreoError } from '../errors.js';
import type { Conformation } from './conformation.js';
import { contentHash, geometryKey } from './identity.js';
import { deriveSeed, permutation } from '../random.js';

export type SplitPart = 'train' | 'val' | 'test';

export interface SourceSplit {
  name: string;
  path: string;
  sha256: string;
  count: number;
  /** Indices (in the file) of validation conformations, ascending. */
  val: number[];
  /** Indices (in the file) of test conformations, ascending. */
  test: number[];
}

export interface SplitsFile {
  format: 'oreo-splits';
  version: 1;
  seed: number;
  fractions: { val: number; test: number };
  created: string;
  sources: SourceSplit[];
  /** Geometry keys of every test conformation (including held-out matches). */
  testGeometries: string[];
  /** Geometry keys of every validation conformation. */
  valGeometries: string[];
  /** Held-out sets given when the splits were made (e.g. fine-tuning test files). */
  heldOut: { path: string; sha256: string; count: number; matched: number }[];
}

export interface SplitSourceInput {
  name: string;
  path: string;
  conformations: Conformation[];
  /** 'test': all to test; 'train': none to test; 'auto' (default): by the fractions. */
  split?: 'auto' | 'train' | 'test';
  /** Size of the file before any cap (defaults to the conformations' count). */
  fileCount?: number;
}

export interface MakeSplitsOptions {
  seed: number;
  /** Fraction of each 'auto' source for validation (default 0.05). */
  val?: number;
  /** Fraction of each 'auto' source for testing (default 0.05). */
  test?: number;
  /** Conformation sets that must end up in test wherever they appear (matched by geometry). */
  holdOut?: { path: string; conformations: Conformation[] }[];
}

function checkFraction(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new OreoError(`split fraction ${name} must be in [0, 1), got ${v}`);
}

function indexOf(c: Conformation, i: number): number {
  return c.index ?? i;
}

export function makeSplits(sources: SplitSourceInput[], options: MakeSplitsOptions): SplitsFile {
  const fVal = options.val ?? 0.05;
  const fTest = options.test ?? 0.05;
  checkFraction('val', fVal);
  checkFraction('test', fTest);
  if (fVal + fTest >= 1) throw new OreoError(`val + test fractions must leave something to train on (got ${fVal} + ${fTest})`);
  const held = new Set<string>();
  const heldOut: SplitsFile['heldOut'] = [];
  for (const h of options.holdOut ?? []) {
    for (const c of h.conformations) held.add(geometryKey(c));
    heldOut.push({ path: resolve(h.path), sha256: contentHash(h.path), count: h.conformations.length, matched: 0 });
  }
  const testGeo = new Set<string>(held);
  const valGeo = new Set<string>();
  const out: SourceSplit[] = [];
  let matched = 0;
  for (const s of sources) {
    const sha256 = contentHash(s.path);
    const n = s.conformations.length;
    const keys = s.conformations.map((c) => geometryKey(c));
    const test = new Set<number>();
    const val = new Set<number>();
    // Held-out geometries go to test first, whatever the source's role.
    keys.forEach((k, i) => {
      if (held.has(k)) {
        test.add(i);
        matched++;
      }
    });
    const role = s.split ?? 'auto';
    // Seeded by content, not by position in the config: adding a source leaves the others' splits alone.
    const perm = permutation(n, deriveSeed(options.seed, sha256));
    const free = Array.from(perm).filter((i) => !test.has(i));
    if (role === 'test') for (const i of free) test.add(i);
    else {
      // Held-out matches already in test count towards this source's test fraction.
      const nTest = role === 'auto' ? Math.max(0, Math.round(fTest * n) - test.size) : 0;
      const nVal = Math.round(fVal * n);
      let k = 0;
      for (; k < nTest && k < free.length; k++) test.add(free[k]);
      for (let v = 0; v < nVal && k < free.length; v++, k++) val.add(free[k]);
    }
    for (const i of test) testGeo.add(keys[i]);
    for (const i of val) valGeo.add(keys[i]);
    out.push({
      name: s.name,
      path: resolve(s.path),
      sha256,
      count: s.fileCount ?? n,
      val: [...val].map((i) => indexOf(s.conformations[i], i)).sort((a, b) => a - b),
      test: [...test].map((i) => indexOf(s.conformations[i], i)).sort((a, b) => a - b),
    });
  }
  if (heldOut.length) heldOut[0].matched = matched;
  // A geometry that is in test anywhere must never count as validation elsewhere.
  for (const k of testGeo) valGeo.delete(k);
  return {
    format: 'oreo-splits',
    version: 1,
    seed: options.seed,
    fractions: { val: fVal, test: fTest },
    created: new Date().toISOString(),
    sources: out,
    testGeometries: [...testGeo].sort(),
    valGeometries: [...valGeo].sort(),
    heldOut,
  };
}

export function writeSplits(path: string, splits: SplitsFile): void {
  writeFileAtomic(path, JSON.stringify(splits, null, 1) + '\n');
}

export function readSplits(path: string): SplitsFile {
  if (!existsSync(path)) throw new InputError(path, 'no such splits file');
  let s: SplitsFile;
  try {
    s = JSON.parse(readFileSync(path, 'utf8')) as SplitsFile;
  } catch (err) {
    throw new InputError(path, `not valid JSON: ${(err as Error).message}`);
  }
  if (s.format !== 'oreo-splits' || s.version !== 1) throw new InputError(path, 'not an oreo splits file (format/version)');
  return s;
}

/**
 * Check that the sources a run is about to use are the ones the splits file describes: same
 * content hash and size. A mismatch means the indices would point at other conformations.
 */
export function verifySplitSources(splits: SplitsFile, splitsPath: string, sources: { name: string; path: string; count: number }[]): void {
  for (const s of sources) {
    const sha = contentHash(s.path);
    const entry = splits.sources.find((e) => e.sha256 === sha) ?? splits.sources.find((e) => e.name === s.name);
    if (!entry) {
      throw new InputError(splitsPath, `source '${s.name}' (${s.path}, sha256 ${sha.slice(0, 12)}…) is not in this splits file; make new splits or use the file it was made for`);
    }
    if (entry.sha256 !== sha) {
      throw new InputError(
        splitsPath,
        `source '${s.name}' changed since the splits were made: sha256 ${sha.slice(0, 12)}… now, ${entry.sha256.slice(0, 12)}… then (${entry.path}). Restore the file or make new splits.`,
        entry.name,
      );
    }
    if (entry.count !== s.count) {
      throw new InputError(splitsPath, `source '${s.name}' has ${s.count} conformations, the splits file says ${entry.count}`, entry.name);
    }
  }
}

/** Load the splits file if it exists (checking its sources), else make and write it. */
export function loadOrCreateSplits(path: string, sources: SplitSourceInput[], options: MakeSplitsOptions): { splits: SplitsFile; created: boolean } {
  if (existsSync(path)) {
    const splits = readSplits(path);
    verifySplitSources(
      splits,
      path,
      sources.map((s) => ({ name: s.name, path: s.path, count: s.fileCount ?? s.conformations.length })),
    );
    return { splits, created: false };
  }
  const splits = makeSplits(sources, options);
  writeSplits(path, splits);
  return { splits, created: true };
}

/** Fast membership lookups over a splits file. */
export class SplitLookup {
  private bySha = new Map<string, { val: Set<number>; test: Set<number>; count: number }>();
  readonly testGeometries: Set<string>;
  readonly valGeometries: Set<string>;

  constructor(readonly splits: SplitsFile) {
    for (const s of splits.sources) this.bySha.set(s.sha256, { val: new Set(s.val), test: new Set(s.test), count: s.count });
    this.testGeometries = new Set(splits.testGeometries);
    this.valGeometries = new Set(splits.valGeometries);
  }

  hasSource(sha256: string): boolean {
    return this.bySha.has(sha256);
  }

  /** The part of a conformation given by file identity, or undefined when its file is not in the splits. */
  partOf(sha256: string, index: number): SplitPart | undefined {
    const e = this.bySha.get(sha256);
    if (!e) return undefined;
    if (e.test.has(index)) return 'test';
    if (e.val.has(index)) return 'val';
    return 'train';
  }
}

/** The conformations of one source that belong to a part of the split. */
export function selectPart(splits: SplitsFile, sourcePath: string, confs: Conformation[], part: SplitPart): Conformation[] {
  const lookup = new SplitLookup(splits);
  const sha = contentHash(sourcePath);
  if (!lookup.hasSource(sha)) throw new InputError(sourcePath, 'this file is not in the splits file (different content or never split)');
  return confs.filter((c, i) => lookup.partOf(sha, indexOf(c, i)) === part);
}

export interface LeakReport {
  checked: { train: number; val: number; test: number };
  /** Notes that are not leaks but limit what could be checked. */
  warnings: string[];
}

function describe(c: Conformation, i: number): string {
  return `${c.source ?? '(unknown source)'} index ${indexOf(c, i)}`;
}

/**
 * Refuse a fine-tuning set that leaks pre-training test data, with an error naming the first
 * offending conformations. `finetune.*` conformations need `source` (a readable file path) and
 * `index` for file-identity matching; geometry matching needs nothing.
 */
export function assertNoLeak(
  pretrain: SplitsFile,
  finetune: { train: Conformation[]; val?: Conformation[]; test?: Conformation[] },
): LeakReport {
  const lookup = new SplitLookup(pretrain);
  const shaOf = new Map<string, string | undefined>();
  const sha = (c: Conformation): string | undefined => {
    if (!c.source) return undefined;
    if (!shaOf.has(c.source)) {
      try {
        shaOf.set(c.source, contentHash(c.source));
      } catch {
        shaOf.set(c.source, undefined);
      }
    }
    return shaOf.get(c.source);
  };
  const warnings: string[] = [];
  const leaks: string[] = [];
  for (const part of ['train', 'val'] as const) {
    (finetune[part] ?? []).forEach((c, i) => {
      const s = sha(c);
      const byFile = s !== undefined && lookup.partOf(s, indexOf(c, i)) === 'test';
      const byGeometry = lookup.testGeometries.has(geometryKey(c));
      if (byFile || byGeometry) {
        leaks.push(`fine-tuning ${part} conformation ${describe(c, i)} is in the pre-training test split (${byFile ? 'same file and index' : 'same geometry'})`);
      }
    });
  }
  let unverifiable = 0;
  (finetune.test ?? []).forEach((c, i) => {
    const s = sha(c);
    const part = s !== undefined ? lookup.partOf(s, indexOf(c, i)) : undefined;
    if (part === 'train') {
      leaks.push(`fine-tuning test conformation ${describe(c, i)} was in the pre-training train split`);
    } else if (part === undefined && !lookup.testGeometries.has(geometryKey(c))) {
      unverifiable++;
    }
  });
  if (unverifiable > 0) {
    warnings.push(
      `${unverifiable} fine-tuning test conformations come from files the pre-training splits do not contain and were not held out when they were made; ` +
        'to be sure pre-training never saw them, remake the pre-training splits with these files as --hold-out',
    );
  }
  if (leaks.length) {
    const shown = leaks.slice(0, 5).join('\n  ');
    throw new OreoError(`test data leak: ${leaks.length} conformation(s) of the fine-tuning data are pre-training test data or vice versa:\n  ${shown}${leaks.length > 5 ? `\n  … and ${leaks.length - 5} more` : ''}`);
  }
  return { checked: { train: finetune.train.length, val: finetune.val?.length ?? 0, test: finetune.test?.length ?? 0 }, warnings };
}
