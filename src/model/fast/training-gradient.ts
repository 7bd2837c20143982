/**
 * Parameter gradients of force losses without the autodiff tape: forward-over-reverse.
 *
 * For a loss L(F, E) with F = −∂E/∂r, write v = ∂L/∂F and s_m = ∂L/∂E_m. Then
 *
 *   dL/dθ = −Σ v·∂²E/∂r∂θ + Σ_m s_m ∂E_m/∂θ = −(d/dε) [ ∂(Σ_m ē_m(ε) E_m(r + εv)) / ∂θ ] at ε = 0,
 *
 * with ē_m(ε) = 1 − ε s_m. So the gradient is the directional derivative (a tangent, carried
 * exactly alongside every value: no finite differences) of the ordinary first-order parameter
 * backward, taken along the positions moving by v and the energy seeds moving by −s. Every
 * quantity X of the forward pass and every adjoint gX of the reverse pass gets a tangent; only
 * the tangents of the parameter adjoints are summed (their primal parts, ∂E/∂θ, are not needed),
 * and adjoints of geometry (r, u, the cutoff) are not needed at all, since positions are not
 * parameters. Cost: about twice a forward+backward, against three to four for reverse-over-
 * reverse on the general tape, and without the tape's per-op allocations.
 *
 * Layout: a "dual" buffer of M rows × W columns holds the primal rows [0, M) and then the
 * tangent rows [M, 2M), so one matrix product over 2M rows moves both through a linear layer.
 *
 * The energy function is the same as `energies` in ../et.ts and the fused inference path in
 * ./energy-forces.ts, on the same parameter layout (./weights.ts fusedLayout: value blocks,
 * filters of all layers stacked with the bias as a column of ones, EquivariantScalar head) and
 * in the same stages (geometry, filters, embedding, each layer, the head, and their adjoints).
 * Given the inference pass that gave the loss its forces, the primal halves of each layer's
 * q|k|v, vec_proj and o_proj products are taken from it rather than computed again.
 * test/model/training-gradient.test.ts checks the gradients against the autodiff path for every
 * model option it accepts, with and without that hand-over.
 *
 * The edge and per-atom loops below are the TypeScript twins of WASM SIMD kernels
 * (./train-kernels.ts, assembly/et-train.ts), which run instead wherever every array they touch
 * lies in the kernels' memory (a WASM-path call) and the channel counts are whole vectors;
 * test/model/training-kernels.test.ts holds each group to its twin.
 */
import { gemm, silu, kernelBackend, type FloatArray } from '../../engine/kernels/index.js';
import { wasmKernels, type WasmKernels } from '../../engine/kernels/wasm.js';
import { Arena, runInArena, withTypeScriptKernels } from './arena.js';
import { layerNormForwardDual, layerNormBackwardDual } from './layer-norm.js';
import { flushSubnormal, fusedLayout, smallestNormal, valueBlockSource } from './weights.js';
import { allocate, type DType } from '../../engine/index.js';
import { OreoError } from '../../errors.js';
import type { ETConfig } from '../config.js';
import type { TrainableModel } from './model-source.js';
import { PairList } from '../neighbors.js';
import { trainKernels, trainKernelUse } from './train-kernels.js';
import { etKernels } from './et-kernels.js';
import type { FastEnergyForces } from './energy-forces.js';

/** Pairs per block of the filter computations (their buffers stay in cache). */
const PAIR_BLOCK = 128;

/**
 * Why the fused training gradient cannot serve this model, or null if it can. The caller falls
 * back to the autodiff path (and says which option made it do so).
 */
export function fusedTrainingUnsupported(cfg: ETConfig, trainable: readonly string[]): string | null {
  if (cfg.vector_cutoff) return 'vector_cutoff=true';
  if (cfg.trainable_rbf) return 'trainable_rbf=true';
  if (cfg.cutoff_lower !== 0) return `cutoff_lower=${cfg.cutoff_lower}`;
  const H = cfg.embedding_dimension;
  if (H % 2 !== 0 || H % cfg.num_heads !== 0) return `embedding_dimension=${H} with ${cfg.num_heads} heads`;
  for (const name of trainable) {
    if (!name.startsWith('representation_model.') && !name.startsWith('output_model.')) return `trainable parameter '${name}'`;
  }
  return null;
}

/** What the loss says about one evaluation: its value and its derivatives by F and by E. */
export interface LossAdjoints {
  /** ∂L/∂F, flat [N·3]. */
  dForces: Float64Array;
  /** ∂L/∂E_m [nMol]. */
  dEnergy: Float64Array;
}

type Buf = FloatArray;

interface LayerKeep {
  xhat: Buf; // dual [N, H]
  rstd: Float64Array; // dual [N]
  xn: Buf; // dual [N, H]
  qkv: Buf; // dual [N, 5H]
  vec: Buf; // dual [3N, H] (input vectors)
  vp: Buf; // dual [3N, 3H]
  vdot: Buf; // dual [N, H]
  s: Buf; // dual [EA, heads]: silu(logit)
  sd: Buf; // dual [EA, heads]: silu′(logit) and its tangent
  dx: Buf; // dual [N, H]
  o: Buf; // dual [N, 3H]
}

/**
 * Tangents of the parameter adjoints, in the packed layouts of `Packed`, except `filters`: per
 * layer [R+1, perLayer], the transpose of its weights' block, so that its product over a block's
 * pairs has the long side (channels) as columns.
 */
interface Accumulators {
  emb: Buf;
  nbEmb: Buf | null;
  nbDist: Buf | null;
  nbCombine: Buf | null;
  nbCombineBias: Buf | null;
  filters: Buf;
  layers: { lnW: Buf; lnB: Buf; qkv: Buf; qkvB: Buf; vecProj: Buf; oProj: Buf; oB: Buf }[];
  outW: Buf; outB: Buf;
  h0v: Buf; h0u0: Buf; h0u0b: Buf; h0u2: Buf; h0u2b: Buf;
  h1v: Buf; h1u0: Buf; h1u0b: Buf; h1u2: Buf; h1u2b: Buf;
}

/** Parameters gathered into the fused layouts for one step (they change every step). */
interface Packed {
  emb: Buf;
  means: Float64Array;
  betas: Float64Array;
  nbEmb: Buf | null;
  nbDist: Buf | null; // [H, R+1]
  nbCombine: Buf | null; // [H, 2H]
  nbCombineBias: Buf | null;
  filters: Buf; // [cols, R+1]
  layers: { lnW: Buf; lnB: Buf; qkv: Buf; qkvB: Buf; vecProj: Buf; oProj: Buf; oB: Buf }[];
  outW: Buf;
  outB: Buf;
  h0v: Buf; // [H + Hh, H]
  h0u0: Buf; h0u0b: Buf; h0u2: Buf; h0u2b: Buf;
  h1v: Buf; // [Hh, Hh]
  h1u0: Buf; h1u0b: Buf; h1u2: Buf; h1u2b: Buf;
  std: number;
  mean: number;
}

export class FusedTrainingGradient {
  readonly config: ETConfig;
  readonly dtype: DType;
  private readonly pairs = new PairList();

  constructor(readonly potential: TrainableModel) {
    this.config = potential.config;
    this.dtype = potential.dtype;
    const why = fusedTrainingUnsupported(this.config, potential.trainable().map(([n]) => n));
    if (why) throw new OreoError(`fused training gradient: ${why} is not supported`);
  }

  private buf(n: number): Buf {
    return allocate(this.dtype, n);
  }

  /**
   * Work buffers, kept between calls: a call asks for them in the same order every time, so the
   * k-th request reuses the k-th buffer (grown when the batch is larger). They come zeroed.
   * Without this a batch-32 step would allocate (and page in) half a gigabyte afresh.
   */
  private readonly pool: Buf[] = [];
  /**
   * While a WASM-path call runs, every work buffer (and a copy of every weight matrix) lives in
   * the kernels' memory, so matrix products run on them in place (see arena.ts).
   */
  private arena: Arena | null = null;
  private warnedMemory = false;
  /**
   * The distance-filter weights of every layer packed for the matrix kernel (long-lived, in the
   * kernels' memory, refilled each call): the filter products of a call (two per layer and block
   * of pairs, forward and reverse) then read them without packing them again each time.
   */
  private filterPack: { kernels: WasmKernels; offset: number; bytes: number } | null = null;

  /** Float64 work (geometry): in the arena during a WASM-path call. */
  private work64(n: number): Float64Array {
    const ar = this.arena;
    if (ar && ar.active) {
      const v = ar.f64(n);
      v.fill(0);
      return v;
    }
    return new Float64Array(n);
  }

  /** A weight matrix where the products can read it in place: copied into the arena if one is active. */
  private place(a: Buf): Buf {
    const ar = this.arena;
    if (!(ar && ar.active)) return a;
    const v = ar.floats(this.dtype, a.length);
    v.set(a);
    return v;
  }
  private poolNext = 0;
  private work(n: number, zero = true): Buf {
    const ar = this.arena;
    if (ar && ar.active) {
      const v = ar.floats(this.dtype, n);
      if (zero) v.fill(0);
      return v;
    }
    const k = this.poolNext++;
    let b = this.pool[k];
    if (!b || b.length < n) {
      b = allocate(this.dtype, Math.ceil(n * 1.1));
      this.pool[k] = b;
      return b.subarray(0, n);
    }
    const v = b.subarray(0, n);
    if (zero) v.fill(0);
    return v;
  }

  private param(name: string): Buf {
    const t = this.potential.params.get(name);
    if (!t) throw new OreoError(`model is missing parameter '${name}'`);
    return t.data;
  }

  /** Row order of v_proj / dv_proj: per head [s | m1 | m2] → three blocks of H (s, m1, m2). */
  private blockRow(block: number): number {
    return valueBlockSource(block, this.config.embedding_dimension, this.config.num_heads);
  }

  /**
   * The parameters in the fused layouts (weights.ts fusedLayout, the inference path's too), the
   * rearranged ones in work memory, and the matrices the products read copied into the arena.
   */
  private pack(): Packed {
    const L = fusedLayout(this.config, this.potential.params, this.dtype, { share: true, alloc: (n) => this.work(n, false) });
    const nb = L.neighbor, [b0, b1] = L.head;
    return {
      emb: L.embedding,
      means: L.means,
      betas: L.betas,
      nbEmb: nb ? nb.embedding : null,
      nbDist: nb ? nb.distProj : null,
      nbCombine: nb ? this.place(nb.combine) : null,
      nbCombineBias: nb ? nb.combineBias : null,
      filters: L.filters,
      layers: L.layers.map((lw) => ({
        lnW: lw.lnWeight, lnB: lw.lnBias, qkv: lw.qkv, qkvB: lw.qkvBias,
        vecProj: this.place(lw.vecProj), oProj: this.place(lw.oProj), oB: lw.oBias,
      })),
      outW: L.outNormWeight,
      outB: L.outNormBias,
      h0v: b0.vecProj,
      h0u0: this.place(b0.u0), h0u0b: b0.u0Bias,
      h0u2: this.place(b0.u2), h0u2b: b0.u2Bias,
      h1v: this.place(b1.vecProj),
      h1u0: this.place(b1.u0), h1u0b: b1.u0Bias,
      h1u2: b1.u2, h1u2b: b1.u2Bias,
      std: L.std,
      mean: L.mean,
    };
  }

