/**
 * Damaged inputs give errors that name the file and the record (and field where there is one);
 * with skipBad, the good records of a multi-record file are kept. Each damaged file is made from
 * a real bundled file in a temporary directory.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { unzipSync, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { InputError } from '../../src/errors.js';
import { bundledData } from '../../src/data/bundled.js';
import { encodeNpy, parseNpz } from '../../src/data/npy.js';
import { readConformations } from '../../src/data/read.js';
import { formatMolfileV2000 } from '../../src/data/sdf.js';
import { inspectFile } from '../../src/data/inspect.js';

const dir = mkdtempSync(join(tmpdir(), 'oreo-corrupt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ethanol = bundledData('rmd17', 'rmd17_ethanol_train_01.npz');

function isInputErrorAbout(file: string, ...parts: (string | RegExp)[]) {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message does not name ${file}: ${e.message}`);
    for (const p of parts) assert.ok(typeof p === 'string' ? e.message.includes(p) : p.test(e.message), `message lacks ${p}: ${e.message}`);
    return true;
  };
}

/** Rewrite an npz with some members replaced, as NumPy would store it (no compression). */
function rewriteNpz(out: string, edit: (members: Record<string, Uint8Array>) => void): void {
  const members = unzipSync(readFileSync(ethanol));
  edit(members);
  writeFileSync(out, zipSync(members, { level: 0 }));
}

test('truncated npz (zip) → error naming the file', async () => {
  const p = join(dir, 'truncated.npz');
  const bytes = readFileSync(ethanol);
  writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(readConformations(p), isInputErrorAbout(p, /zip|truncated/));
});

test('wrong dtype in an npz member → error naming file and member', async () => {
  const p = join(dir, 'dtype.npz');
  rewriteNpz(p, (m) => {
    const b = m['coords.npy'];
    const header = new TextDecoder('latin1').decode(b.subarray(0, 128));
    const at = header.indexOf("'<f8'");
    assert.ok(at > 0);
    b.set(new TextEncoder().encode("'<f4'"), at);
  });
  await assert.rejects(readConformations(p), isInputErrorAbout(p, "member 'coords'", /dtype and shape disagree|bytes beyond/));
  const q = join(dir, 'text-dtype.npz');
  rewriteNpz(q, (m) => {
    const b = m['forces.npy'];
    const header = new TextDecoder('latin1').decode(b.subarray(0, 128));
    b.set(new TextEncoder().encode("'|S8'"), header.indexOf("'<f8'"));
  });
  await assert.rejects(readConformations(q), isInputErrorAbout(q, "field 'forces'", 'dtype |S8'));
});

test('mismatched shapes (forces for fewer frames than coords) → error naming the field and both shapes', async () => {
  const p = join(dir, 'shapes.npz');
  const orig = parseNpz(readFileSync(ethanol), ethanol);
  const forces = orig.get('forces')!;
  rewriteNpz(p, (m) => {
    m['forces.npy'] = encodeNpy('<f8', [999, 9, 3], (forces.data as Float64Array).subarray(0, 999 * 27));
  });
  await assert.rejects(readConformations(p), isInputErrorAbout(p, "field 'forces'", '(1000, 9, 3)', '(999, 9, 3)'));
});

