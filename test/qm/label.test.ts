// `oreo label` and labelFile: labels equal the calculator's own numbers, input order is kept with
// parallel workers, an interrupted run resumes to the same file, and bad inputs are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatExtxyzFrame, readExtxyzFile } from '../../src/data/extxyz.js';
import { INPUT_INDEX_KEY, labelFile, partialPath } from '../../src/qm/label.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { runOreo } from '../cli.js';
import { dataDir } from '../paths.js';
import { skipUnless } from '../system-tools.js';

const aspirin = join(dataDir, 'md17', 'md17_aspirin_nequip_15frames.xyz');

function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'oreo-test-label-'));
}

/** The first n frames of the MD17 aspirin sample, written as their own file. */
function firstFrames(dir: string, n: number): string {
  const frames = readExtxyzFile(aspirin).slice(0, n);
  const path = join(dir, 'input.extxyz');
  writeFileSync(path, frames.map(formatExtxyzFrame).join(''));
  return path;
}

test('labels are the calculator’s energies and forces, in input order with 2 workers', { skip: skipUnless('xtb') }, async () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 4);
    const output = join(dir, 'labelled.extxyz');
    const calc = new XtbCalculator();
    const reports: number[] = [];
    const r = await labelFile({ input, output, calculator: calc, workers: 2, progressSeconds: 0, onProgress: (p) => reports.push(p.done) });
    assert.deepEqual({ frames: r.frames, labelled: r.labelled, kept: r.kept, failed: r.failed }, { frames: 4, labelled: 4, kept: 0, failed: [] });
    assert.ok(existsSync(output) && !existsSync(partialPath(output)));
    assert.equal(reports.at(-1), 4);
    const inFrames = readExtxyzFile(input);
    const outFrames = readExtxyzFile(output);
    assert.equal(outFrames.length, 4);
    for (let i = 0; i < 4; i++) {
      const f = outFrames[i];
      assert.equal(f.info[INPUT_INDEX_KEY], i);
      assert.deepEqual(f.z, inFrames[i].z);
      assert.deepEqual(f.positions, inFrames[i].positions);
      const direct = calc.compute(inFrames[i].z, inFrames[i].positions);
      assert.equal(f.info.energy, direct.energy);
      assert.deepEqual(f.arrays.forces, direct.forces);
      // MD17's own labels (kcal/mol) are replaced, not kept next to the new ones.
      assert.notEqual(f.info.energy, inFrames[i].info.energy);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted run resumes from OUT.partial and ends with the same file', { skip: skipUnless('xtb') }, async () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 5);
    const output = join(dir, 'labelled.extxyz');
    const calc = new XtbCalculator();
    await labelFile({ input, output, calculator: calc, workers: 2 });
    const complete = readFileSync(output, 'utf8');
    // What a run killed while writing frame 2 leaves: two whole frames and part of a third.
    const lines = complete.split('\n');
    const perFrame = 2 + 21;
    writeFileSync(partialPath(output), lines.slice(0, 2 * perFrame + 7).join('\n') + '\n');
    rmSync(output);
    const r = await labelFile({ input, output, calculator: calc, workers: 2 });
    assert.equal(r.kept, 2);
    assert.equal(r.labelled, 3);
    assert.equal(readFileSync(output, 'utf8'), complete);
    // Run again on the finished file: nothing left to do, same file.
    const again = await labelFile({ input, output, calculator: calc, workers: 2 });
    assert.equal(again.kept, 5);
    assert.equal(again.labelled, 0);
    assert.equal(readFileSync(output, 'utf8'), complete);
    // A changed input is noticed rather than mixed with old labels.
    writeFileSync(input, readExtxyzFile(aspirin).slice(5, 10).map(formatExtxyzFrame).join(''));
    await assert.rejects(labelFile({ input, output, calculator: calc }), /differ from frame 0/);
    const fresh = await labelFile({ input, output, calculator: calc, overwrite: true, workers: 2 });
    assert.equal(fresh.labelled, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('periodic frames, unknown elements and foreign output files are refused', { skip: skipUnless('xtb') }, async () => {
  const dir = workDir();
  try {
    const calc = new XtbCalculator();
    const [f] = readExtxyzFile(aspirin);
    const periodic = join(dir, 'periodic.extxyz');
    writeFileSync(periodic, formatExtxyzFrame({ ...f, cell: new Float64Array([20, 0, 0, 0, 20, 0, 0, 0, 20]), pbc: [true, true, true] }));
    await assert.rejects(labelFile({ input: periodic, output: join(dir, 'o1.extxyz'), calculator: calc }), /record 0.*periodic/);
    const heavy = join(dir, 'heavy.extxyz');
    writeFileSync(heavy, formatExtxyzFrame(f) + formatExtxyzFrame({ ...f, z: Int32Array.from(f.z, (z, i) => (i === 3 ? 92 : z)) }));
    await assert.rejects(labelFile({ input: heavy, output: join(dir, 'o2.extxyz'), calculator: calc }), /record 1.*no parameters for U/);
    // Pointing --out at a file oreo label did not write must not overwrite it.
    const input = firstFrames(dir, 1);
    await assert.rejects(labelFile({ input, output: aspirin, calculator: calc }), /did not write/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oreo label CLI: labels a file', { skip: skipUnless('xtb') }, () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 2);
    const output = join(dir, 'cli.extxyz');
    const ok = runOreo(['label', '--calculator', 'xtb', '--input', input, '--out', output, '--workers', '2']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readExtxyzFile(output).length, 2);
    assert.match(ok.stderr, /2\/2 frames/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oreo label --frames labels only the selected frames, keeping their input index; a rerun with another selection is refused untouched', { skip: skipUnless('xtb') }, () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 7);
    const output = join(dir, 'every-third.extxyz');
    const ok = runOreo(['label', '--calculator', 'xtb', '--input', input, '--out', output, '--frames', '0:7:3', '--quiet']);
    assert.equal(ok.status, 0, ok.stderr);
    const frames = readExtxyzFile(output);
    assert.deepEqual(frames.map((f) => f.info[INPUT_INDEX_KEY]), [0, 3, 6]);
    const inputs = readExtxyzFile(input);
    for (const f of frames) assert.deepEqual(Array.from(f.positions), Array.from(inputs[f.info[INPUT_INDEX_KEY] as number].positions));
    const before = readFileSync(output, 'utf8');
    const other = runOreo(['label', '--calculator', 'xtb', '--input', input, '--out', output, '--frames', '0,1', '--quiet']);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /input frame 3, which the frame selection leaves out.*--overwrite/);
    assert.equal(readFileSync(output, 'utf8'), before);
    assert.equal(existsSync(partialPath(output)), false);
    const missing = runOreo(['label', '--calculator', 'xtb', '--input', input, '--out', join(dir, 'x.extxyz'), '--frames', '9']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--frames: frame 9 does not exist \(the input has 7 frames/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Needs no xtb: it is about what a person without one sees.
test('oreo label CLI refuses a missing xtb with a clear message', () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 2);
    const bad = runOreo(['label', '--input', input, '--out', join(dir, 'x.extxyz'), '--xtb', '/nonexistent/xtb']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /oreo label: error: .*'\/nonexistent\/xtb' not found/);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/); // no stack trace
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failing calculation stops the run with the frame named, or is left out with skipFailed', { skip: skipUnless('xtb') }, async () => {
  const dir = workDir();
  try {
    const input = firstFrames(dir, 2);
    const output = join(dir, 'out.extxyz');
    const failing = new XtbCalculator({ maxIterations: 2 });
    // Both frames fail, side by side: whichever fails first is named.
    await assert.rejects(labelFile({ input, output, calculator: failing, workers: 2 }), /input\.extxyz, record [01]: .*SCF did not converge/);
    assert.ok(!existsSync(output) && existsSync(partialPath(output)));
    const seen: number[] = [];
    const r = await labelFile({ input, output, calculator: failing, workers: 2, skipFailed: true, onFailure: (i) => seen.push(i) });
    assert.deepEqual(r.failed, [0, 1]);
    assert.deepEqual(seen.sort(), [0, 1]);
    assert.equal(readExtxyzFile(output).length, 0);
    // A rerun with a working calculator fills in the frames that failed.
    const fixed = await labelFile({ input, output, calculator: new XtbCalculator(), workers: 2 });
    assert.equal(fixed.labelled, 2);
    assert.deepEqual(readExtxyzFile(output).map((f) => f.info[INPUT_INDEX_KEY]), [0, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
