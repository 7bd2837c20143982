/**
 * Parsers for NeuroChem's text files (the format the ANI models were published in), working on
 * strings and bytes so they run anywhere; reading a directory and bunzipping `.nnf` files is in
 * neurochem-dir.ts (Node only).
 *
 *   `.params`          `NAME = value` lines; arrays as `[a,b,…]`; `Atyp = [H,C,…]` the element order
 *   `sae_linfit.dat`   `H,0=-0.59…` lines: element, index, self-atomic energy in Hartree
 *   `ANN-<el>.nnf`     after bunzip: `layer [ key=value; … ]` blocks with nodes, activation,
 *                      blocksize and the weight/bias file names with their value counts
 */
import { InputError } from '../../errors.js';
import { AevParams, LayerSpec, activationFromCode } from './types.js';

function numberList(text: string, file: string, key: string): number[] {
  const body = text.trim().replace(/^\[/, '').replace(/\]$/, '');
  const values = body.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) throw new InputError(file, `'${text}' is not a list of numbers`, undefined, key);
  return values;
}

export function parseAevParams(text: string, file: string): AevParams {
  const fields = new Map<string, string>();
  text.split(/\r?\n/).forEach((line) => {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  const get = (key: string) => {
    const v = fields.get(key);
    if (v === undefined) throw new InputError(file, 'missing', undefined, key);
    return v;
  };
  const scalar = (key: string) => {
    const v = Number(get(key));
    if (!Number.isFinite(v) || v <= 0) throw new InputError(file, `expected a positive number, got '${get(key)}'`, undefined, key);
    return v;
  };
  const species = get('Atyp').replace(/^\[/, '').replace(/\]$/, '').split(',').map((s) => s.trim());
  const p: AevParams = {
    Rcr: scalar('Rcr'),
    Rca: scalar('Rca'),
    EtaR: numberList(get('EtaR'), file, 'EtaR'),
    ShfR: numberList(get('ShfR'), file, 'ShfR'),
    Zeta: numberList(get('Zeta'), file, 'Zeta'),
    ShfZ: numberList(get('ShfZ'), file, 'ShfZ'),
    EtaA: numberList(get('EtaA'), file, 'EtaA'),
    ShfA: numberList(get('ShfA'), file, 'ShfA'),
    species,
  };
  if (p.Rca > p.Rcr) throw new InputError(file, `angular cutoff ${p.Rca} exceeds radial cutoff ${p.Rcr}`, undefined, 'Rca');
  if (species.length === 0 || species.some((s) => !/^[A-Z][a-z]?$/.test(s))) throw new InputError(file, `'${get('Atyp')}' is not a list of element symbols`, undefined, 'Atyp');
  return p;
}

/** Self-atomic energies (Hartree) in the order of `species`; every species must have one. */
export function parseSelfEnergies(text: string, file: string, species: string[]): number[] {
  const byElement = new Map<string, number>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^\s*([A-Z][a-z]?)\s*,\s*(\d+)\s*=\s*(\S+)\s*$/.exec(line);
    const value = m ? Number(m[3]) : NaN;
    if (!m || !Number.isFinite(value)) throw new InputError(file, `expected 'El,index=energy', got '${line.trim()}'`, i + 1);
    byElement.set(m[1], value);
  });
  return species.map((s) => {
    const v = byElement.get(s);
    if (v === undefined) throw new InputError(file, `no self energy for ${s}`);
    return v;
  });
}

/** The bzip2 stream inside an `.nnf` file: everything after the first '=' and the byte after it. */
export function nnfCompressedPart(bytes: Uint8Array, file: string): Uint8Array {
  const eq = bytes.indexOf(0x3d);
  if (eq < 0 || bytes[eq + 2] !== 0x42 || bytes[eq + 3] !== 0x5a) throw new InputError(file, 'not a NeuroChem .nnf file (no bzip2 stream after its header)');
  return bytes.subarray(eq + 2);
}

export interface NnfLayer extends LayerSpec {
  weightFile: string;
  weightCount: number;
  biasFile: string;
  biasCount: number;
}

/** The layers an `.nnf` text describes, checked for consistent sizes. */
export function parseNnf(text: string, file: string): { inputSize: number; layers: NnfLayer[] } {
  const input = /inputsize\s*=\s*(\d+)\s*;/.exec(text);
  if (!input) throw new InputError(file, 'missing', undefined, 'inputsize');
  const inputSize = Number(input[1]);
  const layers: NnfLayer[] = [];
  // A block ends at a line holding only ']' (file names inside carry [count] brackets).
  const blocks = text.match(/layer\s*\[[\s\S]*?^\s*\]\s*$/gm) ?? [];
  blocks.forEach((block, k) => {
    const kv = new Map<string, string>();
    for (const m of block.matchAll(/([A-Za-z0-9_]+)\s*=\s*([^;]*);/g)) kv.set(m[1], m[2].trim());
    const int = (key: string) => {
      const v = Number(kv.get(key));
      if (!Number.isInteger(v) || v < 0) throw new InputError(file, `expected an integer, got '${kv.get(key)}'`, `layer ${k + 1}`, key);
      return v;
    };
    const fileRef = (key: string) => {
      const m = /^FILE:([^[]+)\[(\d+)\]$/.exec(kv.get(key) ?? '');
      if (!m) throw new InputError(file, `expected FILE:name[count], got '${kv.get(key)}'`, `layer ${k + 1}`, key);
      return { name: m[1], count: Number(m[2]) };
    };
    let act;
    try {
      act = activationFromCode(int('activation'), `${file} layer ${k + 1}`);
    } catch (e) {
      throw new InputError(file, (e as Error).message, `layer ${k + 1}`, 'activation');
    }
    const w = fileRef('weights');
    const b = fileRef('biases');
    const layer: NnfLayer = { in: int('blocksize'), out: int('nodes'), ...act, weightFile: w.name, weightCount: w.count, biasFile: b.name, biasCount: b.count };
    if (layer.in * layer.out !== layer.weightCount || layer.out !== layer.biasCount) {
      throw new InputError(file, `sizes disagree: ${layer.in}×${layer.out} layer with ${layer.weightCount} weights and ${layer.biasCount} biases`, `layer ${k + 1}`);
    }
    const previous = k === 0 ? inputSize : layers[k - 1].out;
    if (layer.in !== previous) throw new InputError(file, `input width ${layer.in} does not follow the previous width ${previous}`, `layer ${k + 1}`, 'blocksize');
    layers.push(layer);
  });
  if (layers.length === 0) throw new InputError(file, 'no layers');
  if (layers[layers.length - 1].out !== 1) throw new InputError(file, `last layer has ${layers[layers.length - 1].out} outputs; an atomic energy needs 1`);
  return { inputSize, layers };
}

/** Little-endian float32 values of a `.wparam`/`.bparam` file, exactly `count` of them. */
export function parseFloat32File(bytes: Uint8Array, file: string, count: number): Float32Array {
  if (bytes.length !== 4 * count) throw new InputError(file, `${bytes.length} bytes, expected ${4 * count} (${count} float32 values)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
  for (let i = 0; i < count; i++) if (!Number.isFinite(out[i])) throw new InputError(file, `value ${i} is not finite (${out[i]})`);
  return out;
}
