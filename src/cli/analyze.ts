/**
 * `oreo analyze`: MDsim metrics of one `oreo simulate` run against reference data, written as
 * metrics.json, plots (SVG + PNG) and report.html.
 */
import { resolve, join } from 'node:path';
import type { Command } from './command.js';
import { helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { ProgressPrinter } from './progress.js';
import { OreoError } from '../errors.js';
import { checkSameMolecule, readReference, readSimulationOutput } from '../analysis/io.js';
import { analyzeSimulation, DEFAULT_HR_THRESHOLD, DEFAULT_HR_WINDOW_FRAMES, prepareReference } from '../analysis/simulation.js';
import { writeReport, type ReportInputs } from '../analysis/report.js';
import { evaluateCalculator } from '../analysis/forces.js';
import { MDSIM_BOND_THRESHOLD } from '../analysis/stability.js';
import type { Conformation } from '../data/conformation.js';
import type { TrajectoryData } from '../analysis/io.js';
import { describeRun, runSettingsOf } from '../analysis/run-info.js';

const spec: Record<string, OptionSpec> = {
  traj: { type: 'string', help: 'output folder of `oreo simulate` (trajectory.extxyz, thermo.csv)' },
  reference: { type: 'string', help: 'reference frames of the same molecule, same atom order: MD17/rMD17 .npz or .xyz/.extxyz (default: the run\'s own first frames)' },
  'reference-frames': { type: 'string', help: 'without --reference: how many of the run\'s first frames are the reference (default: 10, or a tenth of the frames when fewer)' },
  out: { type: 'string', help: 'output folder (default: TRAJ/analysis)' },
  threshold: { type: 'string', help: `bond deviation that counts as broken, Å (default ${MDSIM_BOND_THRESHOLD}, MDsim)` },
  box: { type: 'string', help: 'measure bonds with a minimum image in a cubic box of this edge, Å (MDsim: 30; default plain distances)' },
  'hr-window': { type: 'string', help: `frames per window of the h(r) stability criterion (default ${DEFAULT_HR_WINDOW_FRAMES})` },
  'hr-threshold': { type: 'string', help: `h(r) window error (∫|Δh|dr, 0–2) that counts as unstable (default ${DEFAULT_HR_THRESHOLD})` },
  model: { type: 'string', help: 'also compute the force MAE of this model (a file, or ani2x) on --test (default: the reference frames)' },
  head: { type: 'string', help: "a multi-head model's head (its id or level of theory); default: the model's default head" },
  test: { type: 'string', help: 'labelled test frames for the force MAE (.npz or .extxyz with forces)' },
  'test-limit': { type: 'string', help: 'use only the first N test frames for the force MAE' },
  'png-scale': { type: 'string', help: 'PNG pixels per SVG pixel (default 2)' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo analyze --traj DIR [--reference FILE] [--out DIR] [--threshold 0.5] [--model FILE [--test FILE]]';

export const command: Command = {
  summary: 'MDsim metrics (stability, h(r), RMSD, force MAE) and plots of a simulation',
  async run(argv) {
    const p = parseArgs('analyze', argv, spec);
    if (p.options.help) {
      console.log(helpText(usage, 'Writes metrics.json, plots (SVG and PNG) and report.html; the last line names the output folder.', spec));
      return 0;
    }
    const trajDir = requireStr('analyze', p, 'traj');
    const refGiven = str(p, 'reference');
    if (refGiven !== undefined && str(p, 'reference-frames') !== undefined) throw new OreoError('oreo analyze: --reference-frames applies without --reference only');
    const outDir = resolve(str(p, 'out') ?? join(trajDir, 'analysis'));
    const options = {
      threshold: num('analyze', p, 'threshold', MDSIM_BOND_THRESHOLD, { min: 0, exclusiveMin: true }),
      box: str(p, 'box') !== undefined ? num('analyze', p, 'box', 30, { min: 0, exclusiveMin: true }) : undefined,
      hrWindowFrames: num('analyze', p, 'hr-window', DEFAULT_HR_WINDOW_FRAMES, { min: 1, integer: true }),
      hrThreshold: num('analyze', p, 'hr-threshold', DEFAULT_HR_THRESHOLD, { min: 0, exclusiveMin: true }),
    };
    const pngScale = num('analyze', p, 'png-scale', 2, { min: 0, exclusiveMin: true, max: 16 });

    const sim = readSimulationOutput(trajDir);
    let ref: TrajectoryData;
    let refPath: string;
    if (refGiven !== undefined) {
      refPath = refGiven;
      ref = readReference(refPath);
    } else {
      // The run's own start as the reference: stability is then departure from the starting
      // geometry, h(r) the drift away from it. Without reference data this is what can be said.
      const n = sim.trajectory.frames.length;
      const k = num('analyze', p, 'reference-frames', Math.max(1, Math.min(10, Math.floor(n / 10))), { min: 1, integer: true });
      if (k > n) throw new OreoError(`oreo analyze: --reference-frames ${k}: the run has ${n} frames`);
      refPath = `${resolve(trajDir, 'trajectory.extxyz')} (frames 0–${k - 1}: the run's own start)`;
      ref = { ...sim.trajectory, frames: sim.trajectory.frames.slice(0, k), source: refPath };
      ref.forces = sim.trajectory.forces?.slice(0, k);
      ref.energies = sim.trajectory.energies?.slice(0, k);
    }
    checkSameMolecule(sim.trajectory, ref);
    const run = runSettingsOf(trajDir);
    const t = sim.trajectory;
    const analysis = analyzeSimulation(
      { z: t.z, frames: t.frames, timesPs: t.timesPs!, energies: t.energies, temperatures: t.temperatures },
      prepareReference(ref),
      options,
    );

    const inputs: ReportInputs = {
      trajectory: resolve(trajDir),
      reference: resolve(refPath),
      referenceFrames: ref.frames.length,
      thermo: sim.thermo,
      options: { ...options, box: options.box ?? null },
    };
    if (run) inputs.run = run;
    const modelPath = str(p, 'model');
    if (modelPath) {
      const testPath = str(p, 'test') ?? (refGiven !== undefined ? refPath : undefined);
      if (testPath === undefined) throw new OreoError('oreo analyze: --model without --reference needs --test FILE (labelled frames: the run\'s own frames carry the model\'s forces, not reference ones)');
      const test = testPath === refPath ? ref : readReference(testPath);
      if (!test.forces) throw new OreoError(`${testPath}: no forces in the file, so no force MAE can be computed`);
      const limit = num('analyze', p, 'test-limit', test.frames.length, { min: 1, integer: true });
      const confs: Conformation[] = test.frames.slice(0, limit).map((positions, i) => ({
        z: test.z,
        positions,
        forces: test.forces![i],
        energy: test.energies?.[i],
      }));
      const { loadCalculator } = await import('../model/load.js');
      const head = str(p, 'head');
      const calc = await loadCalculator(modelPath, head !== undefined ? { head } : {});
      calc.checkElements?.(test.z);
      const printer = new ProgressPrinter();
      const errors = evaluateCalculator(calc, confs, (done, total) => {
        if (printer.interactive && done % 20 !== 0 && done !== total) return;
        printer.update(`force MAE: ${done}/${total} frames`, { fraction: done / total, final: done === total });
      });
      printer.done();
      inputs.forceErrors = { ...errors, model: resolve(modelPath), testSet: resolve(testPath) };
    }

    const report = writeReport(outDir, analysis, inputs, { pngScale });
    const m = report.metrics.mdsim as { force_mae_meV_per_A: number | null; stability_ps: number; hr_mae: number };
    console.log(`${analysis.formula}: ${analysis.frames} frames, ${analysis.durationPs} ps`);
    if (run) console.log(`run            ${describeRun(run)}`);
    if (refGiven === undefined) console.log(`reference      ${ref.frames.length} first frames of the run itself (no --reference given)`);
    if (m.force_mae_meV_per_A !== null) console.log(`force MAE      ${m.force_mae_meV_per_A.toFixed(2)} meV/Å`);
    console.log(`stability      ${m.stability_ps} ps${analysis.collapsed ? ` (bond broke at frame ${analysis.bondStability.firstUnstableFrame})` : ' (no bond broke)'}`);
    console.log(`h(r) MAE       ${m.hr_mae.toFixed(4)}`);
    console.log(`report         ${join(outDir, 'report.html')}`);
    console.log(`output folder: ${outDir}`);
    return 0;
  },
};
