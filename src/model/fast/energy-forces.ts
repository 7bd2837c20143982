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
import { gemmPacked, kernelBackend, silu, type FloatArray } from '../../engine/kernels/index.js';
import { wasmKernels } from '../../engine/kernels/wasm.js';
import { etKernels, type EtKernels } from './et-kernels.js';
import { allocate, type DType } from '../../engine/index.js';
import { OreoError } from '../../errors.js';
import type { ETConfig } from '../config.js';
import type { FusedModel } from './model-source.js';
import { checkAtomicNumbers } from '../et.js';
import { PairList } from '../neighbors.js';
import { Arena, runInArena, withTypeScriptKernels } from './arena.js';
import { LN_EPS, layerNormForward, layerNormBackward } from './layer-norm.js';
import { flushSubnormal, packWeights, smallestNormal, type FastWeights, type Linear } from './weights.js';

export interface FastResult {
  /** Energy of each molecule [nMol], eV for a physical model. */
  energy: Float64Array;
  /** Forces −∂E/∂r, flat [N·3], eV/Å. */
  forces: Float64Array;
}


/** Where the work buffers live: the arena while a WASM-path call is under way, else JS memory. */
interface BufferHome {
  readonly arena: Arena | null;
}

/**
 * Growable buffers: `need(n)` returns an array of at least n elements, reallocating only when n
 * exceeds what it holds (contents are not preserved then). During a WASM-path call the array is
 * taken from the arena, afresh in each call; otherwise it is a JS array kept between calls.
 */
class WorkBuffer<A extends FloatArray = FloatArray> {
  data: A;
  private epoch = -1;
  constructor(private readonly dtype: DType, private readonly home: BufferHome) {
    this.data = allocate(dtype, 0) as A;
  }
  need(n: number): A {
    const ar = this.home.arena;
    if (ar && ar.active) {
      if (this.epoch !== ar.epoch || this.data.length < n) {
        this.data = ar.floats(this.dtype, n) as A;
        this.epoch = ar.epoch;
      }
    } else if (this.epoch >= 0 || this.data.length < n) {
      this.data = allocate(this.dtype, Math.ceil(n * 1.25)) as A;
      this.epoch = -1;
    }
    return this.data;
  }
}

/** Geometry and per-row statistics are float64 whatever the model's dtype. */
type WorkBuffer64 = WorkBuffer<Float64Array>;
const float64Buffer = (home: BufferHome): WorkBuffer64 => new WorkBuffer<Float64Array>('float64', home);

/** Where an activation of the last call lies: the array, and its place in the kernels' memory. */
interface Kept {
  a: FloatArray;
  offset: number;
  length: number;
  inArena: boolean;
}

/** Per-layer activations kept from the forward pass for the reverse pass. */
interface LayerState {
  /** Normalised input (before the affine part of the layer norm) [N·H] and 1/σ [N]. */
  xhat: WorkBuffer;
  rstd: WorkBuffer64;
  /** q | k | v per atom [N·5H]. */
  qkv: WorkBuffer;
  /** vec_proj output [3N·3H] (vec1 | vec2 | vec3), unused for layer 0 (vec = 0 there). */
  vp: WorkBuffer;
  /** Σ_xyz vec1·vec2 [N·H]. */
  vdot: WorkBuffer;
  /** o_proj output [N·3H]. */
  o: WorkBuffer;
  /** silu of the attention logits and its derivative [edges·heads]. */
  attn: WorkBuffer;
  attnDer: WorkBuffer;
  /** Vector features entering this layer [3N·H]. */
  vecIn: WorkBuffer;
}

export class FastEnergyForces {
  readonly config: ETConfig;
  readonly dtype: DType;
  private w: FastWeights;
  private readonly pairs = new PairList();

  // Geometry, per pair (float64: cheap, and the force assembly wants it).
  private r = float64Buffer(this);
  private u = float64Buffer(this);
  private cut = float64Buffer(this);
  private cutDer = float64Buffer(this);
  private rbfDer = float64Buffer(this);
  private rbf: WorkBuffer;
  // Distance filters of all layers [P·cols]: silu and silu′ of the pre-activations.
  private filt: WorkBuffer;
  private filtDer: WorkBuffer;
  private nbrPre: WorkBuffer;
  // Per-atom state.
  private x: WorkBuffer;
  private xn: WorkBuffer;
  private cat: WorkBuffer;
  private dx: WorkBuffer;
  private readonly layers: LayerState[];
  private vecOut: WorkBuffer;
  // Head.
  private hXhat: WorkBuffer;
  private hRstd = float64Buffer(this);
  private hXo: WorkBuffer;
  private hV12: WorkBuffer;
  private hU0: WorkBuffer;
  private hH0: WorkBuffer;
  private hH0Der: WorkBuffer;
  private hH1: WorkBuffer;
  private hXb: WorkBuffer;
  private hXbDer: WorkBuffer;
  private hVecb: WorkBuffer;
  private hV1b: WorkBuffer;
  private hU0b: WorkBuffer;
  private hH0b: WorkBuffer;
  private hH0bDer: WorkBuffer;
  // Reverse pass.
  private gx: WorkBuffer;
  private gvecA: WorkBuffer;
  private gvecB: WorkBuffer;
  private go: WorkBuffer;
  private gvp: WorkBuffer;
  private gdx: WorkBuffer;
  private gqkv: WorkBuffer;
  private gxn: WorkBuffer;
  private gFilt: WorkBuffer;
  private gNbr: WorkBuffer;
  private gRbf: WorkBuffer;
  private gCut = float64Buffer(this);
  private gU = float64Buffer(this);
  private gh: WorkBuffer;
  private gh2: WorkBuffer;
  private gu: WorkBuffer;
  private gv: WorkBuffer;
  private gv2: WorkBuffer;
  private molCount = new Float64Array(0);
  /** Kernel memory for the work buffers while a WASM-path call runs (see arena.ts). */
  arena: Arena | null = null;
  private warnedMemory = false;
  /** The WASM edge kernels for this call, or null for the TypeScript loops. */
  private et: EtKernels | null = null;
  /** Pair atoms for this call (in the arena on the WASM path). */
  private pa: Int32Array = new Int32Array(0);
  private pb: Int32Array = new Int32Array(0);
  private zeroMol: Int32Array = new Int32Array(0);
  private lastMol: Int32Array = new Int32Array(0);
  /** The inputs of the last finished call and where its per-layer activations lie (forwardActivations). */
  private keptFor: { z: Int32Array; positions: ArrayLike<number>; mol: Int32Array } | null = null;
  private kept: { qkv: Kept; vp: Kept | null; o: Kept }[] = [];

