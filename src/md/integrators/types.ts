/**
 * What every integrator shares. An integrator advances positions and velocities by one time step
 * using the forces cached from the previous step and exactly one new force evaluation, as ASE's
 * dynamics classes (and MDsim's Nose–Hoover on top of them) do.
 */
import type { Atoms } from '../atoms.js';

export type ThermostatKind = 'nve' | 'nose-hoover' | 'nhc' | 'langevin';

export const thermostatKinds: readonly ThermostatKind[] = ['nve', 'nose-hoover', 'nhc', 'langevin'];

/** The evolving system plus its cached forces. */
export interface DynamicsState {
  readonly atoms: Atoms;
  /** Forces at atoms.positions, eV/Å, flat. */
  forces: Float64Array;
  /** Potential energy at atoms.positions, eV. */
  energy: number;
}

/** Recompute `forces` and `energy` of the state at its current positions. */
export type Evaluate = () => void;

/** JSON-safe integrator variables (thermostat coordinates, random generator). */
export type IntegratorState = { kind: ThermostatKind } & Record<string, unknown>;

export interface Integrator {
  readonly kind: ThermostatKind;
  /** Time step, fs. */
  readonly dt: number;
  step(state: DynamicsState, evaluate: Evaluate): void;
  /**
   * Energy held by the thermostat (eV), such that E_pot + E_kin + this is conserved by the exact
   * dynamics: the Nosé–Hoover extended-system terms, or minus the heat exchanged with the Langevin
   * bath. Its drift measures the integration error.
   */
  reservoirEnergy(state: DynamicsState): number;
  /** Variables needed to continue bit-for-bit. */
  getState(): IntegratorState;
}

export interface ThermostatSettings {
  thermostat: ThermostatKind;
  /** fs */
  dt: number;
  /** Target temperature, K (unused by NVE). */
  temperature: number;
  /** Thermostat time in units of dt (MDsim's `ttime`; τ = ttime·dt). */
  ttime: number;
  /** Langevin friction, 1/fs. */
  friction: number;
  /** Number of thermostats in a Nosé–Hoover chain. */
  chainLength: number;
}

export const defaultThermostatSettings = { ttime: 20, friction: 0.01, chainLength: 3 } as const;

/** The thermostat settings of `o`, MDsim's defaults where it gives no ttime, friction or chain length. */
export function thermostatSettings(o: Pick<ThermostatSettings, 'thermostat' | 'dt' | 'temperature'> & Partial<ThermostatSettings>): ThermostatSettings {
  return {
    thermostat: o.thermostat,
    dt: o.dt,
    temperature: o.temperature,
    ttime: o.ttime ?? defaultThermostatSettings.ttime,
    friction: o.friction ?? defaultThermostatSettings.friction,
    chainLength: o.chainLength ?? defaultThermostatSettings.chainLength,
  };
}
