// Every primitive op (and the composites the ET uses): first and second derivatives against
// central finite differences in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../../src/engine/tensor.js';
import * as E from '../../src/engine/index.js';
import { checkGradient, checkSecondGradient } from '../../src/engine/gradcheck.js';

function rand(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 48271) + 12345) >>> 0;
    d[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return new Tensor(d, shape, true);
}

const idx = Int32Array.from([2, 0, 1, 2, 2, 3]);

const cases: [string, (x: Tensor[]) => Tensor, () => Tensor[]][] = [
  ['add (broadcast)', ([a, b]) => E.add(a, b), () => [rand([3, 4], 1), rand([4], 2)]],
  ['sub (broadcast)', ([a, b]) => E.sub(a, b), () => [rand([3, 1], 3), rand([3, 4], 4)]],
  ['mul (broadcast)', ([a, b]) => E.mul(a, b), () => [rand([2, 3, 4], 5), rand([2, 1, 4], 6)]],
  ['div', ([a, b]) => E.div(a, b), () => [rand([3, 4], 7), rand([3, 4], 8, 0.5, 2)]],
  ['mul (self)', ([a]) => E.mul(a, a), () => [rand([5], 9)]],
  ['neg', ([a]) => E.neg(a), () => [rand([5], 10)]],
  ['mulScalar/addScalar', ([a]) => E.addScalar(E.mulScalar(a, 3), 2), () => [rand([5], 11)]],
  ['square', ([a]) => E.square(a), () => [rand([5], 12)]],
  ['exp', ([a]) => E.exp(a), () => [rand([6], 13)]],
  ['log', ([a]) => E.log(a), () => [rand([6], 14, 0.5, 3)]],
  ['cos', ([a]) => E.cos(a), () => [rand([6], 15, -3, 3)]],
  ['sin', ([a]) => E.sin(a), () => [rand([6], 16, -3, 3)]],
  ['sqrt', ([a]) => E.sqrt(a), () => [rand([6], 17, 0.5, 3)]],
  ['sqrtSafe', ([a]) => E.sqrtSafe(a), () => [rand([6], 18, 0.5, 3)]],
  ['reciprocalSafe', ([a]) => E.reciprocalSafe(a), () => [rand([6], 19, 0.5, 3)]],
  ['sigmoid', ([a]) => E.sigmoid(a), () => [rand([6], 20, -4, 4)]],
  ['silu', ([a]) => E.silu(a), () => [rand([8], 21, -5, 5)]],
  ['siluGrad', ([a]) => E.siluGrad(a), () => [rand([8], 22, -5, 5)]],
  ['sum axis 0', ([a]) => E.sum(a, 0), () => [rand([3, 4], 23)]],
  ['sum axis -1 keep', ([a]) => E.sum(a, -1, true), () => [rand([2, 3, 4], 24)]],
  ['sumAll', ([a]) => E.mul(E.sumAll(a), E.sumAll(a)), () => [rand([3, 2], 25)]],
  ['reshape', ([a]) => E.mul(E.reshape(a, [6, 2]), E.reshape(a, [6, 2])), () => [rand([3, 4], 26)]],
  ['permute', ([a]) => E.mul(E.permute(a, [2, 0, 1]), E.permute(a, [2, 0, 1])), () => [rand([2, 3, 4], 27)]],
  ['narrow/padAxis', ([a]) => E.square(E.narrow(a, 1, 1, 2)), () => [rand([3, 4], 28)]],
  ['split', ([a]) => { const [p, q] = E.split(a, 2, -1); return E.mul(p, q); }, () => [rand([3, 4], 29)]],
  ['concat', ([a, b]) => E.square(E.concat([a, b], 1)), () => [rand([2, 3], 30), rand([2, 1], 31)]],
  ['broadcastTo', ([a]) => E.square(E.broadcastTo(a, [3, 4])), () => [rand([1, 4], 32)]],
  ['gather', ([a]) => E.square(E.gather(a, idx)), () => [rand([4, 3], 33)]],
  ['scatterAdd', ([a]) => E.square(E.scatterAdd(a, idx, 5)), () => [rand([6, 2], 34)]],
  ['matmul', ([a, b]) => E.square(E.matmul(a, b)), () => [rand([3, 4], 35), rand([4, 2], 36)]],
  ['matmul Aᵀ', ([a, b]) => E.square(E.matmul(a, b, true, false)), () => [rand([4, 3], 37), rand([4, 2], 38)]],
  ['matmul Bᵀ', ([a, b]) => E.square(E.matmul(a, b, false, true)), () => [rand([3, 4], 39), rand([2, 4], 40)]],
  ['matmul AᵀBᵀ', ([a, b]) => E.square(E.matmul(a, b, true, true)), () => [rand([4, 3], 41), rand([2, 4], 42)]],
  ['linear', ([x, w, b]) => E.silu(E.linear(x, w, b)), () => [rand([2, 3, 4], 43), rand([5, 4], 44), rand([5], 45)]],
  ['layerNorm', ([x, w, b]) => E.square(E.layerNorm(x, w, b)), () => [rand([3, 5], 46, -2, 2), rand([5], 47), rand([5], 48)]],
];

for (const [name, f, make] of cases) {
  test(`${name}: first derivative matches finite differences`, () => {
    const r = checkGradient(f, make());
    assert.ok(r.maxError < 1e-7, `max error ${r.maxError} at ${JSON.stringify(r.worst)}`);
  });
  test(`${name}: second derivative matches finite differences`, () => {
    const r = checkSecondGradient(f, make());
    assert.ok(r.maxError < 1e-6, `max error ${r.maxError} at ${JSON.stringify(r.worst)}`);
  });
}

test('noGrad records nothing; grad without createGraph returns plain tensors', () => {
  const [a] = [rand([3], 50)];
  const y = E.noGrad(() => E.exp(a));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const [g] = E.grad(E.sumAll(E.exp(a)), [a]);
  assert.ok(g);
  assert.equal(g!.requiresGrad, false);
});

test('zero-vector norm has a zero (not NaN) gradient', () => {
  const v = new Tensor(new Float64Array([0, 0, 0, 3, 4, 0]), [2, 3], true);
  const n = E.sqrtSafe(E.sum(E.square(v), 1));
  assert.deepEqual([...n.data], [0, 5]);
  const [g] = E.grad(E.sumAll(n), [v]);
  const expected = [0, 0, 0, 0.6, 0.8, 0];
  g!.data.forEach((x, i) => assert.ok(Math.abs(x - expected[i]) < 1e-15, `component ${i}: ${x}`));
});

test('float32 and float64 tensors are not mixed silently', () => {
  const a = new Tensor(new Float32Array(2), [2]);
  const b = new Tensor(new Float64Array(2), [2]);
  assert.throws(() => E.add(a, b), /mixing float32 and float64/);
});
