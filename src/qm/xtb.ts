/**
 * GFN-xTB through the `xtb` program (Grimme group; Debian package `xtb`) as a reference
 * calculator. Each call runs `xtb input.xyz --grad` in a fresh scratch directory, reads the
 * Turbomole-style `gradient` file it writes (energy in Hartree, coordinates and gradient in
 * Hartree/Bohr) and returns energy in eV and forces (−gradient) in eV/Å. The directory is removed
 * afterwards, and `--norestart` keeps a stale wavefunction from ever being picked up.
 *
 * GFN1/GFN2-xTB are parametrised for H–Rn (Z 1–86); anything heavier is refused before xtb
 * runs (xtb 6.5 crashes on it rather than saying so).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { symbolOf } from '../elements.js';
import { OreoError } from '../errors.js';
import type { EnergyForces } from '../calculator.js';
import { Bohr, Hartree } from '../units.js';
import type { OptimizeOptions, OptimizeResult, ReferenceCalculator, ReferenceDescription } from './reference.js';
import {
  logTail,
  type ProgramCall,
  type ProgramResult,
  runProgram,
  runProgramSync,
  withScratchDir,
  withScratchDirAsync,
} from './subprocess.js';

export type XtbMethod = 'gfn2' | 'gfn1';

export interface XtbOptions {
  /** The xtb executable: a name on PATH or a path. Default: $OREO_XTB, else "xtb". */
  binary?: string;
  /** Parametrisation: GFN2-xTB (default) or GFN1-xTB. */
  method?: XtbMethod;
  /** Total molecular charge, e (default 0). */
  charge?: number;
  /** Number of unpaired electrons (default 0: closed shell). */
  unpaired?: number;
  /** xtb's SCC accuracy factor (`--acc`; lower is tighter; xtb's default 1). */
  accuracy?: number;
  /** Electronic (Fermi smearing) temperature, K (xtb's default 300). */
  electronicTemperature?: number;
  /** SCC iteration limit (xtb's default 250). */
  maxIterations?: number;
  /** Implicit solvent for xtb's ALPB model, e.g. "water"; default none (gas phase). */
  solvent?: string;
  /** OpenMP threads per xtb process (default 1: oreo parallelises over processes instead). */
  threads?: number;
  /** Wall-clock limit per call, s (default 600). */
  timeoutSeconds?: number;
  /**
   * OpenBLAS kernel set (OPENBLAS_CORETYPE, e.g. "Haswell"). xtb's numbers depend on it in the
   * last bits, and OpenBLAS picks it by CPU model unless told: pinning it makes results identical
   * on every CPU that can run that kernel set (docs/corpus.md). Default: OpenBLAS's own choice.
   */
  blasCore?: string;
}

const METHOD_NAMES: Record<XtbMethod, string> = { gfn2: 'GFN2-xTB', gfn1: 'GFN1-xTB' };
/** Heaviest element with GFN1/GFN2 parameters (Rn). */
const MAX_Z = 86;
const INSTALL_HINT = 'Install it (Debian/Ubuntu: apt-get install xtb), or give its path with --xtb PATH or the OREO_XTB environment variable.';
const LOG = 'xtb.log';

/** Energy (Hartree), and coordinates and gradient (Hartree/Bohr) from xtb's `gradient` file. */
export interface XtbGradientFile {
  energyHartree: number;
  coordinatesBohr: Float64Array;
  gradientHartreePerBohr: Float64Array;
}

function fortranNumber(s: string): number {
  return Number(s.replace(/[dD]/, 'e'));
}

/**
 * Parse a Turbomole `gradient` file as xtb writes it:
 * `$grad`, a `cycle = 1  SCF energy = E  |dE/dxyz| = g` line, N lines `x y z symbol` (Bohr),
 * N lines `gx gy gz` (Hartree/Bohr), `$end`. With several cycles, the last one is taken.
 */