  constructor(readonly potential: FusedModel) {
    this.config = potential.config;
    this.dtype = potential.dtype;
    const cfg = this.config;
    if (cfg.cutoff_lower !== 0) throw new OreoError(`cutoff_lower=${cfg.cutoff_lower} is not supported`);
    this.w = packWeights(cfg, potential.params, this.dtype);
    const B = () => new WorkBuffer(this.dtype, this);
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
        xhat: B(), rstd: float64Buffer(this), qkv: B(), vp: B(), vdot: B(), o: B(), attn: B(), attnDer: B(), vecIn: B(),
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

  /**
   * Re-read the potential's parameters (after training changed them in place). The work memory
   * stays, so a training loop that refreshes every step does not grow it again each time.
   */
  refresh(): void {
    for (const m of this.w.packed) m.dispose();
    this.arena?.clearConstants();
    this.w = packWeights(this.config, this.potential.params, this.dtype);
  }

  /** Release the packed weights' kernel memory now (otherwise it goes when this is collected). */
  dispose(): void {
    this.keptFor = null;
    for (const m of this.w.packed) m.dispose();
    this.arena?.dispose();
    this.arena = null;
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
    if (N === 0) {
      const energy = new Float64Array(M);
      energy.fill(this.w.mean);
      return { energy, forces: new Float64Array(0) };
    }
    this.lastMol = mol;
    this.keptFor = null;
    this.pairs.find(positions, mol, N, this.config.cutoff_upper);
    const arena = this.useArena();
    if (!arena) {
      this.et = null;
      return this.run(z, positions, mol, M);
    }
    // The WASM path: buffers in the kernels' memory, edge loops in WASM where the channel
    // counts are whole vectors. A call that finds the arena too small grows it and starts over.
    this.et = this.edgeKernelsFit() ? etKernels(arena.kernels, this.dtype === 'float32' ? 4 : 8) : null;
    const cfg = this.config, H = cfg.embedding_dimension;
    const rows = Math.max(this.pairs.count, 3 * N);
    const cols = Math.max(this.w.filterColumns, 5 * H, cfg.num_rbf + 1);
    return runInArena(arena, {
      prepare: () => arena.kernels.reserveGemmScratch(rows, cols, cols, this.dtype === 'float32' ? 4 : 8),
      run: () => this.run(z, positions, mol, M),
      withoutWasm: () => this.runWithoutWasm(z, positions, mol, M),
      overflow: false,
      // Work memory grows with the pair count (P × the filter columns dominate: about 15 kB a
      // pair for a 4×64 ET in float32, 1.35 GB for 2000 atoms on a 1.6 Å grid): the first
      // growth goes straight to that estimate, not by doubling from the failed array.
      estimate: () => this.workBytesEstimate(this.pairs.count, N),
      attempts: 20,
      what: 'fast ET path',
    });
  }

  /** A lower estimate of the arena bytes one call needs: 3 × P × the filter columns, + per-atom state. */
  private workBytesEstimate(P: number, N: number): number {
    const sz = this.dtype === 'float32' ? 4 : 8;
    const cfg = this.config;
    return sz * (3 * P * this.w.filterColumns + 16 * N * cfg.embedding_dimension * cfg.num_layers);
  }

  /**
   * The whole call in TypeScript, for systems whose buffers exceed what WASM memory can hold
   * (32-bit addressing: 4 GiB, 2 GiB with two threads). Slower, same numbers.
   */
  private runWithoutWasm(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, M: number): FastResult {
    if (!this.warnedMemory) {
      this.warnedMemory = true;
      console.warn(`oreo: ${z.length} atoms (${this.pairs.count} pairs) need more work memory than WASM can address; this model falls back to the TypeScript kernels for such calls`);
    }
    this.arena?.dispose();
    this.arena = null;
    this.et = null;
    return withTypeScriptKernels(() => this.run(z, positions, mol, M));
  }

  /** The arena for this call, or null for the all-TypeScript path (no WASM, or backend 'js'). */
  private useArena(): Arena | null {
    if (kernelBackend() === 'js') return null;
    const k = wasmKernels();
    if (!k) return null;
    if (!this.arena || this.arena.kernels !== k) {
      this.arena?.dispose();
      this.arena = new Arena(k);
    }
    // Pack every weight matrix now, so that no packing grows the memory during a call.
    for (const m of this.w.packed) m.wasmOffset(k);
    return this.arena;
  }

  /** Byte offset of a weight vector's copy in kernel memory (made once per arena). */
  private resident(a: FloatArray): number {
    return this.arena!.constant(a);
  }

  /** Row widths the WASM row kernels take: whole SIMD vectors. */
  private whole(width: number): boolean {
    return width % (this.dtype === 'float32' ? 4 : 2) === 0;
  }

  private rowBias(y: FloatArray, bias: FloatArray, rows: number, cols: number): void {
    if (this.et && this.whole(cols)) this.et.addRowBias(y.byteOffset, this.resident(bias), rows, cols);
    else addRowBias(y, bias, rows, cols);
  }

  private lnForward(x: FloatArray, weight: FloatArray, bias: FloatArray, N: number, H: number, xhat: FloatArray, rstd: Float64Array, out: FloatArray): void {
    if (this.et && this.whole(H)) {
      this.et.layerNorm(x.byteOffset, this.resident(weight), this.resident(bias), N, H, LN_EPS, xhat.byteOffset, rstd.byteOffset, out.byteOffset);
    } else {
      layerNormForward(x, weight, bias, N, H, xhat, rstd, out);
    }
  }

  private lnBackward(gy: FloatArray, weight: FloatArray, xhat: FloatArray, rstd: Float64Array, N: number, H: number, gx: FloatArray): void {
    if (this.et && this.whole(H)) this.et.layerNormBackward(gy.byteOffset, this.resident(weight), xhat.byteOffset, rstd.byteOffset, N, H, gx.byteOffset);
    else layerNormBackward(gy, weight, xhat, rstd, N, H, gx);
  }

  /** The WASM edge kernels work on whole SIMD vectors of channels, per head. */
  private edgeKernelsFit(): boolean {
    const lanes = this.dtype === 'float32' ? 4 : 2;
    const H = this.config.embedding_dimension, hd = H / this.config.num_heads;
    return H % lanes === 0 && hd % lanes === 0;
  }

  private run(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, M: number): FastResult {
    const N = z.length;
    const energy = new Float64Array(M);
    const forces = new Float64Array(3 * N);
    const P = this.pairs.count;
    if (this.arena?.active) {
      this.pa = this.arena.indices(this.pairs.a, P);
      this.pb = this.arena.indices(this.pairs.b, P);
    } else {
      this.pa = this.pairs.a;
      this.pb = this.pairs.b;
    }
    this.gCut.need(P).fill(0, 0, P);
    this.gU.need(3 * P).fill(0, 0, 3 * P);
    this.gFilt.need(P * this.w.filterColumns);
    this.geometry(positions);
    this.filters();
    this.embed(z);
    for (let l = 0; l < this.config.num_layers; l++) this.layerForward(l, N);
    this.headForward(z, mol, M, energy);
    this.headBackward(N);
    for (let l = this.config.num_layers - 1; l >= 0; l--) this.layerBackward(l, N);
    this.embedBackward(z, N);
    this.assembleForces(forces);
    this.keepActivations(z, positions, mol, N);
    return { energy, forces };
  }

  /** Note where this call's per-layer activations lie, for forwardActivations. */
  private keepActivations(z: Int32Array, positions: ArrayLike<number>, mol: Int32Array, N: number): void {
    const H = this.config.embedding_dimension, inArena = this.arena !== null && this.arena.active;
    const kept = (a: FloatArray, length: number): Kept => ({ a, offset: a.byteOffset, length, inArena });
    this.kept = this.layers.map((st, l) => ({
      qkv: kept(st.qkv.data, N * 5 * H),
      vp: l > 0 ? kept(st.vp.data, 9 * N * H) : null,
      o: kept(st.o.data, 3 * N * H),
    }));
    this.keptFor = { z, positions, mol };
  }

  /**
   * Layer l's forward activations of the last call, in the fused layouts: q|k|v [N, 5H],
   * vec_proj's output [3N, 3H] (null for layer 0, whose vectors are zero) and o_proj's [N, 3H],
   * biases included; or null unless that call was for exactly these arrays. The training
   * gradient takes the primal half of its dual products from them instead of computing it
   * again. The views are valid until the next call.
   */
  forwardActivations(l: number, z: Int32Array, positions: ArrayLike<number>, mol: Int32Array): { qkv: FloatArray; vp: FloatArray | null; o: FloatArray } | null {
    const f = this.keptFor;
    if (!f || f.z !== z || f.positions !== positions || f.mol !== mol || l >= this.kept.length) return null;
    const k = this.kept[l];
    const memory = this.arena ? this.arena.kernels.memoryBuffer : null;
    const view = (x: Kept): FloatArray => {
      // An arena array's view goes stale when the kernels' memory grows; its place does not move.
      if (!x.inArena || x.a.buffer === memory) return x.a.subarray(0, x.length);
      return this.dtype === 'float32' ? new Float32Array(memory!, x.offset, x.length) : new Float64Array(memory!, x.offset, x.length);
    };
    return { qkv: view(k.qkv), vp: k.vp ? view(k.vp) : null, o: view(k.o) };
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
    const pa = this.pa, pb = this.pb;
    const r = this.r.need(P), u = this.u.need(3 * P), cut = this.cut.need(P), cutDer = this.cutDer.need(P);
    // The basis carries a column of ones that multiplies the biases of the filter layers.
    const R1 = R + 1;
    const f = this.rbf.need(P * R1), fd = this.rbfDer.need(P * R);
    const dt = this.dtype === 'float32';
    const tiny = smallestNormal(this.dtype);
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
        f[p * R1 + k] = flushSubnormal(g * C, tiny);
        fd[p * R + k] = flushSubnormal(g * (C * (-2 * betas[k] * diff * dtdr) + dC), tiny);
      }
      f[p * R1 + R] = 1;
    }
  }

  /** Distance filters of every layer for every pair: silu(F·Wᵀ + b) and its derivative. */
  private filters(): void {
    const P = this.pairs.count;
    const w = this.w;
    const cols = w.filterColumns;
    if (cols > 0 && P > 0) {
      const fa = this.filt.need(P * cols);
      const fd = this.filtDer.need(P * cols);
      linearForward(P, this.rbf.data, w.filters, fa);
      silu(fa, fa, fd, null, P * cols);
    }
  }

  /** Atom embeddings, plus the neighbour embedding over pairs (no self-loops) when enabled. */
  private embed(z: Int32Array): void {
    const N = z.length;
    const H = this.config.embedding_dimension;
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
      linearForward(P, this.rbf.data, nb.distProj, pre);
      const emb = nb.embedding, cut = this.cut.data;
      const pa = this.pa, pb = this.pb;
      for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p], C = cut[p];
        const o = p * H, ea = z[a] * H, eb = z[b] * H, ca = a * 2 * H + H, cb = b * 2 * H + H;
        for (let h = 0; h < H; h++) {
          const wv = pre[o + h] * C;
          cat[ca + h] += emb[eb + h] * wv;
          cat[cb + h] += emb[ea + h] * wv;
        }
      }
    }
    linearForward(N, cat, nb.combine, x);
    this.rowBias(x, nb.combineBias, N, H);
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
    const cols = this.w.filterColumns;
    const dkOff = l * this.w.filterColumnsPerLayer;
    const dvOff = dkOff + (keys ? H : 0);

    // Layer norm, then q | k | v in one product.
    const xhat = st.xhat.need(N * H), rstd = st.rstd.need(N), xn = this.xn.need(N * H);
    this.lnForward(x, lw.lnWeight, lw.lnBias, N, H, xhat, rstd, xn);
    const qkv = st.qkv.need(N * H5);
    linearForward(N, xn, lw.qkv, qkv);
    this.rowBias(qkv, lw.qkvBias, N, H5);

    if (l === 0) {
      const v0 = st.vecIn.need(3 * N * H);
      v0.fill(0, 0, 3 * N * H);
    }
    const vec = st.vecIn.data;
    const vdot = st.vdot.need(N * H);
    let vp = st.vp.data;
    if (hasVec) {
      vp = st.vp.need(3 * N * H3);
      linearForward(3 * N, vec, lw.vecProj, vp);
      if (this.et) {
        this.et.vectorDot(N, H, vp.byteOffset, vdot.byteOffset);
      } else {
        for (let n = 0; n < N; n++) {
          const r0 = 3 * n * H3;
          for (let h = 0; h < H; h++) {
            vdot[n * H + h] = vp[r0 + h] * vp[r0 + H + h] + vp[r0 + H3 + h] * vp[r0 + H3 + H + h] + vp[r0 + 2 * H3 + h] * vp[r0 + 2 * H3 + H + h];
          }
        }
      }
    } else {
      vdot.fill(0, 0, N * H);
    }

    // Attention logits Σ_head q_i·k_j·dk over pairs (both directions) and self-loops.
    const attn = st.attn.need(EA * heads), attnDer = st.attnDer.need(EA * heads);
    const fa = this.filt.data;
    const pa = this.pa, pb = this.pb;
    const et = this.et;
    if (et) {
      et.attention(P, N, H, heads, cols, dkOff, pa.byteOffset, pb.byteOffset, qkv.byteOffset,
        keys ? fa.byteOffset : 0, lw.dkSelf ? this.resident(lw.dkSelf) : 0, attn.byteOffset);
    } else {
      for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p];
        const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H;
        const fk = p * cols + dkOff;
        const e1 = 2 * p * heads, e2 = e1 + heads;
        for (let hh = 0; hh < heads; hh++) {
          let s1 = 0, s2 = 0;
          const c0 = hh * hd, c1 = c0 + hd;
          if (keys) {
            for (let c = c0; c < c1; c++) {
              const dk = fa[fk + c];
              s1 += qkv[qa + c] * qkv[kb + c] * dk;
              s2 += qkv[qb + c] * qkv[ka + c] * dk;
            }
          } else {
            for (let c = c0; c < c1; c++) {
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
          const c0 = hh * hd, c1 = c0 + hd;
          if (dkSelf) for (let c = c0; c < c1; c++) s += qkv[q + c] * qkv[k + c] * dkSelf[c];
          else for (let c = c0; c < c1; c++) s += qkv[q + c] * qkv[k + c];
          attn[e + hh] = s;
        }
      }
    }
    silu(attn, attn, attnDer, null, EA * heads);

    // Messages, scattered at the targets: dx_i = Σ_j s_j·a_ij, dvec_i = Σ_j vec_j·m1_j + m2_j·d_ij.
    // Values are laid out per atom as blocks [s | m1 | m2] of H channels each (see weights.ts);
    // only s meets the attention weights (per head), the vector part runs over all channels.
    const dx = this.dx.need(N * H);
    dx.fill(0, 0, N * H);
    // vecNext starts as the residual vec and collects the messages, then vec3·o1 below.
    const vecNext = (l + 1 < cfg.num_layers ? this.layers[l + 1].vecIn : this.vecOut).need(3 * N * H);
    if (hasVec) vecNext.set(vec.subarray(0, 3 * N * H));
    else vecNext.fill(0, 0, 3 * N * H);
    const cut = this.cut.data, u = this.u.data;
    const H2 = 2 * H;
    if (et) {
      et.messages(P, N, H, heads, cols, dvOff, vc ? 1 : 0, hasVec ? 1 : 0, pa.byteOffset, pb.byteOffset, qkv.byteOffset,
        values ? fa.byteOffset : 0, lw.dvSelf ? this.resident(lw.dvSelf) : 0, attn.byteOffset, cut.byteOffset, u.byteOffset,
        vec.byteOffset, vecNext.byteOffset, dx.byteOffset);
    } else {
      for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p];
        const C = cut[p];
        const cf = vc ? C : 1, ca = vc ? 1 : C;
        const vaS = a * H5 + H2, vbS = b * H5 + H2, vaM = vaS + H, vbM = vbS + H, vaD = vaM + H, vbD = vbM + H;
        const dxa = a * H, dxb = b * H;
        const fS = p * cols + dvOff, fM = fS + H, fD = fM + H;
        const e1 = 2 * p * heads, e2 = e1 + heads;
        for (let hh = 0; hh < heads; hh++) {
          const w1 = attn[e1 + hh] * ca * cf, w2 = attn[e2 + hh] * ca * cf;
          const c0 = hh * hd, c1 = c0 + hd;
          if (values) {
            for (let c = c0; c < c1; c++) {
              const fs = fa[fS + c];
              dx[dxa + c] += qkv[vbS + c] * fs * w1; // b → a
              dx[dxb + c] += qkv[vaS + c] * fs * w2; // a → b
            }
          } else {
            for (let c = c0; c < c1; c++) {
              dx[dxa + c] += qkv[vbS + c] * w1;
              dx[dxb + c] += qkv[vaS + c] * w2;
            }
          }
        }
        const ux = u[3 * p] * cf, uy = u[3 * p + 1] * cf, uz = u[3 * p + 2] * cf;
        const ax = 3 * a * H, ay = ax + H, az = ay + H, bx = 3 * b * H, by = bx + H, bz = by + H;
        for (let c = 0; c < H; c++) {
          const fd = values ? fa[fD + c] : 1;
          const m2b = qkv[vbD + c] * fd, m2a = qkv[vaD + c] * fd;
          if (hasVec) {
            const fm = (values ? fa[fM + c] : 1) * cf;
            const m1b = qkv[vbM + c] * fm, m1a = qkv[vaM + c] * fm;
            vecNext[ax + c] += vec[bx + c] * m1b + m2b * ux;
            vecNext[ay + c] += vec[by + c] * m1b + m2b * uy;
            vecNext[az + c] += vec[bz + c] * m1b + m2b * uz;
            vecNext[bx + c] += vec[ax + c] * m1a - m2a * ux;
            vecNext[by + c] += vec[ay + c] * m1a - m2a * uy;
            vecNext[bz + c] += vec[az + c] * m1a - m2a * uz;
          } else {
            vecNext[ax + c] += m2b * ux;
            vecNext[ay + c] += m2b * uy;
            vecNext[az + c] += m2b * uz;
            vecNext[bx + c] -= m2a * ux;
            vecNext[by + c] -= m2a * uy;
            vecNext[bz + c] -= m2a * uz;
          }
        }
      }
      // Self-loops: r = 0, so C = 1 and d = 0 (no m2 term).
      const dvSelf = lw.dvSelf;
      for (let n = 0; n < N; n++) {
        const vS = n * H5 + H2, vM = vS + H, dxn = n * H;
        const nx = 3 * n * H, ny = nx + H, nz = ny + H;
        const e = (2 * P + n) * heads;
        for (let hh = 0; hh < heads; hh++) {
          const wa = attn[e + hh];
          const c0 = hh * hd, c1 = c0 + hd;
          for (let c = c0; c < c1; c++) {
            dx[dxn + c] += qkv[vS + c] * (dvSelf ? dvSelf[c] : 1) * wa;
            if (hasVec) {
              const m1 = qkv[vM + c] * (dvSelf ? dvSelf[H + c] : 1);
              vecNext[nx + c] += vec[nx + c] * m1;
              vecNext[ny + c] += vec[ny + c] * m1;
              vecNext[nz + c] += vec[nz + c] * m1;
            }
          }
        }
      }
    }
    // o_proj, then the residual updates x += vdot·o2 + o3, vec += vec3·o1 + dvec.
    const o = st.o.need(N * H3);
    linearForward(N, dx, lw.oProj, o);
    this.rowBias(o, lw.oBias, N, H3);
    if (et) {
      et.residual(N, H, hasVec ? 1 : 0, o.byteOffset, vdot.byteOffset, vp.byteOffset, x.byteOffset, vecNext.byteOffset);
      return;
    }
    for (let n = 0; n < N; n++) {
      const xo = n * H, oo = n * H3;
      for (let h = 0; h < H; h++) x[xo + h] += vdot[xo + h] * o[oo + H + h] + o[oo + H2 + h];
    }
    if (hasVec) {
      for (let n = 0; n < N; n++) {
        const oo = n * H3;
        for (let c = 0; c < 3; c++) {
          const row = (3 * n + c) * H, prow = (3 * n + c) * H3 + H2;
          for (let h = 0; h < H; h++) vecNext[row + h] += vp[prow + h] * o[oo + h];
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
    this.lnForward(this.x.data, w.outNormWeight, w.outNormBias, N, H, xhat, rstd, xo);
    // Block 0: vec1 | vec2 projections, then update_net on [x, ‖vec1‖].
    const v12 = this.hV12.need(3 * N * S0);
    linearForward(3 * N, vec, b0.vecProj, v12);
    for (let n = 0; n < N; n++) {
      u0.set(xo.subarray(n * H, n * H + H), n * 2 * H);
      const r0 = 3 * n * S0;
      for (let h = 0; h < H; h++) {
        const s = v12[r0 + h] ** 2 + v12[r0 + S0 + h] ** 2 + v12[r0 + 2 * S0 + h] ** 2;
        u0[n * 2 * H + H + h] = s > 0 ? Math.sqrt(s) : 0;
      }
    }
    const h0 = this.hH0.need(N * H), h0d = this.hH0Der.need(N * H);
    linearForward(N, u0, b0.u0, h0);
    this.rowBias(h0, b0.u0Bias, N, H);
    silu(h0, h0, h0d, null, N * H);
    const h1 = this.hH1.need(N * H);
    linearForward(N, h0, b0.u2, h1);
    this.rowBias(h1, b0.u2Bias, N, H);
    const xb = this.hXb.need(N * Hh), xbd = this.hXbDer.need(N * Hh);
    const vecb = this.hVecb.need(3 * N * Hh);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        xb[n * Hh + h] = h1[n * H + h];
        const gate = h1[n * H + Hh + h];
        for (let c = 0; c < 3; c++) vecb[(3 * n + c) * Hh + h] = gate * v12[(3 * n + c) * S0 + H + h];
      }
    }
    silu(xb, xb, xbd, null, N * Hh);
    // Block 1: scalar output only (its vector output and gate are unused).
    const v1b = this.hV1b.need(3 * N * Hh);
    linearForward(3 * N, vecb, b1.vecProj, v1b);
    const u0b = this.hU0b.need(N * H);
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < Hh; h++) {
        u0b[n * H + h] = xb[n * Hh + h];
        const s = v1b[3 * n * Hh + h] ** 2 + v1b[(3 * n + 1) * Hh + h] ** 2 + v1b[(3 * n + 2) * Hh + h] ** 2;
        u0b[n * H + Hh + h] = s > 0 ? Math.sqrt(s) : 0;
      }
    }
    const h0b = this.hH0b.need(N * Hh), h0bd = this.hH0bDer.need(N * Hh);
    linearForward(N, u0b, b1.u0, h0b);
    this.rowBias(h0b, b1.u0Bias, N, Hh);
    silu(h0b, h0b, h0bd, null, N * Hh);
    const u2 = b1.u2Raw, bias2 = b1.u2Bias[0], std = w.std, atomref = w.atomref;
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
    const h0bd = this.hH0bDer.data, u2 = b1.u2Raw;
    for (let n = 0; n < N; n++) {
      const ge = w.std / (mean ? count[mol[n]] : 1);
      for (let h = 0; h < Hh; h++) gh0b[n * Hh + h] = ge * u2[h] * h0bd[n * Hh + h];
    }
    const gu0b = this.gu.need(N * H);
    linearBackward(N, gh0b, b1.u0, gu0b, false);
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
    linearBackward(3 * N, gv1b, b1.vecProj, gvecb, false);

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
    linearBackward(N, gh1, b0.u2, gs0, false);
    const h0d = this.hH0Der.data;
    for (let i = 0; i < N * H; i++) gs0[i] *= h0d[i];
    const gu0 = this.gu.need(N * 2 * H);
    linearBackward(N, gs0, b0.u0, gu0, false);
    const u0 = this.hU0.data;
    for (let n = 0; n < N; n++) {
      for (let h = 0; h < H; h++) {
        const norm = u0[n * 2 * H + H + h];
        const k = norm > 0 ? gu0[n * 2 * H + H + h] / norm : 0;
        for (let c = 0; c < 3; c++) gv12[(3 * n + c) * S0 + h] = k * v12[(3 * n + c) * S0 + h];
      }
    }
    const gvec = this.gvecA.need(3 * N * H);
    linearBackward(3 * N, gv12, b0.vecProj, gvec, false);
    // ∂E/∂xo is the first half of gu0; back through the output layer norm.
    const gxo = this.gxn.need(N * H);
    for (let n = 0; n < N; n++) gxo.set(gu0.subarray(n * 2 * H, n * 2 * H + H), n * H);
    const gx = this.gx.need(N * H);
    gx.fill(0, 0, N * H);
    this.lnBackward(gxo, w.outNormWeight, this.hXhat.data, this.hRstd.data, N, H, gx);
  }

  private layerBackward(l: number, N: number): void {
    const cfg = this.config;
    const H = cfg.embedding_dimension, H2 = 2 * H, H3 = 3 * H, H5 = 5 * H;
    const heads = cfg.num_heads, hd = H / heads;
    const P = this.pairs.count;
    const lw = this.w.layers[l];
    const st = this.layers[l];
    const hasVec = l > 0;
    const keys = lw.dkSelf !== null, values = lw.dvSelf !== null;
    const vc = cfg.vector_cutoff;
    const cols = this.w.filterColumns;
    const dkOff = l * this.w.filterColumnsPerLayer;
    const dvOff = dkOff + (keys ? H : 0);
    const gx = this.gx.data;
    // Gradient with respect to this layer's output vectors, and the one to fill for its input.
    const gvo = this.gvecA.data;
    const gvi = this.gvecB.need(3 * N * H);
    const vec = st.vecIn.data, vp = st.vp.data, vdot = st.vdot.data, o = st.o.data, qkv = st.qkv.data;

    // Residual updates: go = [Σ_xyz gvec·vec3, gx·vdot, gx].
    const go = this.go.need(N * H3);
    const et = this.et;
    if (et) {
      // go and, with vectors, gvp (for vec_proj below) in one pass.
      const gvp = hasVec ? this.gvp.need(3 * N * H3) : go;
      et.residualBackward(N, H, hasVec ? 1 : 0, gx.byteOffset, gvo.byteOffset, vp.byteOffset, vdot.byteOffset, o.byteOffset, go.byteOffset, gvp.byteOffset);
    } else for (let n = 0; n < N; n++) {
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
    linearBackward(N, go, lw.oProj, gdx, false);
    if (hasVec) {
      // vec_proj backward: [vdot-gradient·vec2, ·vec1, gvec·o1], then the residual.
      const gvp = this.gvp.need(3 * N * H3);
      if (!et) {
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
      }
      linearBackward(3 * N, gvp, lw.vecProj, gvi, false);
      if (et) et.addInto(gvi.byteOffset, gvo.byteOffset, 3 * N * H);
      else for (let i = 0; i < 3 * N * H; i++) gvi[i] += gvo[i];
    }

    // Edges, backwards, for both directions of each pair at once; the filter gradients of the
    // pair (∂E/∂ pre-activation, in G) are written once, summed over the two directions.
    const gqkv = this.gqkv.need(N * H5);
    gqkv.fill(0, 0, N * H5);
    const attn = st.attn.data, attnDer = st.attnDer.data;
    const fa = this.filt.data, fder = this.filtDer.data;
    const G = this.gFilt.data;
    const gCut = this.gCut.data, gU = this.gU.data;
    const cut = this.cut.data, u = this.u.data;
    const pa = this.pa, pb = this.pb;
    if (et) {
      const dk = lw.dkSelf ? this.resident(lw.dkSelf) : 0, dv = lw.dvSelf ? this.resident(lw.dvSelf) : 0;
      et.edgesBackward(P, N, H, heads, cols, dkOff, dvOff, keys ? 1 : 0, values ? 1 : 0, vc ? 1 : 0, hasVec ? 1 : 0,
        pa.byteOffset, pb.byteOffset, qkv.byteOffset, fa.byteOffset, fder.byteOffset, dk, dv,
        attn.byteOffset, attnDer.byteOffset, cut.byteOffset, u.byteOffset, vec.byteOffset,
        gdx.byteOffset, gvo.byteOffset, gvi.byteOffset, gqkv.byteOffset, G.byteOffset, gCut.byteOffset, gU.byteOffset);
    } else {
      for (let p = 0; p < P; p++) {
        const a = pa[p], b = pb[p];
        const C = cut[p];
        const cf = vc ? C : 1, ca = vc ? 1 : C;
        const ux = u[3 * p], uy = u[3 * p + 1], uz = u[3 * p + 2];
        const qa = a * H5, qb = b * H5, ka = qa + H, kb = qb + H;
        const vaS = qa + H2, vbS = qb + H2, vaM = vaS + H, vbM = vbS + H, vaD = vaM + H, vbD = vbM + H;
        const dxa = a * H, dxb = b * H;
        const ax = 3 * a * H, ay = ax + H, az = ay + H, bx = 3 * b * H, by = bx + H, bz = by + H;
        const fk = p * cols + dkOff, fS = p * cols + dvOff, fM = fS + H, fD = fM + H;
        const e1 = 2 * p * heads, e2 = e1 + heads;
        let gC = 0;
        // Vector part, all channels: vec message m1 (times vec_j) and m2 (times d = ±u).
        let g1x = 0, g1y = 0, g1z = 0, g2x = 0, g2y = 0, g2z = 0;
        for (let c = 0; c < H; c++) {
          const dvm = values ? fa[fM + c] : 1, dvd = values ? fa[fD + c] : 1;
          const fm = cf * dvm, fd = cf * dvd;
          const vd1 = qkv[vbD + c], vd2 = qkv[vaD + c];
          const gax = gvo[ax + c], gay = gvo[ay + c], gaz = gvo[az + c];
          const gbx = gvo[bx + c], gby = gvo[by + c], gbz = gvo[bz + c];
          // b → a (target a, d = +u), a → b (target b, d = −u)
          const gd1 = gax * ux + gay * uy + gaz * uz;
          const gd2 = -(gbx * ux + gby * uy + gbz * uz);
          const m21 = vd1 * fd, m22 = vd2 * fd;
          g1x += gax * m21;
          g1y += gay * m21;
          g1z += gaz * m21;
          g2x += gbx * m22;
          g2y += gby * m22;
          g2z += gbz * m22;
          gqkv[vbD + c] += gd1 * fd;
          gqkv[vaD + c] += gd2 * fd;
          const Pd = gd1 * vd1 + gd2 * vd2;
          let Pm = 0;
          if (hasVec) {
            const vm1 = qkv[vbM + c], vm2 = qkv[vaM + c];
            const gm1 = gax * vec[bx + c] + gay * vec[by + c] + gaz * vec[bz + c];
            const gm2 = gbx * vec[ax + c] + gby * vec[ay + c] + gbz * vec[az + c];
            const m11 = vm1 * fm, m12 = vm2 * fm;
            gvi[bx + c] += gax * m11;
            gvi[by + c] += gay * m11;
            gvi[bz + c] += gaz * m11;
            gvi[ax + c] += gbx * m12;
            gvi[ay + c] += gby * m12;
            gvi[az + c] += gbz * m12;
            gqkv[vbM + c] += gm1 * fm;
            gqkv[vaM + c] += gm2 * fm;
            Pm = gm1 * vm1 + gm2 * vm2;
          }
          if (values) {
            G[fM + c] = Pm * cf * fder[fM + c];
            G[fD + c] = Pd * cf * fder[fD + c];
          }
          if (vc) gC += Pm * dvm + Pd * dvd;
        }
        // Scalar part, per head: s (times the attention weight), then the attention logits.
        for (let hh = 0; hh < heads; hh++) {
          const s1 = attn[e1 + hh], s2 = attn[e2 + hh];
          const w1 = s1 * ca, w2 = s2 * ca;
          let ga1 = 0, ga2 = 0;
          const c0 = hh * hd, c1 = c0 + hd;
          for (let c = c0; c < c1; c++) {
            const dvs = values ? fa[fS + c] : 1;
            const fs = cf * dvs;
            const vs1 = qkv[vbS + c], vs2 = qkv[vaS + c];
            const gx1 = gdx[dxa + c], gx2 = gdx[dxb + c];
            ga1 += gx1 * vs1 * dvs;
            ga2 += gx2 * vs2 * dvs;
            const gs1 = gx1 * w1, gs2 = gx2 * w2;
            gqkv[vbS + c] += gs1 * fs;
            gqkv[vaS + c] += gs2 * fs;
            const Ps = gs1 * vs1 + gs2 * vs2;
            if (values) G[fS + c] = Ps * cf * fder[fS + c];
            if (vc) gC += Ps * dvs;
          }
          ga1 *= cf;
          ga2 *= cf;
          // Attention weights: a = silu(logit)·(C unless the cutoff sits on the values).
          if (!vc) gC += ga1 * s1 + ga2 * s2;
          const gl1 = ga1 * ca * attnDer[e1 + hh], gl2 = ga2 * ca * attnDer[e2 + hh];
          if (keys) {
            for (let c = c0; c < c1; c++) {
              const qav = qkv[qa + c], qbv = qkv[qb + c], kav = qkv[ka + c], kbv = qkv[kb + c];
              const dk = fa[fk + c];
              const l1 = gl1 * dk, l2 = gl2 * dk;
              gqkv[qa + c] += l1 * kbv;
              gqkv[kb + c] += l1 * qav;
              gqkv[qb + c] += l2 * kav;
              gqkv[ka + c] += l2 * qbv;
              G[fk + c] = (gl1 * qav * kbv + gl2 * qbv * kav) * fder[fk + c];
            }
          } else {
            for (let c = c0; c < c1; c++) {
              gqkv[qa + c] += gl1 * qkv[kb + c];
              gqkv[kb + c] += gl1 * qkv[qa + c];
              gqkv[qb + c] += gl2 * qkv[ka + c];
              gqkv[ka + c] += gl2 * qkv[qb + c];
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
        const q = n * H5, k = q + H, vS = q + H2, vM = vS + H, dxn = n * H;
        const nx = 3 * n * H, ny = nx + H, nz = ny + H;
        const e = (2 * P + n) * heads;
        for (let hh = 0; hh < heads; hh++) {
          const wa = attn[e + hh];
          let ga = 0;
          const c0 = hh * hd, c1 = c0 + hd;
          for (let c = c0; c < c1; c++) {
            const fs = dvSelf ? dvSelf[c] : 1;
            const gxm = gdx[dxn + c];
            ga += gxm * qkv[vS + c] * fs;
            gqkv[vS + c] += gxm * wa * fs;
            if (hasVec) {
              const fm = dvSelf ? dvSelf[H + c] : 1;
              const gnx = gvo[nx + c], gny = gvo[ny + c], gnz = gvo[nz + c];
              gqkv[vM + c] += (gnx * vec[nx + c] + gny * vec[ny + c] + gnz * vec[nz + c]) * fm;
              const m1 = qkv[vM + c] * fm;
              gvi[nx + c] += gnx * m1;
              gvi[ny + c] += gny * m1;
              gvi[nz + c] += gnz * m1;
            }
          }
          const gl = ga * attnDer[e + hh];
          for (let c = c0; c < c1; c++) {
            const dk = dkSelf ? dkSelf[c] : 1;
            const qv = qkv[q + c], kv = qkv[k + c];
            gqkv[q + c] += gl * kv * dk;
            gqkv[k + c] += gl * qv * dk;
          }
        }
      }
    }
    // q | k | v back to the normalised input, then through the layer norm (plus the residual).
    // The first layer's input depends on positions only through the neighbour embedding.
    if (hasVec || this.w.neighbor) {
      const gxn = this.gxn.need(N * H);
      linearBackward(N, gqkv, lw.qkv, gxn, false);
      this.lnBackward(gxn, lw.lnWeight, st.xhat.data, st.rstd.data, N, H, gx);
    }
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
    const cols = w.filterColumns;
    // ∂E/∂F with the ones column included (its gradient, the last column, goes unused).
    const R1 = R + 1;
    const gF = this.gRbf.need(P * R1);
    if (P === 0) return;
    if (cols > 0) linearBackward(P, this.gFilt.data, w.filters, gF, false);
    else gF.fill(0, 0, P * R1);
    const nb = w.neighbor;
    if (!nb) return;
    const gxN = this.gxn.need(N * H);
    linearBackward(N, this.gx.data, nb.combineRight, gxN, false);
    const gpre = this.gNbr.need(P * H);
    const pre = this.nbrPre.data, emb = nb.embedding, cut = this.cut.data, gCut = this.gCut.data;
    const pa = this.pa, pb = this.pb;
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
    linearBackward(P, gpre, nb.distProj, gF, true);
  }

  /** ∂E/∂r per pair from the basis and cutoff, plus the direction terms; forces = −∂E/∂pos. */
  private assembleForces(forces: Float64Array): void {
    const P = this.pairs.count;
    const R = this.config.num_rbf;
    const gF = this.gRbf.data, fd = this.rbfDer.data;
    const r = this.r.data, u = this.u.data, gCut = this.gCut.data, dC = this.cutDer.data, gU = this.gU.data;
    const pa = this.pa, pb = this.pb;
    for (let p = 0; p < P; p++) {
      let gr = gCut[p] * dC[p];
      for (let k = 0; k < R; k++) gr += gF[p * (R + 1) + k] * fd[p * R + k];
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

/** WebAssembly.Memory.grow past the engine's or the module's maximum throws a RangeError. */

/** Y[M, out] = X[M, in]·Wᵀ */
function linearForward(M: number, X: FloatArray, W: Linear, Y: FloatArray): void {
  gemmPacked(false, M, W.out, W.in, X, W.forward, Y, false);
}

/** G_X[M, in] (+)= G_Y[M, out]·W */
function linearBackward(M: number, GY: FloatArray, W: Linear, GX: FloatArray, accumulate: boolean): void {
  gemmPacked(false, M, W.in, W.out, GY, W.backward, GX, accumulate);
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
