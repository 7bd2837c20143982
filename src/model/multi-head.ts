/**
 * Several levels of theory in one model, as MACE's multi-head fine-tuning: one shared ET
 * representation, one output head per level of theory (its output model, Atomref prior and
 * std/mean). The default head (the DFT-level one) keeps TorchMD-Net's own parameter names, so a
 * multi-head model *is* an ordinary single-head ET for everything that reads it by name (the
 * fused paths, the TorchMD-Net export, old readers); every other head's tensors sit under
 * `heads.<id>.` + the same name. `Potential.withHead(id)` gives a view that maps one head onto the
 * standard names and shares every tensor with the model, so training through the view trains
 * the model.
 *
 * The heads are listed in the model's metadata (`meta.heads`), each with its level of theory as
 * the corpus records it (its name, the program and version when known) and which is the default.
 */
import { OreoError } from '../errors.js';
import { HEAD_PREFIX, isHeadParameter } from './create.js';
import type { ModelMeta } from './parameters.js';

export { HEAD_PREFIX, isHeadParameter } from './create.js';

/** One head's card: its id (the name `--head` takes) and the level of theory it predicts. */
export interface HeadCard {
  id: string;
  /** The level of theory's name as the data records it ("GFN2-xTB", "ANI-2x (ωB97X/6-31G(d))", "PBE/def2-SVP"). */
  level: string;
  /** The program that computed the labels, and its version, when known. */
  program?: string;
  version?: string;
  /**
   * Which training rows go through this head: source names or level names, matched as the
   * stream's `level` filter matches ("<source> | <level>" names match by their level part).
   * Default: [level].
   */
  match?: string[];
  /** The one head used when none is named (predict, simulate, eval, export, finetune). */
  default?: boolean;
  /** The level of theory as the data's corpus manifest records it: full name, key, program, version, settings. */
  recorded?: { name: string; key?: string; program?: string; version?: string; settings?: Record<string, unknown> };
}

/** A head id: letters, digits, '-', '_', '.'; what `--head` and the parameter prefix use. */
export function checkHeadId(id: string, where: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(id) || id === 'new' || id === 'default') {
    throw new OreoError(`${where}: head id '${id}' must be letters, digits, '-', '_' or '.' (and not 'new' or 'default', which --head keeps for a fresh head and the default one)`);
  }
}

/** An id for a level of theory's name: "GFN2-xTB" → "gfn2-xtb", "ANI-2x (ωB97X/6-31G(d))" → "ani-2x". */
export function headIdOf(level: string): string {
  const first = level.split(/[\s(/|]/).filter(Boolean)[0] ?? 'head';
  const id = first.toLowerCase().replace(/[^a-z0-9_.-]/g, '-').replace(/^-+|-+$/g, '');
  return id || 'head';
}

/** The heads a model lists; a model without a list has one head, the default, of unrecorded level. */
export function headsOf(meta: ModelMeta): HeadCard[] {
  const list = meta.heads as HeadCard[] | undefined;
  if (!Array.isArray(list) || list.length === 0) return [{ id: 'main', level: String(meta.levelOfTheory ?? 'unrecorded'), default: true }];
  return list;
}

export function defaultHead(meta: ModelMeta): HeadCard {
  const heads = headsOf(meta);
  return heads.find((h) => h.default) ?? heads[0];
}

/** Check a model's head list: unique ids, exactly one default. */
export function checkHeads(heads: HeadCard[], where: string): void {
  const seen = new Set<string>();
  for (const h of heads) {
    checkHeadId(h.id, where);
    if (seen.has(h.id)) throw new OreoError(`${where}: head '${h.id}' is listed twice`);
    seen.add(h.id);
    if (typeof h.level !== 'string' || h.level === '') throw new OreoError(`${where}: head '${h.id}' has no level of theory`);
  }
  const defaults = heads.filter((h) => h.default).length;
  if (heads.length > 0 && defaults !== 1) throw new OreoError(`${where}: exactly one head must be the default (found ${defaults})`);
}

/** Find a head by id (or by its level's name; 'default': the default head); an unknown name is an error listing the heads. */
export function findHead(meta: ModelMeta, name: string): HeadCard {
  const heads = headsOf(meta);
  const h = heads.find((x) => x.id === name) ?? heads.find((x) => x.level === name) ?? (name === 'default' ? defaultHead(meta) : undefined);
  if (!h) throw new OreoError(`the model has no head '${name}'; its heads: ${heads.map(describeHead).join('; ')}`);
  return h;
}

/** "dft (PBE/def2-SVP, default)" */
export function describeHead(h: HeadCard): string {
  const what = [h.level, h.program && `${h.program}${h.version ? ` ${h.version}` : ''}`, h.default && 'default'].filter(Boolean);
  return `${h.id} (${what.join(', ')})`;
}

/** Where a head's tensor with standard name `name` lives in the model. */
export function headTensorName(head: HeadCard, name: string): string {
  return head.default ? name : `${HEAD_PREFIX}${head.id}.${name}`;
}

/** Does a training row's source belong to this head (its `match` list, else its level)? */
export function headTakes(head: HeadCard, source: string): boolean {
  return (head.match ?? [head.level]).some((m) => sourceMatches(source, m));
}

/** The shard stream's rule: a whole name, or the level part of "<source> | <level>" (a prefix up to a space). */
function sourceMatches(source: string, m: string): boolean {
  if (source === m) return true;
  const bar = source.lastIndexOf(' | ');
  const name = bar >= 0 ? source.slice(bar + 3) : source;
  return name === m || name.startsWith(`${m} `);
}

/** The head a row goes through: the first that takes its source, else the default. */
export function headForSource(heads: HeadCard[], source: string): HeadCard {
  return heads.find((h) => !h.default && headTakes(h, source)) ?? heads.find((h) => headTakes(h, source)) ?? heads.find((h) => h.default) ?? heads[0];
}
