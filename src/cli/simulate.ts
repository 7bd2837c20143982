/**
 * `oreo simulate`: molecular dynamics with a learned model or an analytic potential.
 * Parses options, builds the calculator and starting structure, and hands over to runSimulation.
 */
import { existsSync } from 'node:fs';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { setKernelThreads } from '../engine/kernels/threads.js';
import { formatDuration, ProgressPrinter } from './progress.js';
import { stopOnInterrupt } from './interrupt.js';
import type { Calculator } from '../calculator.js';
import { readInitialStructure } from '../md/init.js';
import { thermostatKinds, validateThermostatSettings, type ThermostatKind } from '../md/integrators/index.js';
import { thermostatSettings } from '../md/integrators/types.js';
import { analyticPotentialsHelp, createAnalyticCalculator, isAnalyticSpec } from '../md/potentials/registry.js';
import { readCheckpoint, runSimulation, type Progress, type SimulationOptions } from '../md/run.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file, a bundled model name (ani2x), or an analytic potential: lj, morse, harmonic (with :key=value,…)' },
  dtype: { type: 'string', help: 'arithmetic of a learned model: float64 (default) or float32' },
  head: { type: 'string', help: "a multi-head model's head (level of theory); default: the model's default head" },
  'max-force-spread': { type: 'string', help: 'ensemble models (ani2x): act when the largest per-atom force spread over members passes this, eV/Å' },
  'on-spread': { type: 'string', help: 'with --max-force-spread: warn (default) or stop' },
  threads: { type: 'string', help: 'compute threads for a learned model: 1 (default) or 2 (a helper thread takes half of each large matrix product; pays from ≈ 128 features up)' },
  input: { type: 'string', help: 'starting structure FILE[:frame] (xyz, extxyz, SDF, MD17 npz, any format oreo reads; frame 0 by default, -1 = last)' },
  init: { type: 'string', aliasOf: 'input', help: 'the older name' },
  steps: { type: 'string', help: 'total number of steps (on --resume: the new total)' },
  dt: { type: 'string', help: 'time step, fs (default 0.5, as MDsim)' },
  temperature: { type: 'string', help: 'thermostat temperature, K; also the initial-velocity temperature (default 500, as MDsim)' },
  thermostat: { type: 'string', help: `${thermostatKinds.join(' | ')} (default nose-hoover, as MDsim)` },
  ttime: { type: 'string', help: 'Nosé–Hoover thermostat time in units of dt (default 20, as MDsim)' },
  friction: { type: 'string', help: 'Langevin friction, 1/fs (default 0.01)' },
  'chain-length': { type: 'string', help: 'Nosé–Hoover chain length (default 3)' },
  seed: { type: 'string', help: 'random seed for velocities and Langevin noise (default: fresh, recorded in state.json)' },
  'save-every': { type: 'string', help: 'save a frame every K steps (default 100)' },
  out: { type: 'string', help: 'output directory (trajectory.extxyz, thermo.csv, state.json)' },
  resume: { type: 'string', help: 'continue the run in DIR from its last checkpoint, bit-for-bit' },
  'init-temperature': { type: 'string', help: 'temperature of the Maxwell–Boltzmann velocities, K (default --temperature)' },
  'keep-velocities': { type: 'boolean', help: 'use the velocities stored in the --init frame (velocities or momenta column)' },
  'zero-momentum': { type: 'boolean', help: 'remove the centre-of-mass motion from the initial velocities' },
  'zero-rotation': { type: 'boolean', help: 'remove the overall rotation from the initial velocities' },
  'min-temperature': { type: 'string', help: 'stop early below this temperature, K (default 0.1)' },
  'max-temperature': { type: 'string', help: 'stop early above this temperature, K (default 1e5)' },
  'allow-unstable': { type: 'boolean', help: 'warn when the molecule comes apart (a bond > --bond-tolerance off its start, runaway temperature, NVE energy drift) and go on, instead of stopping with exit 3' },
  'bond-tolerance': { type: 'string', help: 'a bond more than this many Å off its starting length is broken (default 0.5, MDsim\'s criterion)' },
  'max-drift': { type: 'string', help: 'NVE: stop when the total energy drifts more than this, eV per atom (default 0.05)' },
  'no-watchdog': { type: 'boolean', help: 'no stability checks beyond non-finite values and --min/--max-temperature (as MDsim runs)' },
  'checkpoint-sec': { type: 'string', help: 'write state.json at least this often, s (default 60)' },
  overwrite: { type: 'boolean', help: 'replace a run already in --out' },
  quiet: { type: 'boolean', help: 'no progress line' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage =
  'oreo simulate --model FILE|SPEC --input FILE[:frame] --steps N --out DIR [--dt FS] [--temperature K] ' +
  '[--thermostat nose-hoover|nhc|langevin|nve]  |  oreo simulate --resume DIR [--steps N]';

/**
 * A new run without --dt, --temperature or --thermostat follows the MDsim benchmark protocol
 * (0.5 fs, 500 K, Nosé–Hoover with ttime 20·dt), the setting the models here are judged in. A
 * default is never silent: the first line of output says which values were defaulted.
 */
export const simulateDefaults = { dt: 0.5, temperature: 500, thermostat: 'nose-hoover' as ThermostatKind };

/** "dt 0.5 fs (default), 500 K (default), nose-hoover ttime 20·dt = 10 fs (default)". */
export function settingsLine(
  s: { dt: number; temperature: number; thermostat: ThermostatKind; ttime: number; friction: number; chainLength: number },
  given: (key: string) => boolean,
): string {
  const d = (key: string) => (given(key) ? '' : ' (default)');
  const parts = [`dt ${s.dt} fs${d('dt')}`];
  if (s.thermostat !== 'nve') parts.push(`${s.temperature} K${d('temperature')}`);
  let thermo = `${s.thermostat}${d('thermostat')}`;
  // ttime counts time steps (MDsim's convention), so the line also gives it in fs.
  const ttime = `ttime ${s.ttime}·dt = ${+(s.ttime * s.dt).toPrecision(6)} fs${d('ttime')}`;
  if (s.thermostat === 'nose-hoover') thermo += ` ${ttime}`;
  if (s.thermostat === 'nhc') thermo += ` ${ttime}, chain length ${s.chainLength}${d('chain-length')}`;
  if (s.thermostat === 'langevin') thermo += ` friction ${s.friction} /fs${d('friction')}`;
  parts.push(thermo);
  return parts.join(', ');
}

function progressLine(p: Progress): string {
  return (
    `step ${p.step}/${p.targetSteps}  ${p.timePs.toFixed(3)} ps  T ${p.temperature.toFixed(1)} K  ` +
    `Etot ${p.totalEnergy.toFixed(4)} eV  ${Number.isFinite(p.nsPerDay) ? p.nsPerDay.toPrecision(3) : '?'} ns/day  ETA ${formatDuration(p.etaSeconds)}`
  );
}

async function buildCalculator(
  model: string,
  reference: { z: ArrayLike<number>; positions: ArrayLike<number> },
  dtype: string | undefined,
  head?: string,
): Promise<Calculator> {
  const { loadCalculator, resolveModelPath } = await import('../model/load.js');
  if (isAnalyticSpec(model) && !existsSync(model)) {
    if (dtype !== undefined) throw new OreoError('--dtype applies to learned models only');
    if (head !== undefined) throw new OreoError('--head applies to learned models only');
    return createAnalyticCalculator(model, reference);
  }
  if (!existsSync(resolveModelPath(model))) throw new OreoError(`--model ${model}: no such file, and not an analytic potential (lj, morse, harmonic) or a bundled model's name (ani2x, oreo-pretrained-et4x64, … as in models/)`);
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`--dtype must be float32 or float64, got '${dtype}'`);
  return loadCalculator(model, { ...(dtype ? { dtype: dtype as 'float32' | 'float64' } : {}), ...(head !== undefined ? { head } : {}) });
}

