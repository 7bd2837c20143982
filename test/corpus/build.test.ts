// `oreo corpus build`, embedded: a 10-molecule build whose shards hold every conformation with
// its molecule, sampler, level of theory and split; resuming redoes nothing; an invalid SMILES
// stops the build naming file and line (or is counted with --skip-invalid); a molecule whose SCF
// does not converge (the closed-shell Fe atom under GFN2-xTB) is counted and skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus } from '../../src/corpus/build.js';
import { readCorpusManifest } from '../../src/corpus/summary.js';
import { readShardIndex, streamConformations } from '../../src/data/shards.js';
import { runOreo } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { skipUnless } from '../system-tools.js';
import { tinyFlags, tinySettings } from './settings.js';

const ten = join(fixturesDir, 'corpus', 'ten.smi');
const splits = { seed: 1, val: 0.2, test: 0.2 };

test('a 10-molecule build: shards, molecule table and manifest agree; a rerun resumes to the same corpus', { skip: skipUnless('xtb') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-corpus-'));
  try {
    const progress: number[] = [];
    const m = await buildCorpus({ inputs: [{ path: ten }], outDir: dir, settings: tinySettings, splits, workers: 2, onProgress: (p) => progress.push(p.done) });
    const c = m.counts;
    assert.equal(c.molecules, 10);
    assert.equal(c.labelledMolecules, 10);
    assert.equal(c.byKind.equilibrium, 10);
    // One normal-mode, one MD and one rattled sample per molecule, less any left out (and counted).
    const left = Object.values(c.rejected).reduce((a, b) => a + b, 0);
    assert.equal(c.byKind['off-equilibrium'] + left, 30);
    assert.ok(c.byKind['off-equilibrium'] >= 25);
    for (const el of ['H', 'C', 'N', 'O', 'F', 'S', 'Cl']) assert.ok(c.elements[el] > 0, `element ${el}`);
    assert.equal(m.levels.length, 1);
    assert.equal(m.levels[0].name, 'GFN2-xTB');
    assert.equal(progress.at(-1), 10);
    // Every shard row is a labelled conformation that points back at its molecule.
    const molecules = readFileSync(join(dir, 'molecules.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(molecules.length, 10);
    assert.equal(molecules[1].canonicalSmiles, 'CO');
    assert.equal(molecules[1].line, 3);
    const index = readShardIndex(join(dir, 'shards'));
    assert.equal(index.total, c.conformations);
    const seen = new Set<number>();
    for (const conf of streamConformations(join(dir, 'shards'))) {
      const mol = molecules[conf.props!.molecule];
      assert.equal(conf.z.length, mol.atoms);
      assert.ok(Number.isFinite(conf.energy) && conf.forces!.every(Number.isFinite));
      assert.equal(conf.props!.split, { train: 0, val: 1, test: 2 }[mol.split as string]);
      assert.equal(conf.source, 'ten.smi | GFN2-xTB');
      if (conf.kind === 'equilibrium') assert.equal(conf.props!.sampler, 0);
      seen.add(conf.index!);
    }
    assert.equal(seen.size, c.conformations);
    // A second run finds every job done and rebuilds the same corpus.
    const logs: string[] = [];
    const again = await buildCorpus({ inputs: [{ path: ten }], outDir: dir, settings: tinySettings, splits, workers: 2, log: (l) => logs.push(l) });
    assert.match(logs[0], /10 done before, 0 to run/);
    assert.equal(again.hashes.corpus, m.hashes.corpus);
    assert.deepEqual(readCorpusManifest(dir).hashes, m.hashes);
    // Other settings are refused rather than mixed into the same directory.
    await assert.rejects(
      buildCorpus({ inputs: [{ path: ten }], outDir: dir, settings: { ...tinySettings, seed: 2 }, splits, workers: 1 }),
      /holds a corpus built with other settings/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid SMILES stops the build naming file and line; --skip-invalid counts and lists it', { skip: skipUnless('xtb') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-corpus-'));
  try {
    const input = join(fixturesDir, 'corpus', 'invalid.smi');
    const r = runOreo(['corpus', 'build', '--molecules', input, '--out', join(dir, 'a'), '--quiet', ...tinyFlags]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /invalid\.smi.*line 3.*C1CC\(/);
    const ok = runOreo(['corpus', 'build', '--molecules', input, '--out', join(dir, 'b'), '--skip-invalid', '--workers', '2', '--quiet', ...tinyFlags]);
    assert.equal(ok.status, 0, ok.stderr);
    const m = readCorpusManifest(join(dir, 'b'));
    assert.equal(m.counts.molecules, 3);
    assert.equal(m.counts.invalidInputs, 1);
    assert.equal(m.invalid[0].line, 3);
    assert.match(ok.stdout, /invalid: .*line 3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a molecule whose SCF fails is counted and skipped, the others are kept; a repeated input is stored once', { skip: skipUnless('xtb') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-corpus-'));
  try {
    const m = await buildCorpus({ inputs: [{ path: join(fixturesDir, 'corpus', 'scf-fails.csv') }], outDir: dir, settings: tinySettings, splits, workers: 2 });
    assert.equal(m.counts.molecules, 3);
    assert.equal(m.counts.duplicateInputs, 1);
    assert.equal(m.counts.labelledMolecules, 1);
    assert.equal(m.counts.failedMolecules, 1);
    assert.deepEqual(m.counts.failureReasons, { 'relax: SCF failed': 1 });
    assert.equal(m.failures[0].line, 3);
    assert.equal(m.failures[0].smiles, '[Fe]');
    assert.ok(m.counts.conformations >= 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
