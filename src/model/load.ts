/**
 * Open any model file oreo understands — its own `.oreo` format (an ET, a property model, or an
 * ANI ensemble such as the bundled ANI-2x), or a TorchMD-Net `.ckpt`/`.pt` (recognised by
 * content, not extension) — through src/model/open.ts, as the model it holds, as a force field,
 * or directly as an MD Calculator. A bundled model may be named instead of a
 * path: `ani2x` is models/ani2x.oreo.
 */
import { openSync, readSync, closeSync, existsSync, readFileSync, fstatSync } from 'node:fs';
import '../io/sha256-node.js'; // model checksums by node:crypto
import type { Calculator } from '../calculator.js';
import { DType } from '../engine/index.js';
import { InputError } from '../errors.js';
import type { Potential } from './potential.js';
import { bundledModel } from '../data/bundled.js';
import { openModel, peekOreoHeader, energyModelOf, requireEt, EnergyModel, OpenedModel, AniEnsemble } from './open.js';

export interface LoadOptions {
  dtype?: DType;
  /**
   * The head of a multi-head ET (src/model/multi-head.ts), by id or level name: the model comes
   * back as that head's single-head view. Without it a multi-head model predicts through its
   * default head. Any other kind of model with a head asked for is an error.
   */
  head?: string;
}

/** Models shipped in models/ that can be named without a path. */
export const namedModels: Record<string, string> = { ani2x: 'ani2x.oreo' };

/**
 * A model argument as a path: an existing file as given, else a bundled model by name, with or
 * without `.oreo` (`ani2x`, `oreo-pretrained-et4x64`), so that commands work the same from a
 * checkout and from an installed package.
 */
export function resolveModelPath(spec: string): string {
  if (existsSync(spec)) return spec;
  const named = namedModels[spec.toLowerCase()];
  if (named) return bundledModel(named);
  if (/^[\w.-]+$/.test(spec)) {
    const file = spec.endsWith('.oreo') ? spec : `${spec}.oreo`;
    if (existsSync(bundledModel(file))) return bundledModel(file);
  }
  return spec;
}

/**
 * The JSON header of an oreo container file, read without its tensors (a model's kind, a
 * property model's head); null if the file is not one or cannot be read (left to the loader to explain).
 */
export function readOreoHeader(path: string): Record<string, unknown> | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    // The container's 12-byte preamble gives the header's length; open.ts parses the rest.
    const pre = new Uint8Array(12);
    if (readSync(fd, pre, 0, 12, 0) < 12) return null;
    const len = new DataView(pre.buffer).getUint32(8, true);
    // A damaged length is left to the loader to explain; never allocate past the file's end.
    if (12 + len > fstatSync(fd).size) return null;
    const head = new Uint8Array(12 + len);
    if (readSync(fd, head, 0, 12 + len, 0) < 12 + len) return null;
    return peekOreoHeader(head);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Open a model file (or a bundled model by name) as whatever it holds, with its kind: the Node
 * wrapper over src/model/open.ts's openModel, which reads the bytes the same way in a browser.
 */
export function openModelFile(spec: string, options: LoadOptions = {}): OpenedModel {
  const path = resolveModelPath(spec);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? 'model file not found' : `cannot open model file (${code})`);
  }
  const opened = openModel(bytes, path, options.dtype ? { dtype: options.dtype } : {});
  if (options.head === undefined) return opened;
  if (opened.kind !== 'et' && opened.kind !== 'torchmd-net') throw new InputError(path, `--head ${options.head}: this ${opened.kind} model has no energy heads`, undefined, 'head');
  try {
    return { ...opened, model: (opened.model as Potential).withHead(options.head) } as OpenedModel;
  } catch (e) {
    throw new InputError(path, (e as Error).message, undefined, 'head');
  }
}

/** An ET Potential or an ANI ensemble, by the file's content; a property model is refused by name. */
export function loadEnergyModel(spec: string, options: LoadOptions = {}): EnergyModel {
  const opened = openModelFile(spec, options);
  return energyModelOf(opened, resolveModelPath(spec));
}

/** An ET model (training, export, benchmarks); an ANI file is refused with a clear message. */
export function loadPotential(path: string, options: LoadOptions = {}): Potential {
  return requireEt(loadEnergyModel(path, options), path);
}

export async function loadCalculator(path: string, options: LoadOptions = {}): Promise<Calculator> {
  return loadEnergyModel(path, options).asCalculator();
}

export { AniEnsemble };
export type { OpenedModel, ModelKind } from './open.js';
