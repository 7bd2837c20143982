// Shared test helpers for the model tests: fixtures and geometry utilities.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir } from '../paths.js';
import { grad, type Tensor } from '../../src/engine/index.js';
import { centralDifference } from '../../src/engine/gradcheck.js';

export interface FixtureCase {
  source: string;
  frame: number;
  z: number[];
  pos: number[][];
  energy: number;
  forces: number[][];
}

export interface Fixture {
  hyper_parameters: Record<string, unknown>;
  mean: number;
  std: number;
  n_params: number;
  cases: FixtureCase[];
}

export function torchmdnetFixture(name: string): { ckpt: string; data: Fixture } {
  const dir = join(fixturesDir, 'torchmdnet', name);
  return { ckpt: join(dir, 'model.ckpt'), data: JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) };
}

/** Rotation matrix (row-major 3×3) from a unit quaternion built from three angles. */
export function rotation(a: number, b: number, c: number): number[] {
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)];
  const rz = [ca, -sa, 0, sa, ca, 0, 0, 0, 1];
  const ry = [cb, 0, sb, 0, 1, 0, -sb, 0, cb];
  const rx = [1, 0, 0, 0, cc, -sc, 0, sc, cc];
  const mm = (p: number[], q: number[]) => {
    const r = new Array(9).fill(0);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[3 * i + j] += p[3 * i + k] * q[3 * k + j];
    return r;
  };
  return mm(rz, mm(ry, rx));
}

export function applyRotation(R: number[], v: ArrayLike<number>, shift = [0, 0, 0]): Float64Array {
  const out = new Float64Array(v.length);
  for (let a = 0; a < v.length; a += 3) {
    for (let i = 0; i < 3; i++) out[a + i] = R[3 * i] * v[a] + R[3 * i + 1] * v[a + 1] + R[3 * i + 2] * v[a + 2] + shift[i];
  }
  return out;
}

/**
 * For each chosen entry of each parameter: the analytic gradient (engine `grad` of `lossTensor()`)
 * beside the central finite difference of `lossValue()` with step h. Gradients are switched on
 * for the analytic pass only.
 */
export function parameterGradientPairs(
  params: [string, Tensor][],
  lossTensor: () => Tensor,
  lossValue: () => number,
  entries: (t: Tensor, k: number) => number[],
  h = 1e-6,
): { name: string; i: number; analytic: number; fd: number }[] {
  for (const [, t] of params) t.requiresGrad = true;
  const g = grad(lossTensor(), params.map(([, t]) => t), { allowUnused: true });
  for (const [, t] of params) t.requiresGrad = false;
  const out: { name: string; i: number; analytic: number; fd: number }[] = [];
  params.forEach(([name, t], k) => {
    for (const i of entries(t, k)) out.push({ name, i, analytic: g[k]?.data[i] ?? 0, fd: centralDifference(lossValue, t, i, h) });
  });
  return out;
}

/**
 * Two molecules in one batch (a water dimer, then a methanol-like C/O/H cluster) with pairs near
 * and far from each other: the training-gradient tests' batch.
 */
export const dimerAndCluster = {
  z: Int32Array.from([8, 1, 1, 8, 1, 1, 6, 8, 1, 1, 1, 1]),
  positions: Float64Array.from([
    0, 0, 0, 0.96, 0.05, 0, -0.25, 0.93, 0.1,
    2.9, 0.1, 0.2, 3.3, 0.9, -0.1, 3.5, -0.6, 0.3,
    10, 0, 0, 11.4, 0.1, -0.05, 9.6, 1.0, 0.1, 9.7, -0.5, 0.9, 9.65, -0.55, -0.85, 11.7, 0.95, 0.2,
  ]),
  mol: Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
  nMol: 2,
};
