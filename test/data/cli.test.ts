import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { bundledData } from '../../src/data/bundled.js';
import { readConformations } from '../../src/data/read.js';
import { readShardIndex } from '../../src/data/shards.js';
import { readSplits } from '../../src/data/splits.js';
import { kcalPerMol } from '../../src/units.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-cli-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.stderr.write = write;
  }
}

test('oreo data inspect --json: counts, shapes and units as SOURCES.md says', async () => {
  const r = await run(['data', 'inspect', bundledData('rmd17', 'rmd17_ethanol_test_01.npz'), '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.format, 'md17-npz');
  assert.equal(j.conformations, 1000);
  assert.deepEqual(j.atomsPerConformation, { min: 9, max: 9, mean: 9 });
  assert.deepEqual(j.elements, { H: 6000, C: 2000, O: 1000 });
  assert.deepEqual(j.labels, { energy: 1000, forces: 1000, properties: ['md17_index'] });
  assert.equal(j.units.energy, 'eV');
  assert.equal(j.units.forces, 'eV/Å');
  // ethanol ≈ −97086 … −97056 kcal/mol (SOURCES.md §1).
  assert.ok(j.energy.min / kcalPerMol > -97087 && j.energy.max / kcalPerMol < -97055);
  const comp6 = JSON.parse((await run(['data', 'inspect', bundledData('comp6_s66x8', 's66x8_wb97x6-31gd.h5'), '--json'])).out);
  assert.equal(comp6.conformations, 528);
  const text = await run(['data', 'inspect', bundledData('ani1x', 'ani1x_modelforge_n5.hdf5')]);
  assert.equal(text.code, 0);
  assert.match(text.out, /conformations\s+8\n/);
  assert.match(text.out, /energy \/ eV/);
});

test('oreo data inspect on a missing file or unknown option fails with a message, no stack', async () => {
  const r = await run(['data', 'inspect', join(dir, 'nope.xyz')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /nope\.xyz: no such file/);
  assert.doesNotMatch(r.err, /at .*\.ts:\d+/);
  const u = await run(['data', 'inspect', bundledData('md17', 'md17_aspirin_nequip_15frames.xyz'), '--jsn']);
  assert.equal(u.code, 1);
  assert.match(u.err, /unknown option --jsn/);
});

test('oreo data convert writes ASE extxyz in eV that reads back equal to the source', async () => {
  const out = join(dir, 'salicylic.extxyz');
  const r = await run(['data', 'convert', bundledData('rmd17', 'rmd17_salicylic_test_01.npz'), out]);
  assert.equal(r.code, 0, r.err);
  const a = await readConformations(bundledData('rmd17', 'rmd17_salicylic_test_01.npz'));
  const b = await readConformations(out);
  assert.equal(b.length, 1000);
  b.forEach((c, i) => {
    assert.deepEqual(c.positions, a[i].positions);
    assert.deepEqual(c.forces, a[i].forces);
    assert.equal(c.energy, a[i].energy);
  });
  assert.match(readFileSync(out, 'utf8').split('\n')[1], /^Properties=species:S:1:pos:R:3:forces:R:3 energy=-?\d.* pbc="F F F"$/);
});

test('oreo data split then oreo data shard --splits writes only the training part', async () => {
  const cfg = join(dir, 'cfg.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      seed: 8,
      sources: [
        { name: 'ethanol', path: bundledData('rmd17', 'rmd17_ethanol_train_01.npz'), kind: 'off-equilibrium' },
        { name: 'ethanol-test', path: bundledData('rmd17', 'rmd17_ethanol_test_01.npz'), kind: 'off-equilibrium', split: 'test' },
      ],
    }),
  );
  const splits = join(dir, 'splits.json');
  const s = await run(['data', 'split', '--config', cfg, '--out', splits, '--val', '0.1', '--test', '0.1']);
  assert.equal(s.code, 0, s.err);
  const again = await run(['data', 'split', '--config', cfg, '--out', splits]);
  assert.match(again.out, /checked and reused/);
  const sp = readSplits(splits);
  assert.equal(sp.sources[0].test.length, 100);
  assert.equal(sp.sources[1].test.length, 1000);
  const shards = join(dir, 'shards');
  const r = await run(['data', 'shard', '--config', cfg, '--out', shards, '--splits', splits, '--part', 'train', '--shard-size', '256']);
  assert.equal(r.code, 0, r.err);
  const idx = readShardIndex(shards);
  assert.equal(idx.total, 800);
});