  /**
   * dL/dθ for every trainable parameter (in its own layout), given the loss's adjoints at the
   * structures (z, positions, mol). The positions must be the ones the loss saw. `primal`: the
   * inference path that gave the loss its forces, called last for these very arrays at the
   * current parameters (refreshed); the forward values it computed are then not computed again.
   */
  gradients(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, nMol: number, adj: LossAdjoints, primal?: FastEnergyForces): Map<string, Buf> {
    if (primal && (primal.config !== this.config || primal.dtype !== this.dtype)) primal = undefined;
    const k = kernelBackend() === 'js' ? null : wasmKernels();
    if (!k) return this.run(z, positions, mol, nMol, adj, false, primal);
    if (!this.arena || this.arena.kernels !== k) {
      this.arena?.dispose();
      this.arena = new Arena(k);
    }
    const arena = this.arena;
    const cfg = this.config, H = cfg.embedding_dimension, N = z.length;
    const sz = this.dtype === 'float32' ? 4 : 8;
    this.pairs.find(positions, mol, N, cfg.cutoff_upper);
    const P = this.pairs.count;
    this.reserveFilterPack(k);
    return runInArena(arena, {
      // The largest product's sizes (rows cover pairs of a batch, a generous bound), reserved
      // before the call so that no product grows the memory mid-call.
      prepare: () => k.reserveGemmScratch(Math.max(2 * P, 6 * N, 5 * H), Math.max(5 * H, cfg.num_rbf + 1), Math.max(P, 3 * N, 5 * H), sz),
      run: () => this.run(z, positions, mol, nMol, adj, true, primal),
      withoutWasm: () => this.runWithoutWasm(z, positions, mol, nMol, adj, primal),
      // A step's gradient must not depend on whether this object is fresh (a resumed run must
      // retrace an uninterrupted one): a call that spilled out of the arena is redone.
      overflow: true,
      attempts: 5,
      what: 'fused training gradient',
    });
  }

  /** The whole call on JavaScript arrays, for batches whose buffers exceed what WASM can address. */
  private runWithoutWasm(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, nMol: number, adj: LossAdjoints, primal?: FastEnergyForces): Map<string, Buf> {
    if (!this.warnedMemory) {
      this.warnedMemory = true;
      console.warn(`oreo: a training batch of ${z.length} atoms needs more work memory than WASM can address; it runs on the TypeScript kernels (slower)`);
    }
    this.arena?.dispose();
    this.arena = null;
    return withTypeScriptKernels(() => {
      this.pairs.find(positions, mol, z.length, this.config.cutoff_upper);
      return this.run(z, positions, mol, nMol, adj, true, primal);
    });
  }

  /** Release the work memory now (otherwise it goes when this is collected). */
  dispose(): void {
    this.arena?.dispose();
    this.arena = null;
    this.releaseFilterPack();
  }

  /** Bytes of the packed filter weights of all layers (each layer's block 64-byte aligned). */
  private filterPackBytes(k: WasmKernels): { perLayer: number; total: number } {
    const cfg = this.config, H = cfg.embedding_dimension, R1 = cfg.num_rbf + 1;
    const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
    const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';
    const cols = (keys ? H : 0) + (values ? 3 * H : 0);
    const bytes = k.exported<(N: number, K: number, elemSize: number) => number>('packed_b_bytes');
    const perLayer = (bytes(cols, R1, this.dtype === 'float32' ? 4 : 8) + 63) & ~63;
    return { perLayer, total: perLayer * cfg.num_layers };
  }

  /** Make room for the packed filter weights before a call (allocating may grow the memory). */
  private reserveFilterPack(k: WasmKernels): void {
    const { total } = this.filterPackBytes(k);
    const have = this.filterPack;
    if (have && have.kernels === k && have.bytes >= total) return;
    this.releaseFilterPack();
    if (total > 0) this.filterPack = { kernels: k, offset: k.allocate(total), bytes: total };
  }

  private releaseFilterPack(): void {
    const fp = this.filterPack;
    this.filterPack = null;
    if (fp) fp.kernels.free(fp.offset);
  }

  /**
   * The computation, in stages that mirror FastEnergyForces.run (geometry, filters, embedding,
   * each layer forward, the head, its reverse, each layer in reverse, the embedding in reverse),
   * each on dual buffers; `pairsFound`: this.pairs already holds this batch's pairs.
   */
  private run(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, nMol: number, adj: LossAdjoints, pairsFound: boolean, primal?: FastEnergyForces): Map<string, Buf> {
    const s0 = this.setup(z, positions, mol, nMol, adj, pairsFound, primal);
    const s1 = { ...s0, ...this.geometry(s0) };
    const s: Step = { ...s1, ...this.filterSetup(s1) };
    const e = this.embed(s);
    const keep: LayerKeep[] = [];
    let vec = s.B(2 * 3 * s.N * s.H); // zero vectors enter the first layer
    for (let l = 0; l < s.cfg.num_layers; l++) vec = this.layerForward(s, l, e.x, vec, keep);
    const h = this.headForward(s, e.x, vec);
    const { gx, gvec: gvecHead } = this.headBackward(s, h, vec);
    let gvec = gvecHead;
    const gA0 = s.B(s.cols); // tangent adjoint of the self-loop filter pre-activations, summed over atoms
    for (let l = s.cfg.num_layers - 1; l >= 0; l--) gvec = this.layerBackward(s, l, keep, gx, gvec, gA0);
    this.embedBackward(s, e, gx);
    this.selfFilterGradients(s, gA0);
    return this.unpack(s.gw);
  }

  /** Constants, kernels and the parameter-adjoint accumulators of one call. */
  private setup(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, nMol: number, adj: LossAdjoints, pairsFound: boolean, primal?: FastEnergyForces) {
    const cfg = this.config;
    const N = z.length;
    if (adj.dForces.length !== 3 * N) throw new OreoError(`loss adjoint has ${adj.dForces.length} force components for ${N} atoms`);
    if (adj.dEnergy.length !== nMol) throw new OreoError(`loss adjoint has ${adj.dEnergy.length} energies for ${nMol} molecules`);
    this.poolNext = 0; // before pack(), which takes work buffers too
    const w = this.pack();
    const H = cfg.embedding_dimension, H3 = 3 * H, H5 = 5 * H, Hh = H / 2, R = cfg.num_rbf, R1 = R + 1;
    const heads = cfg.num_heads, hd = H / heads;
    const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
    const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';
    const perLayer = (keys ? H : 0) + (values ? 3 * H : 0);
    const cols = cfg.num_layers * perLayer;
    const B = (n: number) => this.work(n);
    // For buffers every element of which is written before it is read (products, row maps).
    const Bw = (n: number) => this.work(n, false);
    const dtype = this.dtype;

    // Tangent-of-parameter-gradient accumulators, in the packed layouts.
    const gw: Accumulators = {
      emb: B(w.emb.length),
      nbEmb: w.nbEmb ? B(w.nbEmb.length) : null,
      nbDist: w.nbDist ? B(w.nbDist.length) : null,
      nbCombine: w.nbCombine ? B(w.nbCombine.length) : null,
      nbCombineBias: w.nbCombineBias ? B(w.nbCombineBias.length) : null,
      filters: B(w.filters.length),
      layers: w.layers.map((lw) => ({
        lnW: B(H), lnB: B(H), qkv: B(lw.qkv.length), qkvB: B(5 * H), vecProj: B(lw.vecProj.length), oProj: B(lw.oProj.length), oB: B(3 * H),
      })),
      outW: B(H), outB: B(H),
      h0v: B(w.h0v.length), h0u0: B(w.h0u0.length), h0u0b: B(w.h0u0b.length), h0u2: B(w.h0u2.length), h0u2b: B(w.h0u2b.length),
      h1v: B(w.h1v.length), h1u0: B(w.h1u0.length), h1u0b: B(w.h1u0b.length), h1u2: B(w.h1u2.length), h1u2b: B(w.h1u2b.length),
    };

    if (!pairsFound) this.pairs.find(positions, mol, N, cfg.cutoff_upper);
    const P = this.pairs.count;
    const ar = this.arena && this.arena.active ? this.arena : null;
    const pa = ar ? ar.indices(this.pairs.a, P) : this.pairs.a, pb = ar ? ar.indices(this.pairs.b, P) : this.pairs.b;
    // The WASM pair kernel, where the channel counts are whole vectors and (checked per layer)
    // every array it touches lies in the kernels' memory.
    const lanes = dtype === 'float32' ? 4 : 2;
    const sz = dtype === 'float32' ? 4 : 8;
    const kernels = ar ? ar.kernels : null;
    const vectorKernels = kernels !== null && H % lanes === 0 && hd % lanes === 0;
    const pairKernel = vectorKernels && trainKernelUse.pairBackward ? trainKernels(kernels, sz as 4 | 8).pairBackward : null;
    const tk = vectorKernels ? trainKernels(kernels, sz as 4 | 8) : null;
    const resident = (...xs: ArrayBufferView[]) => kernels !== null && xs.every((x) => x.buffer === kernels.memoryBuffer);
    // Byte offset of element `elems` of x (the tangent half of a dual buffer, a block's start).
    const at = (x: ArrayBufferView, elems: number) => x.byteOffset + elems * sz;
    const rowKernels = tk && trainKernelUse.rows ? tk : null;
    // Bias rows added by the row kernel where the arrays allow (the bias copied in), else in JS.
    const rowBias = rowKernels ? etKernels(kernels!, sz as 4 | 8).addRowBias : null;
    const bias = (y: Buf, b: Buf, rows: number, cols: number): void => {
      if (rowBias && cols % lanes === 0 && resident(y)) {
        const bb = this.place(b);
        if (resident(bb)) return rowBias(y.byteOffset, bb.byteOffset, rows, cols);
      }
      addBias(y, b, rows, cols);
    };
    // A row of ones for the bias adjoints' column sums (see linearBack).
    const ones = rowKernels ? this.work(3 * N, false).fill(1) : null;
    const EA = 2 * P + N;
    return { cfg, N, w, H, H3, H5, Hh, R, R1, heads, hd, keys, values, perLayer, cols, B, Bw, dtype, gw, P, ar, pa, pb, lanes, sz, kernels, vectorKernels, pairKernel, tk, resident, at, rowKernels, rowBias, bias, ones, EA, z, positions, mol, nMol, adj, primal };
  }

  /** Pair geometry with tangents along the loss's force adjoint: u, C(r), the radial basis F. */
  private geometry(s: StepSetup) {
    const { adj, Bw, cfg, dtype, P, pa, pb, positions, R, R1, w } = s;
    const v = adj.dForces;
    const rc = cfg.cutoff_upper, alpha = 5 / rc, k = Math.PI / rc;
    const u = this.work64(3 * P), uT = this.work64(3 * P);
    const C = this.work64(P), CT = this.work64(P);
    const F = Bw(2 * P * R1); // dual [P, R+1]
    const tiny = smallestNormal(dtype);
    for (let p = 0; p < P; p++) {
      const a = pa[p], b = pb[p];
      let dx = positions[3 * b] - positions[3 * a], dy = positions[3 * b + 1] - positions[3 * a + 1], dz = positions[3 * b + 2] - positions[3 * a + 2];
      if (dtype === 'float32') {
        dx = Math.fround(Math.fround(positions[3 * b]) - Math.fround(positions[3 * a]));
        dy = Math.fround(Math.fround(positions[3 * b + 1]) - Math.fround(positions[3 * a + 1]));
        dz = Math.fround(Math.fround(positions[3 * b + 2]) - Math.fround(positions[3 * a + 2]));
      }
      const tx = v[3 * b] - v[3 * a], ty = v[3 * b + 1] - v[3 * a + 1], tz = v[3 * b + 2] - v[3 * a + 2];
      const r = Math.sqrt(dx * dx + dy * dy + dz * dz);
      const ux = dx / r, uy = dy / r, uz = dz / r;
      const rT = ux * tx + uy * ty + uz * tz;
      u[3 * p] = ux; u[3 * p + 1] = uy; u[3 * p + 2] = uz;
      uT[3 * p] = (tx - ux * rT) / r; uT[3 * p + 1] = (ty - uy * rT) / r; uT[3 * p + 2] = (tz - uz * rT) / r;
      const c = 0.5 * (Math.cos(k * r) + 1), c1 = -0.5 * k * Math.sin(k * r);
      C[p] = c;
      CT[p] = c1 * rT;
      const t = Math.exp(-alpha * r);
      for (let j = 0; j < R; j++) {
        const diff = t - w.means[j];
        const g = Math.exp(-w.betas[j] * diff * diff);
        // dg/dr = g·h, h = 2βα·t·(t − μ)
        const gd = g * 2 * w.betas[j] * alpha * t * diff;
        F[p * R1 + j] = flushSubnormal(g * c, tiny);
        F[(P + p) * R1 + j] = flushSubnormal((gd * c + g * c1) * rT, tiny);
      }
      F[p * R1 + R] = 1;
      F[(P + p) * R1 + R] = 0;
    }
    return { u, uT, C, CT, F, tiny };
  }

