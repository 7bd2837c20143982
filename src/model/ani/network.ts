/**
 * One element's atomic network of one ensemble member, ready for the engine's matrix kernels:
 * y = act(W x + b) layer by layer on a block of atoms (rows), and the backward sweep that turns
 * ∂E/∂(atomic energy) into ∂E/∂(input AEV). Weights are packed once (src/engine/kernels
 * PackedMatrix) in both orientations the two sweeps need.
 */
import { PackedMatrix, gemmPacked, type FloatArray } from '../../engine/kernels/index.js';
import type { ElementNetwork, LayerSpec } from './types.js';

export type NetDType = 'float32' | 'float64';

function alloc(dtype: NetDType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

export class PackedNetwork {
  readonly layers: LayerSpec[];
  /** op(B) = Wᵀ (in × out): forward products x·Wᵀ. */
  private readonly forwardW: PackedMatrix[];
  /** op(B) = W (out × in): backward products δ·W. */
  private readonly backwardW: PackedMatrix[];
  private readonly biases: FloatArray[];
  // Per-layer activations' derivatives and outputs, grown to the largest block seen.
  private rows = 0;
  private z: FloatArray[] = [];
  private dact: FloatArray[] = [];
  private delta: FloatArray[] = [];

  constructor(net: ElementNetwork, readonly dtype: NetDType) {
    this.layers = net.layers;
    const cast = (a: Float32Array) => (dtype === 'float32' ? a : Float64Array.from(a));
    this.forwardW = net.layers.map((l, k) => new PackedMatrix(true, l.in, l.out, cast(net.weights[k])));
    this.backwardW = net.layers.map((l, k) => new PackedMatrix(false, l.out, l.in, cast(net.weights[k])));
    this.biases = net.biases.map(cast);
  }

  private ensure(rows: number): void {
    if (rows <= this.rows) return;
    this.rows = Math.max(rows, 2 * this.rows);
    this.z = this.layers.map((l) => alloc(this.dtype, this.rows * l.out));
    this.dact = this.layers.map((l) => alloc(this.dtype, this.rows * l.out));
    this.delta = this.layers.map((l) => alloc(this.dtype, this.rows * l.out));
  }

  /**
   * Atomic energies of `rows` atoms whose inputs are x[rows × in] into energies[rows]; keeps what
   * `backward` needs.
   */
  forward(x: FloatArray, rows: number, energies: Float64Array): void {
    this.ensure(rows);
    let input = x;
    this.layers.forEach((l, k) => {
      const z = this.z[k], d = this.dact[k], b = this.biases[k];
      gemmPacked(false, rows, l.out, l.in, input, this.forwardW[k], z, false);
      const n = rows * l.out;
      for (let r = 0, i = 0; r < rows; r++) for (let j = 0; j < l.out; j++, i++) z[i] += b[j];
      if (l.activation === 'celu') {
        // CELU(x) = x for x > 0, α(exp(x/α) − 1) otherwise; derivative 1 or exp(x/α).
        const alpha = l.alpha ?? 1;
        for (let i = 0; i < n; i++) {
          const v = z[i];
          if (v > 0) d[i] = 1;
          else {
            const e = Math.exp(v / alpha);
            z[i] = alpha * (e - 1);
            d[i] = e;
          }
        }
      } else if (l.activation === 'gaussian') {
        for (let i = 0; i < n; i++) {
          const v = z[i];
          const e = Math.exp(-v * v);
          z[i] = e;
          d[i] = -2 * v * e;
        }
      } else {
        d.fill(1, 0, n);
      }
      input = z;
    });
    for (let r = 0; r < rows; r++) energies[r] = input[r];
  }

  /**
   * With `scale` = ∂E/∂(atomic energy) (the same for every atom), write or add (accumulate)
   * ∂E/∂x[rows × in] into dx: the input gradient of the last `forward`.
   */
  backward(rows: number, scale: number, dx: FloatArray, accumulate: boolean): void {
    const L = this.layers.length;
    // δ_k = ∂E/∂z_k (pre-activation of layer k, width out_k): δ_top = scale·act'(z_top), then
    // δ_{k−1} = (δ_k·W_k) ⊙ act'(z_{k−1}).
    const top = this.delta[L - 1], dTop = this.dact[L - 1];
    for (let i = 0; i < rows * this.layers[L - 1].out; i++) top[i] = scale * dTop[i];
    let delta = top;
    for (let k = L - 1; k >= 1; k--) {
      const l = this.layers[k];
      const below = this.delta[k - 1];
      gemmPacked(false, rows, l.in, l.out, delta, this.backwardW[k], below, false);
      const d = this.dact[k - 1];
      const n = rows * l.in;
      for (let i = 0; i < n; i++) below[i] *= d[i];
      delta = below;
    }
    const first = this.layers[0];
    gemmPacked(false, rows, first.in, first.out, delta, this.backwardW[0], dx, accumulate);
  }

  dispose(): void {
    this.forwardW.forEach((w) => w.dispose());
    this.backwardW.forEach((w) => w.dispose());
  }
}
