/**
 * A summary of what a data file holds once read by oreo: format, counts, elements, labels and
 * their ranges in oreo's units. Backs `oreo data inspect`.
 */
import { InputError } from '../errors.js';
import { symbolOf } from '../elements.js';
import { contentHash } from './identity.js';
import { QM9_UNITS } from './qm9.js';
import { detectFormat, FORMATS, iterateConformations, type FormatName } from './read.js';
import type { ReadOptions } from './read-options.js';

/** Units of the properties readers produce (after conversion). */
export const PROPERTY_UNITS: Record<string, string> = {
  ...QM9_UNITS,
  gdb_id: '',
  row_id: '',
  md17_index: '',
  charge: 'e',
  formation_energy: 'eV',
};

export interface Range {
  min: number;
  max: number;
  mean: number;
}

export interface InspectReport {
  file: string;
  sha256: string;
  format: FormatName;
  description: string;
  fileUnits: string;
  conformations: number;
  atomsPerConformation: Range;
  elements: Record<string, number>;
  labels: { energy: number; forces: number; properties: string[] };
  units: { positions: 'Å'; energy: 'eV'; forces: 'eV/Å'; properties: Record<string, string> };
  kinds: Record<string, number>;
  energy?: Range;
  energyPerAtom?: Range;
  forces?: { maxAbsComponent: number; rmsComponent: number; maxAtomNorm: number };
  properties: Record<string, Range>;
  skipped: { message: string }[];
}

class RangeAcc {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  n = 0;
  add(v: number): void {
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.sum += v;
    this.n++;
  }
  get(): Range {
    return { min: this.min, max: this.max, mean: this.n ? this.sum / this.n : NaN };
  }
}

export async function inspectFile(path: string, options: ReadOptions & { format?: FormatName } = {}): Promise<InspectReport> {
  const format = options.format ?? (await detectFormat(path));
  const skipped: { message: string }[] = [];
  const readOpts = { ...options, format, onBad: (e: InputError) => skipped.push({ message: e.message }) };
  const atoms = new RangeAcc();
  const energy = new RangeAcc();
  const perAtom = new RangeAcc();
  const props = new Map<string, RangeAcc>();
  const elements = new Map<number, number>();
  const kinds: Record<string, number> = {};
  let nConf = 0;
  let nE = 0;
  let nF = 0;
  let fMax = 0;
  let fSq = 0;
  let fN = 0;
  let fNorm = 0;
  for await (const c of iterateConformations(path, readOpts)) {
    nConf++;
    const n = c.z.length;
    atoms.add(n);
    for (const z of c.z) elements.set(z, (elements.get(z) ?? 0) + 1);
    const k = c.kind ?? 'unlabelled';
    kinds[k] = (kinds[k] ?? 0) + 1;
    if (c.energy !== undefined) {
      nE++;
      energy.add(c.energy);
      if (n > 0) perAtom.add(c.energy / n);
    }
    if (c.forces) {
      nF++;
      for (let a = 0; a < n; a++) {
        let s = 0;
        for (let d = 0; d < 3; d++) {
          const f = c.forces[a * 3 + d];
          s += f * f;
          if (Math.abs(f) > fMax) fMax = Math.abs(f);
        }
        fSq += s;
        fN += 3;
        if (Math.sqrt(s) > fNorm) fNorm = Math.sqrt(s);
      }
    }
    if (c.props) {
      for (const [key, v] of Object.entries(c.props)) {
        let acc = props.get(key);
        if (!acc) props.set(key, (acc = new RangeAcc()));
        acc.add(v);
      }
    }
  }
  if (nConf === 0 && skipped.length === 0) throw new InputError(path, 'no conformations in this file');
  const propNames = [...props.keys()].sort();
  const report: InspectReport = {
    file: path,
    sha256: contentHash(path),
    format,
    description: FORMATS[format].description,
    fileUnits: FORMATS[format].fileUnits,
    conformations: nConf,
    atomsPerConformation: atoms.get(),
    elements: Object.fromEntries([...elements.entries()].sort((a, b) => a[0] - b[0]).map(([z, c]) => [symbolOf(z), c])),
    labels: { energy: nE, forces: nF, properties: propNames },
    units: {
      positions: 'Å',
      energy: 'eV',
      forces: 'eV/Å',
      properties: Object.fromEntries(propNames.map((p) => [p, PROPERTY_UNITS[p] ?? 'as in the file'])),
    },
    kinds,
    properties: Object.fromEntries(propNames.map((p) => [p, props.get(p)!.get()])),
    skipped,
  };
  if (nE) {
    report.energy = energy.get();
    report.energyPerAtom = perAtom.get();
  }
  if (nF) report.forces = { maxAbsComponent: fMax, rmsComponent: Math.sqrt(fSq / fN), maxAtomNorm: fNorm };
  return report;
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? x.toExponential(4) : Number(x.toFixed(4)).toString();
}

/** The report as aligned text for a terminal. */
export function formatInspectReport(r: InspectReport): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(24)}${v}`);
  row('file', r.file);
  row('sha256', r.sha256);
  row('format', `${r.format} — ${r.description}`);
  row('units in the file', r.fileUnits);
  row('conformations', String(r.conformations));
  const a = r.atomsPerConformation;
  row('atoms/conformation', a.min === a.max ? String(a.min) : `${a.min}–${a.max} (mean ${fmt(a.mean)})`);
  row('elements', Object.entries(r.elements).map(([s, c]) => `${s} ${c}`).join(', '));
  row('kinds', Object.entries(r.kinds).map(([k, c]) => `${k} ${c}`).join(', '));
  row('labels', [`energy ${r.labels.energy}`, `forces ${r.labels.forces}`, r.labels.properties.length ? `properties: ${r.labels.properties.join(' ')}` : ''].filter(Boolean).join('; '));
  lines.push('after conversion (oreo units: Å, eV, eV/Å):');
  if (r.energy) {
    row('  energy / eV', `${fmt(r.energy.min)} … ${fmt(r.energy.max)} (mean ${fmt(r.energy.mean)})`);
    row('  energy/atom / eV', `${fmt(r.energyPerAtom!.min)} … ${fmt(r.energyPerAtom!.max)}`);
  }
  if (r.forces) {
    row('  forces / eV/Å', `max |component| ${fmt(r.forces.maxAbsComponent)}, rms component ${fmt(r.forces.rmsComponent)}, max |F_atom| ${fmt(r.forces.maxAtomNorm)}`);
  }
  for (const [p, rg] of Object.entries(r.properties)) {
    const u = r.units.properties[p];
    row(`  ${p}${u ? ` / ${u}` : ''}`, `${fmt(rg.min)} … ${fmt(rg.max)} (mean ${fmt(rg.mean)})`);
  }
  if (r.skipped.length) {
    lines.push(`skipped ${r.skipped.length} bad record(s):`);
    for (const s of r.skipped.slice(0, 20)) lines.push(`  ${s.message}`);
    if (r.skipped.length > 20) lines.push(`  … and ${r.skipped.length - 20} more`);
  }
  return lines.join('\n');
}
