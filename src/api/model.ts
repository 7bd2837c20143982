/**
 * The model part of oreo's library API: open a model file (or its bytes), then ask for energies
 * and forces of one structure or of a batch. Units are oreo's: Å in, eV and eV/Å out.
 *
 * This is a thin layer over src/model: `Model` holds a `Potential` and, made on first use, the
 * fused inference path (src/model/fast), which is what MD uses too, so numbers from here and
 * from `oreo simulate` agree exactly.
 */
import type { DType } from '../engine/index.js';
import type { Calculator } from '../calculator.js';
import { OreoError } from '../errors.js';
import { flatPositions, type Structure, type EnergyAndForces } from './structure.js';
import { packStructures } from '../data/batch.js';
import { Potential } from '../model/potential.js';
import { loadEnergyModel } from '../model/load.js';
import { saveModel } from '../model/io/native.js';
import { openModelBytes, AniEnsemble } from '../model/open.js';
import { EnsembleModel } from './ensemble-model.js';
import { FastEnergyForces } from '../model/fast/energy-forces.js';

export interface LoadModelOptions {
  /** Arithmetic: 'float64' or 'float32' (default: the precision the model file records). */
  dtype?: DType;
  /** For bytes: a name used in error messages and metadata (default 'model bytes'). */
  name?: string;
  /** A multi-head ET's head (id or level of theory); default: its default head. */
  head?: string;
}

export { EnsembleModel, flatPositions };
export type { Structure, EnergyAndForces };

export class Model {
  private fastPath: FastEnergyForces | null = null;

  /** Wrap a Potential (from training, `createPotential`, or a loader). */
  constructor(readonly potential: Potential) {}

  /** Name recorded in the model file, or where it came from. */
  get name(): string {
    return String(this.potential.meta.name ?? this.potential.meta.source ?? 'ET');
  }

  /** Atomic numbers the model was trained on, when the file records them (oreo models do). */
  get elements(): number[] | undefined {
    const e = this.potential.meta.elements as number[] | undefined;
    return e && e.length > 0 ? [...e] : undefined;
  }

  /** What the model predicts and in which units (eV, eV/Å for oreo models; "model" where a TorchMD-Net checkpoint does not say). */
  get units(): { energy: string; forces: string } {
    const u = this.potential.predictionUnits();
    return { energy: u.energy, forces: u.forces };
  }

  /** Neighbour cutoff, Å. */
  get cutoff(): number {
    return this.potential.config.cutoff_upper;
  }

  /** Throws an OreoError naming the elements when the model cannot (or was not trained to) handle them. */
  checkElements(z: ArrayLike<number>): void {
    this.potential.checkElements(Int32Array.from(z));
  }

  private fast(): FastEnergyForces {
    return (this.fastPath ??= new FastEnergyForces(this.potential));
  }

  /**
   * Energy and forces of one molecule, through the fused inference path. Elements the model
   * was not trained on are refused (the energy would be meaningless).
   */
  energyAndForces(s: Structure): EnergyAndForces {
    const z = Int32Array.from(s.z);
    this.potential.checkElements(z);
    const r = this.fast().compute(z, flatPositions(s));
    return { energy: r.energy[0], forces: r.forces };
  }

  /** Energies and forces of many molecules in one model call (faster than one call each for small molecules). */
  energyAndForcesBatch(structures: Structure[]): EnergyAndForces[] {
    const { z, positions, mol, nMol, atomOffset } = packStructures(structures.map((s, m) => ({ z: s.z, positions: flatPositions(s, `structure ${m}`) })));
    structures.forEach((s, m) => {
      try {
        this.potential.checkElements(Int32Array.from(s.z));
      } catch (e) {
        throw new OreoError(`structure ${m}: ${(e as Error).message}`);
      }
    });
    const r = this.fast().compute(z, positions, mol, nMol);
    return structures.map((_, m) => ({ energy: r.energy[m], forces: r.forces.slice(3 * atomOffset[m], 3 * atomOffset[m + 1]) }));
  }

  /** Energies only (eV), one per structure. */
  energies(structures: Structure[]): number[] {
    return this.energyAndForcesBatch(structures).map((r) => r.energy);
  }

  /**
   * The model as an MD calculator (the interface `Dynamics` and `runSimulation` take). Its own
   * fast-path buffers, so it can run beside this Model's calls.
   */
  calculator(): Calculator {
    return this.potential.asCalculator(this.name);
  }

  /** Save as an oreo `.oreo` model file (written to a temporary file, then renamed). */
  save(path: string): void {
    saveModel(this.potential, path);
  }

  /**
   * Call after changing `potential.params` in place (e.g. a training step you ran yourself), so
   * that the fast path re-reads the weights.
   */
  weightsChanged(): void {
    this.fastPath?.refresh();
  }
}

/**
 * Open a model: a path to an oreo `.oreo` file (an ET, or an ANI ensemble), a TorchMD-Net
 * `.ckpt`/`.pt` (told apart by content), the name of a bundled model (`'ani2x'`), or the bytes of
 * one (e.g. from `fetch` in a browser, or a file input). An ET gives a `Model`, an ANI ensemble an
 * `EnsembleModel` (same calls, plus the ensemble's spread).
 */
export function loadModel(source: string | Uint8Array | ArrayBuffer, options: LoadModelOptions = {}): Model | EnsembleModel {
  const m = typeof source === 'string'
    ? loadEnergyModel(source, { dtype: options.dtype })
    : openModelBytes(source instanceof Uint8Array ? source : new Uint8Array(source), options.name ?? 'model bytes', { dtype: options.dtype });
  if (m instanceof AniEnsemble) {
    if (options.head !== undefined) throw new OreoError(`${typeof source === 'string' ? source : options.name ?? 'model bytes'}: head '${options.head}': an ANI ensemble has no heads`);
    return new EnsembleModel(m);
  }
  return new Model(options.head !== undefined ? m.withHead(options.head) : m);
}