  /** Distance-filter work buffers, each layer's filter weights packed once, the self-loop filters. */
  private filterSetup(s: StepSetup & StepGeometry) {
    const { at, B, Bw, cfg, cols, F, kernels, P, perLayer, R, R1, resident, sz, tiny, tk, w } = s;
    // ------------------------------------------------ distance filters, per layer and block
    // A = F·Wᵀ; filt = silu(A); fder = silu′(A) with its tangent silu″(A)·Ȧ. They are made for a
    // block of pairs at a time, used there, and made again in the reverse pass: all layers'
    // filters for a batch-32 step would be ~0.7 GB, streamed from memory several times.
    const NB = Math.min(P, PAIR_BLOCK);
    const filt = Bw(2 * NB * perLayer), fder = Bw(2 * NB * perLayer), gA = Bw(2 * NB * perLayer);
    const fd2 = Bw(NB * perLayer), fy = Bw(NB * perLayer);
    // withDer: fder is wanted too (the reverse pass; the forward pass needs filt only).
    const siluKernel = tk && trainKernelUse.silu && resident(filt, fder) ? tk.siluDual : null;
    // Each layer's filter weights packed once for all its blocks (forward and reverse).
    const fp = this.filterPack;
    const packed = kernels && fp && fp.kernels === kernels && trainKernelUse.packedFilters && resident(w.filters, F, filt) ? fp : null;
    const packStride = packed ? this.filterPackBytes(kernels!).perLayer : 0;
    if (packed) {
      const packB = kernels!.exported<(tB: number, N: number, K: number, B: number, dst: number) => void>(sz === 4 ? 'pack_b_f32' : 'pack_b_f64');
      for (let l = 0; l < cfg.num_layers; l++) packB(1, perLayer, R1, at(w.filters, l * perLayer * R1), packed.offset + l * packStride);
    }
    const blockFilters = (l: number, p0: number, p1: number, withDer: boolean): void => {
      const nb = p1 - p0, n = nb * perLayer;
      if (n === 0) return;
      if (packed) {
        const Wp = packed.offset + l * packStride;
        kernels!.gemmPacked(false, nb, perLayer, R1, F.subarray(p0 * R1, p1 * R1), Wp, filt, false);
        kernels!.gemmPacked(false, nb, perLayer, R1, F.subarray((P + p0) * R1, (P + p1) * R1), Wp, filt.subarray(n), false);
      } else {
        const Wl = w.filters.subarray(l * perLayer * R1, (l + 1) * perLayer * R1);
        gemm(false, true, nb, perLayer, R1, F.subarray(p0 * R1, p1 * R1), Wl, filt, false);
        gemm(false, true, nb, perLayer, R1, F.subarray((P + p0) * R1, (P + p1) * R1), Wl, filt.subarray(n), false);
      }
      if (siluKernel) {
        // In place, value and tangent halves back to back: the kernel writes exactly n of each.
        siluKernel(filt.byteOffset, at(filt, n), n, filt.byteOffset, at(filt, n), withDer ? fder.byteOffset : 0, withDer ? at(fder, n) : 0);
        return;
      }
      // Outputs into whole buffers: the WASM kernel may write a vector past n (padding), which
      // inside `filt` would hit the tangent half.
      silu(filt.subarray(0, n), fy, fder, fd2, n);
      filt.set(fy.subarray(0, n));
      for (let i = 0; i < n; i++) {
        const at = filt[n + i];
        filt[n + i] = fder[i] * at;
        fder[n + i] = fd2[i] * at;
      }
    };
    // Self-loop filters: r = 0, a constant basis f(0) (no tangent).
    const f0 = B(R1);
    for (let j = 0; j < R; j++) f0[j] = flushSubnormal(Math.exp(-w.betas[j] * (1 - w.means[j]) ** 2), tiny);
    f0[R] = 1;
    const filt0 = B(cols), fder0 = B(cols);
    if (cols > 0) {
      gemm(false, true, 1, cols, R1, f0, w.filters, filt0, false);
      silu(filt0, filt0, fder0, null, cols);
    }
    return { NB, filt, fder, gA, fd2, fy, siluKernel, packed, packStride, blockFilters, f0, filt0, fder0 };
  }

