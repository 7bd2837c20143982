/**
 * Energy and forces of the Equivariant Transformer without the autodiff engine: the forward pass
 * and a hand-derived reverse pass for ∂E/∂positions only (no parameter gradients, no graph), on
 * typed arrays in the model's dtype, with every work buffer kept between calls. It computes the
 * same function as `energies` in ../et.ts (checked against it by test/model/fast.test.ts); MD
 * uses it through `Potential.asCalculator()`.
 *
 * What makes it fast, besides having no tape:
 * - every linear layer is one matrix product over all rows (atoms, 3·atoms or pairs) through the
 *   engine's gemm; q/k/v share one product, and the distance filters of all layers one more;
 * - the distance filters depend on r only, so they are computed once per unordered pair and
 *   shared by its two directed edges, and the self-loops' filters (r = 0) once per model;
 * - gather → filter → attention → message → scatter run as fused loops over pairs, both
 *   directions at once, forward and backward;
 * - the filter gradients of all layers are collected and pulled back to r in one product.
 *
 * Notation: N atoms, P pairs (a < b), H features, R radial functions, L layers. Edge e1 of a
 * pair runs b → a (d = +u, u = (r_b − r_a)/r), edge e2 runs a → b (d = −u); self-loops follow.
 */
import { gemm, type FloatArray } from '../../engine/kernels/index.js';
import { allocate, type DType } from '../../engine/index.js';
import { OreoError } from '../../errors.js';
import type { ETConfig } from '../config.js';
import type { Potential } from '../potential.js';
import { checkAtomicNumbers } from '../et.js';
import { PairList } from './pair-list.js';
import { packWeights, type FastWeights } from './weights.js';
import { siluWithDerivative } from './activations.js';

export interface FastResult {
  /** Energy of each molecule [nMol], eV for a physical model. */
  energy: Float64Array;
  /** Forces −∂E/∂r, flat [N·3], eV/Å. */
  forces: Float64Array;
}

const LN_EPS = 1e-5;

/** Growable buffers: `need(n)` returns an array of at least n elements, reallocating (with
 * headroom) only when n exceeds what it holds. Contents are not preserved on growth. */
class Buffer {
  data: FloatArray;
  constructor(private readonly dtype: DType) {
    this.data = allocate(dtype, 0);
  }
  need(n: number): FloatArray {
    if (this.data.length < n) this.data = allocate(this.dtype, Math.ceil(n * 1.25));
    return this.data;
  }
}

class Buffer64 {
  data = new Float64Array(0);
  need(n: number): Float64Array {
    if (this.data.length < n) this.data = new Float64Array(Math.ceil(n * 1.25));
    return this.data;
  }
}

/** Per-layer activations kept from the forward pass for the reverse pass. */
interface LayerState {
  /** Normalised input (before the affine part of the layer norm) [N·H] and 1/σ [N]. */
  xhat: Buffer;
  rstd: Buffer64;
  /** q | k | v per atom [N·5H]. */
  qkv: Buffer;
  /** vec_proj output [3N·3H] (vec1 | vec2 | vec3), unused for layer 0 (vec = 0 there). */
  vp: Buffer;
  /** Σ_xyz vec1·vec2 [N·H]. */
  vdot: Buffer;
  /** o_proj output [N·3H]. */
  o: Buffer;
  /** silu of the attention logits and its derivative [edges·heads]. */
  attn: Buffer;
  attnDer: Buffer;
  /** Vector features entering this layer [3N·H]. */
  vecIn: Buffer;
}

export class FastEnergyForces {
  readonly config: ETConfig;
  readonly dtype: DType;
  private w: FastWeights;
  private readonly pairs = new PairList();

  // Geometry, per pair (float64: cheap, and the force assembly wants it).
  private r = new Buffer64();
  private u = new Buffer64();
  private cut = new Buffer64();
  private cutDer = new Buffer64();
  private rbfDer = new Buffer64();
  private rbf: Buffer;
  // Distance filters of all layers [P·cols]: silu and silu′ of the pre-activations.
  private filt: Buffer;
  private filtDer: Buffer;
  private nbrPre: Buffer;
  // Per-atom state.
  private x: Buffer;
  private xn: Buffer;
  private cat: Buffer;
  private dx: Buffer;
  private readonly layers: LayerState[];
  private vecOut: Buffer;
  // Head.
  private hXhat: Buffer;
  private hRstd = new Buffer64();
  private hXo: Buffer;
  private hV12: Buffer;
  private hU0: Buffer;
  private hH0: Buffer;
  private hH0Der: Buffer;
  private hH1: Buffer;
  private hXb: Buffer;
  private hXbDer: Buffer;
  private hVecb: Buffer;
  private hV1b: Buffer;
  private hU0b: Buffer;
  private hH0b: Buffer;
  private hH0bDer: Buffer;
  // Reverse pass.
  private gx: Buffer;
  private gvecA: Buffer;
  private gvecB: Buffer;
  private go: Buffer;
  private gvp: Buffer;
  private gdx: Buffer;
  private gqkv: Buffer;
  private gxn: Buffer;
  private gFilt: Buffer;
  private gNbr: Buffer;
  private gRbf: Buffer;
  private gCut = new Buffer64();
  private gU = new Buffer64();
  private gh: Buffer;
  private gh2: Buffer;
  private gu: Buffer;
  private gv: Buffer;
  private gv2: Buffer;
  private molCount = new Float64Array(0);
  private zeroMol: Int32Array = new Int32Array(0);
  private lastMol: Int32Array = new Int32Array(0);