export function parseXtbGradient(text: string, atomCount: number, file = 'gradient'): XtbGradientFile {
  const lines = text.split('\n');
  let start = -1;
  for (let i = 0; i < lines.length; i++) if (/^\s*cycle\s*=/.test(lines[i])) start = i;
  if (start < 0) throw new OreoError(`xtb: ${file} has no 'cycle =' line; is it a gradient file?`);
  const m = /SCF energy\s*=\s*(\S+)/.exec(lines[start]);
  const energyHartree = m ? fortranNumber(m[1]) : NaN;
  if (!Number.isFinite(energyHartree)) throw new OreoError(`xtb: ${file}: no readable 'SCF energy' in '${lines[start].trim()}'`);
  const coordinatesBohr = new Float64Array(atomCount * 3);
  const gradientHartreePerBohr = new Float64Array(atomCount * 3);
  const readRows = (first: number, out: Float64Array, what: string, minTokens: number) => {
    for (let a = 0; a < atomCount; a++) {
      const line = lines[first + a];
      const t = line?.trim().split(/\s+/) ?? [];
      if (line === undefined || t.length < minTokens || line.includes('$')) {
        throw new OreoError(`xtb: ${file}: expected ${atomCount} ${what} lines, line ${first + a + 1} is '${(line ?? '<end of file>').trim()}'`);
      }
      for (let k = 0; k < 3; k++) {
        const v = fortranNumber(t[k]);
        if (!Number.isFinite(v)) throw new OreoError(`xtb: ${file}: line ${first + a + 1}: '${t[k]}' is not a number`);
        out[3 * a + k] = v;
      }
    }
  };
  readRows(start + 1, coordinatesBohr, 'coordinate', 4);
  readRows(start + 1 + atomCount, gradientHartreePerBohr, 'gradient', 3);
  const after = lines[start + 1 + 2 * atomCount]?.trim();
  if (after !== '$end' && !/^\s*cycle\s*=/.test(after ?? '')) {
    throw new OreoError(`xtb: ${file}: more lines than the ${atomCount} atoms of the input (found '${after}' where '$end' belongs)`);
  }
  return { energyHartree, coordinatesBohr, gradientHartreePerBohr };
}

/**
 * Parse xtb's `hessian` file: `$hessian`, then the 3N×3N matrix row by row (each row wrapped over
 * several lines), Hartree/Bohr². Returns eV/Å², symmetrised (the numerical Hessian is symmetric
 * only to its finite-difference error).
 */
export function parseXtbHessian(text: string, atomCount: number, file = 'hessian'): Float64Array {
  const start = text.indexOf('$hessian');
  if (start < 0) throw new OreoError(`xtb: ${file} has no '$hessian' block`);
  const body = text.slice(start + '$hessian'.length).split('$')[0];
  const values = body.trim().split(/\s+/).filter(Boolean).map(fortranNumber);
  const n = 3 * atomCount;
  if (values.length !== n * n) throw new OreoError(`xtb: ${file} holds ${values.length} numbers, a ${n}×${n} Hessian needs ${n * n}`);
  const f = Hartree / (Bohr * Bohr);
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (values[i * n + j] + values[j * n + i]) * f;
      if (!Number.isFinite(v)) throw new OreoError(`xtb: ${file}: element (${i}, ${j}) is not a number`);
      h[i * n + j] = v;
    }
  }
  return h;
}

/** xyz text in Å with fixed 12 decimals: no exponents for Fortran to misread, 1e-12 Å resolution. */
function xyzText(z: Int32Array, positions: Float64Array, comment: string): string {
  const out = [String(z.length), comment];
  for (let a = 0; a < z.length; a++) {
    out.push(`${symbolOf(z[a]).padEnd(2)} ${positions[3 * a].toFixed(12)} ${positions[3 * a + 1].toFixed(12)} ${positions[3 * a + 2].toFixed(12)}`);
  }
  return out.join('\n') + '\n';
}

/** Lines in xtb's output that explain an error ("-1- scf: …", "[ERROR] …"). */
function xtbErrorLines(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^-\d+-\s/.test(l) || /\[ERROR\]/i.test(l) || /^#+\s*ERROR/i.test(l));
}

const versionCache = new Map<string, string>();

/** `xtb --version` of a binary, e.g. "6.5.1"; cached per binary. */
export function xtbVersion(binary: string): string {
  const cached = versionCache.get(binary);
  if (cached) return cached;
  const res = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new OreoError(`xtb: program '${binary}' not found. ${INSTALL_HINT}`);
    throw new OreoError(`xtb: cannot run '${binary} --version': ${res.error.message}`);
  }
  const m = /xtb version\s+(\S+)/.exec(`${res.stdout}\n${res.stderr}`);
  if (!m) throw new OreoError(`xtb: '${binary} --version' did not print an xtb version; is '${binary}' the xtb program?`);
  versionCache.set(binary, m[1]);
  return m[1];
}

export class XtbCalculator implements ReferenceCalculator {
  readonly name: string;
  readonly binary: string;
  readonly method: XtbMethod;
  readonly charge: number;
  readonly unpaired: number;
  readonly accuracy: number;
  readonly electronicTemperature: number;
  readonly maxIterations: number;
  readonly solvent?: string;
  readonly threads: number;
  readonly timeoutSeconds: number;
  readonly blasCore?: string;

