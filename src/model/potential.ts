/**
 * The Potential: an ET with its parameters, turning structures into energies and forces. It is
 * the only model object MD, training and analysis use; `asCalculator()` adapts it to MD's
 * Calculator interface.
 */
import { Tensor, DType, grad, neg, noGrad, sumAll, allocate } from '../engine/index.js';
import type { ETConfig } from './config.js';
import { Params, checkAtomicNumbers } from './et.js';
import { createModel, energies, isBuffer } from './create.js';
import { neighborPairs } from './neighbors.js';
import type { Calculator, EnergyForces } from '../md/calculator.js';
import { OreoError } from '../errors.js';
import { symbolOf } from '../elements.js';
import { FastEnergyForces } from './fast/energy-forces.js';
import { applicabilityWarning } from './card.js';

export interface StructureBatch {
  z: Int32Array;
  /** Flat positions, Å. */
  positions: Float64Array;
  /** Molecule index per atom (grouped); omit for a single molecule. */
  mol?: Int32Array;
  nMol?: number;
}

export interface Prediction {
  /** Energies per molecule [nMol] (eV for a physical model). */
  energy: Tensor;
  /** Forces [N, 3]. With createGraph they stay differentiable with respect to the parameters. */
  forces: Tensor;
}

export interface ModelMeta {
  /** Where the model came from (file, format) and anything a model card should carry. */
  [key: string]: unknown;
}

export class Potential {
  constructor(
    readonly config: ETConfig,
    readonly params: Params,
    readonly dtype: DType,
    readonly meta: ModelMeta = {},
  ) {}

  /** Trainable parameters (everything but buffers), in a stable order. */
  trainable(): [string, Tensor][] {
    return [...this.params.entries()].filter(([name]) => !isBuffer(name, this.config));
  }

  parameterCount(): number {
    return this.trainable().reduce((n, [, t]) => n + t.size, 0);
  }

  /** Check the structures, then build the positions tensor and the neighbour graph. */
  private prepare(b: StructureBatch, requiresGrad: boolean) {
    const n = b.z.length;
    if (b.positions.length !== 3 * n) {
      throw new OreoError(`${n} atoms need ${3 * n} coordinates, got ${b.positions.length}`);
    }
    for (let i = 0; i < b.positions.length; i++) {
      if (!Number.isFinite(b.positions[i])) {
        throw new OreoError(`atom ${Math.floor(i / 3)} has a non-finite coordinate (${b.positions[i]})`);
      }
    }
    checkAtomicNumbers(b.z, this.config);
    const mol = b.mol ?? new Int32Array(n);
    const nMol = b.nMol ?? (n > 0 ? mol[n - 1] + 1 : 0);
    const data = allocate(this.dtype, b.positions.length);
    data.set(b.positions);
    const pos = new Tensor(data, [n, 3], requiresGrad);
    const pairs = neighborPairs(b.positions, mol, this.config.cutoff_upper);
    return { z: b.z, pos, mol, nMol, pairs };
  }

  /** Energies only, no graph. */
  energy(b: StructureBatch): Tensor {
    return noGrad(() => energies(createModel(this.config), this.params, this.prepare(b, false)));
  }

  /**
   * Energies and forces F = −∂E/∂r. With `createGraph` the forces remain a differentiable
   * function of the parameters (training on forces); otherwise no graph survives the call.
   */
  predict(b: StructureBatch, options: { createGraph?: boolean } = {}): Prediction {
    const g = this.prepare(b, true);
    const energy = energies(createModel(this.config), this.params, g);
    const [dEdr] = grad(sumAll(energy), [g.pos], { createGraph: options.createGraph ?? false });
    const forces = options.createGraph ? neg(dEdr!) : noGrad(() => neg(dEdr!));
    if (!options.createGraph) return { energy: energy.detach(), forces };
    return { energy, forces };
  }

  /** Refuse molecules with elements the model cannot embed. */
  checkElements(z: Int32Array): void {
    checkAtomicNumbers(z, this.config);
    const known = this.meta.elements as number[] | undefined;
    if (known && known.length > 0) {
      const set = new Set(known);
      const missing = [...new Set(z)].filter((x) => !set.has(x));
      if (missing.length > 0) {
        throw new OreoError(
          `the model was trained on ${known.map(symbolOf).join(', ')} only; this structure has ${missing.map(symbolOf).join(', ')}`,
        );
      }
    }
  }

  /**
   * The potential as MD's Calculator. By default it runs the fast inference path
   * (src/model/fast: no autodiff graph, buffers reused between steps), which reads the
   * parameters once, here; `fast: false` runs `predict` (the autodiff path) instead.
   */
  asCalculator(name = String(this.meta.name ?? 'ET'), options: { fast?: boolean } = {}): Calculator {
    if (options.fast ?? true) {
      const fast = new FastEnergyForces(this);
      return {
        name,
        checkElements: (z) => this.checkElements(z),
        applicability: (z) => applicabilityWarning(this.meta, z, `model '${name}'`),
        compute: (z, positions): EnergyForces => {
          const r = fast.compute(z, positions);
          return { energy: r.energy[0], forces: r.forces };
        },
      };
    }
    return {
      name,
      checkElements: (z) => this.checkElements(z),
      applicability: (z) => applicabilityWarning(this.meta, z, `model '${name}'`),
      compute: (z, positions): EnergyForces => {
        const p = this.predict({ z, positions });
        return { energy: p.energy.data[0], forces: Float64Array.from(p.forces.data) };
      },
    };
  }
}
