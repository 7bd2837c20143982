/**
 * torch.nn.LayerNorm over rows of width H (biased variance, eps inside the root), forward and
 * backward, for the fused inference path and, with tangents, for the fused training gradient.
 * Where rows are whole SIMD vectors inside the kernels' memory the inference path runs the WASM
 * twins of the primal functions (assembly/et.ts, et_layer_norm*).
 */
import type { FloatArray } from '../../engine/kernels/index.js';

export const LN_EPS = 1e-5;

/** out = (x − mean)·rstd·weight + bias per row; keeps x̂ and rstd for the backward. */
export function layerNormForward(
  x: FloatArray, weight: FloatArray, bias: FloatArray, N: number, H: number,
  xhat: FloatArray, rstd: Float64Array, out: FloatArray,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * H;
    let m = 0;
    for (let h = 0; h < H; h++) m += x[o + h];
    m /= H;
    let v = 0;
    for (let h = 0; h < H; h++) {
      const d = x[o + h] - m;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / H + LN_EPS);
    rstd[n] = rs;
    for (let h = 0; h < H; h++) {
      const xh = (x[o + h] - m) * rs;
      xhat[o + h] = xh;
      out[o + h] = xh * weight[h] + bias[h];
    }
  }
}

/** Adds the layer norm's input gradient to gx, given the output gradient gy. */
export function layerNormBackward(
  gy: FloatArray, weight: FloatArray, xhat: FloatArray, rstd: Float64Array, N: number, H: number, gx: FloatArray,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * H;
    let m1 = 0, m2 = 0;
    for (let h = 0; h < H; h++) {
      const g = gy[o + h] * weight[h];
      m1 += g;
      m2 += g * xhat[o + h];
    }
    m1 /= H;
    m2 /= H;
    const rs = rstd[n];
    for (let h = 0; h < H; h++) gx[o + h] += rs * (gy[o + h] * weight[h] - m1 - xhat[o + h] * m2);
  }
}

/**
 * The forward on a dual buffer (rows [0, N) primal, [N, 2N) tangent): the primal half as
 * `layerNormForward`, then the tangents of x̂ (into xhat's second half), of rstd (rstd[N + n])
 * and of the output.
 */
export function layerNormForwardDual(x: FloatArray, weight: FloatArray, bias: FloatArray, N: number, H: number, xhat: FloatArray, rstd: Float64Array, out: FloatArray): void {
  layerNormForward(x, weight, bias, N, H, xhat, rstd, out);
  const T = N * H;
  for (let n = 0; n < N; n++) {
    const o = n * H, rs = rstd[n];
    let mT = 0;
    for (let h = 0; h < H; h++) mT += x[T + o + h];
    mT /= H;
    // ẋ̂ = rstd·(ẋ − mean ẋ) − x̂·mean(x̂·rstd·(ẋ − mean ẋ))
    let mxa = 0;
    for (let h = 0; h < H; h++) mxa += xhat[o + h] * rs * (x[T + o + h] - mT);
    mxa /= H;
    rstd[N + n] = -rs * mxa;
    for (let h = 0; h < H; h++) {
      const xhT = rs * (x[T + o + h] - mT) - xhat[o + h] * mxa;
      xhat[T + o + h] = xhT;
      out[T + o + h] = xhT * weight[h];
    }
  }
}

/**
 * The backward on dual buffers: adds to gx (both halves, the primal half as
 * `layerNormBackward`) and to the tangents of the weight and bias adjoints, pW and pB.
 */
export function layerNormBackwardDual(gy: FloatArray, weight: FloatArray, xhat: FloatArray, rstd: Float64Array, N: number, H: number, gx: FloatArray, pW: FloatArray, pB: FloatArray): void {
  const T = N * H;
  for (let n = 0; n < N; n++) {
    const o = n * H;
    let m1 = 0, m2 = 0, m1T = 0, m2T = 0;
    for (let h = 0; h < H; h++) {
      const g = gy[o + h] * weight[h], gT = gy[T + o + h] * weight[h];
      const xh = xhat[o + h], xhT = xhat[T + o + h];
      m1 += g;
      m2 += g * xh;
      m1T += gT;
      m2T += gT * xh + g * xhT;
      pW[h] += gy[T + o + h] * xh + gy[o + h] * xhT;
      pB[h] += gy[T + o + h];
    }
    m1 /= H;
    m2 /= H;
    m1T /= H;
    m2T /= H;
    const rs = rstd[n], rsT = rstd[N + n];
    for (let h = 0; h < H; h++) {
      const g = gy[o + h] * weight[h], gT = gy[T + o + h] * weight[h];
      const xh = xhat[o + h], xhT = xhat[T + o + h];
      const inner = g - m1 - xh * m2;
      gx[o + h] += rs * inner;
      gx[T + o + h] += rsT * inner + rs * (gT - m1T - xhT * m2 - xh * m2T);
    }
  }
}
