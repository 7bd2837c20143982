/**
 * `oreo optimize`: relax a structure with FIRE or L-BFGS (as ASE's) and any calculator, to a force
 * threshold in eV/Å, writing the relaxed structure and the path (extxyz, one frame per step).
 */
import { basename, dirname, extname, join } from 'node:path';
import { OreoError } from '../errors.js';
import { formatExtxyzFrame } from '../data/extxyz.js';
import { structureFormatOf, writeStructureFile } from '../data/write.js';
import { readInitialStructure } from '../md/init.js';
import { fireDefaults, lbfgsDefaults, minimize, optimizerKinds, type OptimizerKind } from '../optimize/index.js';
import { writeFileAtomic } from '../io/atomic.js';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from './args.js';
import { calculatorFrom, calculatorOptionSpec } from './calculator-options.js';
import type { Command } from './command.js';
import { formatDuration } from './progress.js';

const spec: Record<string, OptionSpec> = {
  input: { type: 'string', help: 'structure to relax: FILE[:frame] in any format oreo reads (frame 0 by default)' },
  init: { type: 'string', aliasOf: 'input' },
  out: { type: 'string', help: 'relaxed structure: .xyz/.extxyz or .sdf (energy, fmax, converged recorded in it)' },
  ...calculatorOptionSpec,
  optimizer: { type: 'string', help: `${optimizerKinds.join(' | ')} (default lbfgs)` },
  fmax: { type: 'string', help: 'converged when every atom\'s force is below this, eV/Å (default 0.05, as ASE)' },
  steps: { type: 'string', help: 'step limit (default 1000); reaching it exits with status 3' },
  traj: { type: 'string', help: 'the path, one extxyz frame per step (default: OUT with .path.extxyz; "none" to skip)' },
  maxstep: { type: 'string', help: `longest step, Å: FIRE all atoms together, L-BFGS any one atom (default ${lbfgsDefaults.maxstep})` },
  'fire-dt': { type: 'string', help: `FIRE initial time step (ASE: ${fireDefaults.dt}); --fire-dtmax (ASE: ${fireDefaults.dtmax})` },
  'fire-dtmax': { type: 'string', help: 'FIRE largest time step' },
  memory: { type: 'string', help: `L-BFGS history length (default ${lbfgsDefaults.memory})` },
  damping: { type: 'string', help: `L-BFGS step factor (default ${lbfgsDefaults.damping})` },
  alpha: { type: 'string', help: `L-BFGS initial Hessian guess, eV/Å² (default ${lbfgsDefaults.alpha})` },
  quiet: { type: 'boolean', help: 'no per-step lines' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo optimize --input FILE[:frame] (--model FILE|SPEC | --calculator xtb) --out FILE [--optimizer lbfgs|fire] [--fmax 0.05] [--steps 1000]';

export function defaultPathFile(out: string): string {
  const ext = extname(out);
  return join(dirname(out), basename(out, ext) + '.path.extxyz');
}

export const command: Command = {
  summary: 'geometry optimisation (L-BFGS, FIRE as in ASE) with a model or xtb, to fmax in eV/Å',
  async run(argv) {
    const p = parseArgs('optimize', argv, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, command.summary, spec));
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo optimize: unexpected argument '${p.positionals[0]}'`);
    const input = str(p, 'input');
    const out = str(p, 'out');
    if (input === undefined || out === undefined) throw new OreoError('oreo optimize: missing --input and/or --out (see oreo optimize --help)');
    structureFormatOf(out);
    const method = (str(p, 'optimizer') ?? 'lbfgs') as OptimizerKind;
    if (!optimizerKinds.includes(method)) throw new OreoError(`oreo optimize: unknown --optimizer '${method}' (choose one of: ${optimizerKinds.join(', ')})`);
    const fmax = num('optimize', p, 'fmax', 0.05, { min: 0, exclusiveMin: true });
    const steps = num('optimize', p, 'steps', 1000, { integer: true, min: 0 });
    const maxstep = str(p, 'maxstep') !== undefined ? num('optimize', p, 'maxstep', 0.2, { min: 0, exclusiveMin: true, max: 1 }) : undefined;
    const trajArg = str(p, 'traj');
    const trajPath = trajArg === 'none' ? undefined : (trajArg ?? defaultPathFile(out));

    const init = await readInitialStructure(input);
    const { z, positions } = init.atoms;
    const chosen = await calculatorFrom('optimize', p, { z, positions });
    const unsuited = chosen.calculator.applicability?.(Int32Array.from(z));
    if (unsuited) console.error(`oreo optimize: warning: ${unsuited}`);
    const opt = (k: string, fallback: number, check: Parameters<typeof num>[4] = { min: 0, exclusiveMin: true }) => num('optimize', p, k, fallback, check);
    const quiet = flag(p, 'quiet');
    const path: string[] = [];
    const t0 = performance.now();
    console.error(`oreo optimize: ${init.label}, ${z.length} atoms, ${method === 'fire' ? 'FIRE' : 'L-BFGS'} with ${chosen.calculator.name}, fmax ${fmax} eV/Å, at most ${steps} steps`);
    const result = minimize(chosen.calculator, z, positions, {
      method,
      fmax,
      steps,
      fire: { ...(maxstep !== undefined ? { maxstep } : {}), dt: opt('fire-dt', fireDefaults.dt), dtmax: opt('fire-dtmax', fireDefaults.dtmax) },
      lbfgs: {
        ...(maxstep !== undefined ? { maxstep } : {}),
        memory: opt('memory', lbfgsDefaults.memory, { integer: true, min: 1 }),
        damping: opt('damping', lbfgsDefaults.damping),
        alpha: opt('alpha', lbfgsDefaults.alpha),
      },
      onStep: (s) => {
        if (trajPath) {
          path.push(formatExtxyzFrame({ z: Int32Array.from(z), positions: s.positions, info: { step: s.step, energy: s.energy, fmax: s.fmax }, arrays: { forces: s.forces }, pbc: [false, false, false] }));
        }
        if (!quiet) console.error(`${method === 'fire' ? 'FIRE' : 'LBFGS'}: ${String(s.step).padStart(5)}  E ${s.energy.toFixed(6)} eV  fmax ${s.fmax.toFixed(4)} eV/Å`);
      },
    });
    const info = {
      energy: result.energy,
      fmax: result.fmax,
      converged: result.converged,
      optimizer: method,
      steps: result.steps,
      fmax_target: fmax,
      calculator: chosen.calculator.name,
      source: init.label,
    };
    writeStructureFile(out, [{ z: Int32Array.from(z), positions: result.positions, info, arrays: { forces: result.forces } }]);
    if (trajPath) writeFileAtomic(trajPath, path.join(''));
    const wall = formatDuration((performance.now() - t0) / 1000);
    const where = `${out}${trajPath ? ` (path: ${trajPath})` : ''}`;
    const summary = `E ${result.startEnergy.toFixed(6)} → ${result.energy.toFixed(6)} eV, fmax ${result.startFmax.toPrecision(3)} → ${result.fmax.toPrecision(3)} eV/Å, ${result.steps} steps, ${result.evaluations} force calls, ${wall}`;
    if (result.converged) {
      console.log(`converged: ${summary}; written to ${where}`);
      return 0;
    }
    console.log(`NOT converged (${result.reason}): ${summary}; the last geometry is in ${where}. Raise --steps, or check the calculator`);
    return 3;
  },
};
