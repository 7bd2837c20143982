/**
 * `oreo bench`: how long one energy+forces call (or one training step) takes, measured the way
 * the TorchMD-Net baseline was: warm-up calls, then the median of repeated calls, with the
 * machine, thread count and model size printed alongside.
 */
import os from 'node:os';
import type { Command } from './command.js';
import { parseArgs, requireStr, str, flag, num, helpText, OptionSpec } from './args.js';
import { loadPotential } from '../model/load.js';
import { readConformations } from '../data/read.js';
import { makeBatch } from '../data/batch.js';
import { FastEnergyForces } from '../model/fast/index.js';
import { ET_OREO } from '../train/objective.js';
import { ObjectiveGradients } from '../train/gradient-path.js';
import { setTrainingThreads } from '../train/parallel-gradients.js';
import { AdamW } from '../train/optimizer.js';
import { Rng } from '../random.js';
import { OreoError } from '../errors.js';
import { kernelBackend, setKernelBackend, wasmAvailable, type KernelBackend } from '../engine/kernels/index.js';
import { setKernelThreads } from '../engine/kernels/threads.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file (.oreo or TorchMD-Net .ckpt)' },
  input: { type: 'string', help: 'structure file; the first frame is used (or --frame)' },
  frame: { type: 'string', help: 'frame of --input (default 0)' },
  repeat: { type: 'string', help: 'timed calls (default 20)' },
  warmup: { type: 'string', help: 'untimed calls first (default 5)' },
  threads: { type: 'string', help: 'compute threads, 1 (default) or 2: a helper thread runs half of each large matrix product (with --train: half of the batch\'s molecules)' },
  path: { type: 'string', help: 'fast (fused inference, or with --train the fused training gradient; default) | autodiff (the engine tape)' },
  kernels: { type: 'string', help: 'auto | wasm | js' },
  dtype: { type: 'string', help: 'float32 | float64 (default: the model\'s)' },
  train: { type: 'boolean', help: 'time one training step (force-centric loss, parameter gradient, AdamW update) instead' },
  batch: { type: 'string', help: 'molecules per training batch with --train (default 32)' },
  json: { type: 'boolean', help: 'print one JSON object last' },
  help: { type: 'boolean' },
};

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

export const command: Command = {
  summary: 'time energy+forces calls or training steps of a model',
  async run(argv) {
    const p = parseArgs('bench', argv, spec);
    if (p.options.help) {
      console.log(helpText('oreo bench --model FILE --input FILE [--repeat N] [--warmup N] [--threads N] [--train] [--json]', 'Median / min / max milliseconds per call.', spec));
      return 0;
    }
    const wanted = num('bench', p, 'threads', 1, { min: 1, integer: true });
    if (wanted > 2) throw new OreoError(`--threads ${wanted}: at most 2 compute threads are implemented`);
    const kernels = (str(p, 'kernels') ?? 'auto') as KernelBackend;
    setKernelBackend(kernels);
    const train = flag(p, 'train');
    // Training splits each batch's molecules between the threads (data parallel); inference
    // splits the matrix products.
    let threads: number;
    if (train) {
      setTrainingThreads(wanted);
      threads = wanted;
    } else {
      threads = kernels === 'js' ? 1 : setKernelThreads(wanted);
      if (threads < wanted) console.error('oreo bench: shared WASM memory is unavailable here; running on one thread');
    }
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`--dtype ${dtype}: expected float32 or float64`);
    const modelPath = requireStr('bench', p, 'model');
    const pot = loadPotential(modelPath, { dtype });
    const input = requireStr('bench', p, 'input');
    const frame = num('bench', p, 'frame', 0, { min: 0, integer: true });
    const confs = await readConformations(input, { limit: frame + 1 });
    if (confs.length <= frame) throw new OreoError(`${input}: has no frame ${frame}`);
    const conf = confs[frame];
    pot.checkElements(conf.z);
    const repeat = num('bench', p, 'repeat', 20, { min: 1, integer: true });
    const warmup = num('bench', p, 'warmup', 5, { min: 0, integer: true });
    const path = str(p, 'path') ?? 'fast';
    if (path !== 'fast' && path !== 'autodiff') throw new OreoError(`--path ${path}: expected fast or autodiff`);
    // With --train, fast means the fused training gradient.
    const trainPath = path === 'fast' ? 'fused' : 'autodiff';
    const batchSize = num('bench', p, 'batch', 32, { min: 1, integer: true });

    let call: () => void;
    if (train) {
      // One optimizer step as the trainer takes it: loss, parameter gradient, AdamW update.
      const batch = makeBatch(Array.from({ length: batchSize }, () => ({ ...conf, kind: 'off-equilibrium' as const, forces: conf.forces ?? new Float64Array(conf.positions.length) })));
      const objective = new ObjectiveGradients(pot, ET_OREO, trainPath);
      const opt = new AdamW(pot.trainable(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
      const rng = new Rng(1);
      call = () => {
        const r = objective.step(batch, rng);
        opt.update(r.grads, 1e-7); // tiny: the weights stay where they were timed
      };
    } else if (path === 'fast') {
      const fast = new FastEnergyForces(pot);
      call = () => void fast.compute(conf.z, conf.positions);
    } else {
      call = () => void pot.predict({ z: conf.z, positions: conf.positions });
    }
    for (let i = 0; i < warmup; i++) call();
    const ms: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const t = performance.now();
      call();
      ms.push(performance.now() - t);
    }
    const s = stats(ms);
    const c = pot.config;
    const result = {
      what: train ? `training step, batch ${batchSize}` : 'energy+forces call',
      path: train ? (trainPath === 'fused' ? 'fused (forward-over-reverse)' : 'autodiff (create-graph)') : path,
      model: modelPath,
      size: `${c.num_layers}×${c.embedding_dimension}×${c.num_rbf}, ${c.num_heads} heads`,
      parameters: pot.parameterCount(),
      dtype: pot.dtype,
      atoms: conf.z.length,
      kernels: `${kernelBackend()}${wasmAvailable() ? ' (wasm simd available)' : ' (no wasm)'}`,
      threads,
      machine: `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, node ${process.version}`,
      repeat,
      warmup,
      median_ms: s.median,
      min_ms: s.min,
      max_ms: s.max,
      per_atom_us: (1000 * s.median) / conf.z.length,
    };
    if (!flag(p, 'json')) {
      console.log(`${result.what} (${result.path}) — ${result.size}, ${result.parameters} parameters, ${result.dtype}, ${result.atoms} atoms`);
      console.log(`machine: ${result.machine}; threads ${threads}; kernels ${result.kernels}`);
      console.log(`median ${s.median.toFixed(2)} ms   min ${s.min.toFixed(2)} ms   max ${s.max.toFixed(2)} ms   (${repeat} calls after ${warmup} warm-up)`);
    }
    if (flag(p, 'json')) console.log(JSON.stringify(result));
    return 0;
  },
};
