/**
 * Export a Potential as a TorchMD-Net 2.x checkpoint: a `torch.save`d dict that
 * `torchmdnet.models.model.load_model` reads (checked against v2.6.2), the way its training
 * module saves one —
 *
 *   hyper_parameters  a plain dict with every key `create_model` reads for the ET
 *   state_dict        an OrderedDict of the parameters and buffers, keys prefixed `model.` as
 *                     Lightning writes them, ≥2.2 names (`update_net.layers.N`), float32 or
 *                     float64 as `precision` says
 *   oreo              a side record that TorchMD-Net ignores: units, elements seen, provenance
 *
 * `load_model` rebuilds the model with `create_model(hyper_parameters)` and then calls
 * `load_state_dict` (strict), so the state_dict holds exactly the module's keys: `mean`, `std`,
 * the representation and output networks, the neighbour search's `distance.box` buffer (zeros:
 * no periodic box) and, with the Atomref prior, both `prior_model.0.initial_atomref` (a buffer)
 * and `prior_model.0.atomref.weight`. `load_model` would add a missing box itself, but
 * torchmd-train's `--load-weights` loads the state_dict strictly with no such fix-up, so the
 * file carries it, as TorchMD-Net's own checkpoints do (test/fixtures/torchmdnet). TorchMD-Net
 * releases from before the box became a buffer would refuse that key.
 */
