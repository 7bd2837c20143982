/**
 * Data-parallel training on two threads: each batch's molecules are cut into two shares of about
 * equal work; the main thread and a helper thread (gradient-worker.ts, its own model copy and
 * WASM instance) each run the fused path on their share — energies and forces, then the
 * parameter gradient of the loss's adjoints — and the two gradients are added. The loss itself
 * is taken on the whole batch, so its normalisation and terms are exactly those of one thread;
 * only the order in which per-pair contributions are summed differs (float rounding).
 *
 * Why molecules and not matrix columns: the products are only a third of a training step, the
 * edge loops the rest; splitting the batch splits all of it. Node only (worker_threads).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Potential } from '../model/potential.js';
import { serializeModel } from '../model/io/native.js';
import { OreoError } from '../errors.js';

let wanted = 1;

/** Threads the trainer uses for the fused training gradient from now on (1 or 2). */
export function setTrainingThreads(n: number): void {
  if (n !== 1 && n !== 2) throw new OreoError(`training threads: 1 or 2, got ${n}`);
  wanted = n;
}

export function trainingThreads(): number {
  return wanted;
}

/** A contiguous run of the extended batch's molecules [m0, m1) and their atoms [a0, a1). */
export interface Share {
  m0: number;
  m1: number;
  a0: number;
  a1: number;
}

/**
 * Where to cut nMol molecules (atoms sorted by molecule) into two shares of about equal work.
 * Work grows with atoms and their neighbours, so a molecule of n atoms counts n · min(n, 32).
 */
export function splitMolecules(mol: Int32Array, nMol: number): [Share, Share] | null {
  if (nMol < 2) return null;
  const start = new Int32Array(nMol + 1);
  for (let a = 0; a < mol.length; a++) start[mol[a] + 1]++;
  for (let m = 0; m < nMol; m++) start[m + 1] += start[m];
  const cost = (m: number) => {
    const n = start[m + 1] - start[m];
    return n * Math.min(n, 32);
  };
  let total = 0;
  for (let m = 0; m < nMol; m++) total += cost(m);
  let acc = 0, cut = 1, best = Infinity;
  for (let m = 1; m < nMol; m++) {
    acc += cost(m - 1);
    const d = Math.abs(acc - total / 2);
    if (d < best) {
      best = d;
      cut = m;
    }
  }
  return [
    { m0: 0, m1: cut, a0: 0, a1: start[cut] },
    { m0: cut, m1: nMol, a0: start[cut], a1: mol.length },
  ];
}

/** The helper thread, driven synchronously from the trainer's step. */
export class GradientHelper {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctl: Int32Array;
  private closed = false;

  constructor(pot: Potential) {
    const control = new SharedArrayBuffer(8);
    this.ctl = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./gradient-worker.js', import.meta.url), {
      workerData: { port: port2, control, model: serializeModel(pot), dtype: pot.dtype },
      transferList: [port2],
    });
    // The helper never keeps the process alive.
    this.worker.unref();
    this.port.unref();
    if (Atomics.wait(this.ctl, 1, 0, 60_000) === 'timed-out' && Atomics.load(this.ctl, 1) === 0) {
      void this.worker.terminate();
      throw new OreoError('training helper thread did not start within 60 s');
    }
  }

  /** Start the forward pass of a share (returns at once; collect with `collect`). */
  forward(pot: Potential, z: Int32Array, positions: Float64Array, mol: Int32Array, nMol: number): void {
    const params = [...pot.params].map(([name, t]) => [name, t.data.slice()] as const);
    this.post({ op: 'forward', params, z, positions, mol, nMol }, params.map(([, d]) => d.buffer as ArrayBuffer));
  }

  /** Start the parameter gradient of the share of the last forward pass, for these adjoints. */
  gradients(dForces: Float64Array, dEnergy: Float64Array): void {
    this.post({ op: 'gradients', dForces, dEnergy });
  }

  /** Wait for the helper's answer to the last request. */
  collect<T>(): T {
    // A share takes about a second; ten minutes without an answer means the thread is gone.
    const deadline = Date.now() + 600_000;
    while (Atomics.load(this.ctl, 0) === 1) {
      Atomics.wait(this.ctl, 0, 1, 1000);
      if (Date.now() > deadline) throw new OreoError('training helper thread gave no answer in 10 minutes');
    }
    const got = receiveMessageOnPort(this.port);
    if (!got) throw new OreoError('training helper thread answered nothing');
    const m = got.message as { error?: string };
    if (m.error) throw new OreoError(`training helper thread: ${m.error}`);
    return m as T;
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.postMessage({ op: 'quit' });
    void this.worker.terminate();
  }

  private post(message: unknown, transfer: ArrayBuffer[] = []): void {
    if (this.closed) throw new OreoError('training helper thread already closed');
    Atomics.store(this.ctl, 0, 1);
    this.port.postMessage(message, transfer);
  }
}
