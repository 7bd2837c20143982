/**
 * Conformations written in the layout TorchMD-Net's `HDF5` dataset reads, so data oreo can read
 * (any of its formats, in Å / eV / eV/Å) can train TorchMD-Net on GPUs: one group per atom count
 * (its reader wants equal-sized samples within a group), each with `types` [n, atoms]
 * (atomic numbers), `pos` [n, atoms, 3], and `energy` [n] and/or `forces` [n, atoms, 3].
 * TorchMD-Net needs the same labels in every group, so a label is written only if every
 * conformation has it; a conformation lacking one the others have is an error naming it.
 */

import { replaceFile } from '../io/atomic.js';
import h5wasm from 'h5wasm/node';
import type { Conformation } from './conformation.js';
import { InputError, OreoError } from '../errors.js';

export interface LabelledSource {
  file: string;
  conformations: Conformation[];
}

export interface Hdf5ExportResult {
  conformations: number;
  groups: { name: string; atoms: number; conformations: number }[];
  labels: ('energy' | 'forces')[];
}

export async function writeTorchmdnetHdf5(sources: LabelledSource[], out: string, options: { precision?: 32 | 64 } = {}): Promise<Hdf5ExportResult> {
  const all = sources.flatMap((s) => s.conformations.map((c, i) => ({ c, file: s.file, record: c.index ?? i })));
  if (all.length === 0) throw new OreoError('nothing to write: the inputs hold no conformations');
  const labelled = (c: Conformation) => c.energy !== undefined && Number.isFinite(c.energy);
  const hasE = all.some((x) => labelled(x.c));
  const hasF = all.some((x) => x.c.forces !== undefined);
  if (!hasE && !hasF) throw new OreoError('TorchMD-Net trains on energies or forces, and no input conformation has either');
  for (const x of all) {
    for (const [want, has, field] of [[hasE, labelled(x.c), 'energy'], [hasF, x.c.forces !== undefined, 'forces']] as const) {
      if (want && !has) throw new InputError(x.file, `has no ${field}, but other conformations do; TorchMD-Net needs the same labels in every group (export such files separately)`, x.record, field);
    }
  }
  const bySize = new Map<number, Conformation[]>();
  for (const { c } of all) {
    if (!bySize.has(c.z.length)) bySize.set(c.z.length, []);
    bySize.get(c.z.length)!.push(c);
  }
  const float = options.precision === 32 ? '<f' : '<d';
  const Float = options.precision === 32 ? Float32Array : Float64Array;
  await h5wasm.ready;
  const groups: Hdf5ExportResult['groups'] = [];
  replaceFile(out, (tmp) => {
    const f = new h5wasm.File(tmp, 'w');
    try {
      f.create_attribute('units', 'positions Å, energy eV, forces eV/Å (written by oreo)');
      for (const [atoms, confs] of [...bySize].sort((a, b) => a[0] - b[0])) {
        const name = `n${atoms}`;
        f.create_group(name);
        const g = f.get(name) as InstanceType<typeof h5wasm.Group>;
        const n = confs.length;
        const types = new BigInt64Array(n * atoms);
        const pos = new Float(n * atoms * 3);
        const forces = hasF ? new Float(n * atoms * 3) : null;
        confs.forEach((c, m) => {
          for (let a = 0; a < atoms; a++) types[m * atoms + a] = BigInt(c.z[a]);
          pos.set(c.positions, m * atoms * 3);
          forces?.set(c.forces!, m * atoms * 3);
        });
        g.create_dataset({ name: 'types', data: types, shape: [n, atoms], dtype: '<q' });
        g.create_dataset({ name: 'pos', data: pos, shape: [n, atoms, 3], dtype: float });
        if (hasE) g.create_dataset({ name: 'energy', data: Float.from(confs.map((c) => c.energy!)), shape: [n], dtype: float });
        if (forces) g.create_dataset({ name: 'forces', data: forces, shape: [n, atoms, 3], dtype: float });
        groups.push({ name, atoms, conformations: n });
      }
    } finally {
      f.close();
    }
  });
  return { conformations: all.length, groups, labels: [...(hasE ? ['energy' as const] : []), ...(hasF ? ['forces' as const] : [])] };
}
