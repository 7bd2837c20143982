/**
 * Elementwise unary kernels, one loop per op (a per-element callback would cost a call per value
 * and defeat the JIT's inlining on these hot paths).
 */
import { FloatArray } from './tensor.js';

export enum UnaryOp {
  Neg,
  MulScalar,
  AddScalar,
  Square,
  Exp,
  Log,
  Cos,
  Sin,
  ReciprocalSafe,
  SqrtSafe,
  Sqrt,
  Sigmoid,
  Silu,
  Silu1,
  Silu2,
  Silu3,
}

const sigm = (v: number) => 1 / (1 + Math.exp(-v));

export function applyUnary(op: UnaryOp, x: FloatArray, out: FloatArray, c: number): void {
  const n = x.length;
  switch (op) {
    case UnaryOp.Neg: for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case UnaryOp.MulScalar: for (let i = 0; i < n; i++) out[i] = x[i] * c; return;
    case UnaryOp.AddScalar: for (let i = 0; i < n; i++) out[i] = x[i] + c; return;
    case UnaryOp.Square: for (let i = 0; i < n; i++) out[i] = x[i] * x[i]; return;
    case UnaryOp.Exp: for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case UnaryOp.Log: for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case UnaryOp.Cos: for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]); return;
    case UnaryOp.Sin: for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]); return;
    case UnaryOp.ReciprocalSafe: for (let i = 0; i < n; i++) out[i] = x[i] === 0 ? 0 : 1 / x[i]; return;
    case UnaryOp.SqrtSafe: for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? Math.sqrt(x[i]) : 0; return;
    case UnaryOp.Sqrt: for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case UnaryOp.Sigmoid: for (let i = 0; i < n; i++) out[i] = sigm(x[i]); return;
    case UnaryOp.Silu:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v / (1 + Math.exp(-v));
      }
      return;
    case UnaryOp.Silu1: // d silu/dx = s(1 + x(1 − s))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = sigm(v);
        out[i] = s * (1 + v * (1 - s));
      }
      return;
    case UnaryOp.Silu2: // s(1 − s)(2 + x(1 − 2s))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = sigm(v);
        out[i] = s * (1 - s) * (2 + v * (1 - 2 * s));
      }
      return;
    case UnaryOp.Silu3: // s(1 − s)(3(1 − 2s) + x(1 − 6s(1 − s)))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const s = sigm(v);
        const d = s * (1 - s);
        out[i] = d * (3 * (1 - 2 * s) + v * (1 - 6 * d));
      }
      return;
  }
}
