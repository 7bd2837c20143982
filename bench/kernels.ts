/**
 * GFLOP/s of the matrix-multiply kernels on the shapes the Equivariant Transformer runs for
 * aspirin (21 atoms, 333 edges within the 5 Å cutoff) at 6×128×32 and 8×256×64:
 * edge filters (E×R)·(R×3H), node projections (n×H)·(H×H | H×3H), the (3n×H)·(H×3H) vector
 * update. Run:
 *
 *   node --import tsx bench/kernels.ts [--dtype f32|f64] [--wake]
 *
 * (Node 20 loads the plain-SIMD build; add --experimental-wasm-relaxed-simd before --import to
 * time the fused multiply-add build that Node 22+ and current browsers load by default.)
 *
 * Columns: naive TypeScript (gemmJs), blocked TypeScript (gemmBlocked), WASM SIMD as the engine
 * calls it (copies in and out included), the WASM kernel alone on data already in WASM memory
 * (the difference is the copy overhead), WASM with B transposed (y = x·Wᵀ, the nn.Linear
 * layout), and that product again with Bᵀ packed once beforehand (PackedMatrix, as for weights
 * during MD). Each dtype runs in its own child process so that the JS kernels are timed with the
 * type feedback of a process that uses only that dtype (mixing both makes them 1.5–3× slower).
 * A second table gives ns per element for SiLU (with derivatives) and the row gather /
 * scatter-add at the edge-tensor sizes. --wake adds the round-trip time of waking a worker
 * thread through Atomics.wait/notify.
 */
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { PackedMatrix, gatherRows, gemmBlocked, gemmJs, scatterAddRows, siluJs, type FloatArray } from '../src/engine/kernels/index.js';
import { wasmKernels } from '../src/engine/kernels/wasm.js';

type Shape = { label: string; M: number; K: number; N: number };

const shapes: Shape[] = [
  { label: 'edges·filter 6×128×32', M: 333, K: 32, N: 128 },
  { label: 'edges·filter 6×128×32', M: 333, K: 32, N: 384 },
  { label: 'atoms·W 6×128×32', M: 21, K: 128, N: 128 },
  { label: 'atoms·W 6×128×32', M: 21, K: 128, N: 384 },
  { label: 'vectors·W 6×128×32', M: 63, K: 128, N: 384 },
  { label: 'edges·filter 8×256×64', M: 333, K: 64, N: 256 },
  { label: 'edges·filter 8×256×64', M: 333, K: 64, N: 768 },
  { label: 'atoms·W 8×256×64', M: 21, K: 256, N: 256 },
  { label: 'atoms·W 8×256×64', M: 21, K: 256, N: 768 },
  { label: 'vectors·W 8×256×64', M: 63, K: 256, N: 768 },
];

function filled(Kind: Float32ArrayConstructor | Float64ArrayConstructor, n: number): FloatArray {
  const a = new Kind(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.7) * 0.5;
  return a;
}

/**
 * Seconds per call of each function: batches of ≥ 4 ms, taken in turn (one batch of each, 25
 * rounds) so that all of them see the same background load, and the best batch of each kept.
 * The best rather than the median because the machine is shared: the best batch is the one
 * least disturbed by other processes.
 */
function secondsPerCall(...runs: (() => void)[]): number[] {
  const reps = runs.map((run) => {
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) run();
      const dt = performance.now() - t0;
      if (dt >= 4) return n;
      n *= dt < 1 ? 8 : 2;
    }
  });
  const best = runs.map(() => Infinity);
  for (let round = 0; round < 25; round++) {
    runs.forEach((run, r) => {
      const t0 = performance.now();
      for (let i = 0; i < reps[r]; i++) run();
      best[r] = Math.min(best[r], (performance.now() - t0) / reps[r]);
    });
  }
  return best.map((ms) => ms / 1000);
}

type Row = { label: string; shape: string; cells: number[] };

/** What a straightforward implementation does: Math.exp per element. */
function siluMathExp(x: FloatArray, y: FloatArray, d1: FloatArray | null): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const s = 1 / (1 + Math.exp(-v));
    y[i] = v * s;
    if (d1) d1[i] = s * (1 + v * (1 - s));
  }
}

