/**
 * Choosing the calculator of a command the same way everywhere: `--model` (an oreo `.oreo` file, a
 * TorchMD-Net checkpoint, whatever else the model loader knows, or an analytic potential: lj,
 * morse, harmonic) or `--calculator xtb` (a reference program, with the xtb flags of `oreo label`).
 */
import { existsSync } from 'node:fs';
import { OreoError } from '../errors.js';
import type { Calculator } from '../calculator.js';
import { createAnalyticCalculator, isAnalyticSpec } from '../md/potentials/registry.js';
import { referenceCalculatorFrom, referenceOptionSpec } from './reference-options.js';
import { flag, str, type OptionSpec, type Parsed } from './args.js';

export const calculatorOptionSpec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file (.oreo, TorchMD-Net .ckpt), or an analytic potential: lj, morse, harmonic' },
  dtype: { type: 'string', help: 'arithmetic of a learned model: float64 (default) or float32' },
  head: { type: 'string', help: "a multi-head model's head (level of theory) to use; default: the model's default head" },
  ...referenceOptionSpec,
  calculator: { type: 'string', help: 'a reference program instead of --model: xtb (GFN2-xTB), gfn1-xtb' },
};

export interface ChosenCalculator {
  calculator: Calculator;
  /** What was asked for, for the record ("models/x.oreo", "xtb"). */
  spec: string;
  kind: 'model' | 'analytic' | 'reference';
}

/** The calculator from --model or --calculator; `reference` is the structure analytic potentials are built on. */
export async function calculatorFrom(
  command: string,
  p: Parsed,
  reference: { z: ArrayLike<number>; positions: ArrayLike<number> },
): Promise<ChosenCalculator> {
  const model = str(p, 'model');
  const reference_ = str(p, 'calculator');
  if (model !== undefined && reference_ !== undefined) throw new OreoError(`oreo ${command}: give --model or --calculator, not both`);
  const dtype = str(p, 'dtype');
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`oreo ${command}: --dtype must be float32 or float64, got '${dtype}'`);
  const head = str(p, 'head');
  if (head !== undefined && (reference_ !== undefined || (model !== undefined && isAnalyticSpec(model) && !existsSync(model)))) {
    throw new OreoError(`oreo ${command}: --head applies to learned models only`);
  }
  if (reference_ !== undefined) {
    if (dtype !== undefined) throw new OreoError(`oreo ${command}: --dtype applies to learned models only`);
    return { calculator: referenceCalculatorFrom(command, p), spec: reference_, kind: 'reference' };
  }
  if (model === undefined) throw new OreoError(`oreo ${command}: give --model FILE (or an analytic potential) or --calculator xtb`);
  const xtbFlags = Object.keys(referenceOptionSpec).filter((k) => k !== 'calculator' && (str(p, k) !== undefined || flag(p, k)));
  if (xtbFlags.length) throw new OreoError(`oreo ${command}: ${xtbFlags.map((k) => '--' + k).join(', ')} apply to --calculator xtb only`);
  if (isAnalyticSpec(model) && !existsSync(model)) {
    if (dtype !== undefined) throw new OreoError(`oreo ${command}: --dtype applies to learned models only`);
    return { calculator: createAnalyticCalculator(model, reference), spec: model, kind: 'analytic' };
  }
  const { loadCalculator } = await import('../model/load.js');
  return { calculator: await loadCalculator(model, { ...(dtype ? { dtype } : {}), ...(head !== undefined ? { head } : {}) }), spec: model, kind: 'model' };
}