  constructor(readonly potential: Potential) {
    this.config = potential.config;
    this.dtype = potential.dtype;
    const cfg = this.config;
    if (cfg.cutoff_lower !== 0) throw new OreoError(`cutoff_lower=${cfg.cutoff_lower} is not supported`);
    this.w = packWeights(cfg, potential.params, this.dtype);
    const B = () => new Buffer(this.dtype);
    this.rbf = B();
    this.filt = B();
    this.filtDer = B();
    this.nbrPre = B();
    this.x = B();
    this.xn = B();
    this.cat = B();
    this.dx = B();
    this.layers = [];
    for (let l = 0; l < cfg.num_layers; l++) {
      this.layers.push({
        xhat: B(), rstd: new Buffer64(), qkv: B(), vp: B(), vdot: B(), o: B(), attn: B(), attnDer: B(), vecIn: B(),
      });
    }
    this.vecOut = B();
    this.hXhat = B();
    this.hXo = B();
    this.hV12 = B();
    this.hU0 = B();
    this.hH0 = B();
    this.hH0Der = B();
    this.hH1 = B();
    this.hXb = B();
    this.hXbDer = B();
    this.hVecb = B();
    this.hV1b = B();
    this.hU0b = B();
    this.hH0b = B();
    this.hH0bDer = B();
    this.gx = B();
    this.gvecA = B();
    this.gvecB = B();
    this.go = B();
    this.gvp = B();
    this.gdx = B();
    this.gqkv = B();
    this.gxn = B();
    this.gFilt = B();
    this.gNbr = B();
    this.gRbf = B();
    this.gh = B();
    this.gh2 = B();
    this.gu = B();
    this.gv = B();
    this.gv2 = B();
  }

  /** Re-read the potential's parameters (after training changed them in place). */
  refresh(): void {
    this.w = packWeights(this.config, this.potential.params, this.dtype);
  }

  /**
   * Energies [nMol] and forces [N·3] for atoms z at flat positions (Å). `mol` groups atoms into
   * molecules (non-decreasing, as for Potential.predict); without it all atoms are one molecule.
   * The returned arrays are fresh; everything else is reused by the next call.
   */
  compute(z: Int32Array, positions: ArrayLike<number>, mol?: Int32Array, nMol?: number): FastResult {
    const N = z.length;
    if (positions.length !== 3 * N) throw new OreoError(`${N} atoms need ${3 * N} coordinates, got ${positions.length}`);
    for (let i = 0; i < positions.length; i++) {
      if (!Number.isFinite(positions[i])) {
        throw new OreoError(`atom ${Math.floor(i / 3)} has a non-finite coordinate (${positions[i]})`);
      }
    }
    checkAtomicNumbers(z, this.config);
    if (!mol) {
      if (this.zeroMol.length < N) this.zeroMol = new Int32Array(N);
      mol = this.zeroMol;
    } else if (mol.length !== N) {
      throw new OreoError(`molecule index has ${mol.length} entries for ${N} atoms`);
    }
    const M = nMol ?? (N > 0 ? mol[N - 1] + 1 : 0);
    for (let i = 0; i < N; i++) {
      if (!(mol[i] >= 0 && mol[i] < M)) throw new OreoError(`atom ${i} has molecule index ${mol[i]}, outside 0..${M - 1}`);
    }
    const energy = new Float64Array(M);
    const forces = new Float64Array(3 * N);
    if (N === 0) {
      energy.fill(this.w.mean);
      return { energy, forces };
    }
    this.lastMol = mol;
    this.pairs.find(positions, mol, N, this.config.cutoff_upper);
    const P = this.pairs.count;
    this.gCut.need(P).fill(0, 0, P);
    this.gU.need(3 * P).fill(0, 0, 3 * P);
    this.gFilt.need(P * this.w.filterBias.length);
    this.geometry(positions);
    this.filters();
    this.embed(z);
    for (let l = 0; l < this.config.num_layers; l++) this.layerForward(l, N);
    this.headForward(z, mol, M, energy);
    this.headBackward(N);
    for (let l = this.config.num_layers - 1; l >= 0; l--) this.layerBackward(l, N);
    this.embedBackward(z, N);
    this.assembleForces(forces);
    return { energy, forces };
  }

  // -------------------------------------------------------------------------------------------
  // Forward

