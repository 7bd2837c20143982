import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatherRows, scatterAddRows, setKernelBackend, silu, siluJs } from '../../src/engine/kernels/index.js';
import { expNegative } from '../../src/engine/kernels/silu.js';
import { wasmKernels } from '../../src/engine/kernels/wasm.js';

// Inputs across every branch: both signs, zero and −0, tiny, near the reduction boundaries,
// past the clamp (|x| > 708), plus a dense sweep of the range where SiLU bends.
function inputs(): Float64Array {
  const special = [0, -0, 1e-300, -1e-300, 1e-8, -1e-8, 0.5, -0.5, 0.34657359, -0.34657359, 1, -1, 20, -20, 87.5, -87.5, 700, -700, 708.4, -708.4, 750, -750, 1e6, -1e6];
  const out = new Float64Array(special.length + 2001);
  out.set(special);
  for (let i = 0; i <= 2000; i++) out[special.length + i] = -25 + i * 0.025 + 1e-4 * Math.sin(i);
  return out;
}

function sigmoidRef(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

test('polynomial e^−a agrees with Math.exp to a few ulp over the whole range', () => {
  for (let a = 0; a < 708; a += 0.0371) {
    const rel = Math.abs(expNegative(a) / Math.exp(-a) - 1);
    assert.ok(rel < 1e-15, `a=${a}: relative error ${rel}`);
  }
});

test('siluJs and its derivatives match the closed forms built on Math.exp', () => {
  const x = inputs();
  const n = x.length;
  const y = new Float64Array(n), d1 = new Float64Array(n), d2 = new Float64Array(n);
  siluJs(x, y, d1, d2);
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const s = sigmoidRef(v);
    const want = [v * s, s + v * s * (1 - s), s * (1 - s) * (2 + v * (1 - 2 * s))];
    const got = [y[i], d1[i], d2[i]];
    for (let m = 0; m < 3; m++) {
      const err = Math.abs(got[m] - want[m]);
      assert.ok(err <= 1e-14 * Math.max(1, Math.abs(want[m])) + 1e-300, `x=${v} output ${m}: ${got[m]} vs ${want[m]}`);
    }
  }
});

test('the SiLU derivatives are the slopes of SiLU and of its derivative (central differences)', () => {
  const h = 1e-5;
  for (let v = -12; v <= 12; v += 0.37) {
    const at = new Float64Array([v - h, v, v + h]);
    const y = new Float64Array(3), d1 = new Float64Array(3), d2 = new Float64Array(3);
    siluJs(at, y, d1, d2);
    assert.ok(Math.abs((y[2] - y[0]) / (2 * h) - d1[1]) < 1e-8, `silu′ at ${v}`);
    assert.ok(Math.abs((d1[2] - d1[0]) / (2 * h) - d2[1]) < 1e-8, `silu″ at ${v}`);
  }
});

test('WASM SiLU gives bit-identical float64 results to the TypeScript twin', () => {
  const w = wasmKernels();
  assert.ok(w);
  const x = inputs();
  const n = x.length;
  for (const count of [n, n - 1, 1, 3]) {
    const outs = [0, 1, 2].map(() => new Float64Array(n).fill(-7));
    const ref = [0, 1, 2].map(() => new Float64Array(n).fill(-7));
    w.silu(x, outs[0], outs[1], outs[2], count);
    siluJs(x, ref[0], ref[1], ref[2], count);
    for (let m = 0; m < 3; m++) {
      for (let i = 0; i < n; i++) {
        assert.ok(Object.is(outs[m][i], ref[m][i]), `count=${count} output ${m} x=${x[i]}: ${outs[m][i]} vs ${ref[m][i]}`);
      }
    }
  }
});