test('SDF with a bad counts line in record 2 → error naming file and record; --skip-bad keeps the other 4', async () => {
  const mols = (await readConformations(bundledData('pcqm4mv2', 'graphium_pcqm4mv2-2k.csv'), { limit: 5 }));
  const records = mols.map((c, i) => formatMolfileV2000(c, `pcqm4mv2 ${i}`).split('\n'));
  const counts = records[2][3];
  records[2][3] = '  ?' + counts.slice(3); // atom count unreadable
  const p = join(dir, 'bad-counts.sdf');
  writeFileSync(p, records.map((r) => r.join('\n') + '$$$$\n').join(''));
  await assert.rejects(readConformations(p), isInputErrorAbout(p, 'record 2', 'counts line'));
  const skipped: string[] = [];
  const kept = await readConformations(p, { skipBad: true, onBad: (e) => skipped.push(e.message) });
  assert.deepEqual(kept.map((c) => c.index), [0, 1, 3, 4]);
  assert.equal(skipped.length, 1);
  // The good records read back with their coordinates (4 decimals in V2000) and atom order.
  for (const c of kept) {
    const ref = mols[c.index!];
    assert.deepEqual([...c.z], [...ref.z]);
    c.positions.forEach((x, k) => assert.ok(Math.abs(x - ref.positions[k]) < 5.1e-5));
  }
  // A counts line claiming more atoms than the block holds is caught too.
  const q = join(dir, 'short-block.sdf');
  const r2 = mols.map((c, i) => formatMolfileV2000(c, `m${i}`).split('\n'));
  r2[1][3] = String(mols[1].z.length + 3).padStart(3) + r2[1][3].slice(3);
  writeFileSync(q, r2.map((r) => r.join('\n') + '$$$$\n').join(''));
  await assert.rejects(readConformations(q), isInputErrorAbout(q, 'record 1'));
  // inspect --skip-bad reports the bad record and summarises the rest.
  const rep = await inspectFile(p, { skipBad: true });
  assert.equal(rep.conformations, 4);
  assert.equal(rep.skipped.length, 1);
  assert.match(rep.skipped[0].message, /record 2/);
});

test('HDF5 group missing its forces dataset → error naming file, group and dataset; skip-bad keeps other groups', async () => {
  await h5wasm.ready;
  const src = bundledData('ani1x', 'ani1x_modelforge_n5.hdf5');
  const p = join(dir, 'ani-missing-forces.h5');
  const fin = new h5wasm.File(src, 'r');
  const fout = new h5wasm.File(p, 'w');
  let dropped = 0;
  for (const g of fin.keys()) {
    const gi = fin.get(g) as InstanceType<typeof h5wasm.Group>;
    const go = fout.create_group(g);
    for (const d of gi.keys()) {
      if (g === 'C1H5N3O5' && d === 'wb97x_dz.forces') continue;
      const ds = gi.get(d) as InstanceType<typeof h5wasm.Dataset>;
      go.create_dataset({ name: d, data: ds.value as Float32Array, shape: ds.shape, dtype: ds.dtype as string });
    }
    if (g === 'C1H5N3O5') dropped = (gi.get('coordinates') as InstanceType<typeof h5wasm.Dataset>).shape![0];
  }
  fin.close();
  fout.close();
  await assert.rejects(readConformations(p), isInputErrorAbout(p, 'record /C1H5N3O5', "field 'wb97x_dz.forces'"));
  const bad: string[] = [];
  const kept = await readConformations(p, { skipBad: true, onBad: (e) => bad.push(e.message) });
  assert.equal(kept.length, 8 - dropped);
  assert.equal(bad.length, 1);
  // Indices stay those of the intact file, so splits made on it still apply.
  const full = await readConformations(src);
  for (const c of kept) assert.deepEqual(c.positions, full[c.index!].positions);
});

test('truncated HDF5 → error naming the file', async () => {
  const p = join(dir, 'truncated.h5');
  const bytes = readFileSync(bundledData('spice', 'SPICE-1.1.4_n2.hdf5'));
  writeFileSync(p, bytes.subarray(0, 4096));
  await assert.rejects(readConformations(p), (e: unknown) => e instanceof InputError && e.message.includes(p));
});

test('a QM9 raw file with a bad property and one using *^ exponents', async () => {
  const src = readFileSync(bundledData('qm9', 'raw_xyz_first10', 'dsgdb9nsd_000007.xyz'), 'utf8');
  const good = join(dir, 'dsgdb9nsd_000007.xyz');
  // Mathematica notation, as some QM9 files have it: 0.0021037439 = 2.1037439*^-3.
  writeFileSync(good, src.replace('0.0021037439', '2.1037439*^-3'));
  const [c] = await readConformations(good);
  assert.ok(Math.abs(c.positions[3] - 0.0021037439) < 1e-16);
  const bad = join(dir, 'dsgdb9nsd_000008.xyz');
  writeFileSync(bad, src.replace('-0.3385', 'x0.3385'));
  await assert.rejects(readConformations(bad), isInputErrorAbout(bad, "field 'homo'"));
  copyFileSync(bundledData('qm9', 'raw_xyz_first10', 'dsgdb9nsd_000001.xyz'), join(dir, 'dsgdb9nsd_000001.xyz'));
});
