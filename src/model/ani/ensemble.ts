/**
 * An ANI ensemble (ANI-2x: eight members) as oreo runs it: AEVs (aev.ts) shared by every member,
 * one network per element and member (network.ts), self-atomic energies added, and the
 * ensemble's mean and spread. Energies and forces leave in eV and eV/Å; the networks and the
 * self energies are in Hartree, converted here, at the edge, with oreo's Hartree (src/units.ts,
 * CODATA 2014: 27.2113860195 eV; TorchANI's hartree2ev is 27.211386024367243, 1.8e-10 relative
 * apart, so parity tests compare in Hartree).
 *
 * Forces come from the hand-written backward pass (no autodiff graph): ∂E/∂AEV through each
 * network, then through the AEVs. With the spread asked for, each member's forces are computed
 * (the AEV backward run once per member, sharing its stored derivatives); without, the members'
 * ∂E/∂AEV are summed first and the AEV backward runs once.
 *
 * Browser-safe: no Node imports.
 */
import { OreoError } from '../../errors.js';
import { Hartree } from '../../units.js';
import { atomicNumber, symbolOf } from '../../elements.js';
import type { Calculator, EnergyForces } from '../../calculator.js';
import { AevComputer } from './aev.js';
import { PackedNetwork, type NetDType } from './network.js';
import type { AniEnsembleData } from './types.js';
import type { FloatArray } from '../../engine/kernels/index.js';
import { Tensor } from '../../engine/tensor.js';

export interface AniOptions {
  /** Compute each member's energy and forces and the spreads (default true). */
  spread?: boolean;
}

export interface AniResult {
  /** Ensemble-mean energy per molecule, eV. */
  energy: Float64Array;
  /** Ensemble-mean forces, flat [3N], eV/Å. */
  forces: Float64Array;
  /** With spread: each member's energies [member][molecule], eV. */
  memberEnergies?: Float64Array[];
  /** With spread: each member's forces [member][3N], eV/Å. */
  memberForces?: Float64Array[];
  /** With spread: standard deviation over members of each molecule's energy (Bessel-corrected,
   * as TorchANI's energies_qbcs before its 1/√N), eV. */
  energySpread?: Float64Array;
  /** With spread: per atom, sqrt(Σ_m |F_m − F̄|² / (M − 1)), eV/Å. */
  forceSpread?: Float64Array;
}

/** Per-frame summary of the spread, as `oreo predict` and MD report it. */
export interface SpreadSummary {
  /** eV */
  energy: number;
  /** Largest and mean per-atom force spread, eV/Å. */
  maxForce: number;
  meanForce: number;
}

/**
 * What any ANI model refuses, from its element list alone (no weights needed): elements it has
 * no network for, named; an odd electron count of a neutral structure (open shell).
 */
export function checkAniStructure(elements: string[], name: string, z: ArrayLike<number>, mol?: Int32Array): void {
  const known = new Set(elements.map(atomicNumber));
  const missing = [...new Set(Array.from(z))].filter((x) => !known.has(x));
  if (missing.length > 0) {
    const names = missing.map((x) => (x >= 1 && x <= 118 ? symbolOf(x) : `Z=${x}`));
    throw new OreoError(`ANI covers ${elements.join(' ')} only; this structure has ${names.join(', ')}`);
  }
  const electrons = new Map<number, number>();
  for (let i = 0; i < z.length; i++) electrons.set(mol ? mol[i] : 0, (electrons.get(mol ? mol[i] : 0) ?? 0) + z[i]);
  for (const [m, e] of electrons) {
    if (e % 2 !== 0) {
      throw new OreoError(`${mol ? `molecule ${m}: ` : ''}${e} electrons as a neutral structure: an open-shell (radical) system, which ${name} was not trained on (closed-shell neutral molecules only)`);
    }
  }
}

export class AniEnsemble {
  readonly aev: AevComputer;
  readonly members: Map<number, PackedNetwork>[];
  /** Self-atomic energy of each species index, Hartree. */
  private readonly sae: Float64Array;
  // Reused buffers.
  private aevs = new Float64Array(0);
  private block: FloatArray = new Float64Array(0);
  private blockGrad: FloatArray = new Float64Array(0);
  private atomE = new Float64Array(0);

  constructor(
    readonly data: AniEnsembleData,
    readonly dtype: NetDType = 'float32',
  ) {
    this.aev = new AevComputer(data.aev);
    this.sae = Float64Array.from(data.selfEnergies);
    this.members = data.members.map((nets) => {
      const m = new Map<number, PackedNetwork>();
      data.aev.species.forEach((el, s) => {
        const net = nets.get(el);
        if (!net) throw new OreoError(`ANI member has no network for ${el}`);
        if (net.layers[0].in !== this.aev.length) throw new OreoError(`ANI network for ${el} takes ${net.layers[0].in} inputs; the AEV has ${this.aev.length}`);
        m.set(s, new PackedNetwork(net, dtype));
      });
      return m;
    });
  }

