/**
 * The Potential: the energy model of src/model/create.ts (the ET representation, EquivariantScalar
 * head, Atomref prior, std/mean) on a ParameterSet, turning structures into energies and forces. It is
 * the only model object MD, training and analysis use; `asCalculator()` adapts it to MD's
 * Calculator interface.
 */
import { Tensor, grad, neg, noGrad, sumAll } from '../engine/index.js';
import { createModel, energies, headShapes, isHeadParameter } from './create.js';
import { defaultHead, findHead, headsOf, headTensorName, type HeadCard } from './multi-head.js';
import { ParameterSet, type StructureBatch } from './parameters.js';
import type { Calculator, EnergyForces } from '../calculator.js';
import { FastEnergyForces } from './fast/energy-forces.js';
import { applicabilityWarning } from './card.js';

export interface Prediction {
  /** Energies per molecule [nMol] (eV for a physical model). */
  energy: Tensor;
  /** Forces [N, 3]. With createGraph they stay differentiable with respect to the parameters. */
  forces: Tensor;
}

/** What an energy model predicts, in which units; `known` is false where the file does not say. */
export interface PredictionUnits {
  energy: string;
  forces: string;
  known: boolean;
}

export class Potential extends ParameterSet {
  /**
   * Units of the energies and forces this model predicts. A model that states them (meta.units)
   * is taken at its word. A TorchMD-Net checkpoint predicts in the units of whatever data it was
   * trained on, which the file does not record: "model". Every other model is an oreo model,
   * trained on labels oreo's readers converted to eV and eV/Å (src/units.ts).
   */
  predictionUnits(): PredictionUnits {
    const stated = this.meta.units as { energy?: unknown; forces?: unknown } | undefined;
    if (stated && typeof stated.energy === 'string' && typeof stated.forces === 'string') {
      return { energy: stated.energy, forces: stated.forces, known: stated.energy !== 'model' };
    }
    if (this.meta.format === 'torchmd-net') return { energy: 'model', forces: 'model/Å', known: false };
    return { energy: 'eV', forces: 'eV/Å', known: true };
  }


  /** The heads this model has (one, the default, for a single-head model); src/model/multi-head.ts. */
  heads(): HeadCard[] {
    return headsOf(this.meta);
  }

  /** Does it hold heads besides the default (tensors under `heads.<id>.`)? */
  isMultiHead(): boolean {
    for (const name of this.params.keys()) if (isHeadParameter(name)) return true;
    return false;
  }

  /**
   * The model through one head (by id or level name; the default when none is named): a plain
   * single-head Potential whose tensors are this model's own — the representation's, and the
   * head's under TorchMD-Net's names — so the fused paths, the export and training see an
   * ordinary ET, and what training changes through the view changes this model.
   */
  withHead(name?: string): Potential {
    const head = name === undefined ? defaultHead(this.meta) : findHead(this.meta, name);
    if (!this.isMultiHead()) return this;
    const own = headShapes(this.config);
    const params = new Map<string, Tensor>();
    for (const [k, t] of this.params) if (!isHeadParameter(k) && !own.has(k)) params.set(k, t);
    for (const k of own.keys()) {
      const t = this.params.get(headTensorName(head, k));
      if (t) params.set(k, t);
    }
    const meta = { ...this.meta, heads: [{ ...head, default: true }], head: head.id };
    return new Potential(this.config, params, this.dtype, meta);
  }

  /** Energies only, no graph. */
  energy(b: StructureBatch): Tensor {
    return noGrad(() => energies(createModel(this.config), this.params, this.graph(b, false)));
  }

  /**
   * Energies and forces F = −∂E/∂r. With `createGraph` the forces remain a differentiable
   * function of the parameters (training on forces); otherwise no graph survives the call.
   */
  predict(b: StructureBatch, options: { createGraph?: boolean } = {}): Prediction {
    const g = this.graph(b, true);
    const energy = energies(createModel(this.config), this.params, g);
    const [dEdr] = grad(sumAll(energy), [g.pos], { createGraph: options.createGraph ?? false });
    const forces = options.createGraph ? neg(dEdr!) : noGrad(() => neg(dEdr!));
    if (!options.createGraph) return { energy: energy.detach(), forces };
    return { energy, forces };
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

export type { StructureBatch, ModelMeta } from './parameters.js';