import type { Potential } from '../potential.js';
import { configFromHyperParameters, ETConfig } from '../config.js';
import { parameterShapes } from '../create.js';
import { OreoError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { PyFloat, PickleValue, orderedDict } from './pickle-write.js';
import { torchSave, TorchTensor, TorchValue } from './torch-zip-write.js';
import { defaultHead } from '../multi-head.js';

export interface TorchMDNetExportOptions {
  /** 32 or 64: TorchMD-Net's `precision` and the dtype of the stored tensors (default: the model's). */
  precision?: 32 | 64;
  /** The file the model was read from, recorded in the side record. */
  source?: string;
}

/** The units a model predicts in, if known: oreo models say eV and eV/Å; a TorchMD-Net import does not know. */
export function modelUnits(pot: Potential): { energy: string; forces: string } | null {
  const u = pot.predictionUnits();
  return u.known ? { energy: u.energy, forces: u.forces } : null;
}

/**
 * TorchMD-Net's hyper-parameters for this ET. oreo's configuration already is a subset of
 * TorchMD-Net's options (the importer refuses the rest), so every oreo model has an exact
 * TorchMD-Net counterpart; the check here only guards against a configuration that was edited
 * by hand into something TorchMD-Net cannot build.
 */
export function torchmdnetHyperParameters(cfg: ETConfig, precision: 32 | 64): Record<string, TorchValue> {
  // Re-validate through the importer's own check, which names every unsupported option.
  configFromHyperParameters(cfg as unknown as Record<string, unknown>, 'model');
  if (cfg.precision !== 32 && cfg.precision !== 64) throw new OreoError(`precision=${cfg.precision}: TorchMD-Net export writes 32 or 64`);
  const hp: Record<string, TorchValue> = {
    model: 'equivariant-transformer',
    embedding_dimension: cfg.embedding_dimension,
    num_layers: cfg.num_layers,
    num_rbf: cfg.num_rbf,
    rbf_type: cfg.rbf_type,
    trainable_rbf: cfg.trainable_rbf,
    activation: cfg.activation,
    attn_activation: cfg.attn_activation,
    neighbor_embedding: cfg.neighbor_embedding,
    num_heads: cfg.num_heads,
    distance_influence: cfg.distance_influence,
    cutoff_lower: new PyFloat(cfg.cutoff_lower),
    cutoff_upper: new PyFloat(cfg.cutoff_upper),
    max_z: cfg.max_z,
    max_num_neighbors: cfg.max_num_neighbors,
    vector_cutoff: cfg.vector_cutoff,
    box_vecs: null,
    derivative: true,
    atom_filter: -1,
    prior_model: cfg.prior_model,
    // TorchMD-Net prefixes "Equivariant" for the ET itself: 'Scalar' builds EquivariantScalar,
    // which is the head oreo runs whichever of the two names its configuration holds.
    output_model: 'Scalar',
    reduce_op: cfg.reduce_op,
    precision,
  };
  // Atomref needs its size (create_prior_models would otherwise build it from a dataset), as
  // TorchMD-Net's train.py records it: [prior.get_init_args()]. oreo never trains the atomref.
  if (cfg.prior_model === 'Atomref') hp.prior_args = [{ max_z: cfg.max_z, trainable: false, enable: true }];
  return hp;
}

/** The checkpoint dict, with tensors, ready for torchSave. */
export function torchmdnetCheckpoint(pot: Potential, options: TorchMDNetExportOptions = {}): Record<string, TorchValue> {
  const cfg = pot.config;
  const precision = options.precision ?? (cfg.precision === 64 ? 64 : 32);
  const dtype = precision === 64 ? 'float64' : 'float32';
  const hp = torchmdnetHyperParameters(cfg, precision);
  const shapes = parameterShapes(cfg);
  const tensor = (name: string): TorchTensor => {
    const shape = shapes.get(name)!;
    const t = pot.params.get(name);
    if (!t) throw new OreoError(`the model lacks parameter ${name}`);
    if (t.shape.join(',') !== shape.join(',')) throw new OreoError(`parameter ${name} has shape [${t.shape}], expected [${shape}]`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new OreoError(`parameter ${name} holds a non-finite value at position ${i}`);
    }
    return new TorchTensor(dtype, shape, t.data);
  };
  // TorchMD_Net's own state_dict order: the mean/std buffers, the representation and output
  // networks, then the prior (its initial_atomref buffer before the embedding weight).
  const entries: [string, TorchValue][] = [
    ['model.mean', tensor('mean')],
    ['model.std', tensor('std')],
  ];
  for (const name of shapes.keys()) {
    if (name === 'mean' || name === 'std' || name.startsWith('prior_model.')) continue;
    entries.push([`model.${name}`, tensor(name)]);
    if (name === 'representation_model.embedding.weight') {
      // OptimizedDistance's box buffer (registered right after the embedding): unused without
      // periodic boundaries, which oreo's configurations never have (box_vecs is refused).
      entries.push(['model.representation_model.distance.box', new TorchTensor(dtype, [3, 3], new Array<number>(9).fill(0))]);
    }
  }
  if (cfg.prior_model === 'Atomref') {
    const atomref = tensor('prior_model.0.atomref.weight');
    // reset_parameters() copies initial_atomref into the weight: keep the two equal, so the
    // calibrated reference energies survive a reset in TorchMD-Net too.
    entries.push(['model.prior_model.0.initial_atomref', atomref]);
    entries.push(['model.prior_model.0.atomref.weight', atomref]);
  }
  const units = modelUnits(pot);
  const side: Record<string, TorchValue> = {
    exported_by: 'oreo 0.1.0',
    format: 'torchmdnet',
    // TorchMD-Net is unit-agnostic; these are the units the model was trained in (positions in Å).
    units: units ? { length: 'Å', energy: units.energy, forces: units.forces } : null,
  };
  if (typeof pot.meta.name === 'string') side.name = pot.meta.name;
  if (options.source) side.source = options.source;
  // Parameters are taken by TorchMD-Net's names, so a multi-head model exports its default head
  // (or the head of a withHead view): say which, and its level of theory.
  if (Array.isArray(pot.meta.heads)) {
    const head = defaultHead(pot.meta);
    side.head = { id: head.id, level: head.level };
  }
  const elements = pot.meta.elements;
  if (Array.isArray(elements) && elements.every((z) => Number.isInteger(z))) side.elements = [...(elements as number[])];
  return { hyper_parameters: hp, state_dict: orderedDict(entries as [string, PickleValue][]) /* torchSave converts the tensors inside */, oreo: side };
}

/** The bytes of the checkpoint file. */
export function serializeTorchMDNet(pot: Potential, options: TorchMDNetExportOptions = {}): Uint8Array {
  return torchSave(torchmdnetCheckpoint(pot, options));
}

export function saveTorchMDNet(pot: Potential, path: string, options: TorchMDNetExportOptions = {}): void {
  writeFileAtomic(path, serializeTorchMDNet(pot, options));
}