  get meta(): Record<string, unknown> {
    return this.data.meta;
  }

  get size(): number {
    return this.members.length;
  }

  get name(): string {
    return String(this.meta.name ?? 'ANI');
  }

  get levelOfTheory(): string {
    return String(this.meta.levelOfTheory ?? 'unknown');
  }

  get elements(): string[] {
    return this.data.aev.species;
  }

  /**
   * Units of what the ensemble predicts: eV and eV/Å, its spread in the same units (the
   * published networks' Hartree are converted when the file is read).
   */
  predictionUnits(): { energy: string; forces: string; known: true; spread: { energy: string; maxForce: string; meanForce: string } } {
    return { energy: 'eV', forces: 'eV/Å', known: true, spread: { energy: 'eV', maxForce: 'eV/Å', meanForce: 'eV/Å' } };
  }

  /** Neighbour cutoff, Å (the radial one). */
  get cutoff(): number {
    return this.aev.cutoff;
  }

  /**
   * Refuse what ANI was not trained on: elements outside its list (named), and an odd number of
   * electrons for a neutral structure (an open-shell system: ANI was trained on closed-shell
   * neutral molecules).
   */
  checkElements(z: ArrayLike<number>, mol?: Int32Array): void {
    checkAniStructure(this.elements, this.name, z, mol);
  }

  /** Refuse a known charge or spin that ANI does not cover. */
  checkChargeAndSpin(charge: number | undefined, unpaired: number | undefined): void {
    if (charge !== undefined && charge !== 0) throw new OreoError(`${this.name} covers neutral molecules only; charge ${charge} was given`);
    if (unpaired !== undefined && unpaired !== 0) throw new OreoError(`${this.name} covers closed-shell molecules only; ${unpaired} unpaired electrons were given`);
  }

  /**
   * Energies and forces of one or more molecules (atoms grouped by `mol`, non-decreasing).
   */
  compute(z: ArrayLike<number>, positions: ArrayLike<number>, mol?: Int32Array, nMol?: number, options: AniOptions = {}): AniResult {
    const n = z.length;
    if (positions.length !== 3 * n) throw new OreoError(`${n} atoms need ${3 * n} coordinates, got ${positions.length}`);
    for (let i = 0; i < positions.length; i++) {
      if (!Number.isFinite(positions[i])) throw new OreoError(`atom ${Math.floor(i / 3)} has a non-finite coordinate (${positions[i]})`);
    }
    const species = this.aev.speciesIndices(z);
    const molecule = mol ?? new Int32Array(n);
    const molecules = nMol ?? (n > 0 ? molecule[n - 1] + 1 : 0);
    const L = this.aev.length;
    if (this.aevs.length < n * L) this.aevs = new Float64Array(n * L);
    this.aev.compute(species, positions, molecule, this.aevs);

    const spread = options.spread ?? true;
    const M = this.members.length;
    const grads = spread ? Array.from({ length: M }, () => new Float64Array(n * L)) : [new Float64Array(n * L)];
    const memberE = Array.from({ length: M }, () => new Float64Array(molecules));

    // Atoms of each species, so each network sees one block.
    const bySpecies: number[][] = this.elements.map(() => []);
    for (let i = 0; i < n; i++) bySpecies[species[i]].push(i);
    for (let s = 0; s < bySpecies.length; s++) {
      const atoms = bySpecies[s];
      const rows = atoms.length;
      if (rows === 0) continue;
      if (this.block.length < rows * L) {
        this.block = this.dtype === 'float32' ? new Float32Array(rows * L) : new Float64Array(rows * L);
        this.blockGrad = this.dtype === 'float32' ? new Float32Array(rows * L) : new Float64Array(rows * L);
      }
      if (this.atomE.length < rows) this.atomE = new Float64Array(rows);
      const x = this.block, dx = this.blockGrad;
      atoms.forEach((a, r) => {
        for (let c = 0; c < L; c++) x[r * L + c] = this.aevs[a * L + c];
      });
      for (let m = 0; m < M; m++) {
        const net = this.members[m].get(s)!;
        net.forward(x, rows, this.atomE);
        for (let r = 0; r < rows; r++) memberE[m][molecule[atoms[r]]] += this.atomE[r];
        if (spread) {
          net.backward(rows, 1, dx, false);
          const G = grads[m];
          atoms.forEach((a, r) => {
            for (let c = 0; c < L; c++) G[a * L + c] = dx[r * L + c];
          });
        } else {
          net.backward(rows, 1 / M, dx, m > 0);
        }
      }
      if (!spread) {
        const G = grads[0];
        atoms.forEach((a, r) => {
          for (let c = 0; c < L; c++) G[a * L + c] = dx[r * L + c];
        });
      }
    }

    const forcesHa = grads.map(() => new Float64Array(3 * n));
    this.aev.backward(grads, forcesHa);

    const saeMol = new Float64Array(molecules);
    for (let i = 0; i < n; i++) saeMol[molecule[i]] += this.sae[species[i]];
    const energy = new Float64Array(molecules);
    for (let m = 0; m < M; m++) for (let k = 0; k < molecules; k++) energy[k] += memberE[m][k] / M;
    for (let k = 0; k < molecules; k++) energy[k] = (energy[k] + saeMol[k]) * Hartree;
    if (!spread) {
      const forces = forcesHa[0];
      for (let i = 0; i < 3 * n; i++) forces[i] *= Hartree;
      return { energy, forces };
    }
    const memberEnergies = memberE.map((e) => e.map((v, k) => (v + saeMol[k]) * Hartree));
    const memberForces = forcesHa.map((f) => f.map((v) => v * Hartree));
    const forces = new Float64Array(3 * n);
    for (const f of memberForces) for (let i = 0; i < 3 * n; i++) forces[i] += f[i] / M;
    const energySpread = new Float64Array(molecules);
    const forceSpread = new Float64Array(n);
    if (M > 1) {
      for (let k = 0; k < molecules; k++) {
        let s2 = 0;
        for (const e of memberEnergies) s2 += (e[k] - energy[k]) ** 2;
        energySpread[k] = Math.sqrt(s2 / (M - 1));
      }
      for (let i = 0; i < n; i++) {
        let s2 = 0;
        for (const f of memberForces) for (let c = 0; c < 3; c++) s2 += (f[3 * i + c] - forces[3 * i + c]) ** 2;
        forceSpread[i] = Math.sqrt(s2 / (M - 1));
      }
    }
    return { energy, forces, memberEnergies, memberForces, energySpread, forceSpread };
  }

