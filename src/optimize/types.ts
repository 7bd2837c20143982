/** What every geometry optimiser here does: move positions one step downhill, given the forces there. */
export interface Optimizer {
  readonly name: string;
  /** Update `positions` (flat, Å) in place, from the forces (eV/Å) and energy (eV) at them. */
  step(positions: Float64Array, forces: Float64Array, energy: number): void;
}
