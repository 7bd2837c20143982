// The committed job archive (`oreo corpus commit`, `oreo corpus build --from-archive`): real jobs
// from a tiny real build are committed, a fresh directory built from the archive alone runs
// nothing and gives the same corpus hash, a second commit appends only the new jobs in a new part,
// and a damaged or truncated part is refused naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitJobs, openArchive, readArchiveIndex } from '../../src/corpus/archive.js';
import { buildCorpus, type CorpusInput } from '../../src/corpus/build.js';
import { readJob } from '../../src/corpus/store.js';
import { runOreo } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { skipUnless } from '../system-tools.js';
import { tinyFlags, tinySettings } from './settings.js';

const splits = { seed: 1, val: 0.2, test: 0.2 };
const ten = join(fixturesDir, 'corpus', 'ten.smi');
// methanol, the Fe atom (its SCF fails: a failed molecule, kept so it is not re-run), methanol again
const scfFails = join(fixturesDir, 'corpus', 'scf-fails.csv');

const inputs = (limit: number): CorpusInput[] => [{ path: scfFails }, { path: ten, limit }];

test('job archive: commit, rebuild from the archive alone to the same corpus hash, append only new jobs, refuse a damaged part', { skip: skipUnless('xtb') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-archive-'));
  try {
    const a = join(dir, 'a');
    const archive = join(dir, 'archive');
    const first = await buildCorpus({ inputs: inputs(1), outDir: a, settings: tinySettings, splits, workers: 2, precision: 'f32' });
    assert.equal(first.counts.failedMolecules, 1);

    const r = runOreo(['corpus', 'commit', a, '--into', archive]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3 finished jobs .*: 0 already in .*, 3 added/);
    const index1 = readArchiveIndex(archive)!;
    assert.equal(index1.precision, 'f32');
    assert.equal(index1.parts.length, 1);
    assert.equal(index1.parts[0].jobs, 3);
    assert.equal(index1.parts[0].conformations, first.counts.conformations);

    // Every job comes back with all it had, positions and forces rounded to f32, energies exact.
    for (const job of openArchive(archive).parts[0].part.jobs()) {
      const original = readJob(a, job.result.key);
      const expected = structuredClone(original.result);
      for (const c of expected.conformations) {
        c.positions = c.positions.map(Math.fround);
        for (const l of c.labels) l.forces = l.forces.map(Math.fround);
      }
      assert.deepEqual(job.result, expected);
      assert.deepEqual(job.run, original.run);
    }

    // A fresh machine: a new directory and the archive only. Nothing runs; same corpus.
    const logs: string[] = [];
    const b = join(dir, 'b');
    const fresh = await buildCorpus({ inputs: inputs(1), outDir: b, settings: tinySettings, splits, workers: 1, precision: 'f32', fromArchive: archive, log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /3 of the 3 jobs are in it \(3 restored now\)/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /3 done before, 0 to run/.test(l)), logs.join('\n'));
    assert.equal(fresh.hashes.corpus, first.hashes.corpus);
    assert.deepEqual(fresh.counts, first.counts);
    // f64 shards from f32 numbers would not match a build from the original jobs: refused.
    await assert.rejects(
      buildCorpus({ inputs: inputs(1), outDir: join(dir, 'c'), settings: tinySettings, splits, precision: 'f64', fromArchive: archive }),
      /keeps f32 positions and forces: build with --precision f32/,
    );
    await assert.rejects(
      buildCorpus({ inputs: inputs(1), outDir: join(dir, 'c2'), settings: { ...tinySettings, seed: 2 }, splits, precision: 'f32', fromArchive: archive }),
      /holds jobs built with other settings/,
    );

    // The campaign goes on (two more molecules, one already done); the next commit appends one
    // part with only the new job and leaves the first part as it was.
    const partBytes = readFileSync(join(archive, index1.parts[0].file));
    const second = await buildCorpus({ inputs: inputs(3), outDir: a, settings: tinySettings, splits, workers: 2, precision: 'f32' });
    const s = commitJobs(a, archive);
    assert.equal(s.already, 3);
    assert.equal(s.added, 1);
    const index2 = readArchiveIndex(archive)!;
    assert.equal(index2.parts.length, 2);
    assert.deepEqual(index2.parts[0], index1.parts[0]);
    assert.equal(index2.parts[1].jobs, 1);
    assert.deepEqual(readFileSync(join(archive, index1.parts[0].file)), partBytes);
    assert.equal(commitJobs(a, archive).added, 0);
    const d = join(dir, 'd');
    const resumed = await buildCorpus({ inputs: inputs(3), outDir: d, settings: tinySettings, splits, precision: 'f32', fromArchive: archive });
    assert.equal(resumed.hashes.corpus, second.hashes.corpus);

    // An f64 archive gives every number back exactly.
    const exact = join(dir, 'archive-f64');
    commitJobs(a, exact, { precision: 'f64' });
    for (const { part } of openArchive(exact).parts) for (const job of part.jobs()) assert.deepEqual(job.result, readJob(a, job.result.key).result);

    // A damaged part (one byte changed) and a truncated one are refused naming the file.
    const bad = join(dir, 'bad');
    cpSync(archive, bad, { recursive: true });
    const p0 = join(bad, index2.parts[0].file);
    const bytes = readFileSync(p0);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(p0, bytes);
    const damaged = (file: string, why: RegExp) => (err: Error) => err.name === 'InputError' && err.message.includes(file) && why.test(err.message);
    await assert.rejects(
      buildCorpus({ inputs: inputs(3), outDir: join(dir, 'e'), settings: tinySettings, splits, precision: 'f32', fromArchive: bad }),
      damaged(index2.parts[0].file, /sha256 [0-9a-f]{64} differs/),
    );
    assert.throws(() => commitJobs(a, bad), damaged(index2.parts[0].file, /sha256/));
    cpSync(archive, bad, { recursive: true });
    truncateSync(join(bad, index2.parts[1].file), index2.parts[1].bytes - 100);
    const cli = runOreo(['corpus', 'build', '--molecules', scfFails, '--out', join(dir, 'f'), '--from-archive', bad, '--precision', 'f32', '--quiet', ...tinyFlags]);
    assert.equal(cli.status, 1, cli.stderr);
    assert.ok(cli.stderr.includes(index2.parts[1].file), cli.stderr);
    assert.match(cli.stderr, /truncated or damaged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