/** ns per element of SiLU (Math.exp loop, siluJs, WASM) and of the row gather / scatter-add. */
function benchElementwise(dtype: 'f32' | 'f64'): Row[] {
  const Kind = dtype === 'f32' ? Float32Array : Float64Array;
  const w = wasmKernels();
  const rows: Row[] = [];
  for (const [E, H] of [[333, 128], [333, 256]]) {
    const n = E * H;
    const x = new Kind(n).map((_, i) => Math.sin(i) * 6);
    const y = new Kind(n), d1 = new Kind(n), d2 = new Kind(n);
    const ns = (sec: number) => (sec / n) * 1e9;
    const silu2 = secondsPerCall(
      () => siluMathExp(x, y, d1),
      () => siluJs(x, y, d1, null),
      () => w?.silu(x, y, d1, null, n),
    ).map(ns);
    rows.push({ label: 'silu y, y′', shape: `${E}×${H}`, cells: [silu2[0], silu2[1], w ? silu2[2] : NaN] });
    const silu3 = secondsPerCall(() => siluJs(x, y, d1, d2), () => w?.silu(x, y, d1, d2, n)).map(ns);
    rows.push({ label: 'silu y, y′, y″', shape: `${E}×${H}`, cells: [NaN, silu3[0], w ? silu3[1] : NaN] });
    const atoms = 21;
    const idx = new Int32Array(E).map((_, e) => (e * 7) % atoms);
    const table = new Kind(atoms * H).map((_, i) => Math.cos(i));
    const sum = new Kind(atoms * H);
    const [gather, scatter] = secondsPerCall(() => gatherRows(table, H, idx, y), () => scatterAddRows(x, H, idx, sum)).map(ns);
    rows.push({ label: 'gather rows', shape: `${atoms}×${H} → ${E}×${H}`, cells: [NaN, gather, NaN] });
    rows.push({ label: 'scatter-add rows', shape: `${E}×${H} → ${atoms}×${H}`, cells: [NaN, scatter, NaN] });
  }
  return rows;
}

function benchDtype(dtype: 'f32' | 'f64'): Row[] {
  const Kind = dtype === 'f32' ? Float32Array : Float64Array;
  const w = wasmKernels();
  const rows: Row[] = [];
  for (const s of shapes) {
    const { M, K, N } = s;
    const A = filled(Kind, M * K), B = filled(Kind, K * N), C = new Kind(M * N);
    const flop = 2 * M * N * K;
    const gf = (sec: number) => flop / sec / 1e9;
    const runs = [() => gemmJs(false, false, M, N, K, A, B, C, false), () => gemmBlocked(false, false, M, N, K, A, B, C, false)];
    let packed: PackedMatrix | null = null;
    if (w) {
      const Bt = filled(Kind, N * K);
      packed = new PackedMatrix(true, K, N, Bt);
      const offset = packed.wasmOffset(w);
      const kernelOnly = w.kernelOnly(false, false, M, N, K, dtype === 'f32' ? 4 : 8);
      runs.push(
        () => w.gemm(false, false, M, N, K, A, B, C, false),
        kernelOnly,
        () => w.gemm(false, true, M, N, K, A, Bt, C, false),
        () => w.gemmPacked(false, M, N, K, A, offset, C, false),
      );
    }
    const cells = secondsPerCall(...runs).map(gf);
    packed?.dispose();
    rows.push({ label: s.label, shape: `(${M}×${K})·(${K}×${N})`, cells });
  }
  return rows;
}

function runInChild(dtype: 'f32' | 'f64'): { gemm: Row[]; elementwise: Row[] } {
  const res = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', dtype], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (res.status !== 0) throw new Error(`benchmark child for ${dtype} failed (exit ${res.status})`);
  return JSON.parse(res.stdout) as { gemm: Row[]; elementwise: Row[] };
}

/**
 * Round trip main → worker → main through a SharedArrayBuffer: the least a two-thread split of
 * one kernel call must pay. `spin`: both sides poll with Atomics.load before falling back to
 * Atomics.wait (lower latency, but it burns the other core while idle); otherwise both block in
 * Atomics.wait and are woken by Atomics.notify (a futex syscall each way).
 * Returns [median, p10, p90] in µs.
 */
