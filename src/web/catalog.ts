/**
 * What the in-browser MD offers: the models shipped in `models/` (`.oreo`, or TorchMD-Net
 * `.ckpt`/`.pt`) and starting structures from the sample molecules shipped in `data/` (frame 0 of
 * each rMD17 `.npz` and MD17/MD22 `.xyz`). Requests name an entry by its id from these lists and
 * nothing else, so no request can reach another file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formula, symbolOf } from '../elements.js';
import { readExtxyzFile } from '../data/extxyz.js';
import { iterateMd17Npz } from '../data/md17.js';
import { AccessRefused } from './safe-path.js';
import { peekOreoHeader, kindOfHeader, requireEt, openModelBytes } from '../model/open.js';
import { atomicNumber } from '../elements.js';

/** What the model list shows of an ANI ensemble, from its header alone (no weights parsed). */
function aniInfo(header: Record<string, unknown>): Record<string, unknown> {
  const meta = (header.meta ?? {}) as Record<string, unknown>;
  const aev = header.aev as { Rcr: number; species: string[] };
  return {
    kind: 'ani-ensemble',
    dtype: header.dtype,
    members: (header.members as unknown[]).length,
    parameters: ((header.tensors ?? []) as { shape: number[] }[]).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0),
    cutoff_upper: aev.Rcr,
    elements: aev.species.map(atomicNumber),
    name: meta.name ?? null,
    levelOfTheory: meta.levelOfTheory ?? null,
  };
}

export interface ModelEntry {
  /** The file name, e.g. "et-oreo-aspirin.oreo". */
  id: string;
  bytes: number;
  /** Facts from the model file: size, cutoff, elements it was trained on. */
  info: Record<string, unknown>;
}

export interface MoleculeEntry {
  /** Path under the data folder, e.g. "rmd17/rmd17_aspirin_train_01.npz". */
  id: string;
  label: string;
  source: string;
}

export interface Molecule {
  id: string;
  label: string;
  z: number[];
  symbols: string[];
  /** Flat, Å. */
  positions: number[];
  formula: string;
}

const MODEL_FILE = /\.(oreo|ckpt|pt)$/i;

function listFiles(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => pattern.test(n) && !n.startsWith('.'))
      .filter((n) => statSync(join(dir, n)).isFile())
      .sort();
  } catch {
    return [];
  }
}

const modelInfoCache = new Map<string, { mtime: number; info: Record<string, unknown> }>();

function modelInfo(path: string): Record<string, unknown> {
  const st = statSync(path);
  const hit = modelInfoCache.get(path);
  if (hit && hit.mtime === st.mtimeMs) return hit.info;
  let info: Record<string, unknown>;
  try {
    const bytes = readFileSync(path);
    const header = peekOreoHeader(bytes);
    if (header && kindOfHeader(header) === 'ani-ensemble') {
      info = aniInfo(header);
      modelInfoCache.set(path, { mtime: st.mtimeMs, info });
      return info;
    }
    const pot = requireEt(openModelBytes(bytes, basename(path)), basename(path));
    const c = pot.config;
    info = {
      dtype: pot.dtype,
      parameters: pot.parameterCount(),
      embedding_dimension: c.embedding_dimension,
      num_layers: c.num_layers,
      cutoff_upper: c.cutoff_upper,
      elements: pot.meta.elements ?? null,
      name: pot.meta.name ?? null,
      // A multi-head model's heads (src/model/multi-head.ts): one per level of theory, the default first-class.
      ...(Array.isArray(pot.meta.heads) ? { heads: pot.heads().map((h) => ({ id: h.id, level: h.level, default: h.default === true })) } : {}),
    };
  } catch (err) {
    info = { error: (err as Error).message };
  }
  modelInfoCache.set(path, { mtime: st.mtimeMs, info });
  return info;
}

export function listModels(modelsDir: string): ModelEntry[] {
  return listFiles(modelsDir, MODEL_FILE).map((id) => {
    const path = join(modelsDir, id);
    return { id, bytes: statSync(path).size, info: modelInfo(path) };
  });
}

/** The bytes of a listed model; anything not in the list is a 404. */
export function modelBytes(modelsDir: string, id: string): Uint8Array {
  if (!listFiles(modelsDir, MODEL_FILE).includes(id)) throw new AccessRefused(404, `no bundled model '${id}'`);
  return readFileSync(join(modelsDir, id));
}

/** Sample files that hold one molecule per file, by folder under data/. */
const MOLECULE_SOURCES: { folder: string; pattern: RegExp; source: string; label: (file: string) => string }[] = [
  { folder: 'rmd17', pattern: /^rmd17_.+_train_\d+\.npz$/, source: 'rMD17', label: (f) => f.replace(/^rmd17_/, '').replace(/_train_\d+\.npz$/, '') },
  { folder: 'md17', pattern: /^md17_.+\.xyz$/, source: 'MD17', label: (f) => f.replace(/^md17_/, '').split('_')[0] },
  { folder: 'md22', pattern: /^md22_.+\.xyz$/, source: 'MD22', label: (f) => f.replace(/^md22_/, '').split('_')[0] },
];

export function listMolecules(dataDir: string): MoleculeEntry[] {
  const out: MoleculeEntry[] = [];
  for (const s of MOLECULE_SOURCES) {
    for (const f of listFiles(join(dataDir, s.folder), s.pattern)) {
      out.push({ id: `${s.folder}/${f}`, label: `${s.label(f)} (${s.source})`, source: s.source });
    }
  }
  return out;
}

const moleculeCache = new Map<string, { mtime: number; molecule: Molecule }>();

/** Frame 0 of a listed molecule file; anything not in the list is a 404. */
export function readMolecule(dataDir: string, id: string): Molecule {
  const entry = listMolecules(dataDir).find((m) => m.id === id);
  if (!entry) throw new AccessRefused(404, `no bundled molecule '${id}'`);
  const path = join(dataDir, ...id.split('/'));
  const mtime = statSync(path).mtimeMs;
  const hit = moleculeCache.get(path);
  if (hit && hit.mtime === mtime) return hit.molecule;
  let z: ArrayLike<number>, positions: ArrayLike<number>;
  if (path.endsWith('.npz')) {
    const c = iterateMd17Npz(path).next().value;
    if (!c) throw new AccessRefused(404, `molecule '${id}' has no frames`);
    z = c.z;
    positions = c.positions;
  } else {
    const f = readExtxyzFile(path)[0];
    z = f.z;
    positions = f.positions;
  }
  const molecule: Molecule = { id, label: entry.label, z: Array.from(z), symbols: Array.from(z, (x) => symbolOf(x)), positions: Array.from(positions), formula: formula(z) };
  moleculeCache.set(path, { mtime, molecule });
  return molecule;
}
