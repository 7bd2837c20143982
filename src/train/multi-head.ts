/**
 * Training a multi-head model (src/model/multi-head.ts): every training row goes through the head
 * of its level of theory. A batch is cut into one sub-batch per head (rows routed by their source
 * name: the corpus's "<source> | <level>", or a file source's name, matched against each head's
 * `match` list); each sub-batch's loss and gradient come from that head's single-head view by the
 * ordinary path (fused or autodiff, src/train/gradient-path.ts), weighted by its share of the
 * batch's molecules, so the total is the batch's mean loss as a single-head model would have it.
 * The representation's gradient is the sum over the sub-batches; a head no row of the batch went
 * through gets no gradient (null), and AdamW then neither decays nor moves it.
 *
 * A batch from one level (the usual case with level-grouped data) is one sub-batch of weight 1:
 * exactly the single-head step on that head's view.
 */
import { Tensor } from '../engine/index.js';
import { makeBatch, type Batch } from '../data/batch.js';
import type { Conformation } from '../data/conformation.js';
import type { Potential } from '../model/potential.js';
import { headShapes } from '../model/create.js';
import { headForSource, headTensorName, type HeadCard } from '../model/multi-head.js';
import { ObjectiveGradients, type StepResult, type TrainingPathChoice } from './gradient-path.js';
import type { GradientHelper } from './parallel-gradients.js';
import type { LossTerms, NormalSource, ObjectiveConfig } from './objective.js';
import { evaluate } from './evaluate.js';
import type { Validator } from './observers.js';

/** The molecules `mols` of a batch as a batch of their own (labels, kinds and sources kept). */
export function selectMolecules(b: Batch, mols: number[]): Batch {
  const confs: Conformation[] = mols.map((m) => {
    const a0 = b.atomOffset[m], a1 = b.atomOffset[m + 1];
    const c: Conformation = { z: b.z.slice(a0, a1), positions: b.positions.slice(3 * a0, 3 * a1), kind: b.kind[m] } as Conformation;
    if (b.energy && b.energyMask?.[m]) c.energy = b.energy[m];
    if (b.forces && b.forcesMask?.[m]) c.forces = b.forces.slice(3 * a0, 3 * a1);
    if (b.props) {
      const props: Record<string, number> = {};
      for (const [k, v] of Object.entries(b.props)) if (!Number.isNaN(v[m])) props[k] = v[m];
      if (Object.keys(props).length) c.props = props;
    }
    if (b.source[m] !== undefined) c.source = b.source[m];
    if (b.index[m] >= 0) c.index = b.index[m];
    return c;
  });
  return makeBatch(confs);
}

/** The molecules of a batch grouped by the head their source goes through, in head order. */
export function groupByHead(heads: HeadCard[], b: Batch): { head: HeadCard; mols: number[] }[] {
  const by = new Map<string, number[]>();
  for (let m = 0; m < b.nMol; m++) {
    const h = headForSource(heads, b.source[m] ?? '');
    if (!by.has(h.id)) by.set(h.id, []);
    by.get(h.id)!.push(m);
  }
  return heads.filter((h) => by.has(h.id)).map((head) => ({ head, mols: by.get(head.id)! }));
}

export class MultiHeadGradients {
  readonly heads: HeadCard[];
  private readonly paths = new Map<string, ObjectiveGradients>();
  private readonly views = new Map<string, Potential>();
  /** For each head: the index in the model's trainable list of each of the view's trainable tensors. */
  private readonly slots = new Map<string, number[]>();
  private readonly size: number;
  /** One helper thread for all heads when training runs on two threads. */
  private readonly helper: { helper: GradientHelper | null } = { helper: null };