async function wakeLatency(spin: boolean): Promise<number[]> {
  const sab = new SharedArrayBuffer(8);
  const flag = new Int32Array(sab);
  const spins = spin ? 100000 : 0;
  const code = `
    const { workerData } = require('node:worker_threads');
    const f = new Int32Array(workerData.sab);
    for (;;) {
      for (let i = 0; i < workerData.spins && Atomics.load(f, 0) === 0; i++);
      Atomics.wait(f, 0, 0);
      if (Atomics.load(f, 0) === 2) break;
      Atomics.store(f, 0, 0);
      Atomics.store(f, 1, 1);
      Atomics.notify(f, 1);
    }`;
  const worker = new Worker(code, { eval: true, workerData: { sab, spins } });
  await new Promise((r) => setTimeout(r, 100));
  const times: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t0 = performance.now();
    Atomics.store(flag, 1, 0);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    for (let j = 0; j < spins && Atomics.load(flag, 1) === 0; j++);
    Atomics.wait(flag, 1, 0);
    times.push((performance.now() - t0) * 1000);
  }
  Atomics.store(flag, 0, 2);
  Atomics.notify(flag, 0);
  await worker.terminate();
  times.sort((a, b) => a - b);
  return [0.5, 0.1, 0.9].map((q) => times[Math.floor(times.length * q)]);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const di = args.indexOf('--dtype');
  const dtypes = di >= 0 ? [args[di + 1] as 'f32' | 'f64'] : (['f32', 'f64'] as const);
  for (const d of dtypes) if (d !== 'f32' && d !== 'f64') throw new Error(`--dtype must be f32 or f64, not ${d}`);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const variant = wasmKernels()?.variant ?? 'unavailable';
  console.log(`# gemm GFLOP/s — ${cpu}, ${os.cpus().length} cores, Node ${process.version}, WASM build ${variant}, load ${os.loadavg()[0].toFixed(2)}`);
  console.log('# best of 25 batches; "WASM" includes copying A, B into and C out of WASM memory');
  const header = ['shape', 'dtype', 'naive JS', 'blocked JS', 'WASM', 'WASM kernel only', 'copy %', 'WASM B^T', 'WASM B^T prepacked'];
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  const results = dtypes.map((d) => ({ d, ...runInChild(d) }));
  // Missing cells arrive as null (JSON has no NaN).
  const f = (x: number | null | undefined) => (typeof x !== 'number' || Number.isNaN(x) ? '–' : x.toFixed(2));
  for (const { d, gemm: rows } of results) {
    for (const r of rows) {
      const [naive, blocked, wasm, kernel, wasmT, packed] = r.cells;
      const copy = wasm !== undefined && kernel !== undefined ? `${((1 - wasm / kernel) * 100).toFixed(0)}` : '–';
      console.log(`| ${r.label} ${r.shape} | ${d} | ${f(naive)} | ${f(blocked)} | ${f(wasm)} | ${f(kernel)} | ${copy} | ${f(wasmT)} | ${f(packed)} |`);
    }
  }
  console.log('\n# elementwise kernels, ns per element (WASM includes the copies)');
  console.log('| kernel | shape | dtype | Math.exp loop | TypeScript | WASM |');
  console.log('|---|---|---|---|---|---|');
  for (const { d, elementwise } of results) {
    for (const r of elementwise) console.log(`| ${r.label} | ${r.shape} | ${d} | ${r.cells.map(f).join(' | ')} |`);
  }
  if (args.includes('--wake')) {
    console.log('');
    for (const spin of [false, true]) {
      const [med, p10, p90] = await wakeLatency(spin);
      const how = spin ? 'spin, then Atomics.wait' : 'Atomics.wait / notify';
      console.log(`# worker round trip (${how}): median ${med.toFixed(1)} µs, p10 ${p10.toFixed(1)} µs, p90 ${p90.toFixed(1)} µs`);
    }
  }
}

const ci = process.argv.indexOf('--child');
if (ci >= 0) {
  const dtype = process.argv[ci + 1] === 'f32' ? 'f32' : 'f64';
  process.stdout.write(JSON.stringify({ gemm: benchDtype(dtype), elementwise: benchElementwise(dtype) }));
}
else await main();
