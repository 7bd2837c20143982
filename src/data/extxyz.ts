/**
 * xyz and extended xyz (extxyz) as ASE reads and writes them, both directions, multi-frame.
 *
 * A frame is: an atom-count line, a comment line, then one line per atom. In extxyz the comment
 * line holds `key=value` pairs: `Lattice="ax ay az bx by bz cx cy cz"` (cell rows, Å),
 * `Properties=species:S:1:pos:R:3:forces:R:3` (the per-atom columns: name, type S/R/I/L, count),
 * `pbc="T T T"`, and any per-frame scalar such as `energy=-12.3`. A comment line without any
 * `key=value` pair is plain xyz: the columns are then `species x y z`.
 *
 * The frame type is unit-free, exactly what the file says. Conversion to oreo's units happens in
 * `frameToConformation`, which by default assumes ASE's conventions (Å, eV, eV/Å).
 *
 * Numbers are written in the shortest form that parses back to the same float64, so a frame
 * written by oreo reads back bit-identical; ASE reads these files unchanged.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { InputError } from '../errors.js';
import { atomicNumber, symbolOf } from '../elements.js';
import { energyUnits, lengthUnits } from '../units.js';

/** QM9's energy-like property names (src/data/qm9.ts), whose unit a file's `units` key states. */
const QM9_ENERGY_LIKE = new Set(['homo', 'lumo', 'gap', 'zpve', 'U0', 'U', 'H', 'G']);
import type { Conformation, ConformationKind } from './conformation.js';

export type InfoValue = number | string | boolean;

export interface ExtxyzFrame {
  /** Atomic numbers, one per atom. */
  z: Int32Array;
  /** Positions, flat [x0,y0,z0,...], in the file's length unit (Å for ASE files). */
  positions: Float64Array;
  /** Cell as 3 row vectors, flat (9), when the frame has a `Lattice`. */
  cell?: Float64Array;
  /** Periodicity along the three cell vectors; ASE's default is all true when a Lattice is given. */
  pbc?: [boolean, boolean, boolean];
  /** Per-frame key=value pairs other than Lattice, Properties and pbc (e.g. energy). */
  info: Record<string, InfoValue>;
  /** Per-atom columns other than species and pos, flat N*ncols (e.g. forces N*3, charges N). */
  arrays: Record<string, Float64Array | Int32Array>;
}

interface Column {
  name: string;
  type: 'S' | 'R' | 'I' | 'L';
  count: number;
}

const DEFAULT_PROPERTIES = 'species:S:1:pos:R:3';

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Tokens of an extxyz comment line: key=value pairs, values optionally "quoted" or {braced}. */
function parseCommentLine(line: string, fail: (why: string) => never): Map<string, { value: string; quoted: boolean }> {
  const out = new Map<string, { value: string; quoted: boolean }>();
  let i = 0;
  const n = line.length;
  const isSpace = (c: string) => c === ' ' || c === '\t';
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    let key = '';
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) fail('unterminated quoted key in the comment line');
      key = line.slice(i + 1, end);
      i = end + 1;
    } else {
      const start = i;
      while (i < n && !isSpace(line[i]) && line[i] !== '=') i++;
      key = line.slice(start, i);
    }
    let j = i;
    while (j < n && isSpace(line[j])) j++;
    if (j < n && line[j] === '=') {
      i = j + 1;
      while (i < n && isSpace(line[i])) i++;
      let value = '';
      let quoted = false;
      if (line[i] === '"' || line[i] === "'") {
        const q = line[i];
        quoted = true;
        i++;
        while (i < n && line[i] !== q) {
          if (line[i] === '\\' && i + 1 < n) {
            const next = line[i + 1];
            value += next === 'n' ? '\n' : next;
            i += 2;
          } else {
            value += line[i++];
          }
        }
        if (i >= n) fail(`unterminated quoted value for key '${key}' in the comment line`);
        i++;
      } else if (line[i] === '{') {
        const end = line.indexOf('}', i);
        if (end < 0) fail(`unterminated {…} value for key '${key}' in the comment line`);
        value = line.slice(i + 1, end).replace(/,/g, ' ');
        quoted = true;
        i = end + 1;
      } else {
        const start = i;
        while (i < n && !isSpace(line[i])) i++;
        value = line.slice(start, i);
      }
      out.set(key, { value, quoted });
    } else {
      // A bare key means "true", as ASE reads it.
      out.set(key, { value: 'T', quoted: false });
    }
  }
  return out;
}

