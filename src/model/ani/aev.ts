/**
 * ANI atomic environment vectors (Smith et al., Chem. Sci. 2017, eqs. 2–4, with the modified
 * angular term of ANI-1x/2x) and their exact backward pass, on typed arrays.
 *
 * The AEV of atom i is [radial | angular]:
 *   radial, per neighbour species s and radial shift:  Σ_j 0.25·exp(−ηR (r_ij − Rs)²)·fc(r_ij; Rcr)
 *   angular, per unordered species pair (s_j ≤ s_k, upper-triangle order of `Atyp`) and
 *   (ηA, ζ, Rs, θs):  Σ_{j<k} 2·((1 + cos(θ_ijk − θs))/2)^ζ · exp(−ηA ((r_ij + r_ik)/2 − Rs)²)
 *                     · fc(r_ij; Rca)·fc(r_ik; Rca),  θ_ijk = acos(0.95·cos∠jik)
 * with fc(r; Rc) = 0.5·cos(π r / Rc) + 0.5 for r < Rc. Neighbours of the same molecule only
 * (no periodic images). Within a channel the flattened order is (ηR, Rs) for the radial part and
 * (ηA, ζ, Rs, θs) for the angular part, slowest first, as TorchANI's aev.py lays them out.
 *
 * The constant arrays (η, ζ, shifts) are used rounded to float32, as NeuroChem (float32 CUDA)
 * and TorchANI (which builds them with torch.tensor's default float32, then casts) use them;
 * the cutoffs stay double, as TorchANI keeps them as Python floats. The arithmetic is float64.
 *
 * `compute` fills the AEVs and keeps, per pair and per triple, the derivatives of every term
 * with respect to the distances and the angle, so `backward` is a sweep of dot products: it
 * turns any number of ∂E/∂AEV arrays (one per ensemble member, or one summed) into −∂E/∂r.
 */
import { OreoError } from '../../errors.js';
import { atomicNumber, symbolOf } from '../../elements.js';
import { PairList } from '../neighbors.js';
import type { AevParams } from './types.js';

export function aevLength(p: Pick<AevParams, 'EtaR' | 'ShfR' | 'EtaA' | 'Zeta' | 'ShfA' | 'ShfZ' | 'species'>): number {
  const s = p.species.length;
  return s * p.EtaR.length * p.ShfR.length + ((s * (s + 1)) / 2) * p.EtaA.length * p.Zeta.length * p.ShfA.length * p.ShfZ.length;
}