  constructor(options: XtbOptions = {}) {
    this.binary = options.binary ?? process.env.OREO_XTB ?? 'xtb';
    this.method = options.method ?? 'gfn2';
    if (!(this.method in METHOD_NAMES)) {
      throw new OreoError(`xtb: unknown method '${String(this.method)}' (known: ${Object.keys(METHOD_NAMES).join(', ')})`);
    }
    this.charge = options.charge ?? 0;
    this.unpaired = options.unpaired ?? 0;
    this.accuracy = options.accuracy ?? 1;
    this.electronicTemperature = options.electronicTemperature ?? 300;
    this.maxIterations = options.maxIterations ?? 250;
    this.solvent = options.solvent;
    this.threads = options.threads ?? 1;
    this.timeoutSeconds = options.timeoutSeconds ?? 600;
    this.blasCore = options.blasCore || undefined;
    if (this.blasCore !== undefined && !/^[A-Za-z0-9_]+$/.test(this.blasCore)) {
      throw new OreoError(`xtb: OpenBLAS core type '${this.blasCore}' is not a plain name (e.g. Haswell, SkylakeX, Zen)`);
    }
    const check = (what: string, v: number, ok: boolean) => {
      if (!ok) throw new OreoError(`xtb: ${what} ${v} is not allowed`);
    };
    check('charge', this.charge, Number.isInteger(this.charge));
    check('number of unpaired electrons', this.unpaired, Number.isInteger(this.unpaired) && this.unpaired >= 0);
    check('accuracy', this.accuracy, this.accuracy >= 1e-4 && this.accuracy <= 1000);
    check('electronic temperature (K)', this.electronicTemperature, this.electronicTemperature > 0 && Number.isFinite(this.electronicTemperature));
    check('SCC iteration limit', this.maxIterations, Number.isInteger(this.maxIterations) && this.maxIterations >= 1);
    check('thread count', this.threads, Number.isInteger(this.threads) && this.threads >= 1);
    check('time limit (s)', this.timeoutSeconds, this.timeoutSeconds > 0);
    if (this.solvent !== undefined && !/^[A-Za-z0-9_-]+$/.test(this.solvent)) {
      throw new OreoError(`xtb: solvent name '${this.solvent}' is not a plain word (e.g. water, methanol)`);
    }
    this.name = `xtb ${METHOD_NAMES[this.method]}${this.solvent ? ` (ALPB ${this.solvent})` : ''}`;
  }

  checkElements(z: Int32Array): void {
    const bad = new Set<number>();
    for (const zi of z) if (!(Number.isInteger(zi) && zi >= 1 && zi <= MAX_Z)) bad.add(zi);
    if (bad.size) {
      const names = [...bad].map((zi) => {
        try {
          return `${symbolOf(zi)} (Z=${zi})`;
        } catch {
          return `Z=${zi}`;
        }
      });
      throw new OreoError(`${METHOD_NAMES[this.method]} has no parameters for ${names.join(', ')}; it covers H to Rn (Z 1–86)`);
    }
  }

  private checkStructure(z: Int32Array, positions: Float64Array): void {
    if (z.length === 0) throw new OreoError('xtb: a structure with no atoms cannot be computed');
    if (positions.length !== 3 * z.length) {
      throw new OreoError(`xtb: ${z.length} atoms but ${positions.length} position values (expected ${3 * z.length})`);
    }
    for (let i = 0; i < positions.length; i++) {
      if (!Number.isFinite(positions[i])) throw new OreoError(`xtb: position of atom ${Math.floor(i / 3)} is not finite (${positions[i]})`);
    }
    this.checkElements(z);
    let electrons = -this.charge;
    for (const zi of z) electrons += zi;
    if (electrons < 0) throw new OreoError(`xtb: charge ${this.charge} leaves a negative number of electrons`);
    // Core shells hold even numbers of electrons, so the parity of all electrons is that of
    // the valence electrons xtb counts.
    if ((electrons - this.unpaired) % 2 !== 0) {
      throw new OreoError(
        `xtb: ${electrons} electrons with ${this.unpaired} unpaired is impossible (charge ${this.charge}); ` +
          `set the charge or the number of unpaired electrons (--charge, --uhf) to match the molecule`,
      );
    }
  }

