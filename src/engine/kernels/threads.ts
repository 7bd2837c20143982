/**
 * Two threads for the WASM kernels, in Node: a worker_threads helper with its own instance of the
 * shared-memory build runs half of every large matrix product and SiLU (see KernelTeam in
 * wasm.ts). Node only — it needs worker_threads; a browser page keeps one thread.
 *
 * What it buys: the matrix products are about 70 % of an energy+forces call of the 8×256 ET at
 * 21 atoms, and they split well by columns; the edge loops stay on the calling thread.
 */
import { Worker } from 'node:worker_threads';
import { instantiateSharedKernels, KernelTeam, setWasmKernels, TEAM_CONTROL_INTS, TEAM_WORKER_SOURCE } from './wasm.js';

let running: { worker: Worker; team: KernelTeam } | null = null;

/**
 * Use n threads (1 or 2) for the kernels from now on; returns the number in effect, which is 1
 * where shared WASM memory or workers are unavailable. Switching moves later calls to another
 * WASM instance; packed weights follow on their next use.
 */
export function setKernelThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a whole number ≥ 1, got ${n}`);
  if (n === 1) {
    if (running) {
      running.team.quit();
      void running.worker.terminate();
      running = null;
      setWasmKernels(undefined);
    }
    return 1;
  }
  if (running) return 2;
  const shared = instantiateSharedKernels();
  if (!shared) return 1;
  const control = new SharedArrayBuffer(TEAM_CONTROL_INTS * 4);
  const worker = new Worker(TEAM_WORKER_SOURCE, { eval: true, workerData: { module: shared.module, memory: shared.memory, control } });
  // The helper never keeps the process alive.
  worker.unref();
  const team = new KernelTeam(control);
  if (!team.awaitReady(20_000)) {
    void worker.terminate();
    return 1;
  }
  shared.kernels.attachTeam(team);
  setWasmKernels(shared.kernels);
  running = { worker, team };
  return 2;
}

/** Threads the kernels use now. */
export function kernelThreads(): number {
  return running ? 2 : 1;
}
