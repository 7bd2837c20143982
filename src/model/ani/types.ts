/**
 * What an ANI ensemble is made of, as oreo holds it in memory: the AEV definition, one small
 * network per element and member, and the self-atomic energies. Browser-safe (no Node imports).
 */

/** The atomic environment vector's constants, as a NeuroChem `.params` file states them (Å). */
export interface AevParams {
  /** Radial cutoff, Å. */
  Rcr: number;
  /** Angular cutoff, Å (not above Rcr). */
  Rca: number;
  EtaR: number[];
  ShfR: number[];
  Zeta: number[];
  ShfZ: number[];
  EtaA: number[];
  ShfA: number[];
  /** Element symbols in channel order (`Atyp`): the radial channel of a neighbour of element
   * species[s] is s, and angular channels follow the upper triangle of this order. */
  species: string[];
}

export type ActivationKind = 'celu' | 'identity' | 'gaussian';

export interface LayerSpec {
  /** Input width (NeuroChem's `blocksize`). */
  in: number;
  /** Output width (`nodes`). */
  out: number;
  activation: ActivationKind;
  /** CELU's α (NeuroChem code 9 is CELU with α = 0.1). */
  alpha?: number;
}

/** One element's network: y = act(W x + b) per layer, W stored [out, in] row-major. */
export interface ElementNetwork {
  layers: LayerSpec[];
  weights: Float32Array[];
  biases: Float32Array[];
}

export interface AniEnsembleData {
  aev: AevParams;
  /** Self-atomic energy of each element of aev.species, Hartree. */
  selfEnergies: number[];
  /** One map per member: element symbol → its network. */
  members: Map<string, ElementNetwork>[];
  /** Name, level of theory, provenance, licence: carried into the file's header. */
  meta: Record<string, unknown>;
}

/** NeuroChem's activation codes as TorchANI maps them (neurochem/__init__.py, _get_activation). */
export function activationFromCode(code: number, where: string): { activation: ActivationKind; alpha?: number } {
  if (code === 9) return { activation: 'celu', alpha: 0.1 };
  if (code === 6) return { activation: 'identity' };
  if (code === 5) return { activation: 'gaussian' };
  throw new Error(`${where}: NeuroChem activation code ${code} is not one oreo implements (5 Gaussian, 6 identity, 9 CELU)`);
}