  private commonArgs(): string[] {
    const args = [
      '--gfn', this.method === 'gfn2' ? '2' : '1',
      '--chrg', String(this.charge),
      '--uhf', String(this.unpaired),
      '--acc', String(this.accuracy),
      '--etemp', String(this.electronicTemperature),
      '--norestart',
      '--input', 'xcontrol',
    ];
    if (this.solvent) args.push('--alpb', this.solvent);
    return args;
  }

  private call(dir: string, args: string[]): ProgramCall {
    const threads = String(this.threads);
    return {
      program: this.binary,
      args,
      cwd: dir,
      env: {
        ...process.env,
        OMP_NUM_THREADS: threads,
        MKL_NUM_THREADS: threads,
        OPENBLAS_NUM_THREADS: threads,
        ...(this.blasCore ? { OPENBLAS_CORETYPE: this.blasCore } : {}),
        // xtb's own advice for large molecules: OpenMP threads need more stack than the default.
        OMP_STACKSIZE: process.env.OMP_STACKSIZE ?? '1G',
      },
      timeoutMs: this.timeoutSeconds * 1000,
      logFile: LOG,
      label: 'xtb',
      installHint: INSTALL_HINT,
    };
  }

  private prepare(dir: string, z: Int32Array, positions: Float64Array, xcontrol: string): void {
    writeFileSync(join(dir, 'input.xyz'), xyzText(z, positions, 'oreo'));
    writeFileSync(join(dir, 'xcontrol'), `$scc\n   maxiterations=${this.maxIterations}\n${xcontrol}$end\n`);
  }

  /** Turn a failed run into an error that says what xtb said. */
  private failure(dir: string, res: ProgramResult, z: Int32Array): OreoError {
    const tail = logTail(dir, LOG, 400);
    const errors = xtbErrorLines(tail);
    const what = `${METHOD_NAMES[this.method]} on ${z.length} atoms`;
    if (errors.some((l) => /did not converge|not converged/i.test(l) && /scf|self.consistent|scc/i.test(l))) {
      return new OreoError(
        `xtb: the SCF did not converge within ${this.maxIterations} iterations (${what}). A badly distorted geometry or a ` +
          `wrong charge/spin (--charge, --uhf) is the usual cause; a higher electronic temperature (--etemp) or iteration limit can help`,
      );
    }
    if (res.signal) {
      return new OreoError(
        `xtb was killed by ${res.signal} (${what})` +
          (res.signal === 'SIGSEGV' ? '; for large molecules raise the stack limit (ulimit -s unlimited) or OMP_STACKSIZE' : '') +
          (errors.length ? `: ${errors.join('; ')}` : ''),
      );
    }
    const detail = errors.length ? errors.join('; ') : tail.split('\n').slice(-8).join('\n');
    return new OreoError(`xtb failed with exit code ${res.status} (${what}): ${detail}`);
  }

  private readResult(dir: string, z: Int32Array, positions: Float64Array): EnergyForces {
    let text: string;
    try {
      text = readFileSync(join(dir, 'gradient'), 'utf8');
    } catch {
      throw new OreoError(`xtb finished but wrote no gradient file; its output ended with:\n${logTail(dir, LOG, 8)}`);
    }
    const g = parseXtbGradient(text, z.length);
    // The coordinates echo ours: a mismatch means the file belongs to some other structure.
    for (let i = 0; i < positions.length; i++) {
      if (Math.abs(g.coordinatesBohr[i] * Bohr - positions[i]) > 1e-4) {
        throw new OreoError(`xtb: the gradient file's coordinates do not match the input (atom ${Math.floor(i / 3)}); refusing to use it`);
      }
    }
    const forces = new Float64Array(positions.length);
    const f = -Hartree / Bohr;
    for (let i = 0; i < forces.length; i++) forces[i] = f * g.gradientHartreePerBohr[i];
    return { energy: g.energyHartree * Hartree, forces };
  }

  compute(z: Int32Array, positions: Float64Array): EnergyForces {
    this.checkStructure(z, positions);
    return withScratchDir('oreo-xtb-', (dir) => {
      this.prepare(dir, z, positions, '');
      const res = runProgramSync(this.call(dir, ['input.xyz', '--grad', ...this.commonArgs()]));
      if (res.status !== 0) throw this.failure(dir, res, z);
      return this.readResult(dir, z, positions);
    });
  }

  computeAsync(z: Int32Array, positions: Float64Array): Promise<EnergyForces> {
    try {
      this.checkStructure(z, positions);
    } catch (err) {
      return Promise.reject(err);
    }
    return withScratchDirAsync('oreo-xtb-', async (dir) => {
      this.prepare(dir, z, positions, '');
      const res = await runProgram(this.call(dir, ['input.xyz', '--grad', ...this.commonArgs()]));
      if (res.status !== 0) throw this.failure(dir, res, z);
      return this.readResult(dir, z, positions);
    });
  }

