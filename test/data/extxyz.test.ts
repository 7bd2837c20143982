import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/errors.js';
import { bundledData } from '../../src/data/bundled.js';
import {
  formatExtxyzFrame,
  frameToConformation,
  iterateExtxyzFile,
  parseExtxyz,
  readExtxyzFile,
  type ExtxyzFrame,
} from '../../src/data/extxyz.js';
import { kcalPerMol } from '../../src/units.js';

const EXTXYZ_FILES = [
  ['md17', 'md17_aspirin_nequip_15frames.xyz', 15, 21],
  ['md22', 'md22_Ac-Ala3-NHMe_5frames.xyz', 5, 42],
  ['md22', 'md22_Ac-Ala3-NHMe_disp_100frames.extxyz', 98, 42],
  ['qm9', 'metatrain_qm9_reduced_100.xyz', 100, undefined],
  ['qm9', 'qm9_3d_graphium_micro958.extxyz', 958, undefined],
] as const;

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function assertFramesIdentical(a: ExtxyzFrame[], b: ExtxyzFrame[]): void {
  assert.equal(b.length, a.length);
  a.forEach((fa, i) => {
    const fb = b[i];
    assert.ok(sameBits(fa.z, fb.z), `frame ${i} z`);
    assert.ok(sameBits(fa.positions, fb.positions), `frame ${i} positions`);
    assert.deepEqual(fb.info, fa.info, `frame ${i} info`);
    assert.deepEqual(Object.keys(fb.arrays), Object.keys(fa.arrays));
    for (const k of Object.keys(fa.arrays)) {
      assert.equal(fb.arrays[k].constructor, fa.arrays[k].constructor, `frame ${i} ${k} type`);
      assert.ok(sameBits(fa.arrays[k], fb.arrays[k]), `frame ${i} array ${k}`);
    }
    assert.deepEqual(fb.pbc, fa.pbc);
    assert.ok(fa.cell ? fb.cell && sameBits(fa.cell, fb.cell) : !fb.cell);
  });
}

test('bundled xyz/extxyz files parse with the frame and atom counts of SOURCES.md, and round-trip identically', () => {
  for (const [dir, name, frames, atoms] of EXTXYZ_FILES) {
    const path = bundledData(dir, name);
    const read = readExtxyzFile(path);
    assert.equal(read.length, frames, name);
    if (atoms !== undefined) for (const f of read) assert.equal(f.z.length, atoms, name);
    const text = read.map(formatExtxyzFrame).join('');
    assertFramesIdentical(read, parseExtxyz(text, 'roundtrip'));
    // Streaming from disk gives the same frames as reading the whole text.
    assertFramesIdentical(read, [...iterateExtxyzFile(path)]);
  }
  // metatrain: 100 molecules, 1001 atoms in total (SOURCES.md §8).
  const qm9 = readExtxyzFile(bundledData('qm9', 'metatrain_qm9_reduced_100.xyz'));
  assert.equal(qm9.reduce((s, f) => s + f.z.length, 0), 1001);
});

test('a periodic frame with every value type round-trips bit for bit and follows ASE layout', () => {
  const frame: ExtxyzFrame = {
    z: Int32Array.from([8, 1, 1, 29]),
    positions: Float64Array.from([0.1, 0.2, 0.30000000000000004, 1 / 3, -2e-12, 1e21, -0, 5, 6.02214076e23, 7.25, 8, 9]),
    cell: Float64Array.from([10, 0, 0, 0.5, 11, 0, 0, 0, 12.000000000000002]),
    pbc: [true, false, true],
    info: { energy: -1234.5678901234567, step: 42, time: 0.5, converged: true, label: 'water and copper', tag: '5', empty: '' },
    arrays: {
      forces: Float64Array.from([1e-300, -1, 2, Math.PI, Math.E, -Math.SQRT2, 0, 0, 0, 1, 2, 3]),
      velocities: Float64Array.from({ length: 12 }, (_, i) => Math.sin(i) / 7),
      charges: Float64Array.from([-0.8, 0.4, 0.4, 0]),
      tags: Int32Array.from([0, 1, 1, -7]),
    },
  };
  const text = formatExtxyzFrame(frame);
  const lines = text.split('\n');
  assert.equal(lines[0], '4');
  // Lattice first, Properties second, pbc last: the order ASE writes.
  assert.match(lines[1], /^Lattice="10\.0 0\.0 0\.0 0\.5 11\.0 0\.0 0\.0 0\.0 12\.000000000000002" Properties=species:S:1:pos:R:3:forces:R:3:velocities:R:3:charges:R:1:tags:I:1 /);
  assert.match(lines[1], / pbc="T F T"$/);
  assert.match(lines[1], / energy=-1234\.5678901234567 /);
  assert.match(lines[1], / label="water and copper" /);
  assert.equal(lines.length, 4 + 2 + 1); // count, comment, 4 atoms, trailing empty
  assert.equal(lines[2].trim().split(/\s+/).length, 1 + 3 + 3 + 3 + 1 + 1);
  const back = parseExtxyz(text + formatExtxyzFrame(frame), 'mem');
  assert.equal(back.length, 2);
  assertFramesIdentical([frame, frame], back);
});