export const command: Command = {
  summary: 'molecular dynamics (NVE, Nosé–Hoover as MDsim, Nosé–Hoover chain, Langevin), restartable',
  async run(argv) {
    const p = parseArgs('simulate', argv, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, command.summary, spec) + '\n\nAnalytic potentials for --model:\n' + analyticPotentialsHelp());
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo simulate: unexpected argument '${p.positionals[0]}'`);
    const opt = (key: string) => (str(p, key) !== undefined ? num('simulate', p, key, NaN) : undefined);
    const int = (key: string, min: number) => (str(p, key) !== undefined ? num('simulate', p, key, NaN, { integer: true, min }) : undefined);
    const threads = int('threads', 1) ?? 1;
    if (threads > 2) throw new OreoError(`oreo simulate: --threads ${threads}: at most 2 compute threads are implemented`);
    if (threads === 2 && setKernelThreads(2) < 2) console.error('oreo simulate: shared WASM memory is unavailable here; running on one thread');
    const thermostat = str(p, 'thermostat');
    if (thermostat !== undefined && !thermostatKinds.includes(thermostat as ThermostatKind)) {
      throw new OreoError(`oreo simulate: unknown thermostat '${thermostat}' (choose one of: ${thermostatKinds.join(', ')})`);
    }
    const dt = opt('dt');
    if (dt !== undefined && !(dt > 0)) throw new OreoError(`oreo simulate: --dt must be > 0 fs, got ${dt}`);
    const resumeDir = str(p, 'resume');
    const out = str(p, 'out');
    const options: SimulationOptions = {
      outDir: resumeDir ?? out ?? '',
      resume: resumeDir !== undefined,
      overwrite: flag(p, 'overwrite'),
      thermostat: thermostat as ThermostatKind | undefined,
      dt,
      temperature: opt('temperature'),
      ttime: opt('ttime'),
      friction: opt('friction'),
      chainLength: int('chain-length', 1),
      steps: int('steps', 0),
      saveEvery: int('save-every', 1),
      seed: int('seed', 0),
      initTemperature: opt('init-temperature'),
      minTemperature: opt('min-temperature'),
      maxTemperature: opt('max-temperature'),
      checkpointSeconds: str(p, 'checkpoint-sec') !== undefined ? num('simulate', p, 'checkpoint-sec', 60, { min: 0 }) : undefined,
      progressSeconds: process.stderr.isTTY ? 1 : 10,
    };
    if (flag(p, 'no-watchdog')) {
      if (flag(p, 'allow-unstable') || str(p, 'bond-tolerance') !== undefined || str(p, 'max-drift') !== undefined) {
        throw new OreoError('oreo simulate: --no-watchdog turns the stability checks off; --allow-unstable, --bond-tolerance and --max-drift tune them');
      }
      options.stability = false;
    } else {
      options.stability = {};
      if (flag(p, 'allow-unstable')) options.stability.allowUnstable = true;
      if (str(p, 'bond-tolerance') !== undefined) options.stability.bondTolerance = num('simulate', p, 'bond-tolerance', 0.5, { min: 0, exclusiveMin: true });
      if (str(p, 'max-drift') !== undefined) options.stability.maxDriftPerAtom = num('simulate', p, 'max-drift', 0.05, { min: 0, exclusiveMin: true });
    }
    if (flag(p, 'zero-momentum')) options.zeroMomentum = true;
    if (flag(p, 'zero-rotation')) options.zeroAngularMomentum = true;

    let model = str(p, 'model');
    let dtype = str(p, 'dtype');
    let head = str(p, 'head');
    let reference: { z: ArrayLike<number>; positions: ArrayLike<number> };
    if (resumeDir !== undefined) {
      if (out !== undefined && out !== resumeDir) throw new OreoError('oreo simulate: --resume continues in its own directory; leave out --out or give the same one');
      if (str(p, 'input') !== undefined) throw new OreoError('oreo simulate: --input (--init) cannot be used with --resume (the run continues from its checkpoint)');
      const ckpt = readCheckpoint(resumeDir);
      model ??= ckpt.settings.model;
      dtype ??= ckpt.settings.dtype;
      head ??= ckpt.settings.head;
      if (model === undefined) throw new OreoError('oreo simulate: the checkpoint does not record a model; give --model');
      reference = ckpt.reference;
    } else {
      const missing = ['model', 'input', 'steps', 'out'].filter((k) => str(p, k) === undefined);
      if (missing.length) throw new OreoError(`oreo simulate: missing ${missing.map((k) => '--' + k).join(', ')} (see oreo simulate --help)`);
      options.dt ??= simulateDefaults.dt;
      options.temperature ??= simulateDefaults.temperature;
      options.thermostat ??= simulateDefaults.thermostat;
      const given = (key: string) => str(p, key) !== undefined;
      const thermostat = thermostatSettings({ ...options, thermostat: options.thermostat, dt: options.dt, temperature: options.temperature });
      console.error(`oreo simulate: ${settingsLine(thermostat, given)}, ${options.steps} steps`);
      validateThermostatSettings(thermostat);
      const init = await readInitialStructure(str(p, 'input')!);
      options.initial = init.atoms;
      options.init = init.label;
      if (flag(p, 'keep-velocities')) {
        if (!init.velocities) throw new OreoError(`--keep-velocities: ${init.label} has no velocities or momenta column`);
        options.initial = { ...init.atoms, velocities: init.velocities };
      }
      reference = init.atoms;
    }
    options.model = model;
    if (head !== undefined) options.head = head;
    const calculator = await buildCalculator(model!, reference, dtype, head);
    const { spreadWatch } = await import('../model/ani/watch.js');
    const onFrame = spreadWatch(calculator, opt('max-force-spread'), str(p, 'on-spread'), (line) => process.stderr.write(line + '\n'));
    if (dtype !== undefined) options.dtype = dtype as 'float32' | 'float64';

    const interrupt = stopOnInterrupt();
    options.signal = interrupt.signal;
    const quiet = flag(p, 'quiet');
    // The run already times its reports (progressSeconds: 1 s on a terminal, 10 s into a log),
    // so the printer writes each one it gets.
    const printer = new ProgressPrinter({ logSeconds: 0 });
    try {
      const result = await runSimulation(options, calculator, {
        log: (m) => {
          printer.done();
          process.stderr.write(m + '\n');
        },
        onProgress: quiet ? undefined : (pr) => printer.update(progressLine(pr), { final: pr.final }),
        onFrame,
      });
      const where = `${result.outDir} (trajectory.extxyz, thermo.csv, state.json)`;
      if (result.status === 'completed') {
        const warn = result.collapse ? ` — UNSTABLE: ${result.collapse.message} (kept going: --allow-unstable)` : '';
        console.log(`completed ${result.step} steps (${result.timePs} ps) in ${formatDuration(result.wallSeconds)}; output in ${where}${warn}`);
        return 0;
      }
      if (result.status === 'interrupted') {
        console.log(`interrupted at step ${result.step} (${result.timePs} ps); continue with: oreo simulate --resume ${result.outDir}`);
        return 130;
      }
      if (result.collapse && result.reason === result.collapse.message) {
        console.error(`oreo simulate: the molecule ${result.collapse.message}`);
        console.log(
          `stopped: ${result.reason}. The trajectory up to and including that frame is in ${where}. ` +
            'This model does not hold this molecule together under these conditions: check that it was trained on this molecule (or fine-tune it), ' +
            'a smaller --dt, or a relaxed start (oreo optimize); --allow-unstable runs on regardless',
        );
        return 3;
      }
      console.log(`stopped early: ${result.reason}. Output up to the last saved frame is in ${where}`);
      return 3;
    } finally {
      interrupt.release();
    }
  },
};
