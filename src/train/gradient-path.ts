/**
 * Loss and parameter gradients of one batch of the force-centric objective, by one of two paths:
 *
 * - fused (the default where the model allows it): energies and forces from the fused inference
 *   path, the loss and its derivatives ∂L/∂F, ∂L/∂E as plain numbers, then the parameter gradient
 *   by forward-over-reverse (src/model/fast/training-gradient.ts). No autodiff tape.
 * - autodiff: the loss on the engine's tape with create-graph forces, then `grad` — the
 *   reference, and what runs for any model option the fused path does not cover (it says which,
 *   once).
 *
 * Both draw the denoising noise through `extendBatch` in the same order, so a run gives the same
 * loss curve on either path to float tolerance (test/train/gradient-path.test.ts).
 */
import { Tensor, grad } from '../engine/index.js';
import type { Batch } from '../data/batch.js';
import type { Potential } from '../model/potential.js';
import { FastEnergyForces } from '../model/fast/energy-forces.js';
import { FusedTrainingGradient, fusedTrainingUnsupported } from '../model/fast/training-gradient.js';
import { batchLoss, extendBatch, lossAdjoints, type ExtendedBatch, type LossTerms, type NormalSource, type ObjectiveConfig } from './objective.js';
import { OreoError } from '../errors.js';
import { GradientHelper, splitMolecules, trainingThreads, type Share } from './parallel-gradients.js';

export type TrainingPathChoice = 'auto' | 'fused' | 'autodiff';

export interface StepResult {
  /** Weighted total loss. */
  value: number;
  parts: LossTerms['parts'];
  /** dL/dθ in the order of pot.trainable(). */
  grads: (Tensor | null)[];
}

/**
 * Loss and parameter gradients by the engine's tape: the parameters are marked for gradients
 * only while `loss` builds its graph (create-graph forces included), then `grad` walks it. Used
 * by the objective's autodiff path and by training tasks (property fine-tuning) alike.
 */
export function autodiffStep<P extends Record<string, number>>(
  params: [string, Tensor][],
  loss: () => { total: Tensor; parts: P },
): { value: number; parts: P; grads: (Tensor | null)[] } {
  const for_ = params.map(([, t]) => t);
  for (const t of for_) t.requiresGrad = true;
  try {
    const l = loss();
    return { value: l.total.data[0], parts: l.parts, grads: grad(l.total, for_, { allowUnused: true }) };
  } finally {
    for (const t of for_) t.requiresGrad = false;
  }
}

export class ObjectiveGradients {
  /** The path in use: 'fused' or 'autodiff'. */
  readonly path: 'fused' | 'autodiff';
  /** Why the fused path is not used, or null. */
  readonly fallbackReason: string | null;
  private fast: FastEnergyForces | null = null;
  private fused: FusedTrainingGradient | null = null;
  private readonly params: [string, Tensor][];
  /** The second thread's share of each fused step (setTrainingThreads(2)), or null. */
  private helper: GradientHelper | null = null;

  constructor(
    readonly pot: Potential,
    readonly objective: ObjectiveConfig,
    choice: TrainingPathChoice = 'auto',
    warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
    /**
     * One helper thread for several step functions over models of one architecture (the heads of
     * a multi-head model, src/train/multi-head.ts): each forward sends all its parameters, so the
     * helper serves whichever asks. Its owner disposes it.
     */
    private readonly sharedHelper?: { helper: GradientHelper | null },
  ) {
    this.params = pot.trainable();
    const why = fusedTrainingUnsupported(pot.config, this.params.map(([n]) => n));
    if (choice === 'fused' && why) throw new OreoError(`--training-path fused: this model has ${why}, which the fused training gradient does not cover`);
    this.fallbackReason = choice === 'autodiff' ? null : why;
    this.path = choice === 'autodiff' || why ? 'autodiff' : 'fused';
    if (why && choice === 'auto') warn(`oreo: training on the autodiff path (slower): the fused training gradient does not cover ${why}`);
  }

  /** Threads the fused step runs on (2 once the helper has started). */
  get threads(): number {
    return this.helper ? 2 : 1;
  }