  /**
   * Relax with xtb's ANCopt. A run that hits the cycle limit is not an error (a partly relaxed
   * structure is what MD starting points need); `converged` says which it was.
   */
  optimize(z: Int32Array, positions: Float64Array, options: OptimizeOptions = {}): OptimizeResult {
    this.checkStructure(z, positions);
    const level = options.level ?? 'normal';
    const levels = ['crude', 'sloppy', 'loose', 'lax', 'normal', 'tight', 'vtight', 'extreme'];
    if (!levels.includes(level)) throw new OreoError(`xtb: unknown optimisation level '${level}' (known: ${levels.join(', ')})`);
    const maxCycles = options.maxCycles;
    if (maxCycles !== undefined && !(Number.isInteger(maxCycles) && maxCycles >= 1)) {
      throw new OreoError(`xtb: optimisation cycle limit must be a positive integer, got ${maxCycles}`);
    }
    return withScratchDir('oreo-xtb-opt-', (dir) => {
      this.prepare(dir, z, positions, maxCycles !== undefined ? `$opt\n   maxcycle=${maxCycles}\n` : '');
      const res = runProgramSync(this.call(dir, ['input.xyz', '--opt', level, ...this.commonArgs()]));
      if (res.status !== 0) throw this.failure(dir, res, z);
      let text: string;
      try {
        text = readFileSync(join(dir, 'xtbopt.xyz'), 'utf8');
      } catch {
        throw new OreoError(`xtb optimisation wrote no xtbopt.xyz; its output ended with:\n${logTail(dir, LOG, 8)}`);
      }
      const lines = text.split('\n');
      const em = /energy:\s*(\S+)/.exec(lines[1] ?? '');
      const energy = em ? fortranNumber(em[1]) * Hartree : NaN;
      const out = new Float64Array(positions.length);
      for (let a = 0; a < z.length; a++) {
        const t = (lines[2 + a] ?? '').trim().split(/\s+/);
        for (let k = 0; k < 3; k++) out[3 * a + k] = fortranNumber(t[k + 1] ?? '');
      }
      if (!Number.isFinite(energy) || !out.every(Number.isFinite)) {
        throw new OreoError('xtb: could not read the optimised structure (xtbopt.xyz is malformed)');
      }
      const log = logTail(dir, LOG, 100000);
      const done = /GEOMETRY OPTIMIZATION CONVERGED AFTER\s+(\d+)/.exec(log);
      const failed = /FAILED TO CONVERGE GEOMETRY OPTIMIZATION IN\s+(\d+)/.exec(log);
      return { positions: out, energy, converged: !!done && !failed, cycles: Number((done ?? failed)?.[1] ?? NaN) };
    });
  }

  /**
   * The Cartesian Hessian (second derivatives of the energy) from xtb's own `--hess`: numerical
   * differentiation of analytic gradients, written to the Turbomole-style `hessian` file in
   * Hartree/Bohr². Returned as a flat row-major 3N×3N matrix in eV/Å², unprojected (translations
   * and rotations are left in; normal-mode code projects them out). Meaningful at a stationary
   * point: relax first.
   */
  hessian(z: Int32Array, positions: Float64Array): Float64Array {
    this.checkStructure(z, positions);
    return withScratchDir('oreo-xtb-hess-', (dir) => {
      this.prepare(dir, z, positions, '');
      const res = runProgramSync(this.call(dir, ['input.xyz', '--hess', ...this.commonArgs()]));
      if (res.status !== 0) throw this.failure(dir, res, z);
      let text: string;
      try {
        text = readFileSync(join(dir, 'hessian'), 'utf8');
      } catch {
        throw new OreoError(`xtb --hess wrote no hessian file; its output ended with:\n${logTail(dir, LOG, 8)}`);
      }
      return parseXtbHessian(text, z.length);
    });
  }

  describe(): ReferenceDescription {
    const settings: Record<string, string | number> = {
      charge: this.charge,
      unpaired: this.unpaired,
      accuracy: this.accuracy,
      electronicTemperatureK: this.electronicTemperature,
      maxIterations: this.maxIterations,
    };
    if (this.solvent) settings.solvent = `ALPB ${this.solvent}`;
    if (this.blasCore) settings.openblasCore = this.blasCore;
    return { program: 'xtb', version: xtbVersion(this.binary), method: METHOD_NAMES[this.method], settings };
  }
}