  constructor(
    readonly pot: Potential,
    objective: ObjectiveConfig,
    choice: TrainingPathChoice = 'auto',
    warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {
    this.heads = pot.heads();
    const order = new Map(pot.trainable().map(([name], k) => [name, k]));
    this.size = order.size;
    const own = headShapes(pot.config);
    let warned = false;
    for (const head of this.heads) {
      const view = pot.withHead(head.id);
      this.views.set(head.id, view);
      this.paths.set(head.id, new ObjectiveGradients(view, objective, choice, (m) => void (warned ? 0 : ((warned = true), warn(m))), this.helper));
      this.slots.set(head.id, view.trainable().map(([name]) => order.get(own.has(name) ? headTensorName(head, name) : name)!));
    }
  }

  /** The single-head view of a head. */
  view(id: string): Potential {
    return this.views.get(id)!;
  }

  /** Threads the last steps ran on (2 once the shared helper has started). */
  get threads(): number {
    return this.helper.helper ? 2 : 1;
  }

  get path(): 'fused' | 'autodiff' {
    return this.paths.get(this.heads[0].id)!.path;
  }

  step(batch: Batch, rng: NormalSource): StepResult {
    const groups = groupByHead(this.heads, batch);
    const grads: (Tensor | null)[] = new Array(this.size).fill(null);
    const outcomes: { w: number; value: number; parts: LossTerms['parts'] }[] = [];
    for (const { head, mols } of groups) {
      const w = mols.length / batch.nMol;
      const sub = groups.length === 1 ? batch : selectMolecules(batch, mols);
      const r = this.paths.get(head.id)!.step(sub, rng);
      outcomes.push({ w, value: r.value, parts: r.parts });
      this.slots.get(head.id)!.forEach((slot, k) => {
        const g = r.grads[k];
        if (!g) return;
        if (w !== 1) for (let i = 0; i < g.size; i++) g.data[i] *= w;
        const acc = grads[slot];
        if (!acc) grads[slot] = g;
        else for (let i = 0; i < g.size; i++) acc.data[i] += g.data[i];
      });
    }
    return { ...combine(outcomes), grads };
  }

  loss(batch: Batch, rng: NormalSource): { value: number; parts: LossTerms['parts'] } {
    const outcomes = groupByHead(this.heads, batch).map(({ head, mols }) => {
      const r = this.paths.get(head.id)!.loss(selectMolecules(batch, mols), rng);
      return { w: mols.length / batch.nMol, ...r };
    });
    return combine(outcomes);
  }

  /** Validation: the same loss, and force MAEs through each row's head (overall and per head). */
  validator(batchSize: number): Validator {
    const perHead = (val: Conformation[]) => {
      const out: { id: string; n: number; mae: number }[] = [];
      for (const head of this.heads) {
        const rows = val.filter((c) => c.forces && c.kind !== 'equilibrium' && headForSource(this.heads, c.source ?? '').id === head.id);
        if (rows.length === 0) continue;
        const mae = evaluate(this.views.get(head.id)!, rows, batchSize).forceMAE_meV_per_A;
        if (mae !== null) out.push({ id: head.id, n: rows.reduce((s, c) => s + c.z.length, 0), mae });
      }
      return out;
    };
    return {
      loss: (b, rng) => this.loss(b, rng).value,
      forceMAE: (val) => {
        const r = perHead(val);
        const n = r.reduce((s, x) => s + x.n, 0);
        return n > 0 ? r.reduce((s, x) => s + x.mae * x.n, 0) / n : null;
      },
      metrics: (val) => Object.fromEntries(perHead(val).map((x) => [`forceMAE_${x.id}`, x.mae])),
    };
  }

  dispose(): void {
    for (const p of this.paths.values()) p.dispose();
    this.helper.helper?.dispose();
    this.helper.helper = null;
  }
}

/** The batch's loss and parts from its sub-batches', weighted by their shares (a part where it applies). */
function combine(outcomes: { w: number; value: number; parts: LossTerms['parts'] }[]): { value: number; parts: LossTerms['parts'] } {
  const value = outcomes.reduce((s, o) => s + o.w * o.value, 0);
  const parts = { forces: NaN, zeroForce: NaN, denoise: NaN, energy: NaN } as LossTerms['parts'];
  for (const k of Object.keys(parts) as (keyof LossTerms['parts'])[]) {
    const has = outcomes.filter((o) => Number.isFinite(o.parts[k]));
    if (has.length === 0) continue;
    const w = has.reduce((s, o) => s + o.w, 0);
    parts[k] = has.reduce((s, o) => s + o.w * o.parts[k], 0) / w;
  }
  return { value, parts };
}