  /** Atom embeddings (and the neighbour embedding), dual. */
  private embed(s: Step) {
    const { ar, at, B, bias, Bw, C, CT, F, H, N, P, pa, pb, R1, resident, tk, w, z } = s;
    // ------------------------------------------------------------------ embedding, dual
    const x = B(2 * N * H);
    let cat: Buf | null = null, nbPre: Buf | null = null;
    // The neighbour embedding's pair loops in WASM: atomic numbers and the embedding table copied in.
    const nbZ = tk && ar && w.nbEmb && trainKernelUse.neighborEmbedding ? ar.indices(z, N) : null;
    const nbEmb = nbZ ? this.place(w.nbEmb!) : null;
    const nbKernel = nbZ && resident(nbZ, nbEmb!, pa, pb, C, CT) ? tk : null;
    if (!w.nbEmb) {
      for (let n = 0; n < N; n++) x.set(w.emb.subarray(z[n] * H, z[n] * H + H), n * H);
    } else {
      cat = B(2 * N * 2 * H);
      for (let n = 0; n < N; n++) cat.set(w.emb.subarray(z[n] * H, z[n] * H + H), n * 2 * H);
      nbPre = Bw(2 * P * H);
      if (P > 0) gemm(false, true, 2 * P, H, R1, F, w.nbDist!, nbPre, false);
      const emb = w.nbEmb;
      const catT = N * 2 * H;
      if (nbKernel && resident(nbPre, cat)) {
        nbKernel.neighborEmbed(P, H, pa.byteOffset, pb.byteOffset, nbZ!.byteOffset, C.byteOffset, CT.byteOffset,
          nbPre.byteOffset, at(nbPre, P * H), nbEmb!.byteOffset, cat.byteOffset, at(cat, catT));
      } else for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p], c = C[p], cT = CT[p];
        const o = p * H, oT = (P + p) * H, ea = z[a] * H, eb = z[b] * H, ca = a * 2 * H + H, cb = b * 2 * H + H;
        for (let h = 0; h < H; h++) {
          const wv = nbPre[o + h] * c, wT = nbPre[oT + h] * c + nbPre[o + h] * cT;
          cat[ca + h] += emb[eb + h] * wv;
          cat[cb + h] += emb[ea + h] * wv;
          cat[catT + ca + h] += emb[eb + h] * wT;
          cat[catT + cb + h] += emb[ea + h] * wT;
        }
      }
      gemm(false, true, 2 * N, H, 2 * H, cat, w.nbCombine!, x, false);
      bias(x, w.nbCombineBias!, N, H);
    }
    return { x, cat, nbPre, nbZ, nbEmb, nbKernel };
  }

  /** Layer l forward on dual buffers, x updated in place; keeps what the reverse needs; returns the next vectors. */
  private layerForward(s: Step, l: number, x: Buf, vec: Buf, keep: LayerKeep[]): Buf {
    const { at, B, bias, blockFilters, Bw, C, CT, EA, filt, filt0, H, H3, H5, hd, heads, keys, N, NB, P, pa, pb, perLayer, resident, rowKernels, tk, u, uT, values, w, primal, z, positions, mol } = s;
    const lw = w.layers[l];
    const hasVec = l > 0;
    const st: LayerKeep = {
      xhat: Bw(2 * N * H), rstd: new Float64Array(2 * N), xn: Bw(2 * N * H), qkv: Bw(2 * N * H5), vec,
      vp: Bw(2 * 3 * N * H3), vdot: B(2 * N * H), s: Bw(2 * EA * heads), sd: Bw(2 * EA * heads), dx: B(2 * N * H), o: Bw(2 * N * H3),
    };
    keep.push(st);
    layerNormForwardDual(x, lw.lnW, lw.lnB, N, H, st.xhat, st.rstd, st.xn);
    // The primal halves of this layer's products from the inference pass where it ran on these
    // structures (the same layouts): only the tangent rows are multiplied here.
    const acts = primal ? primal.forwardActivations(l, z, positions, mol) : null;
    if (acts) {
      st.qkv.set(acts.qkv);
      gemm(false, true, N, H5, H, st.xn.subarray(N * H), lw.qkv, st.qkv.subarray(N * H5), false);
    } else {
      gemm(false, true, 2 * N, H5, H, st.xn, lw.qkv, st.qkv, false);
      bias(st.qkv, lw.qkvB, N, H5);
    }
    const qkv = st.qkv, qT = N * H5;
    const vp = st.vp, vdot = st.vdot;
    if (hasVec) {
      if (acts && acts.vp) {
        vp.set(acts.vp);
        gemm(false, true, 3 * N, H3, H, vec.subarray(3 * N * H), lw.vecProj, vp.subarray(3 * N * H3), false);
      } else {
        gemm(false, true, 2 * 3 * N, H3, H, vec, lw.vecProj, vp, false);
      }
      const vT = 3 * N * H3;
      if (rowKernels && resident(vp, vdot)) rowKernels.vectorDot(N, H, vp.byteOffset, at(vp, vT), vdot.byteOffset, at(vdot, N * H));
      else for (let n = 0; n < N; n++) {
        const d0 = n * H;
        for (let c = 0; c < 3; c++) {
          const r0 = (3 * n + c) * H3;
          for (let h = 0; h < H; h++) {
            vdot[d0 + h] += vp[r0 + h] * vp[r0 + H + h];
            vdot[N * H + d0 + h] += vp[vT + r0 + h] * vp[r0 + H + h] + vp[r0 + h] * vp[vT + r0 + H + h];
          }
        }
      }
    }
    // Attention logits, per edge and head: Σ_c q_i k_j dk.
    const sArr = st.s, sd = st.sd, sT0 = EA * heads;
    const dkOff = l * perLayer, dvOff = dkOff + (keys ? H : 0);
    const logit = (e: number, i: number, j: number, fk: number, fkT: number, self: boolean) => {
      for (let hh = 0; hh < heads; hh++) {
        let s = 0, sTt = 0;
        for (let c = hh * hd; c < (hh + 1) * hd; c++) {
          const q = qkv[i * H5 + c], kk = qkv[j * H5 + H + c];
          const qt = qkv[qT + i * H5 + c], kt = qkv[qT + j * H5 + H + c];
          let dk = 1, dkT = 0;
          if (keys) {
            if (self) dk = filt0[dkOff + c];
            else { dk = filt[fk + c]; dkT = filt[fkT + c]; }
          }
          s += q * kk * dk;
          sTt += (qt * kk + q * kt) * dk + q * kk * dkT;
        }
        sArr[e * heads + hh] = s;
        sArr[sT0 + e * heads + hh] = sTt;
      }
    };
    // silu of the logits of edges [e0, e1), with silu′ and the tangents (few values: plain JS).
    const edgeSilu = tk && trainKernelUse.silu && resident(sArr, sd) ? tk.siluDual : null;
    const siluEdges = (e0: number, e1: number): void => {
      if (edgeSilu) {
        // In place on s (value and tangent), silu′ and its tangent into sd.
        const i0 = e0 * heads, n = (e1 - e0) * heads;
        edgeSilu(at(sArr, i0), at(sArr, sT0 + i0), n, at(sArr, i0), at(sArr, sT0 + i0), at(sd, i0), at(sd, sT0 + i0));
        return;
      }
      for (let i = e0 * heads; i < e1 * heads; i++) {
        const xv = sArr[i], sg = 1 / (1 + Math.exp(-xv));
        const d1 = sg * (1 + xv * (1 - sg));
        const d2 = sg * (1 - sg) * (2 + xv * (1 - 2 * sg));
        const lt = sArr[sT0 + i];
        sArr[i] = xv * sg;
        sd[i] = d1;
        sArr[sT0 + i] = d1 * lt;
        sd[sT0 + i] = d2 * lt;
      }
    };
    // Messages: dx_i = Σ_j vS_j·fS·s·C; vec_i += Σ_j vec_j·vM_j·fM + vD_j·fD·d.
    const dx = st.dx, dxT = N * H;
    const vecNext = B(2 * 3 * N * H);
    const vN = 3 * N * H;
    if (hasVec) vecNext.set(vec);
    // Both directions of pair p at once (b → a with d = +u, a → b with d = −u); fo, foT: offsets
    // of the pair's value filters (primal, tangent) in the block buffer.
    const H2m = 2 * H, H3m = 3 * H, H4m = 4 * H;
    const pairMessages = (p: number, fo: number, foT: number): void => {
      const a = pa[p], b = pb[p], c0 = C[p], c0T = CT[p];
      const aq = a * H5, bq = b * H5, aqT = qT + aq, bqT = qT + bq;
      const e1 = 2 * p * heads, e2 = e1 + heads;
      const da = a * H, db = b * H;
      for (let hh = 0; hh < heads; hh++) {
        const s1 = sArr[e1 + hh], s1T = sArr[sT0 + e1 + hh], s2 = sArr[e2 + hh], s2T = sArr[sT0 + e2 + hh];
        const w1 = s1 * c0, w1T = s1T * c0 + s1 * c0T, w2 = s2 * c0, w2T = s2T * c0 + s2 * c0T;
        const cEnd = (hh + 1) * hd;
        for (let c = hh * hd; c < cEnd; c++) {
          let fs = 1, fsT = 0;
          if (values) {
            fs = filt[fo + c]; fsT = filt[foT + c];
          }
          const vs1 = qkv[bq + H2m + c], vs1T = qkv[bqT + H2m + c], vs2 = qkv[aq + H2m + c], vs2T = qkv[aqT + H2m + c];
          dx[da + c] += vs1 * fs * w1;
          dx[dxT + da + c] += vs1T * fs * w1 + vs1 * fsT * w1 + vs1 * fs * w1T;
          dx[db + c] += vs2 * fs * w2;
          dx[dxT + db + c] += vs2T * fs * w2 + vs2 * fsT * w2 + vs2 * fs * w2T;
        }
      }
      const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
      const uxT = uT[3 * p], uyT = uT[3 * p + 1], uzT = uT[3 * p + 2];
      const ax = 3 * a * H, bx = 3 * b * H;
      for (let c = 0; c < H; c++) {
        let fm = 1, fmT = 0, fd = 1, fdT = 0;
        if (values) {
          fm = filt[fo + H + c]; fmT = filt[foT + H + c]; fd = filt[fo + H2m + c]; fdT = filt[foT + H2m + c];
        }
        const vD1 = qkv[bq + H4m + c], vD1T = qkv[bqT + H4m + c], vD2 = qkv[aq + H4m + c], vD2T = qkv[aqT + H4m + c];
        const m21 = vD1 * fd, m21T = vD1T * fd + vD1 * fdT, m22 = vD2 * fd, m22T = vD2T * fd + vD2 * fdT;
        let ax0 = m21 * ux, ay0 = m21 * uy, az0 = m21 * uz;
        let ax0T = m21T * ux + m21 * uxT, ay0T = m21T * uy + m21 * uyT, az0T = m21T * uz + m21 * uzT;
        let bx0 = -m22 * ux, by0 = -m22 * uy, bz0 = -m22 * uz;
        let bx0T = -(m22T * ux + m22 * uxT), by0T = -(m22T * uy + m22 * uyT), bz0T = -(m22T * uz + m22 * uzT);
        if (hasVec) {
          const vM1 = qkv[bq + H3m + c], vM1T = qkv[bqT + H3m + c], vM2 = qkv[aq + H3m + c], vM2T = qkv[aqT + H3m + c];
          const m11 = vM1 * fm, m11T = vM1T * fm + vM1 * fmT, m12 = vM2 * fm, m12T = vM2T * fm + vM2 * fmT;
          const vbx = vec[bx + c], vby = vec[bx + H + c], vbz = vec[bx + H2m + c];
          const vax = vec[ax + c], vay = vec[ax + H + c], vaz = vec[ax + H2m + c];
          ax0 += vbx * m11; ay0 += vby * m11; az0 += vbz * m11;
          ax0T += vec[vN + bx + c] * m11 + vbx * m11T;
          ay0T += vec[vN + bx + H + c] * m11 + vby * m11T;
          az0T += vec[vN + bx + H2m + c] * m11 + vbz * m11T;
          bx0 += vax * m12; by0 += vay * m12; bz0 += vaz * m12;
          bx0T += vec[vN + ax + c] * m12 + vax * m12T;
          by0T += vec[vN + ax + H + c] * m12 + vay * m12T;
          bz0T += vec[vN + ax + H2m + c] * m12 + vaz * m12T;
        }
        vecNext[ax + c] += ax0; vecNext[ax + H + c] += ay0; vecNext[ax + H2m + c] += az0;
        vecNext[vN + ax + c] += ax0T; vecNext[vN + ax + H + c] += ay0T; vecNext[vN + ax + H2m + c] += az0T;
        vecNext[bx + c] += bx0; vecNext[bx + H + c] += by0; vecNext[bx + H2m + c] += bz0;
        vecNext[vN + bx + c] += bx0T; vecNext[vN + bx + H + c] += by0T; vecNext[vN + bx + H2m + c] += bz0T;
      }
    };
    const message = (e: number, i: number, j: number, fo: number, foT: number, c0: number, c0T: number, sign: number, p: number) => {
      // fo/foT: offsets of the value filters of this pair (primal/tangent), or -1 for self-loops.
      const self = fo < 0;
      for (let hh = 0; hh < heads; hh++) {
        const s = sArr[e * heads + hh], sTt = sArr[sT0 + e * heads + hh];
        const wgt = s * c0, wT = sTt * c0 + s * c0T;
        for (let c = hh * hd; c < (hh + 1) * hd; c++) {
          let fs = 1, fsT = 0;
          if (values) {
            if (self) fs = filt0[dvOff + c];
            else { fs = filt[fo + c]; fsT = filt[foT + c]; }
          }
          const vs = qkv[j * H5 + 2 * H + c], vsT = qkv[qT + j * H5 + 2 * H + c];
          dx[i * H + c] += vs * fs * wgt;
          dx[dxT + i * H + c] += vsT * fs * wgt + vs * fsT * wgt + vs * fs * wT;
        }
      }
      const ux = self ? 0 : sign * u[3 * p], uy = self ? 0 : sign * u[3 * p + 1], uz = self ? 0 : sign * u[3 * p + 2];
      const uxT = self ? 0 : sign * uT[3 * p], uyT = self ? 0 : sign * uT[3 * p + 1], uzT = self ? 0 : sign * uT[3 * p + 2];
      const ix = 3 * i * H, jx = 3 * j * H;
      for (let c = 0; c < H; c++) {
        let fm = 1, fmT = 0, fd = 1, fdT = 0;
        if (values) {
          if (self) { fm = filt0[dvOff + H + c]; fd = filt0[dvOff + 2 * H + c]; }
          else { fm = filt[fo + H + c]; fmT = filt[foT + H + c]; fd = filt[fo + 2 * H + c]; fdT = filt[foT + 2 * H + c]; }
        }
        const vM = qkv[j * H5 + 3 * H + c], vMT = qkv[qT + j * H5 + 3 * H + c];
        const vD = qkv[j * H5 + 4 * H + c], vDT = qkv[qT + j * H5 + 4 * H + c];
        const m1 = vM * fm, m1T = vMT * fm + vM * fmT;
        const m2 = vD * fd, m2T = vDT * fd + vD * fdT;
        for (let q = 0; q < 3; q++) {
          const d = q === 0 ? ux : q === 1 ? uy : uz, dT = q === 0 ? uxT : q === 1 ? uyT : uzT;
          let val = m2 * d, valT = m2T * d + m2 * dT;
          if (hasVec) {
            const vj = vec[jx + q * H + c], vjT = vec[vN + jx + q * H + c];
            val += vj * m1;
            valT += vjT * m1 + vj * m1T;
          }
          vecNext[ix + q * H + c] += val;
          vecNext[vN + ix + q * H + c] += valT;
        }
      }
    };
    // Per block of pairs: filters, logits of both directions, their silu, then the messages.
    const dvLocal = keys ? H : 0;
    const fwd = tk && trainKernelUse.pairForward && resident(pa, pb, u, uT, C, CT, qkv, vec, sArr, filt, dx, vecNext) ? tk : null;
    for (let p0 = 0; p0 < P; p0 += NB) {
      const p1 = Math.min(P, p0 + NB), TB = (p1 - p0) * perLayer;
      blockFilters(l, p0, p1, false);
      if (fwd) {
        fwd.pairLogits(p0, p1, H, heads, perLayer, keys ? 1 : 0, pa.byteOffset, pb.byteOffset, qkv.byteOffset, at(qkv, qT),
          filt.byteOffset, at(filt, TB), sArr.byteOffset, at(sArr, sT0));
      } else for (let p = p0; p < p1; p++) {
        const fk = (p - p0) * perLayer;
        logit(2 * p, pa[p], pb[p], fk, fk + TB, false);
        logit(2 * p + 1, pb[p], pa[p], fk, fk + TB, false);
      }
      siluEdges(2 * p0, 2 * p1);
      if (fwd) {
        fwd.pairMessages(p0, p1, H, heads, perLayer, dvLocal, values ? 1 : 0, hasVec ? 1 : 0, pa.byteOffset, pb.byteOffset,
          u.byteOffset, uT.byteOffset, C.byteOffset, CT.byteOffset, qkv.byteOffset, at(qkv, qT), vec.byteOffset, at(vec, vN),
          sArr.byteOffset, at(sArr, sT0), filt.byteOffset, at(filt, TB), dx.byteOffset, at(dx, dxT), vecNext.byteOffset, at(vecNext, vN));
      } else for (let p = p0; p < p1; p++) {
        const fo = (p - p0) * perLayer + dvLocal;
        pairMessages(p, fo, fo + TB);
      }
    }
    // Self-loops: edges 2P + n.
    const selfFwd = tk && trainKernelUse.selfLoops && resident(qkv, vec, sArr, filt0, dx, vecNext) ? tk : null;
    const sSelf = 2 * P * heads;
    if (selfFwd) selfFwd.selfLogits(N, H, heads, keys ? 1 : 0, qkv.byteOffset, at(qkv, qT), at(filt0, dkOff), at(sArr, sSelf), at(sArr, sT0 + sSelf));
    else for (let n = 0; n < N; n++) logit(2 * P + n, n, n, 0, 0, true);
    siluEdges(2 * P, EA);
    if (selfFwd) {
      selfFwd.selfMessages(N, H, heads, values ? 1 : 0, hasVec ? 1 : 0, qkv.byteOffset, at(qkv, qT), vec.byteOffset, at(vec, vN),
        at(sArr, sSelf), at(sArr, sT0 + sSelf), at(filt0, dvOff), dx.byteOffset, at(dx, dxT), vecNext.byteOffset, at(vecNext, vN));
    } else for (let n = 0; n < N; n++) message(2 * P + n, n, n, -1, -1, 1, 0, 0, 0);
    // o = dx·Woᵀ + b; x += vdot·o2 + o3; vec += vp3·o1.
    if (acts) {
      st.o.set(acts.o);
      gemm(false, true, N, H3, H, dx.subarray(N * H), lw.oProj, st.o.subarray(N * H3), false);
    } else {
      gemm(false, true, 2 * N, H3, H, dx, lw.oProj, st.o, false);
      bias(st.o, lw.oB, N, H3);
    }
    const o = st.o, oT = N * H3, vpT = 3 * N * H3;
    if (rowKernels && resident(o, vdot, vp, x, vecNext)) {
      rowKernels.residual(N, H, hasVec ? 1 : 0, o.byteOffset, at(o, oT), vdot.byteOffset, at(vdot, N * H), vp.byteOffset, at(vp, vpT),
        x.byteOffset, at(x, N * H), vecNext.byteOffset, at(vecNext, vN));
    } else for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        const i = n * H + h, oo = n * H3 + h;
        x[i] += vdot[i] * o[oo + H] + o[oo + 2 * H];
        x[N * H + i] += vdot[N * H + i] * o[oo + H] + vdot[i] * o[oT + oo + H] + o[oT + oo + 2 * H];
      }
      if (!hasVec) continue;
      for (let c = 0; c < 3; c++) {
        const row0 = (3 * n + c) * H, prow0 = (3 * n + c) * H3 + 2 * H, oo0 = n * H3;
        for (let h = 0; h < H; h++) {
          const row = row0 + h, prow = prow0 + h, oo = oo0 + h;
          vecNext[row] += vp[prow] * o[oo];
          vecNext[vN + row] += vp[vpT + prow] * o[oo] + vp[prow] * o[oT + oo];
        }
      }
    }
    return vecNext;
  }

  /** The EquivariantScalar head forward, dual. */
  private headForward(s: Step, x: Buf, vec: Buf) {
    const { B, bias, H, Hh, N, w } = s;
    // ------------------------------------------------------------------ head, forward
    const outHat = B(2 * N * H), outRstd = new Float64Array(2 * N), xo = B(2 * N * H);
    layerNormForwardDual(x, w.outW, w.outB, N, H, outHat, outRstd, xo);
    const S0 = H + Hh;
    const v12 = B(2 * 3 * N * S0);
    gemm(false, true, 2 * 3 * N, S0, H, vec, w.h0v, v12, false);
    const u0 = B(2 * N * 2 * H);
    const v12T = 3 * N * S0, u0T = N * 2 * H;
    for (let n = 0; n < N; n++) {
      u0.set(xo.subarray(n * H, n * H + H), n * 2 * H);
      u0.set(xo.subarray(N * H + n * H, N * H + n * H + H), u0T + n * 2 * H);
      for (let h = 0; h < H; h++) {
        let s = 0, sT = 0;
        for (let c = 0; c < 3; c++) {
          const i = (3 * n + c) * S0 + h;
          s += v12[i] * v12[i];
          sT += v12[i] * v12[v12T + i];
        }
        const nrm = s > 0 ? Math.sqrt(s) : 0;
        u0[n * 2 * H + H + h] = nrm;
        u0[u0T + n * 2 * H + H + h] = nrm > 0 ? sT / nrm : 0;
      }
    }
    const h0 = B(2 * N * H), h0d = B(2 * N * H);
    gemm(false, true, 2 * N, H, 2 * H, u0, w.h0u0, h0, false);
    bias(h0, w.h0u0b, N, H);
    siluDual(h0, h0d, N * H, B);
    const h1 = B(2 * N * H);
    gemm(false, true, 2 * N, H, H, h0, w.h0u2, h1, false);
    bias(h1, w.h0u2b, N, H);
    // xb = silu(h1[:, :Hh]); vecb = gate·v2.
    const xb = B(2 * N * Hh), xbd = B(2 * N * Hh);
    const vecb = B(2 * 3 * N * Hh);
    const h1T = N * H, vbT = 3 * N * Hh;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        xb[n * Hh + h] = h1[n * H + h];
        xb[N * Hh + n * Hh + h] = h1[h1T + n * H + h];
        const gate = h1[n * H + Hh + h], gateT = h1[h1T + n * H + Hh + h];
        for (let c = 0; c < 3; c++) {
          const i = (3 * n + c) * S0 + H + h, o = (3 * n + c) * Hh + h;
          vecb[o] = gate * v12[i];
          vecb[vbT + o] = gateT * v12[i] + gate * v12[v12T + i];
        }
      }
    }
    siluDual(xb, xbd, N * Hh, B);
    const v1b = B(2 * 3 * N * Hh);
    gemm(false, true, 2 * 3 * N, Hh, Hh, vecb, w.h1v, v1b, false);
    const u0b = B(2 * N * H), u0bT = N * H;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        u0b[n * H + h] = xb[n * Hh + h];
        u0b[u0bT + n * H + h] = xb[N * Hh + n * Hh + h];
        let s = 0, sT = 0;
        for (let c = 0; c < 3; c++) {
          const i = (3 * n + c) * Hh + h;
          s += v1b[i] * v1b[i];
          sT += v1b[i] * v1b[vbT + i];
        }
        const nrm = s > 0 ? Math.sqrt(s) : 0;
        u0b[n * H + Hh + h] = nrm;
        u0b[u0bT + n * H + Hh + h] = nrm > 0 ? sT / nrm : 0;
      }
    }
    const h0b = B(2 * N * Hh), h0bd = B(2 * N * Hh);
    gemm(false, true, 2 * N, Hh, H, u0b, w.h1u0, h0b, false);
    bias(h0b, w.h1u0b, N, Hh);
    siluDual(h0b, h0bd, N * Hh, B);
    return { outHat, outRstd, xo, S0, v12, u0, v12T, u0T, h0, h0d, h1, xb, xbd, vecb, h1T, vbT, v1b, u0b, u0bT, h0b, h0bd };
  }

  /** The head in reverse from the energy seeds: the adjoints of x and of the last vectors. */
  private headBackward(s: Step, hf: HeadForward, vec: Buf) {
    const { adj, B, cfg, gw, H, Hh, mol, N, nMol, ones, w } = s;
    const { outHat, outRstd, S0, v12, u0, v12T, u0T, h0, h0d, h1, xbd, vecb, h1T, vbT, v1b, u0b, u0bT, h0b, h0bd } = hf;
    // ------------------------------------------------------------------ head, backward
    // Seeds: ē_m = 1 (primal), ē̇_m = −∂L/∂E_m (tangent).
    const count = new Float64Array(nMol);
    for (let n = 0; n < N; n++) count[mol[n]]++;
    const mean = cfg.reduce_op === 'mean';
    const u2 = w.h1u2;
    const gh0b = B(2 * N * Hh); // adjoint of the silu output, then of its input
    const pu2 = gw.h1u2, pu2b = gw.h1u2b;
    for (let n = 0; n < N; n++) {
      const scale = mean ? 1 / count[mol[n]] : 1;
      const gs = w.std * scale, gsT = -w.std * scale * adj.dEnergy[mol[n]];
      pu2b[0] += gsT;
      for (let h = 0; h < Hh; h++) {
        const i = n * Hh + h, iT = N * Hh + i;
        pu2[h] += gsT * h0b[i] + gs * h0b[iT];
        const g = gs * u2[h], gT = gsT * u2[h];
        gh0b[i] = g * h0bd[i];
        gh0b[iT] = gT * h0bd[i] + g * h0bd[iT];
      }
    }
    const gu0b = B(2 * N * H);
    linearBack(gh0b, N, Hh, H, w.h1u0, gu0b, u0b, gw.h1u0, gw.h1u0b, ones);
    // ‖v1b‖ backward, and the scalar part of block 0's output through its silu.
    const gv1b = B(2 * 3 * N * Hh);
    normBackDual(gu0b, H, Hh, v1b, u0b, N, Hh, gv1b);
    const gvecb = B(2 * 3 * N * Hh);
    linearBack(gv1b, 3 * N, Hh, Hh, w.h1v, gvecb, vecb, gw.h1v, null);
    const gh1 = B(2 * N * H), gv12 = B(2 * 3 * N * S0);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        const i = n * Hh + h, iT = N * Hh + i;
        const g = gu0b[n * H + h], gT = gu0b[u0bT + n * H + h];
        gh1[n * H + h] = g * xbd[i];
        gh1[h1T + n * H + h] = gT * xbd[i] + g * xbd[iT];
        const gate = h1[n * H + Hh + h], gateT = h1[h1T + n * H + Hh + h];
        let gg = 0, ggT = 0;
        for (let c = 0; c < 3; c++) {
          const ob = (3 * n + c) * Hh + h, iv = (3 * n + c) * S0 + H + h;
          const gb = gvecb[ob], gbT = gvecb[vbT + ob];
          gg += gb * v12[iv];
          ggT += gbT * v12[iv] + gb * v12[v12T + iv];
          gv12[iv] = gate * gb;
          gv12[v12T + iv] = gateT * gb + gate * gbT;
        }
        gh1[n * H + Hh + h] = gg;
        gh1[h1T + n * H + Hh + h] = ggT;
      }
    }
    const gh0 = B(2 * N * H);
    linearBack(gh1, N, H, H, w.h0u2, gh0, h0, gw.h0u2, gw.h0u2b, ones);
    mulDerDual(gh0, h0d, N * H);
    const gu0 = B(2 * N * 2 * H);
    linearBack(gh0, N, H, 2 * H, w.h0u0, gu0, u0, gw.h0u0, gw.h0u0b, ones);
    normBackDual(gu0, 2 * H, H, v12, u0, N, S0, gv12);
    let gvec = B(2 * 3 * N * H);
    linearBack(gv12, 3 * N, S0, H, w.h0v, gvec, vec, gw.h0v, null);
    const gxo = B(2 * N * H);
    for (let n = 0; n < N; n++) {
      gxo.set(gu0.subarray(n * 2 * H, n * 2 * H + H), n * H);
      gxo.set(gu0.subarray(u0T + n * 2 * H, u0T + n * 2 * H + H), N * H + n * H);
    }
    const gx = B(2 * N * H);
    layerNormBackwardDual(gxo, w.outW, outHat, outRstd, N, H, gx, gw.outW, gw.outB);
    return { gx, gvec };
  }

  /** Layer l in reverse: adds into gx, accumulates the parameter tangents; returns the input vectors' adjoint. */
  private layerBackward(s: Step, l: number, keep: LayerKeep[], gx: Buf, gvec: Buf, gA0: Buf): Buf {
    const { at, B, blockFilters, Bw, C, CT, EA, F, fder, fder0, filt, filt0, gA, gw, H, H3, H5, hd, heads, keys, N, NB, ones, P, pa, pairKernel, pb, perLayer, R1, resident, rowKernels, tk, u, uT, values, w } = s;
    const lw = w.layers[l], pw = gw.layers[l], st = keep[l];
    const hasVec = l > 0;
    const { qkv, vp, vdot, o, s: sArr, sd } = st;
    const vecIn = st.vec;
    const NH = N * H, vN = 3 * N * H, oT = N * H3, vpT = 3 * N * H3, qT = N * H5, sT0 = EA * heads;
    // Residual: go = [Σ_xyz gvec·vp3, gx·vdot, gx]; gvp = [gvdot·vp2, gvdot·vp1, gvec·o1].
    const rowsBack = rowKernels !== null && resident(gx, gvec, vp, vdot, o);
    // The kernel writes every element of go (and of gvp where it is used).
    const go = rowsBack ? Bw(2 * N * H3) : B(2 * N * H3), gvp = rowsBack ? Bw(2 * 3 * N * H3) : B(2 * 3 * N * H3);
    if (rowsBack && resident(go, gvp)) {
      rowKernels!.residualBackward(N, H, hasVec ? 1 : 0, gx.byteOffset, at(gx, NH), gvec.byteOffset, at(gvec, vN), vp.byteOffset, at(vp, vpT),
        vdot.byteOffset, at(vdot, NH), o.byteOffset, at(o, oT), go.byteOffset, at(go, oT), gvp.byteOffset, at(gvp, vpT));
    } else {
      if (rowsBack) { go.fill(0); gvp.fill(0); } // taken unzeroed for a kernel that could not run
      // Channels innermost: every array is walked contiguously.
      for (let n = 0; n < N; n++) {
        const i0 = n * H, o0 = n * H3;
        for (let h = 0; h < H; h++) {
          const i = i0 + h, oo = o0 + h;
          const g = gx[i], gT = gx[NH + i];
          go[oo + H] = g * vdot[i];
          go[oT + oo + H] = gT * vdot[i] + g * vdot[NH + i];
          go[oo + 2 * H] = g;
          go[oT + oo + 2 * H] = gT;
        }
        if (!hasVec) continue;
        for (let c = 0; c < 3; c++) {
          const row0 = (3 * n + c) * H, pr0 = (3 * n + c) * H3;
          for (let h = 0; h < H; h++) {
            const i = i0 + h, oo = o0 + h, row = row0 + h, pr = pr0 + h;
            const g = gx[i], gT = gx[NH + i];
            const gd = g * o[oo + H], gdT = gT * o[oo + H] + g * o[oT + oo + H];
            const gv = gvec[row], gvT = gvec[vN + row];
            go[oo] += gv * vp[pr + 2 * H];
            go[oT + oo] += gvT * vp[pr + 2 * H] + gv * vp[vpT + pr + 2 * H];
            gvp[pr] = gd * vp[pr + H];
            gvp[vpT + pr] = gdT * vp[pr + H] + gd * vp[vpT + pr + H];
            gvp[pr + H] = gd * vp[pr];
            gvp[vpT + pr + H] = gdT * vp[pr] + gd * vp[vpT + pr];
            gvp[pr + 2 * H] = gv * o[oo];
            gvp[vpT + pr + 2 * H] = gvT * o[oo] + gv * o[oT + oo];
          }
        }
      }
    }
    const gdx = Bw(2 * N * H);
    linearBack(go, N, H3, H, lw.oProj, gdx, st.dx, pw.oProj, pw.oB, ones);
    const gvi = B(2 * 3 * N * H);
    if (hasVec) {
      linearBack(gvp, 3 * N, H3, H, lw.vecProj, gvi, vecIn, pw.vecProj, null);
      if (rowKernels && resident(gvi, gvec)) rowKernels.addInto(gvi.byteOffset, gvec.byteOffset, 2 * vN);
      else for (let i = 0; i < 2 * vN; i++) gvi[i] += gvec[i];
    }
    // Edges backward, with tangents.
    const gqkv = B(2 * N * H5);
    const dkOff = l * perLayer, dvOff = dkOff + (keys ? H : 0);
    // Self-loops (r = 0: C = 1, d = 0, constant filters): their filter adjoints have only the
    // tangent part that matters, summed over atoms into gA0.
    const selfLoop = (n: number): void => {
      const e = 2 * P + n;
      const nx = 3 * n * H;
      for (let c = 0; c < H; c++) {
        const im = dvOff + H + c;
        const fm = values ? filt0[im] : 1;
        const jM = n * H5 + 3 * H + c;
        const vM = qkv[jM], vMT = qkv[qT + jM];
        if (!hasVec) continue; // m1 meets vec_j = 0; m2 meets d = 0
        let gm1 = 0, gm1T = 0;
        for (let q = 0; q < 3; q++) {
          const g = gvec[nx + q * H + c], gT = gvec[vN + nx + q * H + c];
          const vj = vecIn[nx + q * H + c], vjT = vecIn[vN + nx + q * H + c];
          gm1 += g * vj;
          gm1T += gT * vj + g * vjT;
          gvi[nx + q * H + c] += g * vM * fm;
          gvi[vN + nx + q * H + c] += (gT * vM + g * vMT) * fm;
        }
        gqkv[jM] += gm1 * fm;
        gqkv[qT + jM] += gm1T * fm;
        if (values) gA0[im] += (gm1T * vM + gm1 * vMT) * fder0[im];
      }
      for (let hh = 0; hh < heads; hh++) {
        const s = sArr[e * heads + hh], sTt = sArr[sT0 + e * heads + hh];
        let gw1 = 0, gw1T = 0;
        for (let c = hh * hd; c < (hh + 1) * hd; c++) {
          const is = dvOff + c;
          const fs = values ? filt0[is] : 1;
          const jS = n * H5 + 2 * H + c;
          const vs = qkv[jS], vsT = qkv[qT + jS];
          const g = gdx[n * H + c], gT = gdx[NH + n * H + c];
          gqkv[jS] += g * fs * s;
          gqkv[qT + jS] += (gT * s + g * sTt) * fs;
          gw1 += g * vs * fs;
          gw1T += (gT * vs + g * vsT) * fs;
          if (values) gA0[is] += (gT * vs * s + g * vsT * s + g * vs * sTt) * fder0[is];
        }
        const d1 = sd[e * heads + hh], d1T = sd[sT0 + e * heads + hh];
        const gl = gw1 * d1, glT = gw1T * d1 + gw1 * d1T;
        for (let c = hh * hd; c < (hh + 1) * hd; c++) {
          const ik = dkOff + c;
          const dk = keys ? filt0[ik] : 1;
          const iq = n * H5 + c, jk = n * H5 + H + c;
          const q = qkv[iq], qt = qkv[qT + iq], kk = qkv[jk], kt = qkv[qT + jk];
          gqkv[iq] += gl * kk * dk;
          gqkv[qT + iq] += (glT * kk + gl * kt) * dk;
          gqkv[jk] += gl * q * dk;
          gqkv[qT + jk] += (glT * q + gl * qt) * dk;
          if (keys) gA0[ik] += (glT * q * kk + gl * (qt * kk + q * kt)) * fder0[ik];
        }
      }
    };
    // Pairs: both directions at once (e1: b → a with d = +u, e2: a → b with d = −u), sharing
    // the pair's filters.
    const H2 = 2 * H, H4 = 4 * H;
    const dvLocal = keys ? H : 0;
    const pW = w.filters.length > 0 ? gw.filters.subarray(l * perLayer * R1, (l + 1) * perLayer * R1) : gw.filters;
    const useKernel = pairKernel !== null && resident(pa, pb, u, uT, C, CT, qkv, vecIn, gvec, gdx, sArr, sd, filt, fder, gqkv, gvi, gA);
    for (let p0 = 0; p0 < P; p0 += NB) {
    const p1 = Math.min(P, p0 + NB), nb = p1 - p0, TB = nb * perLayer;
    blockFilters(l, p0, p1, true);
    gA.fill(0, 0, 2 * TB);
    if (useKernel) {
      const o = at;
      pairKernel!(p0, p1, H, heads, perLayer, dvLocal, keys ? 1 : 0, values ? 1 : 0, hasVec ? 1 : 0,
        pa.byteOffset, pb.byteOffset, u.byteOffset, uT.byteOffset, C.byteOffset, CT.byteOffset,
        qkv.byteOffset, o(qkv, qT), vecIn.byteOffset, o(vecIn, vN), gvec.byteOffset, o(gvec, vN), gdx.byteOffset, o(gdx, NH),
        sArr.byteOffset, o(sArr, sT0), sd.byteOffset, o(sd, sT0), filt.byteOffset, o(filt, TB), fder.byteOffset, o(fder, TB),
        gqkv.byteOffset, o(gqkv, qT), gvi.byteOffset, o(gvi, vN), gA.byteOffset, o(gA, TB));
    } else for (let p = p0; p < p1; p++) {
      const a = pa[p], b = pb[p];
      const c0 = C[p], c0T = CT[p];
      const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
      const uxT = uT[3 * p], uyT = uT[3 * p + 1], uzT = uT[3 * p + 2];
      const fo = (p - p0) * perLayer;
      const aq = a * H5, bq = b * H5, aqT = qT + aq, bqT = qT + bq;
      const ax = 3 * a * H, bx = 3 * b * H;
      for (let c = 0; c < H; c++) {
        let fm = 1, fmT = 0, fd = 1, fdT = 0;
        const im = fo + dvLocal + H + c, id = fo + dvLocal + H2 + c;
        if (values) {
          fm = filt[im]; fmT = filt[im + TB]; fd = filt[id]; fdT = filt[id + TB];
        }
        const vD1 = qkv[bq + H4 + c], vD1T = qkv[bqT + H4 + c], vD2 = qkv[aq + H4 + c], vD2T = qkv[aqT + H4 + c];
        const gax = gvec[ax + c], gay = gvec[ax + H + c], gaz = gvec[ax + H2 + c];
        const gaxT = gvec[vN + ax + c], gayT = gvec[vN + ax + H + c], gazT = gvec[vN + ax + H2 + c];
        const gbx = gvec[bx + c], gby = gvec[bx + H + c], gbz = gvec[bx + H2 + c];
        const gbxT = gvec[vN + bx + c], gbyT = gvec[vN + bx + H + c], gbzT = gvec[vN + bx + H2 + c];
        const gm21 = gax * ux + gay * uy + gaz * uz;
        const gm21T = gaxT * ux + gayT * uy + gazT * uz + gax * uxT + gay * uyT + gaz * uzT;
        const gm22 = -(gbx * ux + gby * uy + gbz * uz);
        const gm22T = -(gbxT * ux + gbyT * uy + gbzT * uz + gbx * uxT + gby * uyT + gbz * uzT);
        gqkv[bq + H4 + c] += gm21 * fd;
        gqkv[bqT + H4 + c] += gm21T * fd + gm21 * fdT;
        gqkv[aq + H4 + c] += gm22 * fd;
        gqkv[aqT + H4 + c] += gm22T * fd + gm22 * fdT;
        let gfm = 0, gfmT = 0;
        if (hasVec) {
          const H3c = 3 * H + c;
          const vM1 = qkv[bq + H3c], vM1T = qkv[bqT + H3c], vM2 = qkv[aq + H3c], vM2T = qkv[aqT + H3c];
          const vbx = vecIn[bx + c], vby = vecIn[bx + H + c], vbz = vecIn[bx + H2 + c];
          const vbxT = vecIn[vN + bx + c], vbyT = vecIn[vN + bx + H + c], vbzT = vecIn[vN + bx + H2 + c];
          const vax = vecIn[ax + c], vay = vecIn[ax + H + c], vaz = vecIn[ax + H2 + c];
          const vaxT = vecIn[vN + ax + c], vayT = vecIn[vN + ax + H + c], vazT = vecIn[vN + ax + H2 + c];
          const gm11 = gax * vbx + gay * vby + gaz * vbz;
          const gm11T = gaxT * vbx + gayT * vby + gazT * vbz + gax * vbxT + gay * vbyT + gaz * vbzT;
          const gm12 = gbx * vax + gby * vay + gbz * vaz;
          const gm12T = gbxT * vax + gbyT * vay + gbzT * vaz + gbx * vaxT + gby * vayT + gbz * vazT;
          const m11 = vM1 * fm, m11T = vM1T * fm + vM1 * fmT;
          const m12 = vM2 * fm, m12T = vM2T * fm + vM2 * fmT;
          gvi[bx + c] += gax * m11;
          gvi[bx + H + c] += gay * m11;
          gvi[bx + H2 + c] += gaz * m11;
          gvi[vN + bx + c] += gaxT * m11 + gax * m11T;
          gvi[vN + bx + H + c] += gayT * m11 + gay * m11T;
          gvi[vN + bx + H2 + c] += gazT * m11 + gaz * m11T;
          gvi[ax + c] += gbx * m12;
          gvi[ax + H + c] += gby * m12;
          gvi[ax + H2 + c] += gbz * m12;
          gvi[vN + ax + c] += gbxT * m12 + gbx * m12T;
          gvi[vN + ax + H + c] += gbyT * m12 + gby * m12T;
          gvi[vN + ax + H2 + c] += gbzT * m12 + gbz * m12T;
          gqkv[bq + H3c] += gm11 * fm;
          gqkv[bqT + H3c] += gm11T * fm + gm11 * fmT;
          gqkv[aq + H3c] += gm12 * fm;
          gqkv[aqT + H3c] += gm12T * fm + gm12 * fmT;
          gfm = gm11 * vM1 + gm12 * vM2;
          gfmT = gm11T * vM1 + gm11 * vM1T + gm12T * vM2 + gm12 * vM2T;
        }
        if (values) {
          const gfd = gm21 * vD1 + gm22 * vD2;
          const gfdT = gm21T * vD1 + gm21 * vD1T + gm22T * vD2 + gm22 * vD2T;
          gA[id] += gfd * fder[id];
          gA[id + TB] += gfdT * fder[id] + gfd * fder[id + TB];
          if (hasVec) {
            gA[im] += gfm * fder[im];
            gA[im + TB] += gfmT * fder[im] + gfm * fder[im + TB];
          }
        }
      }
      const e1 = 2 * p * heads, e2 = e1 + heads;
      for (let hh = 0; hh < heads; hh++) {
        const s1 = sArr[e1 + hh], s1T = sArr[sT0 + e1 + hh], s2 = sArr[e2 + hh], s2T = sArr[sT0 + e2 + hh];
        const w1 = s1 * c0, w1T = s1T * c0 + s1 * c0T, w2 = s2 * c0, w2T = s2T * c0 + s2 * c0T;
        let gw1 = 0, gw1T = 0, gw2 = 0, gw2T = 0;
        const cEnd = (hh + 1) * hd;
        for (let c = hh * hd; c < cEnd; c++) {
          let fs = 1, fsT = 0;
          const is = fo + dvLocal + c;
          if (values) {
            fs = filt[is]; fsT = filt[is + TB];
          }
          const vs1 = qkv[bq + H2 + c], vs1T = qkv[bqT + H2 + c], vs2 = qkv[aq + H2 + c], vs2T = qkv[aqT + H2 + c];
          const g1 = gdx[a * H + c], g1T = gdx[NH + a * H + c], g2 = gdx[b * H + c], g2T = gdx[NH + b * H + c];
          gqkv[bq + H2 + c] += g1 * fs * w1;
          gqkv[bqT + H2 + c] += g1T * fs * w1 + g1 * fsT * w1 + g1 * fs * w1T;
          gqkv[aq + H2 + c] += g2 * fs * w2;
          gqkv[aqT + H2 + c] += g2T * fs * w2 + g2 * fsT * w2 + g2 * fs * w2T;
          gw1 += g1 * vs1 * fs;
          gw1T += g1T * vs1 * fs + g1 * vs1T * fs + g1 * vs1 * fsT;
          gw2 += g2 * vs2 * fs;
          gw2T += g2T * vs2 * fs + g2 * vs2T * fs + g2 * vs2 * fsT;
          if (values) {
            const gf = g1 * vs1 * w1 + g2 * vs2 * w2;
            const gfT = g1T * vs1 * w1 + g1 * vs1T * w1 + g1 * vs1 * w1T + g2T * vs2 * w2 + g2 * vs2T * w2 + g2 * vs2 * w2T;
            gA[is] += gf * fder[is];
            gA[is + TB] += gfT * fder[is] + gf * fder[is + TB];
          }
        }
        const gs1 = gw1 * c0, gs1T = gw1T * c0 + gw1 * c0T, gs2 = gw2 * c0, gs2T = gw2T * c0 + gw2 * c0T;
        const d11 = sd[e1 + hh], d11T = sd[sT0 + e1 + hh], d12 = sd[e2 + hh], d12T = sd[sT0 + e2 + hh];
        const gl1 = gs1 * d11, gl1T = gs1T * d11 + gs1 * d11T, gl2 = gs2 * d12, gl2T = gs2T * d12 + gs2 * d12T;
        for (let c = hh * hd; c < cEnd; c++) {
          let dk = 1, dkT = 0;
          const ik = fo + c;
          if (keys) {
            dk = filt[ik]; dkT = filt[ik + TB];
          }
          const qa = qkv[aq + c], qaT = qkv[aqT + c], kb = qkv[bq + H + c], kbT = qkv[bqT + H + c];
          const qb = qkv[bq + c], qbT = qkv[bqT + c], ka = qkv[aq + H + c], kaT = qkv[aqT + H + c];
          gqkv[aq + c] += gl1 * kb * dk;
          gqkv[aqT + c] += gl1T * kb * dk + gl1 * kbT * dk + gl1 * kb * dkT;
          gqkv[bq + H + c] += gl1 * qa * dk;
          gqkv[bqT + H + c] += gl1T * qa * dk + gl1 * qaT * dk + gl1 * qa * dkT;
          gqkv[bq + c] += gl2 * ka * dk;
          gqkv[bqT + c] += gl2T * ka * dk + gl2 * kaT * dk + gl2 * ka * dkT;
          gqkv[aq + H + c] += gl2 * qb * dk;
          gqkv[aqT + H + c] += gl2T * qb * dk + gl2 * qbT * dk + gl2 * qb * dkT;
          if (keys) {
            const gdk = gl1 * qa * kb + gl2 * qb * ka;
            const gdkT = gl1T * qa * kb + gl1 * (qaT * kb + qa * kbT) + gl2T * qb * ka + gl2 * (qbT * ka + qb * kaT);
            gA[ik] += gdk * fder[ik];
            gA[ik + TB] += gdkT * fder[ik] + gdk * fder[ik + TB];
          }
        }
      }
    }
    if (TB > 0) {
      // This block's share of the filter weights' gradient (transposed: [R+1, perLayer]).
      gemm(true, false, R1, perLayer, nb, F.subarray(p0 * R1, p1 * R1), gA.subarray(TB, 2 * TB), pW, true);
      gemm(true, false, R1, perLayer, nb, F.subarray((P + p0) * R1, (P + p1) * R1), gA.subarray(0, TB), pW, true);
    }
    }
    if (tk && trainKernelUse.selfLoops && resident(qkv, vecIn, gvec, gdx, sArr, sd, filt0, fder0, gqkv, gvi, gA0)) {
      const sSelf = 2 * P * heads;
      tk.selfBackward(N, H, heads, keys ? 1 : 0, values ? 1 : 0, hasVec ? 1 : 0, qkv.byteOffset, at(qkv, qT), vecIn.byteOffset, at(vecIn, vN),
        gvec.byteOffset, at(gvec, vN), gdx.byteOffset, at(gdx, NH), at(sArr, sSelf), at(sArr, sT0 + sSelf), at(sd, sSelf), at(sd, sT0 + sSelf),
        at(filt0, dkOff), at(filt0, dvOff), at(fder0, dkOff), at(fder0, dvOff), gqkv.byteOffset, at(gqkv, qT), gvi.byteOffset, at(gvi, vN),
        at(gA0, dkOff), at(gA0, dvOff));
    } else for (let n = 0; n < N; n++) selfLoop(n);
    // q | k | v back to the normalised input, then the layer norm (x also flows on: residual).
    const gxn = Bw(2 * N * H);
    linearBack(gqkv, N, H5, H, lw.qkv, gxn, st.xn, pw.qkv, pw.qkvB, ones);
    layerNormBackwardDual(gxn, lw.lnW, st.xhat, st.rstd, N, H, gx, pw.lnW, pw.lnB);
    return gvi;
  }

  /** The embedding (and the neighbour embedding) in reverse. */
  private embedBackward(s: Step, e: Embedded, gx: Buf): void {
    const { at, B, Bw, C, CT, F, gw, H, N, ones, P, pa, pb, R1, resident, w, z } = s;
    const { cat, nbPre, nbZ, nbEmb, nbKernel } = e;
    // ------------------------------------------------------------------ embedding, backward
    if (!w.nbEmb) {
      for (let n = 0; n < N; n++) {
        for (let h = 0; h < H; h++) gw.emb[z[n] * H + h] += gx[N * H + n * H + h];
      }
    } else {
      const gcat = B(2 * N * 2 * H);
      linearBack(gx, N, H, 2 * H, w.nbCombine!, gcat, cat!, gw.nbCombine!, gw.nbCombineBias!, ones);
      const gcT = N * 2 * H;
      for (let n = 0; n < N; n++) {
        for (let h = 0; h < H; h++) gw.emb[z[n] * H + h] += gcat[gcT + n * 2 * H + h];
      }
      const emb = w.nbEmb, pemb = gw.nbEmb!, pre = nbPre!;
      const gpre = nbKernel ? Bw(2 * P * H) : B(2 * P * H); // the kernel writes every element
      if (nbKernel && resident(pre, gcat, pemb, gpre)) {
        nbKernel.neighborEmbedBackward(P, H, pa.byteOffset, pb.byteOffset, nbZ!.byteOffset, C.byteOffset, CT.byteOffset,
          pre.byteOffset, at(pre, P * H), nbEmb!.byteOffset, gcat.byteOffset, at(gcat, gcT), pemb.byteOffset, gpre.byteOffset, at(gpre, P * H));
      } else for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p], c = C[p], cT = CT[p];
        const o = p * H, oT = (P + p) * H, ea = z[a] * H, eb = z[b] * H, ca = a * 2 * H + H, cb = b * 2 * H + H;
        for (let h = 0; h < H; h++) {
          const wv = pre[o + h] * c, wT = pre[oT + h] * c + pre[o + h] * cT;
          const ga = gcat[ca + h], gaT = gcat[gcT + ca + h], gb = gcat[cb + h], gbT = gcat[gcT + cb + h];
          // cat_a += emb'(z_b)·W, cat_b += emb'(z_a)·W
          pemb[eb + h] += gaT * wv + ga * wT;
          pemb[ea + h] += gbT * wv + gb * wT;
          const gW = ga * emb[eb + h] + gb * emb[ea + h], gWT = gaT * emb[eb + h] + gbT * emb[ea + h];
          gpre[o + h] = gW * c;
          gpre[oT + h] = gWT * c + gW * cT;
        }
      }
      if (P > 0) paramGrad(gpre, F, P, H, R1, gw.nbDist!);
    }
  }

  /** Filters of all layers at the self-loops (constant basis f(0)), into the filter accumulators. */
  private selfFilterGradients(s: Step, gA0: Buf): void {
    const { cols, f0, gw, perLayer, R1 } = s;
    // Filters of all layers, from the pairs and the self-loops (constant basis f(0)); the
    // accumulator is [R+1, perLayer] per layer.
    for (let c = 0; c < cols; c++) {
      const g = gA0[c];
      const l = Math.floor(c / perLayer), base = l * perLayer * R1 + (c - l * perLayer);
      if (g !== 0) for (let j = 0; j < R1; j++) gw.filters[base + j * perLayer] += g * f0[j];
    }
  }
  /** The accumulated tangents, negated (dL/dθ = −Ṗ), in each parameter's own layout. */
  private unpack(gw: Accumulators): Map<string, Buf> {
    const cfg = this.config, H = cfg.embedding_dimension, R = cfg.num_rbf, R1 = R + 1, Hh = H / 2;
    const rep = 'representation_model';
    const keys = cfg.distance_influence === 'keys' || cfg.distance_influence === 'both';
    const values = cfg.distance_influence === 'values' || cfg.distance_influence === 'both';
    const perLayer = (keys ? H : 0) + (values ? 3 * H : 0);
    const out = new Map<string, Buf>();
    const neg = (a: Buf): Buf => {
      const o = this.buf(a.length);
      for (let i = 0; i < a.length; i++) o[i] = -a[i];
      return o;
    };
    // Rows [rowOffset, rowOffset + rows) of a [·, R+1] block, or (stride > 0) the same rows
    // stored transposed, as columns of a [R+1, stride] block.
    const split = (src: Buf, rows: number, rowOffset: number, order?: (r: number) => number, stride = 0): { w: Buf; b: Buf } => {
      const wv = this.buf(rows * R), bv = this.buf(rows);
      for (let r = 0; r < rows; r++) {
        const dst = order ? order(r) : r;
        if (stride > 0) {
          for (let j = 0; j < R; j++) wv[dst * R + j] = -src[j * stride + rowOffset + r];
          bv[dst] = -src[R * stride + rowOffset + r];
        } else {
          for (let j = 0; j < R; j++) wv[dst * R + j] = -src[(rowOffset + r) * R1 + j];
          bv[dst] = -src[(rowOffset + r) * R1 + R];
        }
      }
      return { w: wv, b: bv };
    };
    out.set(`${rep}.embedding.weight`, neg(gw.emb));
    if (gw.nbEmb) {
      const nb = `${rep}.neighbor_embedding`;
      out.set(`${nb}.embedding.weight`, neg(gw.nbEmb));
      const d = split(gw.nbDist!, H, 0);
      out.set(`${nb}.distance_proj.weight`, d.w);
      out.set(`${nb}.distance_proj.bias`, d.b);
      out.set(`${nb}.combine.weight`, neg(gw.nbCombine!));
      out.set(`${nb}.combine.bias`, neg(gw.nbCombineBias!));
    }
    for (let l = 0; l < cfg.num_layers; l++) {
      const p = `${rep}.attention_layers.${l}`, g = gw.layers[l];
      const layerFilters = gw.filters.subarray(l * perLayer * R1, (l + 1) * perLayer * R1);
      let row = 0;
      if (keys) {
        const d = split(layerFilters, H, row, undefined, perLayer);
        out.set(`${p}.dk_proj.weight`, d.w);
        out.set(`${p}.dk_proj.bias`, d.b);
        row += H;
      }
      if (values) {
        const d = split(layerFilters, 3 * H, row, (r) => this.blockRow(r), perLayer);
        out.set(`${p}.dv_proj.weight`, d.w);
        out.set(`${p}.dv_proj.bias`, d.b);
      }
      const q = this.buf(H * H), k = this.buf(H * H), vw = this.buf(3 * H * H), qb = this.buf(H), kb = this.buf(H), vb = this.buf(3 * H);
      for (let i = 0; i < H * H; i++) {
        q[i] = -g.qkv[i];
        k[i] = -g.qkv[H * H + i];
      }
      for (let i = 0; i < H; i++) {
        qb[i] = -g.qkvB[i];
        kb[i] = -g.qkvB[H + i];
      }
      for (let r = 0; r < 3 * H; r++) {
        const dst = this.blockRow(r);
        for (let c = 0; c < H; c++) vw[dst * H + c] = -g.qkv[(2 * H + r) * H + c];
        vb[dst] = -g.qkvB[2 * H + r];
      }
      out.set(`${p}.q_proj.weight`, q);
      out.set(`${p}.q_proj.bias`, qb);
      out.set(`${p}.k_proj.weight`, k);
      out.set(`${p}.k_proj.bias`, kb);
      out.set(`${p}.v_proj.weight`, vw);
      out.set(`${p}.v_proj.bias`, vb);
      out.set(`${p}.layernorm.weight`, neg(g.lnW));
      out.set(`${p}.layernorm.bias`, neg(g.lnB));
      out.set(`${p}.vec_proj.weight`, neg(g.vecProj));
      out.set(`${p}.o_proj.weight`, neg(g.oProj));
      out.set(`${p}.o_proj.bias`, neg(g.oB));
    }
    out.set(`${rep}.out_norm.weight`, neg(gw.outW));
    out.set(`${rep}.out_norm.bias`, neg(gw.outB));
    const b0 = 'output_model.output_network.0', b1 = 'output_model.output_network.1';
    const v0 = neg(gw.h0v);
    out.set(`${b0}.vec1_proj.weight`, v0.slice(0, H * H));
    out.set(`${b0}.vec2_proj.weight`, v0.slice(H * H, (H + Hh) * H));
    out.set(`${b0}.update_net.layers.0.weight`, neg(gw.h0u0));
    out.set(`${b0}.update_net.layers.0.bias`, neg(gw.h0u0b));
    out.set(`${b0}.update_net.layers.2.weight`, neg(gw.h0u2));
    out.set(`${b0}.update_net.layers.2.bias`, neg(gw.h0u2b));
    out.set(`${b1}.vec1_proj.weight`, neg(gw.h1v));
    // Block 1's vector output (vec2_proj, the gate half of update_net.layers.2) is unused.
    out.set(`${b1}.vec2_proj.weight`, this.buf(this.param(`${b1}.vec2_proj.weight`).length));
    out.set(`${b1}.update_net.layers.0.weight`, neg(gw.h1u0));
    out.set(`${b1}.update_net.layers.0.bias`, neg(gw.h1u0b));
    out.set(`${b1}.update_net.layers.2.weight`, neg(gw.h1u2));
    out.set(`${b1}.update_net.layers.2.bias`, neg(gw.h1u2b));
    return out;
  }
}

