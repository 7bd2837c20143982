/**
 * Adding and dropping heads of a multi-head model (src/model/multi-head.ts): a new head starts as
 * a copy of an existing one or fresh (Xavier-uniform output model, zero Atomref, std 1, mean 0,
 * as a new model's head starts); keeping one head makes a plain single-head model of it.
 */
import { Tensor, allocate } from '../engine/index.js';
import { OreoError } from '../errors.js';
import { headShapes, MEAN, OUTPUT_PREFIX, STD } from './create.js';
import { initLinearParameters } from './init.js';
import { checkHeads, findHead, headsOf, headTensorName, type HeadCard } from './multi-head.js';
import { Potential } from './potential.js';

/**
 * Add a head to the model in place. `start`: the id of a head to copy, or 'fresh'. The first
 * head added to a single-head model turns its own head into a listed one (`defaultCard`).
 */
export function addHead(pot: Potential, card: HeadCard, start: string, seed = 0, defaultCard?: HeadCard): void {
  const listed = pot.meta.heads as HeadCard[] | undefined;
  const heads: HeadCard[] = Array.isArray(listed) && listed.length > 0 ? listed.map((h) => ({ ...h })) : [{ ...(defaultCard ?? headsOf(pot.meta)[0]), default: true }];
  if (heads.some((h) => h.id === card.id)) throw new OreoError(`the model already has a head '${card.id}'`);
  const shapes = headShapes(pot.config);
  let tensors: Map<string, Tensor>;
  if (start === 'fresh') {
    const linear = new Map([...shapes].filter(([k]) => k.startsWith(`${OUTPUT_PREFIX}.`)));
    tensors = initLinearParameters(linear, pot.dtype, seed);
    for (const [k, shape] of shapes) {
      if (tensors.has(k)) continue;
      const t = new Tensor(allocate(pot.dtype, shape.reduce((a, b) => a * b, 1)), shape);
      if (k === STD) t.data[0] = 1;
      else if (k !== MEAN) t.data.fill(0);
      tensors.set(k, t);
    }
  } else {
    const from = findHead({ ...pot.meta, heads }, start);
    tensors = new Map();
    for (const [k, shape] of shapes) {
      const src = pot.params.get(headTensorName(from, k));
      if (!src) throw new OreoError(`head '${from.id}' has no tensor '${k}'`);
      tensors.set(k, new Tensor(src.data.slice(), shape));
    }
  }
  const next = [...heads, { ...card, default: false }];
  if (card.default) {
    // The new head becomes the default: it takes the standard names, the old default moves under its prefix.
    const old = next.find((h) => h.default)!;
    for (const k of shapes.keys()) pot.params.set(headTensorName({ ...old, default: false }, k), pot.params.get(k)!);
    for (const [k, t] of tensors) pot.params.set(k, t);
    for (const h of next) h.default = h.id === card.id;
  } else {
    for (const [k, t] of tensors) pot.params.set(headTensorName({ ...card, default: false }, k), t);
  }
  checkHeads(next, 'model heads');
  pot.meta.heads = next;
}

/** A plain single-head model of one head (by id or level), as the default; its tensors are copies. */
export function keepHead(pot: Potential, name: string): Potential {
  const view = pot.withHead(name);
  const params = new Map<string, Tensor>();
  for (const [k, t] of view.params) params.set(k, new Tensor(t.data.slice(), [...t.shape]));
  const head = headsOf(view.meta)[0];
  const meta = { ...view.meta, heads: [{ id: head.id, level: head.level, ...(head.program ? { program: head.program } : {}), ...(head.version ? { version: head.version } : {}), ...(head.recorded ? { recorded: head.recorded } : {}), default: true }] };
  delete (meta as Record<string, unknown>).head;
  return new Potential(pot.config, params, pot.dtype, meta);
}

/**
 * Make one head (by id or level) the default, in place: its tensors take TorchMD-Net's names and
 * the old default's move under `heads.<id>.` (a multi-head fine-tune trains the default head).
 */
export function makeDefaultHead(pot: Potential, name: string): void {
  const target = findHead(pot.meta, name);
  if (target.default) return;
  const heads = headsOf(pot.meta).map((h) => ({ ...h }));
  const old = heads.find((h) => h.default)!;
  for (const k of headShapes(pot.config).keys()) {
    const std = pot.params.get(k)!;
    const moved = `${headTensorName({ ...target, default: false }, k)}`;
    pot.params.set(k, pot.params.get(moved)!);
    pot.params.delete(moved);
    pot.params.set(headTensorName({ ...old, default: false }, k), std);
  }
  for (const h of heads) h.default = h.id === target.id;
  checkHeads(heads, 'model heads');
  pot.meta.heads = heads;
}