/** A float as Python's float() accepts it (nan, inf, Fortran-style D exponents too). */
export function parseFloatStrict(s: string): number {
  const t = s.trim();
  if (t === '') return NaN;
  const v = Number(t);
  if (!Number.isNaN(v)) return v;
  const low = t.toLowerCase();
  if (low === 'nan' || low === '+nan' || low === '-nan') return NaN;
  if (low === 'inf' || low === '+inf' || low === 'infinity' || low === '+infinity') return Infinity;
  if (low === '-inf' || low === '-infinity') return -Infinity;
  if (/^[+-]?(\d+\.?\d*|\.\d+)[dD][+-]?\d+$/.test(t)) return Number(t.replace(/[dD]/, 'e'));
  return NaN;
}

function isFloatToken(s: string): boolean {
  const low = s.trim().toLowerCase();
  return !Number.isNaN(parseFloatStrict(s)) || low === 'nan' || low === '+nan' || low === '-nan';
}

function parseBool(s: string): boolean | undefined {
  if (s === 'T' || s === 'True' || s === 'true') return true;
  if (s === 'F' || s === 'False' || s === 'false') return false;
  return undefined;
}

function interpretInfo(value: string, quoted: boolean): InfoValue {
  // ASE writes strings with spaces (and arrays) quoted, scalars bare: keep quoted values as text so
  // that a string such as "5" written by oreo reads back as a string.
  if (quoted) return value;
  if (isFloatToken(value)) return parseFloatStrict(value);
  const b = parseBool(value);
  if (b !== undefined) return b;
  return value;
}

function parseProperties(spec: string, fail: (why: string) => never): Column[] {
  const parts = spec.split(':');
  if (parts.length % 3 !== 0) fail(`Properties '${spec}' is not a list of name:type:count triples`);
  const cols: Column[] = [];
  for (let k = 0; k < parts.length; k += 3) {
    const name = parts[k];
    const type = parts[k + 1].toUpperCase();
    const count = Number(parts[k + 2]);
    if (!['S', 'R', 'I', 'L'].includes(type)) fail(`Properties column '${name}' has unknown type '${parts[k + 1]}'`);
    if (!Number.isInteger(count) || count < 1) fail(`Properties column '${name}' has bad count '${parts[k + 2]}'`);
    if (name === 'pos' && type === 'R' && count !== 3) fail(`Properties column 'pos' must be pos:R:3, found count ${parts[k + 2]}`);
    cols.push({ name, type: type as Column['type'], count });
  }
  return cols;
}

function parsePbc(s: string, fail: (why: string) => never): [boolean, boolean, boolean] {
  const t = s.trim().split(/\s+/);
  if (t.length === 1) {
    const b = parseBool(t[0]);
    if (b === undefined) fail(`pbc '${s}' is not T/F`);
    return [b, b, b];
  }
  if (t.length !== 3) fail(`pbc '${s}' must have 3 T/F entries`);
  const out = t.map((x) => parseBool(x));
  if (out.some((x) => x === undefined)) fail(`pbc '${s}' must have 3 T/F entries`);
  return out as [boolean, boolean, boolean];
}

function speciesToZ(tok: string): number {
  if (/^\d+$/.test(tok)) {
    const z = Number(tok);
    symbolOf(z); // throws for an impossible number
    return z;
  }
  return atomicNumber(tok);
}