function addBias(y: Buf, bias: Buf, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) y[o + c] += bias[c];
  }
}

/** In place on a dual buffer of n primal values: y = silu(x), ẏ = silu′(x)·ẋ; der gets silu′ and its tangent. */
function siluDual(xy: Buf, der: Buf, n: number, B: (n: number) => Buf): void {
  // Outputs into whole buffers (a WASM kernel may write a vector past n, into the tangent half).
  const d2 = B(n), y = B(n);
  silu(xy.subarray(0, n), y, der, d2, n);
  xy.set(y.subarray(0, n));
  for (let i = 0; i < n; i++) {
    const t = xy[n + i];
    xy[n + i] = der[i] * t;
    der[n + i] = d2[i] * t;
  }
}

/** g ← g·silu′ on a dual adjoint buffer (n primal values), with the product rule on the tangent. */
function mulDerDual(g: Buf, der: Buf, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = g[i], aT = g[n + i];
    g[i] = a * der[i];
    g[n + i] = aT * der[i] + a * der[n + i];
  }
}

/**
 * Back through y = x·Wᵀ (+ b) on dual buffers (M rows each half): gX = gY·W for both halves in
 * one product, and the tangent of the parameter adjoint, Ẇ̄ += gẎᵀ·X + gYᵀ·Ẋ, ḃ̄ += Σ gẎ.
 */
