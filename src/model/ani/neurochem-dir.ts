/**
 * Read a published NeuroChem ensemble directory (as aiqm/ani-model-zoo ships ANI-2x) into
 * memory, Node only. Accepted layouts: a folder holding `<name>.info` (its lines: the `.params`
 * file, the self-energy file, the member prefix, the member count, all relative to the folder),
 * or the member folder itself (`*.params`, `sae_linfit.dat`, `train0/` … `trainK/`).
 * Each member's networks are `<prefix>K/networks/ANN-<el>.nnf` with their `.wparam`/`.bparam`.
 */
import { readdirSync, existsSync, statSync, readFileSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { createRequire } from 'node:module';
import { InputError, OreoError } from '../../errors.js';
import { readInputFile } from '../../io/read.js';
import { parseAevParams, parseSelfEnergies, nnfCompressedPart, parseNnf, parseFloat32File } from './neurochem.js';
import { AniEnsembleData, ElementNetwork } from './types.js';
import { aevLength } from './aev.js';

// seek-bzip (MIT, pinned) is CommonJS; it is needed only here, at conversion time.
const require = createRequire(import.meta.url);
const bunzip = require('seek-bzip') as { decode(input: Buffer): Buffer };

interface Layout {
  paramsFile: string;
  saeFile: string;
  memberDirs: string[];
  licenceFile?: string;
}

function findLayout(dir: string): Layout {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(dir, 'not a directory');
  const info = readdirSync(dir).find((f) => f.endsWith('.info'));
  const licence = [join(dir, 'LICENSE'), join(dirname(dir), 'LICENSE')].find((f) => existsSync(f));
  if (info) {
    const lines = readFileSync(join(dir, info), 'utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    const count = Number(lines[3]);
    if (lines.length < 4 || !Number.isInteger(count) || count < 1) throw new InputError(join(dir, info), 'expected 4 lines: params file, self-energy file, member prefix, member count');
    return {
      paramsFile: join(dir, lines[0]),
      saeFile: join(dir, lines[1]),
      memberDirs: Array.from({ length: count }, (_, k) => join(dir, `${lines[2]}${k}`)),
      licenceFile: licence,
    };
  }
  const params = readdirSync(dir).find((f) => f.endsWith('.params'));
  if (!params) throw new InputError(dir, 'no .info or .params file: not a NeuroChem model directory');
  const memberDirs: string[] = [];
  while (existsSync(join(dir, `train${memberDirs.length}`))) memberDirs.push(join(dir, `train${memberDirs.length}`));
  if (memberDirs.length === 0) throw new InputError(dir, 'no member folders train0, train1, …');
  return { paramsFile: join(dir, params), saeFile: join(dir, 'sae_linfit.dat'), memberDirs, licenceFile: licence };
}

function readNetwork(networksDir: string, el: string, inputSize: number): ElementNetwork {
  const nnfPath = join(networksDir, `ANN-${el}.nnf`);
  let text: string;
  try {
    text = bunzip.decode(Buffer.from(nnfCompressedPart(readInputFile(nnfPath), nnfPath))).toString('latin1');
  } catch (e) {
    if (e instanceof OreoError) throw e;
    throw new InputError(nnfPath, `cannot decompress (${(e as Error).message})`);
  }
  const nnf = parseNnf(text, nnfPath);
  if (nnf.inputSize !== inputSize) throw new InputError(nnfPath, `input size ${nnf.inputSize}, but the .params file defines AEVs of length ${inputSize}`, undefined, 'inputsize');
  return {
    layers: nnf.layers.map(({ in: i, out, activation, alpha }) => (alpha === undefined ? { in: i, out, activation } : { in: i, out, activation, alpha })),
    weights: nnf.layers.map((l) => parseFloat32File(readInputFile(join(networksDir, l.weightFile)), join(networksDir, l.weightFile), l.weightCount)),
    biases: nnf.layers.map((l) => parseFloat32File(readInputFile(join(networksDir, l.biasFile)), join(networksDir, l.biasFile), l.biasCount)),
  };
}

export function readNeuroChemEnsemble(dir: string, meta: Record<string, unknown> = {}): AniEnsembleData {
  const layout = findLayout(dir);
  const aev = parseAevParams(new TextDecoder().decode(readInputFile(layout.paramsFile)), layout.paramsFile);
  const selfEnergies = parseSelfEnergies(new TextDecoder().decode(readInputFile(layout.saeFile)), layout.saeFile, aev.species);
  const width = aevLength(aev);
  const members = layout.memberDirs.map((m) => {
    const nets = new Map<string, ElementNetwork>();
    for (const el of aev.species) nets.set(el, readNetwork(join(m, 'networks'), el, width));
    return nets;
  });
  const licence = layout.licenceFile ? readFileSync(layout.licenceFile, 'utf8') : undefined;
  return {
    aev,
    selfEnergies,
    members,
    meta: {
      ...meta,
      converted: { from: 'NeuroChem', directory: basename(dir), members: members.length, paramsFile: basename(layout.paramsFile) },
      ...(licence ? { licence } : {}),
    },
  };
}
