/**
 * `oreo label`: attach reference energies and forces (xtb GFN2-xTB, …) to every frame of a
 * structure file, writing extxyz; resumable and parallel (see src/qm/label.ts).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { referenceCalculatorFrom, referenceOptionSpec } from './reference-options.js';
import { labelFile, partialPath } from '../qm/label.js';
import { formatDuration, ProgressPrinter, progressBar } from './progress.js';
import { referenceCalculatorsHelp } from '../qm/registry.js';
import { parseFrameList } from './frames.js';

const spec: Record<string, OptionSpec> = {
  input: { type: 'string', help: 'structures to label: xyz/extxyz, or any format oreo reads (sdf, npz, h5, …)' },
  out: { type: 'string', help: 'output extxyz file (energy eV, forces eV/Å, input_index per frame)' },
  frames: { type: 'string', help: 'label only these input frames, e.g. 0,5,10-20 or 0:201:4 (every fourth; default all)' },
  workers: { type: 'string', help: 'calculations at once, one process each; for ani2x, its worker threads (default: number of CPUs)' },
  threads: { type: 'string', help: 'threads per calculation (default 1)' },
  ...referenceOptionSpec,
  'skip-failed': { type: 'boolean', help: 'leave out frames whose calculation fails (SCF not converged, …) instead of stopping' },
  overwrite: { type: 'boolean', help: 'ignore frames labelled by an earlier run and start over' },
  quiet: { type: 'boolean', help: 'no progress line' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo label --calculator xtb --input FILE --out FILE.extxyz [--frames LIST] [--workers N]';

export const command: Command = {
  summary: 'label structures with a reference quantum-chemistry calculator (xtb GFN2-xTB): energies and forces, resumable',
  async run(argv) {
    const p = parseArgs('label', argv, spec);
    if (flag(p, 'help')) {
      console.log(
        helpText(usage, command.summary, spec) +
          '\n\nCalculators:\n' +
          referenceCalculatorsHelp() +
          `\n\nAn interrupted run keeps its frames in OUT.partial; run the same command again to continue.`,
      );
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo label: unexpected argument '${p.positionals[0]}'`);
    const input = requireStr('label', p, 'input');
    const output = requireStr('label', p, 'out');
    const parallel = num('label', p, 'workers', Math.max(1, availableParallelism()), { integer: true, min: 1 });
    const threads = num('label', p, 'threads', 1, { integer: true, min: 1 });
    const calculator = referenceCalculatorFrom('label', p, { threads, parallel });
    // An in-process calculator (ani2x: --workers threads) batches frames, so it wants many in flight.
    const workers = (calculator as { framesInFlight?: number }).framesInFlight ?? parallel;
    // labelFile times the reports itself (progressSeconds below), so the printer writes each one.
    const printer = new ProgressPrinter({ logSeconds: 0 });
    const quiet = flag(p, 'quiet');
    const frames = str(p, 'frames');
    console.error(`labelling ${input} with ${calculator.name}, ${workers} at a time → ${output}`);
    const result = await labelFile({
      input,
      output,
      calculator,
      workers,
      overwrite: flag(p, 'overwrite'),
      skipFailed: flag(p, 'skip-failed'),
      selectFrames: frames === undefined ? undefined : (count) => parseFrameList(frames, count),
      progressSeconds: printer.interactive ? 0.5 : 10,
      onProgress: quiet
        ? undefined
        : (pr) => {
            const finished = pr.done + pr.failed;
            printer.update(
              `${progressBar(finished, pr.todo)} ${finished}/${pr.todo} frames` +
                (pr.kept ? ` (+${pr.kept} from before)` : '') +
                `  ${pr.framesPerSecond.toPrecision(3)} frames/s  ETA ${formatDuration(pr.etaSeconds)}` +
                (pr.failed ? `  ${pr.failed} failed` : ''),
              { final: pr.final },
            );
          },
      onFailure: (i, err) => {
        printer.done();
        console.error(`frame ${i}: ${err.message} (left out)`);
      },
    }).catch((err) => {
      printer.done();
      if (err instanceof OreoError && existsSync(partialPath(output))) {
        throw new OreoError(`${err.message}\n(frames labelled so far are kept in ${partialPath(output)}; rerun the same command to continue)`);
      }
      throw err;
    });
    console.error(
      `wrote ${result.output}: ${result.labelled} frames labelled in ${formatDuration(result.seconds)}` +
        (result.kept ? `, ${result.kept} kept from an earlier run` : '') +
        (result.failed.length ? `; ${result.failed.length} failed and left out (input frames ${result.failed.slice(0, 10).join(', ')}${result.failed.length > 10 ? ', …' : ''})` : ''),
    );
    return result.failed.length ? 1 : 0;
  },
};