/**
 * Parse every frame of an xyz/extxyz text. `file` is used in error messages only. Frames are
 * numbered from 0 in errors ("record"); line numbers are 1-based as in an editor.
 */
export function parseExtxyz(text: string, file: string): ExtxyzFrame[] {
  const frames: ExtxyzFrame[] = [];
  for (const f of iterateExtxyz(text, file)) frames.push(f);
  return frames;
}

/** Options for tolerant reading of multi-frame files. */
export interface ExtxyzReadOptions {
  /** Report a bad frame through `onBad` and continue with the next one, instead of throwing. */
  skipBad?: boolean;
  onBad?: (err: InputError) => void;
}

/** Lines of a text, without their line terminators, produced lazily. */
export function* linesOfText(text: string): Generator<string> {
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}

/**
 * Lines of a file read in fixed-size chunks, so that a trajectory larger than memory (or than
 * the longest string V8 can hold) can be read frame by frame.
 */
export function* linesOfFile(path: string, chunkBytes = 1 << 20): Generator<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(chunkBytes);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, chunkBytes, null);
      if (n === 0) break;
      rest += decoder.write(buf.subarray(0, n));
      let start = 0;
      let nl: number;
      while ((nl = rest.indexOf('\n', start)) >= 0) {
        const line = rest.slice(start, nl);
        start = nl + 1;
        yield line.endsWith('\r') ? line.slice(0, -1) : line;
      }
      rest = rest.slice(start);
    }
    rest += decoder.end();
    if (rest.length) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
  } finally {
    closeSync(fd);
  }
}

/**
 * Frames one by one from a text. With `skipBad`, a frame whose atom lines are malformed is
 * reported and skipped; a broken atom-count line still stops the file, since the frame
 * boundaries after it are unknowable.
 */
export function iterateExtxyz(text: string, file: string, options: ExtxyzReadOptions = {}): Generator<ExtxyzFrame> {
  return iterateExtxyzLines(linesOfText(text), file, options);
}

/** Frames of an xyz/extxyz file, read lazily (memory holds one frame at a time). */
export function iterateExtxyzFile(path: string, options: ExtxyzReadOptions = {}): Generator<ExtxyzFrame> {
  return iterateExtxyzLines(linesOfFile(path), path, options);
}

export function* iterateExtxyzLines(source: Iterable<string>, file: string, options: ExtxyzReadOptions = {}): Generator<ExtxyzFrame> {
  const it = source[Symbol.iterator]();
  let lineNo = 0;
  const nextLine = (): string | undefined => {
    const r = it.next();
    if (r.done) return undefined;
    lineNo++;
    return r.value;
  };
  let record = 0;
  for (;;) {
    let countLine = nextLine();
    while (countLine !== undefined && countLine.trim() === '') countLine = nextLine();
    if (countLine === undefined) return;
    const countLineNo = lineNo;
    const nAtoms = Number(countLine.trim());
    if (!Number.isInteger(nAtoms) || nAtoms < 0) {
      throw new InputError(file, `line ${countLineNo}: expected the atom count of a frame, found '${countLine.trim().slice(0, 60)}'`, record);
    }
    const comment = nextLine();
    if (comment === undefined) {
      throw new InputError(file, `line ${countLineNo}: file ends after the atom count (no comment line)`, record);
    }
    const commentLineNo = lineNo;
    const lines: string[] = [];
    for (let a = 0; a < nAtoms; a++) {
      const l = nextLine();
      if (l === undefined) {
        throw new InputError(file, `file ends inside the frame: expected ${nAtoms} atom lines after line ${commentLineNo}, found ${a}`, record);
      }
      lines.push(l);
    }
    let frame: ExtxyzFrame | undefined;
    try {
      frame = parseFrame(nAtoms, comment, lines, commentLineNo, file, record);
    } catch (err) {
      if (options.skipBad && err instanceof InputError) options.onBad?.(err);
      else throw err;
    }
    if (frame) yield frame;
    record++;
  }
}