  /** r, u, cosine cutoff, the radial basis and their r-derivatives, per pair. */
  private geometry(pos: ArrayLike<number>): void {
    const P = this.pairs.count;
    const R = this.config.num_rbf;
    const rc = this.config.cutoff_upper;
    const alpha = 5 / rc;
    const { means, betas } = this.w;
    const pa = this.pairs.a, pb = this.pairs.b;
    const r = this.r.need(P), u = this.u.need(3 * P), cut = this.cut.need(P), cutDer = this.cutDer.need(P);
    const f = this.rbf.need(P * R), fd = this.rbfDer.need(P * R);
    const dt = this.dtype === 'float32';
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p];
      let dx = pos[3 * b] - pos[3 * a], dy = pos[3 * b + 1] - pos[3 * a + 1], dz = pos[3 * b + 2] - pos[3 * a + 2];
      if (dt) {
        // The model sees positions in its own precision.
        dx = Math.fround(Math.fround(pos[3 * b]) - Math.fround(pos[3 * a]));
        dy = Math.fround(Math.fround(pos[3 * b + 1]) - Math.fround(pos[3 * a + 1]));
        dz = Math.fround(Math.fround(pos[3 * b + 2]) - Math.fround(pos[3 * a + 2]));
      }
      const rr = Math.sqrt(dx * dx + dy * dy + dz * dz);
      r[p] = rr;
      u[3 * p] = dx / rr;
      u[3 * p + 1] = dy / rr;
      u[3 * p + 2] = dz / rr;
      const arg = (Math.PI * rr) / rc;
      const C = 0.5 * (Math.cos(arg) + 1);
      const dC = (-0.5 * Math.PI * Math.sin(arg)) / rc;
      cut[p] = C;
      cutDer[p] = dC;
      const t = Math.exp(-alpha * rr);
      const dtdr = -alpha * t;
      for (let k = 0; k < R; k++) {
        const diff = t - means[k];
        const g = Math.exp(-betas[k] * diff * diff);
        f[p * R + k] = g * C;
        fd[p * R + k] = g * (C * (-2 * betas[k] * diff * dtdr) + dC);
      }
    }
  }

  /** Distance filters of every layer for every pair: silu(F·Wᵀ + b) and its derivative. */
  private filters(): void {
    const P = this.pairs.count;
    const R = this.config.num_rbf;
    const w = this.w;
    const cols = w.filterBias.length;
    if (cols > 0 && P > 0) {
      const fa = this.filt.need(P * cols);
      const fd = this.filtDer.need(P * cols);
      gemm(false, true, P, cols, R, this.rbf.data, w.filters, fa, false);
      const bias = w.filterBias;
      for (let p = 0; p < P; p++) {
        const o = p * cols;
        for (let c = 0; c < cols; c++) fa[o + c] += bias[c];
      }
      siluWithDerivative(fa, fa, fd, P * cols);
    }
  }

  /** Atom embeddings, plus the neighbour embedding over pairs (no self-loops) when enabled. */
  private embed(z: Int32Array): void {
    const N = z.length;
    const H = this.config.embedding_dimension;
    const R = this.config.num_rbf;
    const P = this.pairs.count;
    const w = this.w;
    const x = this.x.need(N * H);
    const nb = w.neighbor;
    if (!nb) {
      for (let n = 0; n < N; n++) x.set(w.embedding.subarray(z[n] * H, z[n] * H + H), n * H);
      return;
    }
    // cat = [embedding(z) | Σ_j embedding'(z_j)·W(r_ij)·C(r_ij)], then combine.
    const cat = this.cat.need(N * 2 * H);
    cat.fill(0, 0, N * 2 * H);
    for (let n = 0; n < N; n++) cat.set(w.embedding.subarray(z[n] * H, z[n] * H + H), n * 2 * H);
    if (P > 0) {
      const pre = this.nbrPre.need(P * H);
      gemm(false, true, P, H, R, this.rbf.data, nb.distProj, pre, false);
      const bias = nb.distBias, emb = nb.embedding, cut = this.cut.data;
      const pa = this.pairs.a, pb = this.pairs.b;
      for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p], C = cut[p];
        const o = p * H, ea = z[a] * H, eb = z[b] * H, ca = a * 2 * H + H, cb = b * 2 * H + H;
        for (let h = 0; h < H; h++) {
          const v = pre[o + h] + bias[h];
          pre[o + h] = v;
          const wv = v * C;
          cat[ca + h] += emb[eb + h] * wv;
          cat[cb + h] += emb[ea + h] * wv;
        }
      }
    }
    gemm(false, true, N, H, 2 * H, cat, nb.combine, x, false);
    addRowBias(x, nb.combineBias, N, H);
  }

  private layerForward(l: number, N: number): void {
    const cfg = this.config;
    const H = cfg.embedding_dimension, H3 = 3 * H, H5 = 5 * H;
    const heads = cfg.num_heads, hd = H / heads;
    const P = this.pairs.count;
    const EA = 2 * P + N;
    const lw = this.w.layers[l];
    const st = this.layers[l];
    const x = this.x.data;
    const hasVec = l > 0;
    const keys = lw.dkSelf !== null, values = lw.dvSelf !== null;
    const vc = cfg.vector_cutoff;
    const cols = this.w.filterBias.length;
    const dkOff = l * this.w.filterColumnsPerLayer;
    const dvOff = dkOff + (keys ? H : 0);

    // Layer norm, then q | k | v in one product.
    const xhat = st.xhat.need(N * H), rstd = st.rstd.need(N), xn = this.xn.need(N * H);
    layerNormForward(x, lw.lnWeight, lw.lnBias, N, H, xhat, rstd, xn);
    const qkv = st.qkv.need(N * H5);
    gemm(false, true, N, H5, H, xn, lw.qkv, qkv, false);
    addRowBias(qkv, lw.qkvBias, N, H5);

    if (l === 0) {
      const v0 = st.vecIn.need(3 * N * H);
      v0.fill(0, 0, 3 * N * H);
    }
    const vec = st.vecIn.data;
    const vdot = st.vdot.need(N * H);
    let vp = st.vp.data;
    if (hasVec) {
      vp = st.vp.need(3 * N * H3);
      gemm(false, true, 3 * N, H3, H, vec, lw.vecProj, vp, false);
      for (let n = 0; n < N; n++) {
        const r0 = 3 * n * H3;
        for (let h = 0; h < H; h++) {
          vdot[n * H + h] = vp[r0 + h] * vp[r0 + H + h] + vp[r0 + H3 + h] * vp[r0 + H3 + H + h] + vp[r0 + 2 * H3 + h] * vp[r0 + 2 * H3 + H + h];
        }
      }
    } else {
      vdot.fill(0, 0, N * H);
    }

    // Attention logits Σ_head q_i·k_j·dk over pairs (both directions) and self-loops.
    const attn = st.attn.need(EA * heads), attnDer = st.attnDer.need(EA * heads);
    const fa = this.filt.data;
    const pa = this.pairs.a, pb = this.pairs.b;
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p];
      const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H;
      const fo = p * cols + dkOff;
      const e1 = 2 * p * heads, e2 = e1 + heads;
      for (let hh = 0; hh < heads; hh++) {
        let s1 = 0, s2 = 0;
        const c0 = hh * hd;
        if (keys) {
          for (let c = c0; c < c0 + hd; c++) {
            const dk = fa[fo + c];
            s1 += qkv[qa + c] * qkv[kb + c] * dk;
            s2 += qkv[qb + c] * qkv[ka + c] * dk;
          }
        } else {
          for (let c = c0; c < c0 + hd; c++) {
            s1 += qkv[qa + c] * qkv[kb + c];
            s2 += qkv[qb + c] * qkv[ka + c];
          }
        }
        attn[e1 + hh] = s1;
        attn[e2 + hh] = s2;
      }
    }
    const dkSelf = lw.dkSelf;
    for (let n = 0; n < N; n++) {
      const q = n * H5, k = q + H, e = (2 * P + n) * heads;
      for (let hh = 0; hh < heads; hh++) {
        let s = 0;
        const c0 = hh * hd;
        if (dkSelf) for (let c = c0; c < c0 + hd; c++) s += qkv[q + c] * qkv[k + c] * dkSelf[c];
        else for (let c = c0; c < c0 + hd; c++) s += qkv[q + c] * qkv[k + c];
        attn[e + hh] = s;
      }
    }
    siluWithDerivative(attn, attn, attnDer, EA * heads);

    // Messages, scattered at the targets: dx_i = Σ_j s_j·a_ij, dvec_i = Σ_j vec_j·m1_j + m2_j·d_ij.
    const dx = this.dx.need(N * H);
    dx.fill(0, 0, N * H);
    const vecNext = (l + 1 < cfg.num_layers ? this.layers[l + 1].vecIn : this.vecOut).need(3 * N * H);
    vecNext.fill(0, 0, 3 * N * H);
    const cut = this.cut.data, u = this.u.data;
    const H2 = 2 * H, hd2 = 2 * hd, hd3 = 3 * hd;
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p];
      const C = cut[p];
      const cf = vc ? C : 1, ca = vc ? 1 : C;
      const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
      const va = a * H5 + H2, vb = b * H5 + H2;
      const a3 = 3 * a * H, b3 = 3 * b * H;
      const fo = p * cols + dvOff;
      const e1 = 2 * p * heads, e2 = e1 + heads;
      for (let hh = 0; hh < heads; hh++) {
        const w1 = attn[e1 + hh] * ca, w2 = attn[e2 + hh] * ca;
        const c0 = hh * hd, s0 = hh * hd3;
        for (let t = 0; t < hd; t++) {
          const ch = c0 + t, cs = s0 + t;
          let fs = cf, fm1 = cf, fm2 = cf;
          if (values) {
            fs *= fa[fo + cs];
            fm1 *= fa[fo + cs + hd];
            fm2 *= fa[fo + cs + hd2];
          }
          // b → a
          const m1b = qkv[vb + cs + hd] * fm1, m2b = qkv[vb + cs + hd2] * fm2;
          dx[a * H + ch] += qkv[vb + cs] * fs * w1;
          // a → b
          const m1a = qkv[va + cs + hd] * fm1, m2a = qkv[va + cs + hd2] * fm2;
          dx[b * H + ch] += qkv[va + cs] * fs * w2;
          if (hasVec) {
            vecNext[a3 + ch] += vec[b3 + ch] * m1b + m2b * ux;
            vecNext[a3 + H + ch] += vec[b3 + H + ch] * m1b + m2b * uy;
            vecNext[a3 + H2 + ch] += vec[b3 + H2 + ch] * m1b + m2b * uz;
            vecNext[b3 + ch] += vec[a3 + ch] * m1a - m2a * ux;
            vecNext[b3 + H + ch] += vec[a3 + H + ch] * m1a - m2a * uy;
            vecNext[b3 + H2 + ch] += vec[a3 + H2 + ch] * m1a - m2a * uz;
          } else {
            vecNext[a3 + ch] += m2b * ux;
            vecNext[a3 + H + ch] += m2b * uy;
            vecNext[a3 + H2 + ch] += m2b * uz;
            vecNext[b3 + ch] -= m2a * ux;
            vecNext[b3 + H + ch] -= m2a * uy;
            vecNext[b3 + H2 + ch] -= m2a * uz;
          }
        }
      }
    }
    // Self-loops: r = 0, so C = 1 and d = 0 (no m2 term).
    const dvSelf = lw.dvSelf;
    for (let n = 0; n < N; n++) {
      const vn = n * H5 + H2, n3 = 3 * n * H, e = (2 * P + n) * heads;
      for (let hh = 0; hh < heads; hh++) {
        const wa = attn[e + hh];
        const c0 = hh * hd, s0 = hh * hd3;
        for (let t = 0; t < hd; t++) {
          const ch = c0 + t, cs = s0 + t;
          const fs = dvSelf ? dvSelf[cs] : 1;
          dx[n * H + ch] += qkv[vn + cs] * fs * wa;
          if (hasVec) {
            const m1 = qkv[vn + cs + hd] * (dvSelf ? dvSelf[cs + hd] : 1);
            vecNext[n3 + ch] += vec[n3 + ch] * m1;
            vecNext[n3 + H + ch] += vec[n3 + H + ch] * m1;
            vecNext[n3 + H2 + ch] += vec[n3 + H2 + ch] * m1;
          }
        }
      }
    }

    // o_proj, then the residual updates x += vdot·o2 + o3, vec += vec3·o1 + dvec.
    const o = st.o.need(N * H3);
    gemm(false, true, N, H3, H, dx, lw.oProj, o, false);
    addRowBias(o, lw.oBias, N, H3);
    for (let n = 0; n < N; n++) {
      const xo = n * H, oo = n * H3;
      for (let h = 0; h < H; h++) x[xo + h] += vdot[xo + h] * o[oo + H + h] + o[oo + H2 + h];
    }
    if (hasVec) {
      for (let n = 0; n < N; n++) {
        const oo = n * H3;
        for (let c = 0; c < 3; c++) {
          const row = (3 * n + c) * H, prow = (3 * n + c) * H3 + H2;
          for (let h = 0; h < H; h++) vecNext[row + h] += vec[row + h] + vp[prow + h] * o[oo + h];
        }
      }
    }
  }

  /** Output layer norm and TorchMD-Net's EquivariantScalar head; writes the molecule energies. */
  private headForward(z: Int32Array, mol: Int32Array, nMol: number, energy: Float64Array): void {
    const cfg = this.config;
    const N = z.length;
    const H = cfg.embedding_dimension, Hh = H / 2, S0 = H + Hh;
    const w = this.w;
    const [b0, b1] = w.head;
    const vec = this.vecOut.data;

    const xhat = this.hXhat.need(N * H), rstd = this.hRstd.need(N);
    const u0 = this.hU0.need(N * 2 * H);
    const xo = this.hXo.need(N * H);
    layerNormForward(this.x.data, w.outNormWeight, w.outNormBias, N, H, xhat, rstd, xo);
    // Block 0: vec1 | vec2 projections, then update_net on [x, ‖vec1‖].
    const v12 = this.hV12.need(3 * N * S0);
    gemm(false, true, 3 * N, S0, H, vec, b0.vecProj, v12, false);
    for (let n = 0; n < N; n++) {
      u0.set(xo.subarray(n * H, n * H + H), n * 2 * H);
      const r0 = 3 * n * S0;
      for (let h = 0; h < H; h++) {
        const s = v12[r0 + h] ** 2 + v12[r0 + S0 + h] ** 2 + v12[r0 + 2 * S0 + h] ** 2;
        u0[n * 2 * H + H + h] = s > 0 ? Math.sqrt(s) : 0;
      }
    }
    const h0 = this.hH0.need(N * H), h0d = this.hH0Der.need(N * H);
    gemm(false, true, N, H, 2 * H, u0, b0.u0, h0, false);
    addRowBias(h0, b0.u0Bias, N, H);
    siluWithDerivative(h0, h0, h0d, N * H);
    const h1 = this.hH1.need(N * H);
    gemm(false, true, N, H, H, h0, b0.u2, h1, false);
    addRowBias(h1, b0.u2Bias, N, H);
    const xb = this.hXb.need(N * Hh), xbd = this.hXbDer.need(N * Hh);
    const vecb = this.hVecb.need(3 * N * Hh);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        xb[n * Hh + h] = h1[n * H + h];
        const gate = h1[n * H + Hh + h];
        for (let c = 0; c < 3; c++) vecb[(3 * n + c) * Hh + h] = gate * v12[(3 * n + c) * S0 + H + h];
      }
    }
    siluWithDerivative(xb, xb, xbd, N * Hh);
    // Block 1: scalar output only (its vector output and gate are unused).
    const v1b = this.hV1b.need(3 * N * Hh);
    gemm(false, true, 3 * N, Hh, Hh, vecb, b1.vecProj, v1b, false);
    const u0b = this.hU0b.need(N * H);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        u0b[n * H + h] = xb[n * Hh + h];
        const s = v1b[3 * n * Hh + h] ** 2 + v1b[(3 * n + 1) * Hh + h] ** 2 + v1b[(3 * n + 2) * Hh + h] ** 2;
        u0b[n * H + Hh + h] = s > 0 ? Math.sqrt(s) : 0;
      }
    }
    const h0b = this.hH0b.need(N * Hh), h0bd = this.hH0bDer.need(N * Hh);
    gemm(false, true, N, Hh, H, u0b, b1.u0, h0b, false);
    addRowBias(h0b, b1.u0Bias, N, Hh);
    siluWithDerivative(h0b, h0b, h0bd, N * Hh);
    const u2 = b1.u2, bias2 = b1.u2Bias[0], std = w.std, atomref = w.atomref;
    const count = this.moleculeCounts(mol, nMol, N);
    for (let n = 0; n < N; n++) {
      let s = bias2;
      for (let h = 0; h < Hh; h++) s += h0b[n * Hh + h] * u2[h];
      let e = std * fround(this.dtype, s);
      if (atomref) e += atomref[z[n]];
      energy[mol[n]] += e;
    }
    for (let m = 0; m < nMol; m++) {
      if (cfg.reduce_op === 'mean') energy[m] = count[m] > 0 ? energy[m] / count[m] : 0;
      energy[m] += w.mean;
    }
  }

  private moleculeCounts(mol: Int32Array, nMol: number, N: number): Float64Array {
    if (this.molCount.length < nMol) this.molCount = new Float64Array(nMol);
    const count = this.molCount;
    count.fill(0, 0, nMol);
    for (let n = 0; n < N; n++) count[mol[n]]++;
    return count;
  }

  // -------------------------------------------------------------------------------------------
  // Reverse pass: gradients of Σ_m E_m with respect to everything that depends on positions.

  private headBackward(N: number): void {
    const cfg = this.config;
    const H = cfg.embedding_dimension, Hh = H / 2, S0 = H + Hh;
    const w = this.w;
    const [b0, b1] = w.head;
    const mean = cfg.reduce_op === 'mean';
    const count = this.molCount;
    const mol = this.lastMol;

    // Block 1: ∂E/∂h0b, then back through update_net.layers.0 to [xb, ‖v1b‖].
    const gh0b = this.gh.need(N * Hh);
    const h0bd = this.hH0bDer.data, u2 = b1.u2;
    for (let n = 0; n < N; n++) {
      const ge = w.std / (mean ? count[mol[n]] : 1);
      for (let h = 0; h < Hh; h++) gh0b[n * Hh + h] = ge * u2[h] * h0bd[n * Hh + h];
    }
    const gu0b = this.gu.need(N * H);
    gemm(false, false, N, H, Hh, gh0b, b1.u0, gu0b, false);
    const v1b = this.hV1b.data, u0b = this.hU0b.data;
    const gv1b = this.gv.need(3 * N * Hh);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        const norm = u0b[n * H + Hh + h];
        const k = norm > 0 ? gu0b[n * H + Hh + h] / norm : 0;
        for (let c = 0; c < 3; c++) gv1b[(3 * n + c) * Hh + h] = k * v1b[(3 * n + c) * Hh + h];
      }
    }
    const gvecb = this.gv2.need(3 * N * Hh);
    gemm(false, false, 3 * N, Hh, Hh, gv1b, b1.vecProj, gvecb, false);

    // Block 0: gradients of xOut (through silu) and of the gate, then update_net backwards.
    const h1 = this.hH1.data, v12 = this.hV12.data, xbd = this.hXbDer.data;
    const gh1 = this.gh2.need(N * H);
    const gv12 = this.gvp.need(3 * N * S0);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        gh1[n * H + h] = gu0b[n * H + h] * xbd[n * Hh + h];
        const gate = h1[n * H + Hh + h];
        let gg = 0;
        for (let c = 0; c < 3; c++) {
          const g = gvecb[(3 * n + c) * Hh + h];
          gg += g * v12[(3 * n + c) * S0 + H + h];
          gv12[(3 * n + c) * S0 + H + h] = gate * g;
        }
        gh1[n * H + Hh + h] = gg;
      }
    }
    const gs0 = this.gh.need(N * H);
    gemm(false, false, N, H, H, gh1, b0.u2, gs0, false);
    const h0d = this.hH0Der.data;
    for (let i = 0; i < N * H; i++) gs0[i] *= h0d[i];
    const gu0 = this.gu.need(N * 2 * H);
    gemm(false, false, N, 2 * H, H, gs0, b0.u0, gu0, false);
    const u0 = this.hU0.data;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        const norm = u0[n * 2 * H + H + h];
        const k = norm > 0 ? gu0[n * 2 * H + H + h] / norm : 0;
        for (let c = 0; c < 3; c++) gv12[(3 * n + c) * S0 + h] = k * v12[(3 * n + c) * S0 + h];
      }
    }
    const gvec = this.gvecA.need(3 * N * H);
    gemm(false, false, 3 * N, H, S0, gv12, b0.vecProj, gvec, false);
    // ∂E/∂xo is the first half of gu0; back through the output layer norm.
    const gxo = this.gxn.need(N * H);
    for (let n = 0; n < N; n++) gxo.set(gu0.subarray(n * 2 * H, n * 2 * H + H), n * H);
    const gx = this.gx.need(N * H);
    gx.fill(0, 0, N * H);
    layerNormBackward(gxo, w.outNormWeight, this.hXhat.data, this.hRstd.data, N, H, gx);
  }

  private layerBackward(l: number, N: number): void {
    const cfg = this.config;
    const H = cfg.embedding_dimension, H2 = 2 * H, H3 = 3 * H, H5 = 5 * H;
    const heads = cfg.num_heads, hd = H / heads, hd2 = 2 * hd, hd3 = 3 * hd;
    const P = this.pairs.count;
    const lw = this.w.layers[l];
    const st = this.layers[l];
    const hasVec = l > 0;
    const keys = lw.dkSelf !== null, values = lw.dvSelf !== null;
    const vc = cfg.vector_cutoff;
    const cols = this.w.filterBias.length;
    const dkOff = l * this.w.filterColumnsPerLayer;
    const dvOff = dkOff + (keys ? H : 0);
    const gx = this.gx.data;
    // Gradient with respect to this layer's output vectors, and the one to fill for its input.
    const gvo = this.gvecA.data;
    const gvi = this.gvecB.need(3 * N * H);
    const vec = st.vecIn.data, vp = st.vp.data, vdot = st.vdot.data, o = st.o.data, qkv = st.qkv.data;

    // Residual updates: go = [Σ_xyz gvec·vec3, gx·vdot, gx].
    const go = this.go.need(N * H3);
    for (let n = 0; n < N; n++) {
      const oo = n * H3, xo = n * H;
      for (let h = 0; h < H; h++) {
        let g1 = 0;
        if (hasVec) {
          for (let c = 0; c < 3; c++) g1 += gvo[(3 * n + c) * H + h] * vp[(3 * n + c) * H3 + H2 + h];
        }
        go[oo + h] = g1;
        go[oo + H + h] = gx[xo + h] * vdot[xo + h];
        go[oo + H2 + h] = gx[xo + h];
      }
    }
    const gdx = this.gdx.need(N * H);
    gemm(false, false, N, H, H3, go, lw.oProj, gdx, false);
    if (hasVec) {
      // vec_proj backward: [vdot-gradient·vec2, ·vec1, gvec·o1], then the residual.
      const gvp = this.gvp.need(3 * N * H3);
      for (let n = 0; n < N; n++) {
        for (let h = 0; h < H; h++) {
          const gd = gx[n * H + h] * o[n * H3 + H + h];
          const o1 = o[n * H3 + h];
          for (let c = 0; c < 3; c++) {
            const row = (3 * n + c) * H3;
            gvp[row + h] = gd * vp[row + H + h];
            gvp[row + H + h] = gd * vp[row + h];
            gvp[row + H2 + h] = gvo[(3 * n + c) * H + h] * o1;
          }
        }
      }
      gemm(false, false, 3 * N, H, H3, gvp, lw.vecProj, gvi, false);
      for (let i = 0; i < 3 * N * H; i++) gvi[i] += gvo[i];
    }

    // Edges, backwards: messages and values first (per head), then attention, for both
    // directions of each pair; the filter gradients of the pair are written once, summed.
    const gqkv = this.gqkv.need(N * H5);
    gqkv.fill(0, 0, N * H5);
    const attn = st.attn.data, attnDer = st.attnDer.data;
    const fa = this.filt.data, fd = this.filtDer.data;
    const G = this.gFilt.data;
    const gCut = this.gCut.data, gU = this.gU.data;
    const cut = this.cut.data, u = this.u.data;
    const pa = this.pairs.a, pb = this.pairs.b;
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p];
      const C = cut[p];
      const cf = vc ? C : 1, ca = vc ? 1 : C;
      const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
      const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H, va = qa + H2, vb = qb + H2;
      const a3 = 3 * a * H, b3 = 3 * b * H;
      const fk = p * cols + dkOff, fv = p * cols + dvOff;
      const e1 = 2 * p * heads, e2 = e1 + heads;
      let gC = 0, g1x = 0, g1y = 0, g1z = 0, g2x = 0, g2y = 0, g2z = 0;
      for (let hh = 0; hh < heads; hh++) {
        const s1 = attn[e1 + hh], s2 = attn[e2 + hh];
        const w1 = s1 * ca, w2 = s2 * ca;
        let ga1 = 0, ga2 = 0;
        const c0 = hh * hd, s0 = hh * hd3;
        for (let t = 0; t < hd; t++) {
          const ch = c0 + t, cs = s0 + t;
          let dvs = 1, dvm1 = 1, dvm2 = 1;
          if (values) {
            dvs = fa[fv + cs];
            dvm1 = fa[fv + cs + hd];
            dvm2 = fa[fv + cs + hd2];
          }
          const fs = cf * dvs, fm1 = cf * dvm1, fm2 = cf * dvm2;
          // b → a (target a, d = +u)
          const vs1 = qkv[vb + cs], vm11 = qkv[vb + cs + hd], vm21 = qkv[vb + cs + hd2];
          const gxm1 = gdx[a * H + ch];
          ga1 += gxm1 * vs1 * fs;
          const gs1 = gxm1 * w1;
          const ga0 = gvo[a3 + ch], ga1y = gvo[a3 + H + ch], ga2z = gvo[a3 + H2 + ch];
          const gm2a = ga0 * ux + ga1y * uy + ga2z * uz;
          const m21 = vm21 * fm2;
          g1x += ga0 * m21;
          g1y += ga1y * m21;
          g1z += ga2z * m21;
          // a → b (target b, d = −u)
          const vs2 = qkv[va + cs], vm12 = qkv[va + cs + hd], vm22 = qkv[va + cs + hd2];
          const gxm2 = gdx[b * H + ch];
          ga2 += gxm2 * vs2 * fs;
          const gs2 = gxm2 * w2;
          const gb0 = gvo[b3 + ch], gb1 = gvo[b3 + H + ch], gb2 = gvo[b3 + H2 + ch];
          const gm2b = -(gb0 * ux + gb1 * uy + gb2 * uz);
          const m22 = vm22 * fm2;
          g2x += gb0 * m22;
          g2y += gb1 * m22;
          g2z += gb2 * m22;
          let gm1a = 0, gm1b = 0;
          if (hasVec) {
            gm1a = ga0 * vec[b3 + ch] + ga1y * vec[b3 + H + ch] + ga2z * vec[b3 + H2 + ch];
            gm1b = gb0 * vec[a3 + ch] + gb1 * vec[a3 + H + ch] + gb2 * vec[a3 + H2 + ch];
            const m11 = vm11 * fm1, m12 = vm12 * fm1;
            gvi[b3 + ch] += ga0 * m11;
            gvi[b3 + H + ch] += ga1y * m11;
            gvi[b3 + H2 + ch] += ga2z * m11;
            gvi[a3 + ch] += gb0 * m12;
            gvi[a3 + H + ch] += gb1 * m12;
            gvi[a3 + H2 + ch] += gb2 * m12;
          }
          gqkv[vb + cs] += gs1 * fs;
          gqkv[vb + cs + hd] += gm1a * fm1;
          gqkv[vb + cs + hd2] += gm2a * fm2;
          gqkv[va + cs] += gs2 * fs;
          gqkv[va + cs + hd] += gm1b * fm1;
          gqkv[va + cs + hd2] += gm2b * fm2;
          // Gradients of the value filter factors (C·dv), summed over both directions.
          const Ps = gs1 * vs1 + gs2 * vs2, Pm1 = gm1a * vm11 + gm1b * vm12, Pm2 = gm2a * vm21 + gm2b * vm22;
          if (values) {
            G[fv + cs] = Ps * cf * fd[fv + cs];
            G[fv + cs + hd] = Pm1 * cf * fd[fv + cs + hd];
            G[fv + cs + hd2] = Pm2 * cf * fd[fv + cs + hd2];
          }
          if (vc) gC += Ps * dvs + Pm1 * dvm1 + Pm2 * dvm2;
        }
        // Attention weights: a = silu(logit)·(C unless the cutoff sits on the values).
        const d1 = attnDer[e1 + hh], d2 = attnDer[e2 + hh];
        if (!vc) gC += ga1 * s1 + ga2 * s2;
        const gl1 = ga1 * ca * d1, gl2 = ga2 * ca * d2;
        for (let c = c0; c < c0 + hd; c++) {
          const qav = qkv[qa + c], qbv = qkv[qb + c], kav = qkv[ka + c], kbv = qkv[kb + c];
          if (keys) {
            const dk = fa[fk + c];
            gqkv[qa + c] += gl1 * kbv * dk;
            gqkv[kb + c] += gl1 * qav * dk;
            gqkv[qb + c] += gl2 * kav * dk;
            gqkv[ka + c] += gl2 * qbv * dk;
            G[fk + c] = (gl1 * qav * kbv + gl2 * qbv * kav) * fd[fk + c];
          } else {
            gqkv[qa + c] += gl1 * kbv;
            gqkv[kb + c] += gl1 * qav;
            gqkv[qb + c] += gl2 * kav;
            gqkv[ka + c] += gl2 * qbv;
          }
        }
      }
      gCut[p] += gC;
      gU[3 * p] += g1x - g2x;
      gU[3 * p + 1] += g1y - g2y;
      gU[3 * p + 2] += g1z - g2z;
    }
    // Self-loops: constant filters, d = 0; they pass gradient to q, k, v and vec only.
    const dkSelf = lw.dkSelf, dvSelf = lw.dvSelf;
    for (let n = 0; n < N; n++) {
      const q = n * H5, k = q + H, v = q + H2, n3 = 3 * n * H, e = (2 * P + n) * heads;
      for (let hh = 0; hh < heads; hh++) {
        const wa = attn[e + hh];
        let ga = 0;
        const c0 = hh * hd, s0 = hh * hd3;
        for (let t = 0; t < hd; t++) {
          const ch = c0 + t, cs = s0 + t;
          const fs = dvSelf ? dvSelf[cs] : 1;
          const gxm = gdx[n * H + ch];
          ga += gxm * qkv[v + cs] * fs;
          gqkv[v + cs] += gxm * wa * fs;
          if (hasVec) {
            const fm1 = dvSelf ? dvSelf[cs + hd] : 1;
            const g0 = gvo[n3 + ch], g1 = gvo[n3 + H + ch], g2 = gvo[n3 + H2 + ch];
            gqkv[v + cs + hd] += (g0 * vec[n3 + ch] + g1 * vec[n3 + H + ch] + g2 * vec[n3 + H2 + ch]) * fm1;
            const m1 = qkv[v + cs + hd] * fm1;
            gvi[n3 + ch] += g0 * m1;
            gvi[n3 + H + ch] += g1 * m1;
            gvi[n3 + H2 + ch] += g2 * m1;
          }
        }
        const gl = ga * attnDer[e + hh];
        for (let c = c0; c < c0 + hd; c++) {
          const dk = dkSelf ? dkSelf[c] : 1;
          const qv = qkv[q + c], kv = qkv[k + c];
          gqkv[q + c] += gl * kv * dk;
          gqkv[k + c] += gl * qv * dk;
        }
      }
    }

    // q | k | v back to the normalised input, then through the layer norm (plus the residual).
    const gxn = this.gxn.need(N * H);
    gemm(false, false, N, H, H5, gqkv, lw.qkv, gxn, false);
    layerNormBackward(gxn, lw.lnWeight, st.xhat.data, st.rstd.data, N, H, gx);
    if (hasVec) {
      // The input gradient becomes the output gradient of the layer below.
      const t = this.gvecA;
      this.gvecA = this.gvecB;
      this.gvecB = t;
    }
  }

  /** Back through the neighbour embedding (if any), then all filter gradients to ∂E/∂F. */
  private embedBackward(z: Int32Array, N: number): void {
    const H = this.config.embedding_dimension;
    const R = this.config.num_rbf;
    const P = this.pairs.count;
    const w = this.w;
    const cols = w.filterBias.length;
    const gF = this.gRbf.need(P * R);
    if (P === 0) return;
    if (cols > 0) gemm(false, false, P, R, cols, this.gFilt.data, w.filters, gF, false);
    else gF.fill(0, 0, P * R);
    const nb = w.neighbor;
    if (!nb) return;
    const gxN = this.gxn.need(N * H);
    gemm(false, false, N, H, H, this.gx.data, nb.combineRight, gxN, false);
    const gpre = this.gNbr.need(P * H);
    const pre = this.nbrPre.data, emb = nb.embedding, cut = this.cut.data, gCut = this.gCut.data;
    const pa = this.pairs.a, pb = this.pairs.b;
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p], C = cut[p];
      const o = p * H, ea = z[a] * H, eb = z[b] * H, ga = a * H, gb = b * H;
      let gC = 0;
      for (let h = 0; h < H; h++) {
        const gW = gxN[ga + h] * emb[eb + h] + gxN[gb + h] * emb[ea + h];
        gC += gW * pre[o + h];
        gpre[o + h] = gW * C;
      }
      gCut[p] += gC;
    }
    gemm(false, false, P, R, H, gpre, nb.distProj, gF, true);
  }

  /** ∂E/∂r per pair from the basis and cutoff, plus the direction terms; forces = −∂E/∂pos. */
  private assembleForces(forces: Float64Array): void {
    const P = this.pairs.count;
    const R = this.config.num_rbf;
    const gF = this.gRbf.data, fd = this.rbfDer.data;
    const r = this.r.data, u = this.u.data, gCut = this.gCut.data, dC = this.cutDer.data, gU = this.gU.data;
    const pa = this.pairs.a, pb = this.pairs.b;
    for (let p = 0; p < P; p++) {
      let gr = gCut[p] * dC[p];
      for (let k = 0; k < R; k++) gr += gF[p * R + k] * fd[p * R + k];
      const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
      const gx = gU[3 * p], gy = gU[3 * p + 1], gz = gU[3 * p + 2];
      const along = gx * ux + gy * uy + gz * uz;
      const inv = 1 / r[p];
      // ∂E/∂(r_b − r_a) = gr·u + (gU − (gU·u)u)/r
      const vx = gr * ux + (gx - along * ux) * inv;
      const vy = gr * uy + (gy - along * uy) * inv;
      const vz = gr * uz + (gz - along * uz) * inv;
      const a = pa[p], b = pb[p];
      forces[3 * b] -= vx;
      forces[3 * b + 1] -= vy;
      forces[3 * b + 2] -= vz;
      forces[3 * a] += vx;
      forces[3 * a + 1] += vy;
      forces[3 * a + 2] += vz;
    }
  }
}

function fround(dtype: DType, v: number): number {
  return dtype === 'float32' ? Math.fround(v) : v;
}

function addRowBias(y: FloatArray, bias: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) y[o + c] += bias[c];
  }
}

/** torch.nn.LayerNorm over rows of width H (biased variance, eps inside the root). */
function layerNormForward(
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
function layerNormBackward(
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
