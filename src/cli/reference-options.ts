/**
 * The command-line flags that choose and configure a reference calculator, shared by
 * `oreo label` and `oreo dataset` so that both spell them the same way.
 */
import { num, str, type OptionSpec, type Parsed } from './args.js';
import { createReferenceCalculator, referenceCalculatorNames, type ReferenceOptions } from '../qm/registry.js';
import type { ReferenceCalculator } from '../qm/reference.js';

export const referenceOptionSpec: Record<string, OptionSpec> = {
  calculator: { type: 'string', help: `reference calculator: ${referenceCalculatorNames.join(', ')} (default xtb)` },
  xtb: { type: 'string', help: 'path of the xtb executable (default: $OREO_XTB, else xtb on PATH)' },
  charge: { type: 'string', help: 'total molecular charge, e (default 0)' },
  uhf: { type: 'string', help: 'number of unpaired electrons (default 0)' },
  acc: { type: 'string', help: 'xtb SCC accuracy factor, lower is tighter (default 1, xtb’s own)' },
  etemp: { type: 'string', help: 'electronic temperature, K (default 300)' },
  'scf-iterations': { type: 'string', help: 'SCC iteration limit (default 250)' },
  solvent: { type: 'string', help: 'implicit solvent (xtb ALPB), e.g. water; default gas phase' },
  timeout: { type: 'string', help: 'time limit per calculation, s (default 600)' },
};

/** Calculator options from parsed flags; `command` names the command in error messages. */
export function referenceOptionsFrom(command: string, p: Parsed): ReferenceOptions {
  const o: ReferenceOptions = {};
  const has = (k: string) => str(p, k) !== undefined;
  if (has('xtb')) o.binary = str(p, 'xtb');
  if (has('charge')) o.charge = num(command, p, 'charge', 0, { integer: true });
  if (has('uhf')) o.unpaired = num(command, p, 'uhf', 0, { integer: true, min: 0 });
  if (has('acc')) o.accuracy = num(command, p, 'acc', 1, { min: 1e-4, max: 1000 });
  if (has('etemp')) o.electronicTemperature = num(command, p, 'etemp', 300, { min: 0, exclusiveMin: true });
  if (has('scf-iterations')) o.maxIterations = num(command, p, 'scf-iterations', 250, { integer: true, min: 1 });
  if (has('solvent')) o.solvent = str(p, 'solvent');
  if (has('timeout')) o.timeoutSeconds = num(command, p, 'timeout', 600, { min: 0, exclusiveMin: true });
  return o;
}

export function referenceCalculatorFrom(command: string, p: Parsed, extra: ReferenceOptions = {}): ReferenceCalculator {
  return createReferenceCalculator(str(p, 'calculator') ?? 'xtb', { ...referenceOptionsFrom(command, p), ...extra });
}