function parseFrame(nAtoms: number, comment: string, lines: string[], commentLineNo: number, file: string, record: number): ExtxyzFrame {
  const failAt = (line: number) => (why: string): never => {
    throw new InputError(file, `line ${line}: ${why}`, record);
  };
  const failComment = failAt(commentLineNo);

  const hasKeyValue = /(^|\s)[^\s=]+\s*=/.test(comment);
  const kv = hasKeyValue ? parseCommentLine(comment, failComment) : new Map<string, { value: string; quoted: boolean }>();
  const info: Record<string, InfoValue> = {};
  if (!hasKeyValue && comment.trim() !== '') info.comment = comment.trim();

  let cell: Float64Array | undefined;
  let pbc: [boolean, boolean, boolean] | undefined;
  let properties = DEFAULT_PROPERTIES;
  for (const [key, { value, quoted }] of kv) {
    if (key === 'Lattice') {
      const nums = value.trim().split(/\s+/).map(parseFloatStrict);
      if (nums.length !== 9 || nums.some((x) => !Number.isFinite(x))) failComment(`Lattice must hold 9 numbers, found '${value}'`);
      cell = Float64Array.from(nums);
    } else if (key === 'Properties') {
      properties = value;
    } else if (key === 'pbc') {
      pbc = parsePbc(value, failComment);
    } else {
      info[key] = interpretInfo(value, quoted);
    }
  }
  if (cell && !pbc) pbc = [true, true, true];

  const failProperties = (why: string): never => {
    throw new InputError(file, `line ${commentLineNo}: ${why}`, record, 'Properties');
  };
  const columns = parseProperties(properties, failProperties);
  const nFields = columns.reduce((s, c) => s + c.count, 0);
  const firstCount = nAtoms > 0 ? lines[0].trim().split(/\s+/).filter(Boolean).length : 0;
  // Before any column is allocated: a column cannot hold more values than an atom line has fields
  // (`pos:R:999999999` would otherwise ask for gigabytes per atom).
  if (nAtoms > 0 && nFields > firstCount) {
    failProperties(`Properties '${properties.slice(0, 80)}' declares ${nFields} fields per atom, but atom lines have ${firstCount}`);
  }
  const z = new Int32Array(nAtoms);
  let positions: Float64Array | undefined;
  let haveSpecies = false;
  let zColumn: Int32Array | undefined;
  const arrays: Record<string, Float64Array | Int32Array> = {};
  const storage: (Float64Array | Int32Array | null)[] = columns.map((c) => {
    if (c.name === 'species' && c.type === 'S') {
      haveSpecies = true;
      return null;
    }
    if (c.name === 'pos' && c.type === 'R' && c.count === 3) {
      positions = new Float64Array(nAtoms * 3);
      return positions;
    }
    if (c.type === 'S') return null; // other text columns are not kept
    const arr = c.type === 'R' ? new Float64Array(nAtoms * c.count) : new Int32Array(nAtoms * c.count);
    if (c.name === 'Z' && c.type === 'I' && c.count === 1) zColumn = arr as Int32Array;
    else arrays[c.name] = arr;
    return arr;
  });
  if (!positions) failProperties(`Properties '${properties}' has no pos:R:3 column`);

  for (let a = 0; a < nAtoms; a++) {
    const lineNo = commentLineNo + 1 + a;
    const fail = failAt(lineNo);
    const fields = lines[a].trim().split(/\s+/);
    const nHere = fields[0] === '' ? 0 : fields.length;
    // ASE ignores trailing columns that Properties does not declare (QM9 files carry Mulliken
    // charges there); we accept them only when every atom line has the same count, so that a
    // damaged line is still caught.
    if (nHere < nFields || nHere !== firstCount) {
      const expected = firstCount > nFields ? `${firstCount} like the frame's first atom line` : `${nFields}`;
      fail(`atom ${a} has ${nHere} fields, expected ${expected} (Properties=${properties})`);
    }
    let f = 0;
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c];
      const dst = storage[c];
      if (col.name === 'species' && col.type === 'S') {
        try {
          z[a] = speciesToZ(fields[f]);
        } catch {
          fail(`atom ${a}: unknown element '${fields[f]}'`);
        }
      } else if (dst) {
        for (let k = 0; k < col.count; k++) {
          const tok = fields[f + k];
          let v: number;
          if (col.type === 'R') {
            v = parseFloatStrict(tok);
            if (Number.isNaN(v) && !isFloatToken(tok)) fail(`atom ${a}, column '${col.name}': '${tok}' is not a number`);
          } else if (col.type === 'I') {
            v = Number(tok);
            if (!Number.isInteger(v)) fail(`atom ${a}, column '${col.name}': '${tok}' is not an integer`);
          } else {
            const b = parseBool(tok);
            if (b === undefined) fail(`atom ${a}, column '${col.name}': '${tok}' is not T/F`);
            v = b ? 1 : 0;
          }
          dst[a * col.count + k] = v;
        }
      }
      f += col.count;
    }
  }
  if (!haveSpecies) {
    if (!zColumn) failProperties(`Properties '${properties}' has neither species:S:1 nor Z:I:1`);
    z.set(zColumn!);
  } else if (zColumn) {
    arrays.Z = zColumn;
  }

  const frame: ExtxyzFrame = { z, positions: positions!, info, arrays };
  if (cell) frame.cell = cell;
  if (pbc) frame.pbc = pbc;
  return frame;
}