function grow<T extends Float64Array | Int32Array>(a: T, need: number): T {
  if (a.length >= need) return a;
  const C = a.constructor as { new (n: number): T };
  const b = new C(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

export class AevComputer {
  readonly length: number;
  /** Width of one radial channel (ηR × Rs) and of all radial channels. */
  readonly radialSub: number;
  readonly radialLength: number;
  /** Width of one angular channel (ηA × ζ × Rs × θs). */
  readonly angularSub: number;
  /** Atomic number of each species index. */
  readonly speciesZ: number[];
  private readonly speciesOf = new Int32Array(119).fill(-1);
  private readonly nSpecies: number;
  private readonly etaR: Float64Array;
  private readonly shfR: Float64Array;
  private readonly zeta: Float64Array;
  private readonly shfZ: Float64Array;
  private readonly etaA: Float64Array;
  private readonly shfA: Float64Array;
  private readonly Rcr: number;
  private readonly Rca: number;

  // Per-call state kept for backward.
  private n = 0;
  private species: Int32Array = new Int32Array(0);
  private pairs = new PairList();
  /** Per radial pair: the unit vector (r_a − r_b)/d and d; and ∂(term)/∂d of each radial term. */
  private pairDir = new Float64Array(0);
  private pairDeriv = new Float64Array(0);
  private nPairs = 0;
  // Angular neighbour lists (CSR), per entry: neighbour, vector centre→neighbour, distance.
  private nbStart = new Int32Array(0);
  private nbAtom = new Int32Array(0);
  private nbVec = new Float64Array(0);
  private nbCount = new Int32Array(0);
  // Per triple: centre, list entries of j and k, channel offset, dθ/dcos, cos; and per term the
  // partial derivatives with respect to θ, r_ij and r_ik.
  private triInt = new Int32Array(0);
  private triGeo = new Float64Array(0);
  private triDeriv = new Float64Array(0);
  private nTriples = 0;

  constructor(readonly params: AevParams) {
    const f = (a: number[]) => Float64Array.from(a, (v) => Math.fround(v));
    this.etaR = f(params.EtaR);
    this.shfR = f(params.ShfR);
    this.zeta = f(params.Zeta);
    const shfZ = f(params.ShfZ);
    this.shfZ = shfZ;
    this.etaA = f(params.EtaA);
    this.shfA = f(params.ShfA);
    this.Rcr = params.Rcr;
    this.Rca = params.Rca;
    this.nSpecies = params.species.length;
    this.speciesZ = params.species.map((s) => atomicNumber(s));
    this.speciesZ.forEach((z, i) => (this.speciesOf[z] = i));
    this.radialSub = this.etaR.length * this.shfR.length;
    this.radialLength = this.nSpecies * this.radialSub;
    this.angularSub = this.etaA.length * this.zeta.length * this.shfA.length * shfZ.length;
    this.length = aevLength(params);
  }

  get cutoff(): number {
    return this.Rcr;
  }

  /** Species index of each atom; refuses elements outside the model's list, naming them. */
  speciesIndices(z: ArrayLike<number>): Int32Array {
    const out = new Int32Array(z.length);
    const missing = new Set<number>();
    for (let i = 0; i < z.length; i++) {
      const s = z[i] >= 0 && z[i] < 119 ? this.speciesOf[z[i]] : -1;
      if (s < 0) missing.add(z[i]);
      out[i] = s;
    }
    if (missing.size > 0) {
      const names = [...missing].map((x) => (x >= 1 && x <= 118 ? symbolOf(x) : `Z=${x}`));
      throw new OreoError(`ANI covers ${this.params.species.join(' ')} only; this structure has ${names.join(', ')}`);
    }
    return out;
  }

  private pairChannel(a: number, b: number): number {
    if (a > b) [a, b] = [b, a];
    return a * this.nSpecies - (a * (a - 1)) / 2 + (b - a);
  }

  /** AEVs of atoms 0..n−1 (molecules grouped by `mol`) into out[n × length], float64. */
  compute(species: Int32Array, positions: ArrayLike<number>, mol: Int32Array, out: Float64Array): void {
    const n = species.length;
    const L = this.length;
    this.n = n;
    this.species = species;
    out.fill(0, 0, n * L);
    const pl = this.pairs;
    pl.find(positions, mol, n, this.Rcr);
    const P = pl.count;
    this.nPairs = P;
    const RS = this.radialSub, nShfR = this.shfR.length;
    this.pairDir = grow(this.pairDir, 4 * P);
    this.pairDeriv = grow(this.pairDeriv, P * RS);
    const dir = this.pairDir, der = this.pairDeriv;
    const piR = Math.PI / this.Rcr;
    this.nbCount = grow(this.nbCount, n);
    const nbCount = this.nbCount;
    nbCount.fill(0, 0, n);
    for (let p = 0; p < P; p++) {
      const a = pl.a[p], b = pl.b[p];
      const dx = positions[3 * a] - positions[3 * b], dy = positions[3 * a + 1] - positions[3 * b + 1], dz = positions[3 * a + 2] - positions[3 * b + 2];
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      dir[4 * p] = dx / d;
      dir[4 * p + 1] = dy / d;
      dir[4 * p + 2] = dz / d;
      dir[4 * p + 3] = d;
      if (d <= this.Rca) {
        nbCount[a]++;
        nbCount[b]++;
      }
      const fc = 0.5 * Math.cos(d * piR) + 0.5;
      const dfc = -0.5 * piR * Math.sin(d * piR);
      const oa = a * L + species[b] * RS, ob = b * L + species[a] * RS;
      for (let e = 0; e < this.etaR.length; e++) {
        const eta = this.etaR[e];
        for (let k = 0; k < nShfR; k++) {
          const x = d - this.shfR[k];
          const g = 0.25 * Math.exp(-eta * x * x);
          const t = g * fc;
          const c = e * nShfR + k;
          out[oa + c] += t;
          out[ob + c] += t;
          der[p * RS + c] = g * (dfc - 2 * eta * x * fc);
        }
      }
    }
    this.angular(positions, out);
  }

  private angular(positions: ArrayLike<number>, out: Float64Array): void {
    const n = this.n, L = this.length, species = this.species;
    const nbCount = this.nbCount;
    this.nbStart = grow(this.nbStart, n + 1);
    const start = this.nbStart;
    start[0] = 0;
    for (let i = 0; i < n; i++) start[i + 1] = start[i] + nbCount[i];
    const total = start[n];
    this.nbAtom = grow(this.nbAtom, total);
    this.nbVec = grow(this.nbVec, 4 * total);
    const nbAtom = this.nbAtom, nbVec = this.nbVec, dir = this.pairDir;
    const fill = new Int32Array(n);
    const add = (i: number, j: number, s: number, p: number) => {
      const e = start[i] + fill[i]++;
      nbAtom[e] = j;
      nbVec[4 * e] = s * dir[4 * p];
      nbVec[4 * e + 1] = s * dir[4 * p + 1];
      nbVec[4 * e + 2] = s * dir[4 * p + 2];
      nbVec[4 * e + 3] = dir[4 * p + 3];
    };
    const pl = this.pairs;
    for (let p = 0; p < this.nPairs; p++) {
      if (dir[4 * p + 3] > this.Rca) continue;
      // dir holds the unit vector from b to a; the vector from a to its neighbour b is its negative.
      add(pl.a[p], pl.b[p], -1, p);
      add(pl.b[p], pl.a[p], 1, p);
    }
    let T = 0;
    for (let i = 0; i < n; i++) T += (nbCount[i] * (nbCount[i] - 1)) / 2;
    this.nTriples = T;
    const AS = this.angularSub;
    this.triInt = grow(this.triInt, 4 * T);
    this.triGeo = grow(this.triGeo, 2 * T);
    this.triDeriv = grow(this.triDeriv, 3 * AS * T);
    const ti = this.triInt, tg = this.triGeo, td = this.triDeriv;
    const nZ = this.shfZ.length, nA = this.shfA.length, nZeta = this.zeta.length, nEta = this.etaA.length;
    const f1 = new Float64Array(nZeta * nZ), df1 = new Float64Array(nZeta * nZ);
    const f2 = new Float64Array(nEta * nA), df2 = new Float64Array(nEta * nA);
    const piA = Math.PI / this.Rca;
    let t = 0;
    for (let i = 0; i < n; i++) {
      for (let ej = start[i]; ej < start[i + 1]; ej++) {
        const dj = nbVec[4 * ej + 3];
        const fcj = 0.5 * Math.cos(dj * piA) + 0.5, dfcj = -0.5 * piA * Math.sin(dj * piA);
        for (let ek = ej + 1; ek < start[i + 1]; ek++) {
          const dk = nbVec[4 * ek + 3];
          const fck = 0.5 * Math.cos(dk * piA) + 0.5, dfck = -0.5 * piA * Math.sin(dk * piA);
          // cos∠ from the unit vectors equals (v_j·v_k)/(r_ij r_ik); TorchANI clamps the
          // denominator at 1e-10, which only atoms 1e-5 Å apart would reach (refused earlier).
          const cos = nbVec[4 * ej] * nbVec[4 * ek] + nbVec[4 * ej + 1] * nbVec[4 * ek + 1] + nbVec[4 * ej + 2] * nbVec[4 * ek + 2];
          const c95 = 0.95 * cos;
          const theta = Math.acos(c95);
          const dThetaDcos = -0.95 / Math.sqrt(1 - c95 * c95);
          for (let q = 0; q < nZeta; q++) {
            const zeta = this.zeta[q];
            for (let z = 0; z < nZ; z++) {
              // Shifted angle as TorchANI forms it: cos(θ − θs).
              const shifted = Math.cos(theta - this.shfZ[z]);
              const base = (1 + shifted) / 2;
              const pw = Math.pow(base, zeta);
              f1[q * nZ + z] = pw;
              // d/dθ of base^ζ = ζ·base^(ζ−1)·(−sin(θ − θs)/2)
              df1[q * nZ + z] = base > 0 ? (zeta * pw / base) * (-0.5 * Math.sin(theta - this.shfZ[z])) : 0;
            }
          }
          const mean = (dj + dk) / 2;
          for (let e = 0; e < nEta; e++) {
            const eta = this.etaA[e];
            for (let a = 0; a < nA; a++) {
              const x = mean - this.shfA[a];
              const g = Math.exp(-eta * x * x);
              f2[e * nA + a] = g;
              df2[e * nA + a] = -eta * x * g; // d/d r_ij (and d/d r_ik): the mean carries 1/2
            }
          }
          const o = i * L + this.radialLength + this.pairChannel(species[nbAtom[ej]], species[nbAtom[ek]]) * AS;
          ti[4 * t] = i;
          ti[4 * t + 1] = ej;
          ti[4 * t + 2] = ek;
          ti[4 * t + 3] = o;
          tg[2 * t] = cos;
          tg[2 * t + 1] = dThetaDcos;
          const dth = 3 * AS * t, ddj = dth + AS, ddk = ddj + AS;
          const fcjk = fcj * fck;
          let c = 0;
          for (let e = 0; e < nEta; e++) {
            for (let q = 0; q < nZeta; q++) {
              for (let a = 0; a < nA; a++) {
                const g = f2[e * nA + a], dg = df2[e * nA + a];
                for (let z = 0; z < nZ; z++, c++) {
                  const h = f1[q * nZ + z];
                  out[o + c] += 2 * h * g * fcjk;
                  td[dth + c] = 2 * df1[q * nZ + z] * g * fcjk;
                  td[ddj + c] = 2 * h * (dg * fcjk + g * dfcj * fck);
                  td[ddk + c] = 2 * h * (dg * fcjk + g * fcj * dfck);
                }
              }
            }
          }
          t++;
        }
      }
    }
  }

  /**
   * For each G in `grads` (∂E/∂AEV, n × length, of the last `compute`), add −∂E/∂r to the
   * matching array of `forces` (3n each).
   */
  backward(grads: Float64Array[], forces: Float64Array[]): void {
    const M = grads.length, L = this.length, RS = this.radialSub, AS = this.angularSub;
    const pl = this.pairs, dir = this.pairDir, der = this.pairDeriv, species = this.species;
    for (let p = 0; p < this.nPairs; p++) {
      const a = pl.a[p], b = pl.b[p];
      const oa = a * L + species[b] * RS, ob = b * L + species[a] * RS;
      const ux = dir[4 * p], uy = dir[4 * p + 1], uz = dir[4 * p + 2];
      for (let m = 0; m < M; m++) {
        const G = grads[m];
        let g = 0;
        for (let c = 0; c < RS; c++) g += (G[oa + c] + G[ob + c]) * der[p * RS + c];
        // r_ab = |r_a − r_b|, ∂r_ab/∂r_a = u; forces are −∂E/∂r.
        const F = forces[m];
        F[3 * a] -= g * ux;
        F[3 * a + 1] -= g * uy;
        F[3 * a + 2] -= g * uz;
        F[3 * b] += g * ux;
        F[3 * b + 1] += g * uy;
        F[3 * b + 2] += g * uz;
      }
    }
    const ti = this.triInt, tg = this.triGeo, td = this.triDeriv, nbAtom = this.nbAtom, nbVec = this.nbVec;
    for (let t = 0; t < this.nTriples; t++) {
      const i = ti[4 * t], ej = ti[4 * t + 1], ek = ti[4 * t + 2], o = ti[4 * t + 3];
      const j = nbAtom[ej], k = nbAtom[ek];
      const cos = tg[2 * t], dThetaDcos = tg[2 * t + 1];
      const dj = nbVec[4 * ej + 3], dk = nbVec[4 * ek + 3];
      const ujx = nbVec[4 * ej], ujy = nbVec[4 * ej + 1], ujz = nbVec[4 * ej + 2];
      const ukx = nbVec[4 * ek], uky = nbVec[4 * ek + 1], ukz = nbVec[4 * ek + 2];
      const dth = 3 * AS * t, ddj = dth + AS, ddk = ddj + AS;
      for (let m = 0; m < M; m++) {
        const G = grads[m];
        let gt = 0, gj = 0, gk = 0;
        for (let c = 0; c < AS; c++) {
          const w = G[o + c];
          gt += w * td[dth + c];
          gj += w * td[ddj + c];
          gk += w * td[ddk + c];
        }
        const gc = gt * dThetaDcos;
        // cos = u_j·u_k with u = v/|v|: ∂cos/∂v_j = (u_k − cos·u_j)/r_ij; ∂r_ij/∂v_j = u_j.
        const ajx = (gc * (ukx - cos * ujx)) / dj + gj * ujx;
        const ajy = (gc * (uky - cos * ujy)) / dj + gj * ujy;
        const ajz = (gc * (ukz - cos * ujz)) / dj + gj * ujz;
        const akx = (gc * (ujx - cos * ukx)) / dk + gk * ukx;
        const aky = (gc * (ujy - cos * uky)) / dk + gk * uky;
        const akz = (gc * (ujz - cos * ukz)) / dk + gk * ukz;
        const F = forces[m];
        F[3 * j] -= ajx;
        F[3 * j + 1] -= ajy;
        F[3 * j + 2] -= ajz;
        F[3 * k] -= akx;
        F[3 * k + 1] -= aky;
        F[3 * k + 2] -= akz;
        F[3 * i] += ajx + akx;
        F[3 * i + 1] += ajy + aky;
        F[3 * i + 2] += ajz + akz;
      }
    }
  }
}
