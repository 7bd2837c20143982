/**
 * A corpus summarised for a person: what `oreo corpus build` prints at the end and what
 * `oreo data inspect DIR` shows for a corpus directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { CORPUS_FORMAT, MANIFEST, type CorpusManifest } from './assemble.js';

export function readCorpusManifest(dir: string): CorpusManifest {
  const path = join(dir, MANIFEST);
  let m: CorpusManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as CorpusManifest;
  } catch (err) {
    throw new InputError(path, `cannot read the corpus manifest: ${(err as Error).message}`);
  }
  if (m.format !== CORPUS_FORMAT) throw new InputError(path, `not an oreo corpus manifest (format '${String(m.format)}')`);
  return m;
}

function list(r: Record<string, number>): string {
  const e = Object.entries(r).sort((a, b) => b[1] - a[1]);
  return e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : 'none';
}

export function formatCorpusSummary(m: CorpusManifest, dir?: string): string {
  const c = m.counts;
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(26)}${v}`);
  if (dir) row('corpus', dir);
  row('corpus hash (sha256)', m.hashes.corpus);
  row('molecules', `${c.molecules} (${c.labelledMolecules} labelled, ${c.failedMolecules} failed${c.invalidInputs ? `, ${c.invalidInputs} invalid inputs skipped` : ''}${c.duplicateInputs ? `, ${c.duplicateInputs} duplicates stored once` : ''})`);
  row('conformations', `${c.conformations} (${list(c.byKind)})`);
  row('labels (shard rows)', `${c.labels}: ${list(c.byLevel)}`);
  row('by sampler', list(c.bySampler));
  row('by source', list(c.bySource));
  row('by split (molecules)', Object.entries(c.bySplit).map(([k, v]) => `${k} ${v.molecules} (${v.conformations} conformations)`).join(', '));
  row('elements (atoms)', list(c.elements));
  const a = c.atomsPerMolecule;
  row('atoms per molecule', `${a.min}–${a.max}, mean ${Number.isFinite(a.mean) ? a.mean.toFixed(1) : '—'}; ${Object.entries(a.bins).sort((x, y) => parseInt(x[0]) - parseInt(y[0])).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  row('levels of theory', m.levels.map((l) => l.key).join('; ') || 'none');
  row('left-out samples', list(c.rejected));
  if (Object.keys(c.skipped).length) row('calculators skipped', list(c.skipped));
  if (c.heldOut) row('held-out geometries', String(c.heldOut));
  if (c.failedMolecules) row('failed molecules', list(c.failureReasons));
  row('reference calculations', String(c.referenceCalculations));
  row('storage', `${m.shards.files.length} shard(s), ${(m.shards.bytes / 1e6).toFixed(2)} MB, ${m.shards.precision}, ${m.bytesPerConformation.toFixed(0)} bytes/conformation`);
  row('worker time', `${m.jobSeconds.toFixed(1)} s`);
  for (const f of m.failures.slice(0, 10)) lines.push(`  failed: ${f.file}:${f.line} ${f.smiles ?? ''} — ${f.reason}`);
  if (m.failures.length > 10) lines.push(`  … and ${m.failures.length - 10} more failed molecules (manifest.json)`);
  for (const f of m.invalid.slice(0, 10)) lines.push(`  invalid: ${f.message}`);
  if (m.invalid.length > 10) lines.push(`  … and ${m.invalid.length - 10} more invalid inputs (manifest.json)`);
  return lines.join('\n');
}
