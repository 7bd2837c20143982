/**
 * `oreo predict`: energies and forces of every selected frame of an input file, as JSON.
 */
import type { Command } from './main.js';
import { parseArgs, requireStr, str, num, helpText, OptionSpec } from './args.js';
import { loadPotential } from '../model/load.js';
import { readPropertyHead } from '../model/heads/io.js';
import { readMd17Npz } from '../data/md17.js';
import { readExtxyzFile, frameToConformation } from '../data/extxyz.js';
import type { Conformation } from '../data/conformation.js';
import { parseFrameList } from './frames.js';
import { OreoError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file: oreo .oreo or TorchMD-Net .ckpt/.pt' },
  input: { type: 'string', help: 'structures: xyz/extxyz (multi-frame) or MD17-style .npz' },
  frames: { type: 'string', help: 'frames to predict, e.g. 0,5,10-20 or 0:100:10 (default all)' },
  out: { type: 'string', help: 'write the JSON here instead of stdout' },
  batch: { type: 'string', help: 'frames per model call (default 16)' },
  dtype: { type: 'string', help: 'float32 | float64 (default: the model\'s own precision)' },
  help: { type: 'boolean' },
};

/** Structures to predict on: an MD17-style npz or any xyz/extxyz file (ASE units). */
function readStructures(path: string): Conformation[] {
  if (path.toLowerCase().endsWith('.npz')) return readMd17Npz(path);
  return readExtxyzFile(path).map((f, i) => frameToConformation(f, path, i));
}

const usage = 'oreo predict --model FILE --input FILE [--frames LIST] [--out FILE] [--batch N] [--dtype float32|float64]';

export const command: Command = {
  summary: 'energies and forces of structures with a model (JSON)',
  async run(argv) {
    const p = parseArgs('predict', argv, spec);
    if (p.options.help) {
      console.log(helpText(usage, 'Prints {"frames":[{"energy":E,"forces":[[fx,fy,fz],...]},...]} in the model\'s units (eV, eV/Å for oreo models).', spec));
      return 0;
    }
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') {
      throw new OreoError(`--dtype ${dtype}: expected float32 or float64`);
    }
    // A property model (oreo finetune --task property) prints its property per frame instead.
    const modelPath = requireStr('predict', p, 'model');
    if (readPropertyHead(modelPath)) {
      const options = { frames: str(p, 'frames'), out: str(p, 'out'), batch: num('predict', p, 'batch', 16, { min: 1, integer: true }), dtype: dtype as 'float32' | 'float64' | undefined };
      return (await import('../train/property/cli.js')).runPropertyPredict(modelPath, requireStr('predict', p, 'input'), options, readStructures);
    }
    const pot = loadPotential(modelPath, { dtype });
    const input = requireStr('predict', p, 'input');
    const structures = readStructures(input);
    if (structures.length === 0) throw new OreoError(`${input}: no frames in the file`);
    const frames = str(p, 'frames') ? parseFrameList(str(p, 'frames')!, structures.length) : structures.map((_, i) => i);
    const batchSize = num('predict', p, 'batch', 16, { min: 1, integer: true });
    for (const i of frames) pot.checkElements(structures[i].z);

    const results: { frame: number; energy: number; forces: number[][] }[] = [];
    for (let b = 0; b < frames.length; b += batchSize) {
      const chunk = frames.slice(b, b + batchSize).map((i) => structures[i]);
      const nAtoms = chunk.reduce((n, s) => n + s.z.length, 0);
      const z = new Int32Array(nAtoms);
      const positions = new Float64Array(3 * nAtoms);
      const mol = new Int32Array(nAtoms);
      let o = 0;
      chunk.forEach((s, m) => {
        z.set(s.z, o);
        positions.set(s.positions, 3 * o);
        mol.fill(m, o, o + s.z.length);
        o += s.z.length;
      });
      const pred = pot.predict({ z, positions, mol, nMol: chunk.length });
      o = 0;
      chunk.forEach((s, m) => {
        const forces: number[][] = [];
        for (let a = 0; a < s.z.length; a++) {
          const k = 3 * (o + a);
          forces.push([pred.forces.data[k], pred.forces.data[k + 1], pred.forces.data[k + 2]]);
        }
        results.push({ frame: frames[b + m], energy: pred.energy.data[m], forces });
        o += s.z.length;
      });
    }
    const json = JSON.stringify({ model: pot.meta.source ?? null, units: { energy: 'model', forces: 'model/Å' }, frames: results });
    const out = str(p, 'out');
    if (out) {
      writeFileAtomic(out, json + '\n');
      console.error(`wrote ${results.length} frames to ${out}`);
    } else {
      process.stdout.write(json + '\n');
    }
    return 0;
  },
};