/** Read all frames of an xyz/extxyz file. */
export function readExtxyzFile(path: string, options: ExtxyzReadOptions = {}): ExtxyzFrame[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(path, `cannot read file: ${(err as Error).message}`);
  }
  return [...iterateExtxyz(text, path, options)];
}

// ---------------------------------------------------------------------------------------------
// Conversion to Conformation
// ---------------------------------------------------------------------------------------------

export interface FrameUnits {
  /** Unit of the energy key and of forces' numerator: a key of units.energyUnits. Default eV. */
  energyUnit?: string;
  /** Unit of positions, cell and forces' denominator: a key of units.lengthUnits. Default Å. */
  lengthUnit?: string;
  /** Info key holding the energy; default: `energy`, else any case variant (MD22 writes `Energy`). */
  energyKey?: string;
  /** Per-atom array holding forces; default `forces` (or `force`). */
  forcesKey?: string;
  /** Set when the file stores gradients (+∇E) under the forces key: they are negated. */
  forcesAreGradients?: boolean;
  kind?: ConformationKind;
}

export function unitFactor(table: Record<string, number>, name: string | undefined, what: string, file: string): number {
  if (name === undefined) return 1;
  const f = table[name];
  if (f === undefined) throw new InputError(file, `unknown ${what} unit '${name}' (known: ${Object.keys(table).join(', ')})`);
  return f;
}

function findEnergyKey(info: Record<string, InfoValue>, key?: string): string | undefined {
  if (key !== undefined) return key in info ? key : undefined;
  if (typeof info.energy === 'number') return 'energy';
  return Object.keys(info).find((k) => k.toLowerCase() === 'energy' && typeof info[k] === 'number');
}

/** Info keys a file may use to state the unit of its energies (QM9 extxyz files write `units=Hartree`). */
const ENERGY_UNIT_KEYS = ['units', 'energy_units', 'energy_unit'];

/**
 * The energy unit a frame states for itself, if any: a name of units.energyUnits, matched
 * without regard to case; an unknown name is an error, never a silent eV.
 */
export function statedEnergyUnit(frame: ExtxyzFrame, file: string, index: number): { name: string; key: string; factor: number } | undefined {
  for (const key of ENERGY_UNIT_KEYS) {
    const v = frame.info[key];
    if (v === undefined) continue;
    const text = String(v).trim();
    const name = Object.keys(energyUnits).find((u) => u.toLowerCase() === text.toLowerCase());
    if (!name) throw new InputError(file, `unknown energy unit '${text}' (known: ${Object.keys(energyUnits).join(', ')})`, index, key);
    return { name, key, factor: energyUnits[name] };
  }
  return undefined;
}