test('WASM SiLU in float32 agrees with the float64 values to float32 rounding', () => {
  const w = wasmKernels();
  assert.ok(w);
  const x64 = inputs().map((v) => Math.fround(Math.max(-1e30, Math.min(1e30, v))));
  const x32 = Float32Array.from(x64);
  const n = x32.length;
  const got = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const want = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  w.silu(x32, got[0], got[1], got[2], n);
  siluJs(x64, want[0], want[1], want[2]);
  for (let m = 0; m < 3; m++) {
    for (let i = 0; i < n; i++) {
      const tol = 6e-7 * Math.max(1, Math.abs(want[m][i]));
      assert.ok(Math.abs(got[m][i] - want[m][i]) <= tol, `output ${m} x=${x32[i]}: ${got[m][i]} vs ${want[m][i]}`);
    }
  }
});

test('silu dispatcher: skipped outputs, y aliasing x, every backend, mixed dtypes', () => {
  const x = inputs();
  const want = new Float64Array(x.length);
  siluJs(x, want, null, null);
  for (const b of ['js', 'wasm', 'auto'] as const) {
    setKernelBackend(b);
    const inPlace = x.slice();
    silu(inPlace, inPlace);
    assert.deepEqual(inPlace, want);
    const d2 = new Float64Array(x.length);
    silu(x, null, null, d2);
    const ref = new Float64Array(x.length);
    siluJs(x, null, null, ref);
    assert.deepEqual(d2, ref);
    const y32 = new Float32Array(x.length);
    silu(x, y32);
    for (let i = 0; i < x.length; i++) assert.equal(y32[i], Math.fround(want[i]));
  }
  setKernelBackend('auto');
});

test('gatherRows and scatterAddRows on a worked example', () => {
  const x = new Float64Array([1, 2, 3, 4, 5, 6]);
  const out = new Float64Array(6);
  gatherRows(x, 2, new Int32Array([2, 0, 2]), out);
  assert.deepEqual(Array.from(out), [5, 6, 1, 2, 5, 6]);
  const acc = new Float32Array([10, 20, 0, 0]);
  scatterAddRows(new Float32Array([1, 1, 2, 2, 4, 4]), 2, new Uint32Array([1, 1, 0]), acc);
  assert.deepEqual(Array.from(acc), [14, 24, 3, 3]);
});

test('scatter-add is the adjoint of gather: <gather(x), g> = <x, scatterAdd(g)>', () => {
  // 7 columns: the unrolled loop plus a remainder; 40: gather's whole-row copy path.
  for (const cols of [7, 40]) {
    const rows = 21, E = 333;
    const idx = new Int32Array(E);
    for (let e = 0; e < E; e++) idx[e] = (e * 7919) % rows;
    const x = new Float64Array(rows * cols).map((_, i) => Math.sin(i));
    const g = new Float64Array(E * cols).map((_, i) => Math.cos(i * 0.3));
    const gx = new Float64Array(E * cols);
    gatherRows(x, cols, idx, gx);
    for (let e = 0; e < E; e += 50) assert.equal(gx[e * cols + cols - 1], x[idx[e] * cols + cols - 1]);
    const sg = new Float64Array(rows * cols);
    scatterAddRows(g, cols, idx, sg);
    let lhs = 0, rhs = 0;
    for (let i = 0; i < gx.length; i++) lhs += gx[i] * g[i];
    for (let i = 0; i < x.length; i++) rhs += x[i] * sg[i];
    assert.ok(Math.abs(lhs - rhs) < 1e-10 * Math.abs(lhs), `cols=${cols}: ${lhs} vs ${rhs}`);
  }
});

test('row kernels reject an index outside the table instead of reading NaN', () => {
  const x = new Float64Array(6);
  assert.throws(() => gatherRows(x, 2, new Int32Array([0, 3]), new Float64Array(4)), /gatherRows: index 1 is 3, outside 0 … 2/);
  assert.throws(() => scatterAddRows(new Float64Array(4), 2, new Int32Array([-1, 0]), x), /scatterAddRows: index 0 is -1/);
});
