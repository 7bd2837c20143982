/**
 * The helper thread of data-parallel training (parallel-gradients.ts): it holds its own copy of
 * the model and computes, for its share of each batch's molecules, the fused path's energies and
 * forces, then its share of the parameter gradient. Requests come on a MessagePort; each answer
 * is posted on the same port, then the control word is flipped and notified, so that the main
 * thread, which waits synchronously (the trainer's step is synchronous), can collect it with
 * receiveMessageOnPort.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { parseModel } from '../model/io/native.js';
import { FastEnergyForces } from '../model/fast/energy-forces.js';
import { FusedTrainingGradient } from '../model/fast/training-gradient.js';
import type { DType } from '../engine/index.js';

interface Start {
  port: MessagePort;
  control: SharedArrayBuffer;
  model: Uint8Array;
  dtype: DType;
}

const { port, control, model, dtype } = workerData as Start;
const ctl = new Int32Array(control);
const pot = parseModel(model, 'training helper thread', { dtype });
const trainable = pot.trainable().map(([n]) => n);
let fast: FastEnergyForces | null = null;
let fused: FusedTrainingGradient | null = null;
let share: { z: Int32Array; positions: Float64Array; mol: Int32Array; nMol: number } | null = null;

function answer(message: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.store(ctl, 0, 2);
  Atomics.notify(ctl, 0);
}

port.on('message', (m: { op: string; [k: string]: unknown }) => {
  try {
    if (m.op === 'forward') {
      // The main thread's parameters of this step, by name.
      for (const [n, d] of m.params as [string, Float64Array | Float32Array][]) {
        const t = pot.params.get(n);
        if (!t || t.data.length !== d.length) throw new Error(`parameter '${n}' does not match the helper's model`);
        t.data.set(d);
      }
      if (!fast) {
        fast = new FastEnergyForces(pot);
        fused = new FusedTrainingGradient(pot);
      } else fast.refresh();
      share = { z: m.z as Int32Array, positions: m.positions as Float64Array, mol: m.mol as Int32Array, nMol: m.nMol as number };
      const ef = fast.compute(share.z, share.positions, share.mol, share.nMol);
      const energy = Float64Array.from(ef.energy), forces = Float64Array.from(ef.forces);
      answer({ energy, forces }, [energy.buffer, forces.buffer]);
    } else if (m.op === 'gradients') {
      if (!share || !fused) throw new Error('gradients asked before a forward pass');
      const g = fused.gradients(share.z, share.positions, share.mol, share.nMol, {
        dForces: m.dForces as Float64Array,
        dEnergy: m.dEnergy as Float64Array,
      });
      const grads = trainable.map((n) => {
        const d = g.get(n);
        if (!d) throw new Error(`fused training gradient gave nothing for parameter '${n}'`);
        return [n, d.slice()] as const;
      });
      answer({ grads }, grads.map(([, d]) => d.buffer as ArrayBuffer));
    } else if (m.op === 'quit') {
      fast?.dispose();
      fused?.dispose();
      port.close();
    } else throw new Error(`unknown request '${m.op}'`);
  } catch (e) {
    answer({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
Atomics.store(ctl, 1, 1);
Atomics.notify(ctl, 1);
