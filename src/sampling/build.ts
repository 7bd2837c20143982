/**
 * From SMILES to a 3D structure a calculation can start from: OpenChemLib conformers
 * (smiles.ts), optionally relaxed with xtb's own optimiser or with any Calculator through oreo's
 * L-BFGS/FIRE, each record carrying what it is (SMILES, canonical identity, formula, charge) and
 * how it was made (generator, seed, conformer, relaxation and its outcome).
 */
import { OreoError } from '../errors.js';
import type { InfoValue } from '../data/extxyz.js';
import type { StructureRecord } from '../data/write.js';
import type { Calculator } from '../calculator.js';
import { minimize, type OptimizerKind } from '../optimize/minimize.js';
import type { ReferenceCalculator } from '../qm/reference.js';
import { distance } from '../chem/bonds.js';
import { conformersFromSmiles, type SmilesSource, type Structure3D } from '../chem/smiles.js';
import { symbolOf } from '../elements.js';

export interface Relaxer {
  /** 'xtb' (xtb's own optimiser), or an oreo optimiser with this calculator. */
  calculator: Calculator | ReferenceCalculator;
  /** 'xtb-opt' runs the program's own optimiser (xtb ANCopt); otherwise oreo's. */
  method: OptimizerKind | 'xtb-opt';
  fmax?: number;
  steps?: number;
  /** For the record, e.g. "xtb GFN2-xTB" or "models/x.oreo". */
  label: string;
}

export interface BuildOptions {
  conformers?: number;
  seed?: number;
  source?: SmilesSource;
  relax?: Relaxer;
  /** Free-form name recorded with the structure (e.g. from a .smi line). */
  name?: string;
}

export interface BuiltStructure extends StructureRecord {
  structure: Structure3D;
}

/** The first SMILES-graph bond that a relaxation stretched or squeezed by more than `tolerance` Å, described. */
export function brokenGraphBond(s: Structure3D, before: ArrayLike<number>, after: ArrayLike<number>, tolerance = 0.5): string | null {
  for (let b = 0; b < s.bonds.length / 2; b++) {
    const i = s.bonds[2 * b], j = s.bonds[2 * b + 1];
    const l0 = distance(before, i, j), l = distance(after, i, j);
    if (!(Math.abs(l - l0) <= tolerance)) {
      return `bond ${symbolOf(s.z[i])}${i}–${symbolOf(s.z[j])}${j} went from ${l0.toFixed(3)} Å to ${l.toFixed(3)} Å`;
    }
  }
  return null;
}

/** Conformers of one SMILES as structure records, relaxed when asked. */
export function buildFromSmiles(smiles: string, options: BuildOptions = {}): BuiltStructure[] {
  const seed = options.seed ?? 1;
  const confs = conformersFromSmiles(smiles, { count: options.conformers ?? 1, seed, source: options.source });
  return confs.map((s) => {
    const info: Record<string, InfoValue> = {
      smiles: s.smiles,
      canonical_smiles: s.canonicalSmiles,
      idcode: s.idcode,
      formula: s.formula,
      charge: s.charge,
      unpaired: s.unpaired,
      conformer: s.conformer,
      seed: s.seed,
      generator: 'OpenChemLib ConformerGenerator',
    };
    if (options.name) info.name = options.name;
    let positions = s.positions;
    const r = options.relax;
    if (r) {
      if (r.method === 'xtb-opt') {
        const ref = r.calculator as ReferenceCalculator;
        if (!ref.optimize) throw new OreoError(`${r.label} has no optimiser of its own`);
        const o = ref.optimize(s.z, s.positions);
        positions = o.positions;
        Object.assign(info, { energy: o.energy, relaxed_with: `${r.label} (own optimiser)`, relax_converged: o.converged, relax_steps: o.cycles });
      } else {
        const o = minimize(r.calculator, s.z, s.positions, { method: r.method, fmax: r.fmax, steps: r.steps });
        positions = o.positions;
        Object.assign(info, {
          energy: o.energy,
          fmax: o.fmax,
          relaxed_with: `${r.label} (${r.method === 'fire' ? 'FIRE' : 'L-BFGS'}, fmax ${r.fmax ?? 0.05} eV/Å)`,
          relax_converged: o.converged,
          relax_steps: o.steps,
        });
      }
      const broken = brokenGraphBond(s, s.positions, positions);
      if (broken) {
        throw new OreoError(
          `${options.source?.file ? `${options.source.file}${options.source.line ? ` line ${options.source.line}` : ''}: ` : ''}relaxing ${smiles} with ${r.label} broke the molecule: ${broken}. ` +
            'This calculator does not describe this molecule; relax with --relax xtb, or a model trained on it',
        );
      }
    }
    const bonds = Array.from({ length: s.bonds.length / 2 }, (_, b) => ({ a: s.bonds[2 * b], b: s.bonds[2 * b + 1], order: s.bondOrders[b] }));
    return { z: s.z, positions, info, bonds, structure: { ...s, positions } };
  });
}

/**
 * SMILES from a file: a CSV with a `smiles` column (any case), or one per line as in .smi files
 * (SMILES, then an optional name after whitespace; blank lines and lines starting with # skipped).
 */
export function parseSmilesList(text: string, file: string): { smiles: string; name?: string; source: SmilesSource }[] {
  const lines = text.split(/\r?\n/);
  const out: { smiles: string; name?: string; source: SmilesSource }[] = [];
  if (file.toLowerCase().endsWith('.csv')) {
    const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
    const col = header.indexOf('smiles');
    if (col < 0) throw new OreoError(`${file}: line 1: no 'smiles' column in the header (${header.join(', ')})`);
    const nameCol = header.indexOf('name');
    lines.slice(1).forEach((l, i) => {
      if (!l.trim()) return;
      const cells = l.split(',');
      out.push({ smiles: (cells[col] ?? '').trim(), name: nameCol >= 0 ? cells[nameCol]?.trim() : undefined, source: { file, line: i + 2, field: 'smiles' } });
    });
  } else {
    lines.forEach((l, i) => {
      const t = l.trim();
      if (!t || t.startsWith('#')) return;
      const [smiles, ...rest] = t.split(/\s+/);
      out.push({ smiles, name: rest.length ? rest.join(' ') : undefined, source: { file, line: i + 1 } });
    });
  }
  if (!out.length) throw new OreoError(`${file}: no SMILES in the file`);
  return out;
}
