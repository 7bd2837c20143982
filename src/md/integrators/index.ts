/** Build an integrator from thermostat settings, fresh or continuing from a saved state. */
import { OreoError } from '../../errors.js';
import type { Rng } from '../../random.js';
import { Langevin, type LangevinState } from './langevin.js';
import { NoseHoover, type NoseHooverState } from './nose-hoover.js';
import { NoseHooverChain, type NoseHooverChainState } from './nose-hoover-chain.js';
import { thermostatKinds, type Integrator, type IntegratorState, type ThermostatSettings } from './types.js';
import { VelocityVerlet } from './velocity-verlet.js';

export * from './types.js';
export { Langevin, NoseHoover, NoseHooverChain, VelocityVerlet };

/** Check settings before anything runs; messages name the CLI option. */
export function validateThermostatSettings(s: ThermostatSettings): void {
  if (!thermostatKinds.includes(s.thermostat)) {
    throw new OreoError(`unknown thermostat '${s.thermostat}' (choose one of: ${thermostatKinds.join(', ')})`);
  }
  if (!(s.dt > 0) || !Number.isFinite(s.dt)) throw new OreoError(`time step --dt must be > 0 fs, got ${s.dt}`);
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) throw new OreoError(`--temperature must be ≥ 0 K, got ${s.temperature}`);
  if (s.thermostat !== 'nve' && !(s.temperature > 0)) throw new OreoError(`the ${s.thermostat} thermostat needs --temperature > 0 K`);
  if ((s.thermostat === 'nose-hoover' || s.thermostat === 'nhc') && !(s.ttime > 0 && Number.isFinite(s.ttime))) {
    throw new OreoError(`--ttime must be > 0 (thermostat time in units of dt), got ${s.ttime}`);
  }
  if (s.thermostat === 'langevin' && !(s.friction > 0 && Number.isFinite(s.friction))) {
    throw new OreoError(`--friction must be > 0 (1/fs), got ${s.friction}`);
  }
  if (s.thermostat === 'nhc' && !(Number.isInteger(s.chainLength) && s.chainLength >= 1)) {
    throw new OreoError(`--chain-length must be an integer ≥ 1, got ${s.chainLength}`);
  }
}

/**
 * @param rng the run's random stream (Langevin draws from it and owns it afterwards)
 * @param saved a state from `getState()` to continue from
 */
export function createIntegrator(s: ThermostatSettings, atomCount: number, rng: Rng, saved?: IntegratorState): Integrator {
  validateThermostatSettings(s);
  if (saved && saved.kind !== s.thermostat) throw new OreoError(`saved integrator state is for '${saved.kind}', not '${s.thermostat}'`);
  switch (s.thermostat) {
    case 'nve':
      return new VelocityVerlet(s.dt);
    case 'nose-hoover':
      return new NoseHoover(s.dt, s.temperature, atomCount, s.ttime, saved as NoseHooverState | undefined);
    case 'nhc':
      return new NoseHooverChain(s.dt, s.temperature, atomCount, s.ttime, s.chainLength, saved as NoseHooverChainState | undefined);
    case 'langevin':
      return new Langevin(s.dt, s.temperature, s.friction, rng, saved as LangevinState | undefined);
  }
}
