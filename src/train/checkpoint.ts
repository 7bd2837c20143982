/**
 * Training checkpoints: the model's parameters, AdamW's moments and step, the schedule, the data
 * position and the noise RNG, in oreo's tensor container, written atomically. Loading one
 * restores a run exactly.
 */
import { readFileSync } from 'node:fs';
import type { ParameterSet } from '../model/parameters.js';
import type { AdamW } from './optimizer.js';
import type { TrainState } from './state.js';
import { parseTensors, serializeTensors, NamedTensor } from '../model/io/tensor-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { InputError } from '../errors.js';

export const TRAIN_FORMAT = 'oreo-train-checkpoint';

export function saveTrainingCheckpoint(path: string, pot: ParameterSet, opt: AdamW, state: TrainState, extra: Record<string, unknown>): void {
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of pot.params) tensors.set(`param/${name}`, { dtype: t.dtype, shape: [...t.shape], data: t.data });
  for (const [name, m] of opt.m) tensors.set(`adam.m/${name}`, { dtype: 'float64', shape: [m.length], data: m });
  for (const [name, v] of opt.v) tensors.set(`adam.v/${name}`, { dtype: 'float64', shape: [v.length], data: v });
  for (const [name, t] of opt.t) tensors.set(`adam.t/${name}`, { dtype: 'float64', shape: [1], data: Float64Array.of(t) });
  const header = {
    format: TRAIN_FORMAT,
    version: 1,
    model: { config: pot.config, dtype: pot.dtype, meta: pot.meta },
    state: { ...state, bestVal: Number.isFinite(state.bestVal) ? state.bestVal : null, schedule: { ...state.schedule, best: Number.isFinite(state.schedule.best) ? state.schedule.best : null } },
    ...extra,
  };
  writeFileAtomic(path, serializeTensors(header, tensors));
}

/** Restore parameters and optimizer in place; returns the run state. */
export function loadTrainingCheckpoint(path: string, pot: ParameterSet, opt: AdamW): TrainState {
  const { header, tensors } = parseTensors(readFileSync(path), path);
  if (header.format !== TRAIN_FORMAT) throw new InputError(path, `not a training checkpoint (format '${String(header.format)}')`);
  for (const [name, t] of pot.params) {
    const saved = tensors.get(`param/${name}`);
    if (!saved || saved.data.length !== t.size) throw new InputError(path, 'parameter missing or of another size (different model?)', name);
    t.data.set(saved.data);
  }
  for (const [name, m] of opt.m) {
    const sm = tensors.get(`adam.m/${name}`);
    const sv = tensors.get(`adam.v/${name}`);
    if (!sm || !sv) throw new InputError(path, 'optimizer state missing', name);
    m.set(sm.data);
    opt.v.get(name)!.set(sv.data);
  }
  const s = header.state as TrainState & { bestVal: number | null; schedule: { best: number | null } };
  opt.step = s.adamStep;
  // Per-parameter update counts; checkpoints written before they were kept had one count for all.
  for (const name of opt.t.keys()) {
    const saved = tensors.get(`adam.t/${name}`);
    opt.t.set(name, saved ? saved.data[0] : s.adamStep);
  }
  // Checkpoints written before the training clock existed carry no trainSeconds: they resume at 0.
  const trainSeconds = (s as { trainSeconds?: unknown }).trainSeconds ?? 0;
  if (typeof trainSeconds !== 'number' || !Number.isFinite(trainSeconds) || trainSeconds < 0) {
    throw new InputError(path, `state.trainSeconds must be a number ≥ 0, got ${JSON.stringify(trainSeconds)}`, undefined, 'state.trainSeconds');
  }
  return {
    ...s,
    trainSeconds,
    bestVal: s.bestVal ?? Infinity,
    schedule: { ...s.schedule, best: s.schedule.best ?? Infinity },
  };
}

/** The model stored in a training checkpoint's header, for `--from` a checkpoint. */
export function checkpointHeader(path: string): Record<string, unknown> {
  return parseTensors(readFileSync(path), path).header;
}