  /** The energy spread and the largest and mean per-atom force spread of molecule k of a result. */
  static summary(r: AniResult, k = 0, atoms?: [number, number]): SpreadSummary {
    const fs = r.forceSpread ?? new Float64Array(0);
    const [a, b] = atoms ?? [0, fs.length];
    let max = 0, sum = 0;
    for (let i = a; i < b; i++) {
      max = Math.max(max, fs[i]);
      sum += fs[i];
    }
    return { energy: r.energySpread?.[k] ?? NaN, maxForce: max, meanForce: b > a ? sum / (b - a) : 0 };
  }

  /**
   * The ensemble as MD's Calculator (mean energy and forces). `spread` keeps each call's spread
   * in `lastSpread` (costs the per-member force sweep); `onSpread` is called with it.
   */
  asCalculator(name?: string, options: { spread?: boolean; onSpread?: (s: SpreadSummary) => void } = {}): AniCalculator {
    return new AniCalculator(this, options, name);
  }

  /** Number of weights and biases over all members. */
  parameterCount(): number {
    let n = 0;
    for (const nets of this.data.members) for (const net of nets.values()) for (let k = 0; k < net.layers.length; k++) n += net.weights[k].length + net.biases[k].length;
    return n;
  }

  /**
   * Ensemble-mean energies [nMol] and forces [N, 3] as engine tensors: the shape ET's
   * Potential.predict returns, so code written for either can take both.
   */
  predict(b: { z: Int32Array; positions: Float64Array; mol?: Int32Array; nMol?: number }): { energy: Tensor; forces: Tensor } {
    const r = this.compute(b.z, b.positions, b.mol, b.nMol, { spread: false });
    return { energy: new Tensor(r.energy, [r.energy.length]), forces: new Tensor(r.forces, [b.z.length, 3]) };
  }

  dispose(): void {
    for (const m of this.members) for (const net of m.values()) net.dispose();
  }
}

export class AniCalculator implements Calculator {
  readonly name: string;
  /** Compute the members' forces each call and keep the spread (costs the per-member sweep). */
  spread: boolean;
  lastSpread: SpreadSummary | null = null;
  /** Largest per-atom force spread since the last takePeak(), eV/Å, and the energy spread then. */
  private peak: SpreadSummary | null = null;

  constructor(
    readonly ensemble: AniEnsemble,
    private readonly options: { spread?: boolean; onSpread?: (s: SpreadSummary) => void } = {},
    name?: string,
  ) {
    this.name = name ?? ensemble.name;
    this.spread = options.spread ?? false;
  }

  checkElements(z: Int32Array): void {
    this.ensemble.checkElements(z);
  }

  compute(z: Int32Array, positions: Float64Array): EnergyForces {
    const r = this.ensemble.compute(z, positions, undefined, 1, { spread: this.spread });
    if (this.spread) {
      const s = AniEnsemble.summary(r);
      this.lastSpread = s;
      if (!this.peak || s.maxForce > this.peak.maxForce) this.peak = s;
      this.options.onSpread?.(s);
    }
    return { energy: r.energy[0], forces: r.forces };
  }

  /** The call with the largest force spread since the previous takePeak() (null if none). */
  takePeak(): SpreadSummary | null {
    const p = this.peak;
    this.peak = null;
    return p;
  }
}