test('plain xyz (comment without key=value) reads as species and positions, comment kept', () => {
  const text = '3\nwater molecule, from a textbook\nO 0 0 0.1173\nH 0 0.7572 -0.4692\nH 0 -0.7572 -0.4692\n';
  const [f] = parseExtxyz(text, 'water.xyz');
  assert.deepEqual([...f.z], [8, 1, 1]);
  assert.equal(f.positions[4], 0.7572);
  assert.equal(f.info.comment, 'water molecule, from a textbook');
  assert.equal(f.cell, undefined);
});

test('energy units are converted in frameToConformation; MD22 writes Energy with a capital E', () => {
  const [f] = readExtxyzFile(bundledData('md22', 'md22_Ac-Ala3-NHMe_5frames.xyz'));
  const c = frameToConformation(f, 'md22', 0, { energyUnit: 'kcal/mol' });
  assert.equal(c.energy, (f.info.Energy as number) * kcalPerMol);
  assert.equal(c.forces![0], f.arrays.forces[0] * kcalPerMol);
  const g = frameToConformation(f, 'md22', 0, { energyUnit: 'kcal/mol', forcesAreGradients: true });
  assert.equal(g.forces![0], -c.forces![0]);
});

test('a wrong field count names the file, the frame (record) and the line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-xyz-'));
  try {
    const src = readFileSync(bundledData('md17', 'md17_aspirin_nequip_15frames.xyz'), 'utf8').split('\n');
    // Frame 2 starts at line 2*(21+2)+1; drop the last field of its 5th atom line.
    const bad = 2 * 23 + 2 + 5; // 0-based index of that line
    src[bad] = src[bad].trim().split(/\s+/).slice(0, 6).join(' ');
    const path = join(dir, 'broken.xyz');
    writeFileSync(path, src.join('\n'));
    assert.throws(
      () => readExtxyzFile(path),
      (e: unknown) => e instanceof InputError && e.message.includes(path) && e.message.includes('record 2') && e.message.includes(`line ${bad + 1}`) && /6 fields, expected 7/.test(e.message),
    );
    // With skipBad the other 14 frames are kept and the bad one is reported.
    const bad1: string[] = [];
    const frames = readExtxyzFile(path, { skipBad: true, onBad: (e) => bad1.push(e.message) });
    assert.equal(frames.length, 14);
    assert.equal(bad1.length, 1);
    // A truncated file (a frame cut short) is an error naming the frame too.
    const truncated = join(dir, 'truncated.xyz');
    const original = readFileSync(bundledData('md17', 'md17_aspirin_nequip_15frames.xyz'), 'utf8').split('\n');
    writeFileSync(truncated, original.slice(0, 23 * 3 + 10).join('\n'));
    assert.throws(() => readExtxyzFile(truncated), /record 3.*file ends inside the frame/);
    // An atom line with an unknown element.
    const badEl = join(dir, 'element.xyz');
    writeFileSync(badEl, '1\nProperties=species:S:1:pos:R:3\nQq 0 0 0\n');
    assert.throws(() => readExtxyzFile(badEl), /record 0.*line 3.*unknown element 'Qq'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
