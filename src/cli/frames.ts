/**
 * Frame selections on the command line: "0", "0,3,7", "10-20" (inclusive), "0:100:10" (Python
 * slice, end exclusive), or combinations separated by commas.
 */
import { OreoError } from '../errors.js';

export function parseFrameList(spec: string, count: number, what = '--frames'): number[] {
  const out: number[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const bad = (why: string) => new OreoError(`${what} '${part}': ${why}`);
    const toInt = (s: string, fallback: number) => {
      if (s === '') return fallback;
      const v = Number(s);
      if (!Number.isInteger(v)) throw bad(`'${s}' is not an integer`);
      return v < 0 ? count + v : v;
    };
    if (part.includes(':')) {
      const [a, b, c] = part.split(':');
      const step = toInt(c ?? '', 1);
      if (step <= 0) throw bad('step must be positive');
      for (let i = toInt(a, 0); i < Math.min(toInt(b ?? '', count), count); i += step) out.push(i);
    } else if (/^\d+-\d+$/.test(part)) {
      const [a, b] = part.split('-').map(Number);
      if (b < a) throw bad('range end before start');
      for (let i = a; i <= b; i++) out.push(i);
    } else {
      out.push(toInt(part, 0));
    }
  }
  for (const i of out) {
    if (i < 0 || i >= count) throw new OreoError(`${what}: frame ${i} does not exist (the input has ${count} frames, 0..${count - 1})`);
  }
  return out;
}

/**
 * How many leading frames a selection needs, when that is known without the file's length (only
 * non-negative indices, ranges and slices with an end): a reader can then stop there instead of
 * reading, say, a million frames for `--frames 0`. Null when the selection needs the length.
 */
export function framesNeeded(spec: string): number | null {
  let need = 0;
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    let last: number;
    if (part.includes(':')) {
      const [a, b] = part.split(':');
      if (!/^\d+$/.test(b ?? '') || (a !== '' && !/^\d+$/.test(a))) return null;
      last = Number(b) - 1;
    } else if (/^\d+-\d+$/.test(part)) last = Number(part.split('-')[1]);
    else if (/^\d+$/.test(part)) last = Number(part);
    else return null;
    need = Math.max(need, last + 1);
  }
  return need;
}
