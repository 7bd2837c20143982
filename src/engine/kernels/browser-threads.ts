/**
 * Two threads for the WASM kernels in a browser: the Web Worker that runs the MD starts a nested
 * Web Worker with its own instance of the shared-memory build, and that helper runs half of every
 * large matrix product and SiLU, as the worker_threads helper does in Node (threads.ts, KernelTeam
 * in wasm.ts). It needs a cross-origin isolated page (shared WASM memory), which `oreo serve`
 * gives with its COOP/COEP headers; elsewhere the kernels stay on one thread.
 *
 * Starting is asynchronous, unlike in Node: a browser starts a worker only once its creator has
 * gone back to its event loop, so blocking on the helper's "ready" (Atomics.wait) would wait for
 * ever. The caller awaits instead, then every kernel call is synchronous again.
 */
import { instantiateSharedKernels, KernelTeam, setWasmKernels, TEAM_CONTROL_INTS, TEAM_WORKER_SOURCE_BROWSER } from './wasm.js';

interface BrowserWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onerror: ((e: { message?: string }) => void) | null;
}
type WorkerConstructor = new (url: string) => BrowserWorker;

let running: { worker: BrowserWorker; team: KernelTeam } | null = null;
/** Why the last attempt to start the helper failed, for the caller to show. */
let lastFailure: string | null = null;

/** Why two threads cannot be had here (this context, or the last failed start), or null. */
export function browserThreadsUnavailable(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; SharedArrayBuffer?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function') return 'no SharedArrayBuffer';
  if (g.crossOriginIsolated === false) return 'the page is not cross-origin isolated (serve it with oreo serve)';
  if (typeof g.Worker !== 'function') return 'this context cannot start a Web Worker';
  if (typeof URL.createObjectURL !== 'function') return 'no Blob URLs';
  return lastFailure;
}

/**
 * Use n threads (1 or 2) for the kernels from now on. Resolves to the number in effect: 1 where
 * shared memory or nested workers are unavailable, or when the helper did not start within
 * timeoutMs. `helperUrl` is a script holding TEAM_WORKER_SOURCE_BROWSER (oreo serve serves it as
 * /kernel-helper.js, since its content security policy allows workers from its own origin only);
 * without one the helper starts from a Blob URL.
 */
export async function setBrowserKernelThreads(n: number, options: { helperUrl?: string; timeoutMs?: number } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a whole number ≥ 1, got ${n}`);
  if (n === 1) {
    stop();
    return 1;
  }
  if (running) return 2;
  // Also after a failed start (lastFailure): it is not tried again, as each try may wait timeoutMs.
  if (browserThreadsUnavailable()) return 1;
  const shared = instantiateSharedKernels();
  if (!shared) return 1;
  lastFailure = null;
  const blob = options.helperUrl === undefined;
  const url = options.helperUrl ?? URL.createObjectURL(new Blob([TEAM_WORKER_SOURCE_BROWSER], { type: 'text/javascript' }));
  let worker: BrowserWorker;
  try {
    worker = new (globalThis as unknown as { Worker: WorkerConstructor }).Worker(url);
  } catch (e) {
    if (blob) URL.revokeObjectURL(url);
    lastFailure = `the helper worker could not be created: ${(e as Error).message}`;
    return 1;
  }
  let error: string | null = null;
  worker.onerror = (e) => {
    error = e.message || 'an error without a message';
  };
  const control = new SharedArrayBuffer(TEAM_CONTROL_INTS * 4);
  const team = new KernelTeam(control);
  worker.postMessage({ module: shared.module, memory: shared.memory, control });
  const t0 = Date.now();
  while (team.readiness() === 0 && error === null && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  if (blob) URL.revokeObjectURL(url);
  if (team.readiness() !== 1) {
    worker.terminate();
    lastFailure = `the helper worker (${blob ? 'Blob URL' : url}) did not start: ${error ?? (team.readiness() === -1 ? 'it could not instantiate the kernels' : `no answer in ${timeoutMs} ms`)}`;
    return 1;
  }
  shared.kernels.attachTeam(team);
  setWasmKernels(shared.kernels);
  running = { worker, team };
  return 2;
}

function stop(): void {
  if (!running) return;
  running.team.quit();
  running.worker.terminate();
  running = null;
  setWasmKernels(undefined);
}

/** Threads the kernels use now. */
export function browserKernelThreads(): number {
  return running ? 2 : 1;
}
