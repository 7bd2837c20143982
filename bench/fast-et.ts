/**
 * Milliseconds per energy+forces call of the Equivariant Transformer: the fast inference path
 * (src/model/fast) and, with --autodiff, the autodiff path it replaces (aspirin only). Run:
 *
 *   node --import tsx bench/fast-et.ts [--repeat N] [--warmup N] [--dtype f32|f64] [--autodiff]
 *
 * Besides wall-clock time it reports the median CPU time per call, which a busy shared machine
 * inflates less. "pairs" counts unordered neighbour pairs within the cutoff.
 *
 * Structures: rMD17 aspirin (21 atoms, from data/rmd17) and 17 aspirin copies on a 10 Å grid
 * (357 atoms, one structure) for the cost per atom. Models: random TorchMD-Net-initialised ETs
 * at 6×128×32 and 8×256×64 (layers × hidden × RBF), 8 heads, cutoff 5 Å. Each dtype runs in its
 * own child process: a process that sees only one array type keeps the loops monomorphic.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import { readMd17Npz } from '../src/data/md17.js';
import { configFromHyperParameters } from '../src/model/config.js';
import { createPotential } from '../src/model/init.js';
import { FastEnergyForces, PairList } from '../src/model/fast/index.js';
import type { DType } from '../src/engine/index.js';
import { wasmKernels } from '../src/engine/kernels/wasm.js';
import { dataDir } from '../test/paths.js';

interface Timing {
  /** Wall-clock ms per call: median, min, max. */
  median: number;
  min: number;
  max: number;
  /** Median CPU ms (user + system) per call: less sensitive to other processes on the machine. */
  cpu: number;
}

interface Row extends Timing {
  model: string;
  structure: string;
  atoms: number;
  pairs: number;
  dtype: DType;
  path: string;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function structures(): { name: string; z: Int32Array; positions: Float64Array }[] {
  const [aspirin] = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz'));
  const n = aspirin.z.length;
  const copies = 17;
  const z = new Int32Array(copies * n);
  const positions = new Float64Array(3 * copies * n);
  for (let c = 0; c < copies; c++) {
    const shift = [10 * (c % 3), 10 * (Math.floor(c / 3) % 3), 10 * Math.floor(c / 9)];
    z.set(aspirin.z, c * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) positions[3 * (c * n + i) + k] = aspirin.positions[3 * i + k] + shift[k];
    }
  }
  return [
    { name: 'aspirin', z: aspirin.z, positions: aspirin.positions },
    { name: `aspirin×${copies}`, z, positions },
  ];
}

function time(fn: () => void, warmup: number, repeat: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const dc = process.cpuUsage(c0);
    c.push((dc.user + dc.system) / 1000);
  }
  t.sort((a, b) => a - b);
  c.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1], cpu: c[Math.floor(c.length / 2)] };
}

function pairCount(st: { z: Int32Array; positions: Float64Array }, cutoff: number): number {
  const list = new PairList();
  list.find(st.positions, new Int32Array(st.z.length), st.z.length, cutoff);
  return list.count;
}

function child(dtype: DType, repeat: number, warmup: number, autodiff: boolean): Row[] {
  const rows: Row[] = [];
  const sizes = [
    { label: '6×128×32', num_layers: 6, embedding_dimension: 128, num_rbf: 32 },
    { label: '8×256×64', num_layers: 8, embedding_dimension: 256, num_rbf: 64 },
  ];
  for (const s of sizes) {
    const cfg = configFromHyperParameters({ ...s, num_heads: 8, cutoff_upper: 5 });
    const pot = createPotential(cfg, { dtype, seed: 1 });
    const fast = new FastEnergyForces(pot);
    for (const st of structures()) {
      const big = st.z.length > 100;
      const rep = big ? Math.max(3, Math.ceil(repeat / 5)) : repeat;
      const row = { model: s.label, structure: st.name, atoms: st.z.length, pairs: pairCount(st, cfg.cutoff_upper), dtype };
      const fastT = time(() => fast.compute(st.z, st.positions), big ? 2 : warmup, rep);
      rows.push({ ...row, path: 'fast', ...fastT });
      if (autodiff && !big) {
        const adT = time(() => pot.predict({ z: st.z, positions: st.positions }), big ? 1 : 3, big ? 3 : Math.max(5, Math.ceil(rep / 4)));
        rows.push({ ...row, path: 'autodiff', ...adT });
      }
    }
  }
  return rows;
}

const repeat = Number(flag('repeat', '41'));
const warmup = Number(flag('warmup', '10'));
const autodiff = process.argv.includes('--autodiff');

if (process.argv.includes('--child')) {
  const dtype = flag('child', 'float32') as DType;
  console.log(JSON.stringify(child(dtype, repeat, warmup, autodiff)));
} else {
  const want = flag('dtype', 'both');
  const dtypes: DType[] = want === 'f32' ? ['float32'] : want === 'f64' ? ['float64'] : ['float32', 'float64'];
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const variant = wasmKernels()?.variant ?? 'none (TypeScript kernels)';
  console.log(`# ET energy+forces, ms per call — ${cpu}, ${os.cpus().length} cores, Node ${process.version}, WASM ${variant}, load ${os.loadavg()[0].toFixed(2)}`);
  console.log(`# median (min–max) of ${repeat} calls after ${warmup} warm-up calls (357 atoms: fewer)`);
  console.log('| model | structure | atoms | pairs | dtype | path | median ms | min–max ms | CPU ms (median) | µs per atom |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const dtype of dtypes) {
    const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', dtype, '--repeat', String(repeat), '--warmup', String(warmup)];
    if (autodiff) args.push('--autodiff');
    const res = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (res.status !== 0) {
      console.error(res.stderr);
      process.exit(1);
    }
    const rows = JSON.parse(res.stdout.trim().split('\n').pop()!) as Row[];
    for (const r of rows) {
      console.log(
        `| ${r.model} | ${r.structure} | ${r.atoms} | ${r.pairs} | ${r.dtype} | ${r.path} | ${r.median.toFixed(2)} | ${r.min.toFixed(2)}–${r.max.toFixed(2)} | ${r.cpu.toFixed(2)} | ${((1000 * r.median) / r.atoms).toFixed(0)} |`,
      );
    }
  }
}