  /** Loss and gradients of one batch at the potential's current parameters. */
  step(batch: Batch, rng: NormalSource): StepResult {
    if (this.path === 'autodiff') return autodiffStep(this.params, () => batchLoss(this.pot, batch, this.objective, rng));
    if (!this.fast) {
      this.fast = new FastEnergyForces(this.pot);
      this.fused = new FusedTrainingGradient(this.pot);
      if (trainingThreads() === 2) this.helper = this.sharedHelper ? (this.sharedHelper.helper ??= new GradientHelper(this.pot)) : new GradientHelper(this.pot);
    } else {
      this.fast.refresh(); // the optimizer changed the parameters in place
    }
    const ext = extendBatch(batch, this.objective, rng);
    const shares = this.helper ? splitMolecules(ext.mol, ext.nMol) : null;
    if (shares) return this.stepOnTwoThreads(batch, ext, shares);
    const ef = this.fast.compute(ext.z, ext.positions, ext.mol, ext.nMol);
    const l = lossAdjoints(batch, ext, this.objective, ef.energy, ef.forces);
    const g = this.fused!.gradients(ext.z, ext.positions, ext.mol, ext.nMol, l);
    return { value: l.total, parts: l.parts, grads: this.gradientTensors(g) };
  }

  /** The fused step with the batch's molecules cut in two: this thread takes the first share. */
  private stepOnTwoThreads(batch: Batch, ext: ExtendedBatch, [mine, theirs]: [Share, Share]): StepResult {
    const helper = this.helper!;
    const part = (s: Share) => {
      const mol = new Int32Array(s.a1 - s.a0);
      for (let a = s.a0; a < s.a1; a++) mol[a - s.a0] = ext.mol[a] - s.m0;
      return { z: ext.z.subarray(s.a0, s.a1), positions: ext.positions.subarray(3 * s.a0, 3 * s.a1), mol, nMol: s.m1 - s.m0 };
    };
    const a = part(mine), b = part(theirs);
    helper.forward(this.pot, b.z.slice(), b.positions.slice(), b.mol, b.nMol);
    const ef = this.fast!.compute(a.z, a.positions, a.mol, a.nMol);
    const energy = new Float64Array(ext.nMol), forces = new Float64Array(3 * ext.z.length);
    energy.set(ef.energy.subarray(0, a.nMol));
    forces.set(ef.forces.subarray(0, 3 * a.z.length));
    const other = helper.collect<{ energy: Float64Array; forces: Float64Array }>();
    energy.set(other.energy, mine.m1);
    forces.set(other.forces, 3 * mine.a1);
    const l = lossAdjoints(batch, ext, this.objective, energy, forces);
    helper.gradients(l.dForces.slice(3 * theirs.a0), l.dEnergy.slice(theirs.m0));
    const g = this.fused!.gradients(a.z, a.positions, a.mol, a.nMol, {
      dForces: l.dForces.subarray(0, 3 * mine.a1),
      dEnergy: l.dEnergy.subarray(0, mine.m1),
    });
    const helperGrads = new Map(helper.collect<{ grads: [string, Float64Array | Float32Array][] }>().grads);
    return { value: l.total, parts: l.parts, grads: this.gradientTensors(g, helperGrads) };
  }

  /**
   * The fused path's gradients by name as Tensors in the order of pot.trainable(); with `plus`
   * (the helper thread's share), the sum of the two.
   */
  private gradientTensors(g: Map<string, Float64Array | Float32Array>, plus?: Map<string, Float64Array | Float32Array>): Tensor[] {
    return this.params.map(([name, t]) => {
      const d = g.get(name);
      const o = plus ? plus.get(name) : d;
      if (!d || !o) throw new OreoError(`fused training gradient gave nothing for parameter '${name}'${plus && d ? ' on the helper thread' : ''}`);
      if (!plus) return new Tensor(d, t.shape);
      const sum = d.slice();
      for (let k = 0; k < sum.length; k++) sum[k] += o[k];
      return new Tensor(sum, t.shape);
    });
  }

  /** Loss of one batch without gradients (validation), on the fast path where it applies. */
  loss(batch: Batch, rng: NormalSource): { value: number; parts: LossTerms['parts'] } {
    if (this.path === 'autodiff') {
      const l = batchLoss(this.pot, batch, this.objective, rng, false);
      return { value: l.total.data[0], parts: l.parts };
    }
    if (!this.fast) this.fast = new FastEnergyForces(this.pot);
    else this.fast.refresh();
    const ext = extendBatch(batch, this.objective, rng);
    const ef = this.fast.compute(ext.z, ext.positions, ext.mol, ext.nMol);
    const l = lossAdjoints(batch, ext, this.objective, ef.energy, ef.forces);
    return { value: l.total, parts: l.parts };
  }

  dispose(): void {
    this.fast?.dispose();
    this.fast = null;
    if (!this.sharedHelper) this.helper?.dispose();
    this.helper = null;
  }
}