/**
 * One frame as a Conformation in Å / eV / eV/Å. The energy is in `units.energyUnit`, else in
 * the unit the frame states (`units=Hartree`), else eV. Other numeric info values become `props`
 * (unconverted here: src/data/read.ts converts QM9's energy-like ones).
 */
export function frameToConformation(frame: ExtxyzFrame, source: string, index: number, units: FrameUnits = {}): Conformation {
  const stated = statedEnergyUnit(frame, source, index);
  if (stated && units.energyUnit !== undefined && energyUnits[units.energyUnit] !== energyUnits[stated.name]) {
    throw new InputError(source, `the frame says units=${stated.name}, but energy unit '${units.energyUnit}' was asked for`, index, stated.key);
  }
  const eF = unitFactor(energyUnits, units.energyUnit ?? stated?.name, 'energy', source);
  const lF = unitFactor(lengthUnits, units.lengthUnit, 'length', source);
  const positions = lF === 1 ? Float64Array.from(frame.positions) : frame.positions.map((x) => x * lF);
  const conf: Conformation = { z: Int32Array.from(frame.z), positions, source, index };
  const eKey = findEnergyKey(frame.info, units.energyKey);
  if (units.energyKey !== undefined && eKey === undefined) {
    throw new InputError(source, `no energy key '${units.energyKey}' in the frame`, index, units.energyKey);
  }
  if (eKey !== undefined) {
    const e = frame.info[eKey];
    if (typeof e !== 'number') throw new InputError(source, `energy '${String(e)}' is not a number`, index, eKey);
    conf.energy = e * eF;
  }
  const fKey = units.forcesKey ?? ('forces' in frame.arrays ? 'forces' : 'force' in frame.arrays ? 'force' : undefined);
  if (units.forcesKey !== undefined && !(units.forcesKey in frame.arrays)) {
    throw new InputError(source, `no per-atom column '${units.forcesKey}' in the frame`, index, units.forcesKey);
  }
  if (fKey !== undefined) {
    const f = frame.arrays[fKey];
    if (f.length !== frame.z.length * 3) {
      throw new InputError(source, `forces column must have 3 components per atom`, index, fKey);
    }
    const s = (units.forcesAreGradients ? -1 : 1) * (eF / lF);
    conf.forces = Float64Array.from(f, (x) => x * s);
  }
  if (frame.cell) conf.cell = frame.cell.map((x) => x * lF);
  const props: Record<string, number> = {};
  for (const [k, v] of Object.entries(frame.info)) if (typeof v === 'number' && k !== eKey) props[k] = v;
  if (Object.keys(props).length) conf.props = props;
  // A frame's own `kind` (as `oreo sample` and `oreo data convert` write it) unless the caller says otherwise.
  const own = frame.info.kind;
  if (units.kind) conf.kind = units.kind;
  else if (own === 'equilibrium' || own === 'off-equilibrium') conf.kind = own;
  return conf;
}

