/**
 * Geometry optimisation from a script, as ASE's `LBFGS(atoms).run(fmax=0.05)`:
 * `optimize(model, structure, { method: 'fire', fmax: 0.01 })` with a `Model` or any Calculator.
 * Units: Å, eV, eV/Å. A run that hits the step limit returns `converged: false` with the reason.
 */
import type { Calculator } from '../calculator.js';
import { minimize, type MinimizeOptions, type MinimizeResult } from '../optimize/minimize.js';
import { Model, flatPositions, type Structure } from './model.js';

export function optimize(model: Model | Calculator, structure: Structure, options: MinimizeOptions = {}): MinimizeResult {
  const calculator = model instanceof Model ? model.calculator() : model;
  return minimize(calculator, structure.z, flatPositions(structure), options);
}