function linearBack(gY: Buf, M: number, out: number, inF: number, W: Buf, gX: Buf, X: Buf, pW: Buf, pB: Buf | null, ones: Buf | null = null): void {
  gemm(false, false, 2 * M, inF, out, gY, W, gX, false);
  paramGrad(gY, X, M, out, inF, pW);
  if (pB) {
    const t = M * out;
    // The column sums as a product with a row of ones (the matrix kernel, where there is one).
    if (ones && ones.length >= M) gemm(false, false, 1, out, M, ones, gY.subarray(t, t + M * out), pB, true);
    else for (let r = 0; r < M; r++) {
      for (let c = 0; c < out; c++) pB[c] += gY[t + r * out + c];
    }
  }
}

/** pW[out, in] += gẎᵀ·X + gYᵀ·Ẋ for dual buffers gY [2M, out] and X [2M, in]. */
function paramGrad(gY: Buf, X: Buf, M: number, out: number, inF: number, pW: Buf): void {
  gemm(true, false, out, inF, M, gY.subarray(M * out, 2 * M * out), X.subarray(0, M * inF), pW, true);
  gemm(true, false, out, inF, M, gY.subarray(0, M * out), X.subarray(M * inF, 2 * M * inF), pW, true);
}

/**
 * Back through nrm = ‖v‖ over xyz, for the norm columns [colOffset, colOffset + width) of a dual
 * adjoint gU (rows of uWidth), into the first `width` columns of each xyz row of gV (rows of
 * vWidth), the vectors v being the same columns of V.
 */