/** A Conformation as an ASE-style extxyz frame (eV, Å, eV/Å); props go to the comment line. */
export function conformationToFrame(conf: Conformation, extraInfo: Record<string, InfoValue> = {}): ExtxyzFrame {
  const info: Record<string, InfoValue> = {};
  if (conf.energy !== undefined) info.energy = conf.energy;
  if (conf.props) Object.assign(info, conf.props);
  // Props are in eV inside oreo; saying so keeps a QM9-like file from being read back as Hartree.
  if (conf.props && Object.keys(conf.props).some((k) => QM9_ENERGY_LIKE.has(k))) info.units = 'eV';
  Object.assign(info, extraInfo);
  const arrays: Record<string, Float64Array | Int32Array> = {};
  if (conf.forces) arrays.forces = conf.forces;
  const frame: ExtxyzFrame = { z: conf.z, positions: conf.positions, info, arrays };
  if (conf.cell) {
    frame.cell = conf.cell;
    frame.pbc = [true, true, true];
  } else {
    frame.pbc = [false, false, false];
  }
  return frame;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Shortest text that parses back to the same float64 (JS's own repr), NaN/inf as Python writes them. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  // Keep reals visibly real ("1.0", not "1"), as ASE does, so a reader never takes them for ints.
  return /^-?\d+$/.test(s) ? s + '.0' : s;
}

function needsQuotes(s: string): boolean {
  return s === '' || /[\s="'\\{}]/.test(s) || isFloatToken(s) || parseBool(s) !== undefined;
}

function quote(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

function formatInfoValue(v: InfoValue): string {
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 2 ** 53 && !Object.is(v, -0) ? String(v) : formatFloat(v);
  return needsQuotes(v) ? quote(v) : v;
}

function checkKey(k: string): void {
  if (k === '' || /[\s="]/.test(k)) throw new Error(`extxyz: info key '${k}' cannot be written (empty, or has spaces, '=' or quotes)`);
}

/**
 * One frame as extxyz text (ending in a newline), ready to append to an open trajectory file.
 * Layout follows ASE: `Lattice="…" Properties=species:S:1:pos:R:3:… <info> pbc="…"`.
 * Int32Array per-atom columns are written as I, Float64Array as R.
 */
export function formatExtxyzFrame(frame: ExtxyzFrame): string {
  const n = frame.z.length;
  if (frame.positions.length !== n * 3) throw new Error(`extxyz: ${n} atoms but ${frame.positions.length} position values`);
  const cols: { name: string; data: Float64Array | Int32Array; count: number; real: boolean }[] = [];
  const propParts = ['species:S:1', 'pos:R:3'];
  for (const [name, data] of Object.entries(frame.arrays)) {
    if (name === 'species' || name === 'pos') throw new Error(`extxyz: per-atom column name '${name}' is reserved`);
    checkKey(name);
    if (name.includes(':')) throw new Error(`extxyz: per-atom column name '${name}' cannot contain ':'`);
    const count = n === 0 ? 1 : data.length / n;
    if (!Number.isInteger(count) || count < 1 || (n === 0 && data.length !== 0)) {
      throw new Error(`extxyz: per-atom column '${name}' has ${data.length} values for ${n} atoms`);
    }
    const real = data instanceof Float64Array;
    cols.push({ name, data, count, real });
    propParts.push(`${name}:${real ? 'R' : 'I'}:${count}`);
  }
  const head: string[] = [];
  if (frame.cell) {
    if (frame.cell.length !== 9) throw new Error('extxyz: cell must have 9 numbers (3 rows)');
    head.push(`Lattice="${Array.from(frame.cell, formatFloat).join(' ')}"`);
  }
  head.push(`Properties=${propParts.join(':')}`);
  for (const [k, v] of Object.entries(frame.info)) {
    if (k === 'Lattice' || k === 'Properties' || k === 'pbc') throw new Error(`extxyz: info key '${k}' is reserved`);
    checkKey(k);
    head.push(`${k}=${formatInfoValue(v)}`);
  }
  if (frame.pbc) head.push(`pbc="${frame.pbc.map((b) => (b ? 'T' : 'F')).join(' ')}"`);

  const out: string[] = [String(n), head.join(' ')];
  for (let a = 0; a < n; a++) {
    let line = symbolOf(frame.z[a]).padEnd(2);
    for (let k = 0; k < 3; k++) line += ' ' + formatFloat(frame.positions[a * 3 + k]).padStart(24);
    for (const c of cols) {
      for (let k = 0; k < c.count; k++) {
        const v = c.data[a * c.count + k];
        line += ' ' + (c.real ? formatFloat(v).padStart(24) : String(v).padStart(8));
      }
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}
