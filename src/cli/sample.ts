/**
 * `oreo sample`: off-equilibrium samples of one molecule (normal modes, xtb MD, rattle, MD with an
 * oreo model), relaxed first and labelled with reference calculators, written as extxyz. The same
 * code the corpus runs per molecule (src/sampling/).
 */
import { writeSync } from 'node:fs';
import { writeFileAtomicWith } from '../io/atomic.js';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { conformersFromSmiles, smilesIdentity } from '../chem/smiles.js';
import { formatExtxyzFrame, type ExtxyzFrame } from '../data/extxyz.js';
import { readInitialStructure } from '../md/init.js';
import { referenceOptionSpec, referenceOptionsFrom } from './reference-options.js';
import { graphFromPairs } from '../sampling/bonds.js';
import { labelStructures, type StartStructure } from '../sampling/pipeline.js';
import { DEFAULT_PLAN } from '../sampling/plan.js';
import { temperatureList } from './sampling-options.js';
import type { SamplingPlan } from '../sampling/sample.js';
import { formatDuration, ProgressPrinter, progressBar } from './progress.js';

const { calculator: _c, ...calculatorFlags } = referenceOptionSpec;
const METHODS = ['normal-modes', 'md', 'rattle', 'model-md'] as const;

const spec: Record<string, OptionSpec> = {
  input: { type: 'string', help: 'starting structure FILE[:frame] (any format oreo reads)' },
  smiles: { type: 'string', help: 'or a SMILES: 3D conformers by OpenChemLib' },
  method: { type: 'string', help: `sampler(s), comma-separated: ${METHODS.join(', ')} (default normal-modes)` },
  out: { type: 'string', help: 'output extxyz: energy (eV), forces (eV/Å), kind, sampler, temperature, seed, level per frame' },
  calculators: { type: 'string', help: 'reference calculators by registry name, comma-separated; the first relaxes and samples (default xtb)' },
  ...calculatorFlags,
  temperatures: { type: 'string', help: 'temperatures, K, for normal modes and MD (default 300,600,1000)' },
  count: { type: 'string', help: 'samples per temperature (rattle: in all) (default 10)' },
  every: { type: 'string', help: `MD steps between kept frames (default ${DEFAULT_PLAN.mdEvery})` },
  dt: { type: 'string', help: `MD time step, fs (default ${DEFAULT_PLAN.mdDt})` },
  friction: { type: 'string', help: `Langevin friction, 1/fs (default ${DEFAULT_PLAN.mdFriction})` },
  sigma: { type: 'string', help: `rattle standard deviation, Å (default ${DEFAULT_PLAN.rattleSigma})` },
  'min-wavenumber': { type: 'string', help: `normal modes: floor on force constants as a wavenumber, cm⁻¹ (default ${DEFAULT_PLAN.minWavenumber})` },
  model: { type: 'string', help: 'oreo model that drives model-md' },
  conformers: { type: 'string', help: 'conformers from --smiles (default 1)' },
  'no-relax': { type: 'boolean', help: 'the input is already a minimum: do not relax it' },
  'no-equilibrium': { type: 'boolean', help: 'do not write the relaxed structure itself' },
  seed: { type: 'string', help: 'seed (default 1)' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo sample --input FILE | --smiles S --method normal-modes|md|rattle|model-md --out samples.extxyz';

export const command: Command = {
  summary: 'sample a molecule off equilibrium (normal modes, xtb MD, rattle, MD with an oreo model) and label it',
  async run(argv) {
    const cmd = 'sample';
    const p = parseArgs(cmd, argv, spec);
    if (flag(p, 'help')) {
      console.log(helpText(usage, command.summary + '. Samples whose bonding changed or whose calculation failed are left out and counted.', spec));
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo ${cmd}: unexpected argument '${p.positionals[0]}'`);
    const out = requireStr(cmd, p, 'out');
    const input = str(p, 'input');
    const smiles = str(p, 'smiles');
    if ((input === undefined) === (smiles === undefined)) throw new OreoError(`oreo ${cmd}: give exactly one of --input FILE and --smiles S`);
    const methods = (str(p, 'method') ?? 'normal-modes').split(',').map((s) => s.trim());
    for (const m of methods) if (!(METHODS as readonly string[]).includes(m)) throw new OreoError(`oreo ${cmd}: unknown --method ${m} (known: ${METHODS.join(', ')})`);
    const temps = temperatureList(cmd, str(p, 'temperatures'), [300, 600, 1000], 'temperatures');
    const count = num(cmd, p, 'count', 10, { integer: true, min: 1 });
    const md = {
      temperatures: temps,
      framesPerTemperature: count,
      every: num(cmd, p, 'every', DEFAULT_PLAN.mdEvery, { integer: true, min: 1 }),
      dt: num(cmd, p, 'dt', DEFAULT_PLAN.mdDt, { min: 0, exclusiveMin: true }),
      friction: num(cmd, p, 'friction', DEFAULT_PLAN.mdFriction, { min: 0, exclusiveMin: true }),
    };
    const plan: SamplingPlan = {};
    if (methods.includes('normal-modes')) {
      plan.normalModes = { temperatures: temps, perTemperature: count, minWavenumber: num(cmd, p, 'min-wavenumber', DEFAULT_PLAN.minWavenumber, { min: 0, exclusiveMin: true }) };
    }
    if (methods.includes('md')) plan.md = md;
    if (methods.includes('rattle')) plan.rattle = { count, sigma: num(cmd, p, 'sigma', DEFAULT_PLAN.rattleSigma, { min: 0, exclusiveMin: true }) };
    const modelPath = str(p, 'model');
    if (methods.includes('model-md')) {
      if (!modelPath) throw new OreoError(`oreo ${cmd}: --method model-md needs --model FILE`);
      plan.modelMd = md;
    }
    const seed = num(cmd, p, 'seed', 1, { integer: true, min: 0 });
    let z: Int32Array;
    let starts: StartStructure[];
    let charge = 0;
    let unpaired = 0;
    if (smiles !== undefined) {
      const id = smilesIdentity(smiles);
      charge = id.charge;
      unpaired = id.unpaired;
      const confs = conformersFromSmiles(smiles, { count: num(cmd, p, 'conformers', 1, { integer: true, min: 1 }), seed });
      z = confs[0].z;
      starts = confs.map((c) => ({ z: c.z, positions: c.positions, bonds: graphFromPairs(c.bonds, c.z.length), conformer: c.conformer }));
    } else {
      const init = await readInitialStructure(input!);
      z = Int32Array.from(init.atoms.z);
      starts = [{ z, positions: Float64Array.from(init.atoms.positions), conformer: 0 }];
    }
    const options = referenceOptionsFrom(cmd, p);
    const model = modelPath ? await (await import('../model/load.js')).loadCalculator(modelPath) : undefined;
    const t0 = performance.now();
    // Sampling runs synchronously (one xtb process at a time), so the line is written from inside it.
    const printer = new ProgressPrinter();
    const onProgress = (done: number, total: number) => {
      const seconds = (performance.now() - t0) / 1000;
      const rate = done / Math.max(seconds, 1e-9);
      printer.update(`${progressBar(done, total)} ${done}/${total} frames  ${rate.toPrecision(3)} frames/s  ETA ${done > 0 ? formatDuration((total - done) / rate) : '?'}`, {
        fraction: done / total,
        final: done === total,
      });
    };
    const r = labelStructures(
      z,
      starts,
      {
        calculators: (str(p, 'calculators') ?? 'xtb').split(',').map((s) => s.trim()).filter(Boolean),
        calculatorOptions: options,
        relax: { skip: flag(p, 'no-relax') },
        plan,
        equilibrium: !flag(p, 'no-equilibrium'),
        seed,
        onProgress,
      },
      { charge: options.charge ?? charge, unpaired: options.unpaired ?? unpaired },
      model,
    );
    writeFileAtomicWith(out, (fd) => {
      for (const c of r.conformations) {
        const [first, ...rest] = c.labels;
        const level = r.levels.find((l) => l.key === first.level)!;
        const frame: ExtxyzFrame = {
          z,
          positions: c.positions,
          pbc: [false, false, false],
          info: { energy: first.energy, kind: c.kind, sampler: c.sampler, temperature: c.temperature, seed: c.seed, conformer: c.conformer, level: level.name },
          arrays: { forces: first.forces },
        };
        // Further levels of theory as energy_<n>/forces_<n>, n counting from 1 in --calculators order.
        for (const l of rest) {
          const n = r.levels.findIndex((x) => x.key === l.level);
          frame.info[`energy_${n}`] = l.energy;
          frame.info[`level_${n}`] = r.levels[n].name;
          frame.arrays[`forces_${n}`] = l.forces;
        }
        writeSync(fd, formatExtxyzFrame(frame));
      }
    });
    const left = Object.entries(r.rejected).map(([k, v]) => `${k} ×${v}`).join(', ');
    const skipped = Object.entries(r.skipped).map(([k, v]) => `${k} ×${v}`).join(', ');
    console.error(
      `wrote ${out}: ${r.conformations.length} frames (${r.conformers} conformer(s)), ${r.calculations} reference calculations in ${((performance.now() - t0) / 1000).toFixed(1)} s` +
        (left ? `; left out: ${left}` : '') +
        (skipped ? `; skipped: ${skipped}` : '') +
        `\nlevels: ${r.levels.map((l) => l.key).join('; ')}`,
    );
    return r.conformations.length ? 0 : 1;
  },
};