function normBackDual(gU: Buf, uWidth: number, colOffset: number, V: Buf, U: Buf, N: number, vWidth: number, gV: Buf): void {
  const uT = N * uWidth, vT = 3 * N * vWidth;
  const width = uWidth - colOffset;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < width; h++) {
      const nrm = U[n * uWidth + colOffset + h], nrmT = U[uT + n * uWidth + colOffset + h];
      const g = gU[n * uWidth + colOffset + h], gT = gU[uT + n * uWidth + colOffset + h];
      for (let c = 0; c < 3; c++) {
        const i = (3 * n + c) * vWidth + h;
        if (nrm > 0) {
          const vv = V[i], vvT = V[vT + i];
          gV[i] = (g * vv) / nrm;
          gV[vT + i] = (gT * vv + g * vvT) / nrm - (g * vv * nrmT) / (nrm * nrm);
        } else {
          gV[i] = 0;
          gV[vT + i] = 0;
        }
      }
    }
  }
}

type StepSetup = ReturnType<FusedTrainingGradient['setup']>;
type StepGeometry = ReturnType<FusedTrainingGradient['geometry']>;
/** One call's constants, kernels, geometry and filter buffers, shared by its stages. */
type Step = StepSetup & StepGeometry & ReturnType<FusedTrainingGradient['filterSetup']>;
type Embedded = ReturnType<FusedTrainingGradient['embed']>;
type HeadForward = ReturnType<FusedTrainingGradient['headForward']>;
