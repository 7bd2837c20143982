/**
 * The i-PI socket protocol as a force provider ("driver", the client) speaks it: ASE's
 * SocketIOCalculator and i-PI itself are the servers (LAMMPS `fix ipi` is, like oreo, a client
 * of i-PI). Byte layouts and units
 * follow ASE 3.22's ase/calculators/socketio.py (IPIProtocol, whose sendposdata/recvposdata and
 * sendforce/sendrecv_force are the two ends of each message) and i-PI's own drivers.
 *
 * Every message starts with a 12-byte ASCII header padded with spaces. Numbers are raw machine
 * words with no length prefix of their own; both ends write native byte order (numpy's tobytes,
 * Fortran's and C's write of a double), which on every platform these codes run on is
 * little-endian, so that is what is written and read here, explicitly.
 *
 * Units on the wire are atomic units (Bohr, Hartree); oreo converts at this edge only, with the
 * CODATA 2014 values of src/units.ts (1 Bohr = 0.52917721067 Å, 1 Ha = 4.35974465e-18 J /
 * 1.6021766208e-19 C = 27.2113860195 eV). ASE derives its Bohr and Hartree from mₑ, e, ε₀ and ħ of
 * the same CODATA set, which gives values 2e-10 (relative) away from these tabulated ones: far
 * below anything a force field resolves, so oreo keeps one set of constants.
 */
import { OreoError } from '../errors.js';
import { Bohr, Hartree } from '../units.js';

export const HEADER_BYTES = 12;

/** Messages the server sends. */
export type ServerMessage = 'STATUS' | 'INIT' | 'POSDATA' | 'GETFORCE' | 'EXIT';
/** Answers to STATUS, and the header of the forces message. */
export type DriverReply = 'READY' | 'HAVEDATA' | 'NEEDINIT' | 'FORCEREADY';

export const SERVER_MESSAGES: readonly ServerMessage[] = ['STATUS', 'INIT', 'POSDATA', 'GETFORCE', 'EXIT'];

/** A violation of the protocol by the other end (or by a peer that is not an i-PI server). */
export class ProtocolError extends OreoError {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeHeader(msg: string): Buffer {
  if (msg.length > HEADER_BYTES || !/^[\x20-\x7e]*$/.test(msg)) throw new Error(`not an i-PI header: '${msg}'`);
  return Buffer.from(msg.padEnd(HEADER_BYTES, ' '), 'ascii');
}

/**
 * The header's word. Trailing spaces are the padding; NULs are stripped too, since a C server
 * that copies a shorter string into a zeroed 12-byte buffer sends those instead.
 */
export function decodeHeader(bytes: Uint8Array): string {
  if (bytes.length !== HEADER_BYTES) throw new Error(`a header is ${HEADER_BYTES} bytes, got ${bytes.length}`);
  return Buffer.from(bytes).toString('latin1').replace(/[ \0]+$/, '');
}

/** 9 doubles, the wire's 3×3 matrix in row-major order, as a Float64Array. */
export function readMatrix(bytes: Uint8Array): Float64Array {
  return readDoubles(bytes, 9);
}

export function readDoubles(bytes: Uint8Array, count: number): Float64Array {
  if (bytes.length !== 8 * count) throw new Error(`${count} doubles are ${8 * count} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

export function readInt32(bytes: Uint8Array): number {
  if (bytes.length !== 4) throw new Error(`an int32 is 4 bytes, got ${bytes.length}`);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}

/**
 * The cell of POSDATA in Å, rows = lattice vectors (ASE's `atoms.cell`). The wire holds i-PI's h
 * matrix, whose columns are the lattice vectors, in row-major order; ASE sends `cell.T / Bohr`
 * and its reader transposes back, so the wire word k·3+j is component k of lattice vector j.
 */
export function cellFromWire(h: Float64Array): Float64Array {
  const cell = new Float64Array(9);
  for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) cell[3 * j + k] = h[3 * k + j] * Bohr;
  return cell;
}

/** The inverse: a cell in Å with lattice vectors as rows, as POSDATA's first 9 doubles. */
export function cellToWire(cell: ArrayLike<number>): Float64Array {
  const h = new Float64Array(9);
  for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) h[3 * k + j] = cell[3 * j + k] / Bohr;
  return h;
}

/** Positions of POSDATA (Bohr, x y z per atom) in Å. Refuses non-finite values. */
export function positionsFromWire(bohr: Float64Array): Float64Array {
  const out = new Float64Array(bohr.length);
  for (let i = 0; i < bohr.length; i++) {
    const v = bohr[i];
    if (!Number.isFinite(v)) throw new ProtocolError(`POSDATA: atom ${Math.floor(i / 3)} has a non-finite coordinate (${v})`);
    out[i] = v * Bohr;
  }
  return out;
}

export interface ForceReply {
  /** Potential energy, eV. */
  energy: number;
  /** Forces, eV/Å, flat x y z per atom. */
  forces: Float64Array;
  /** Virial tensor W (eV) in ASE's convention, row-major, W_ab = Σ_i r_ia F_ib; see isolatedVirial. */
  virial: Float64Array;
}

/**
 * The whole FORCEREADY message: header, energy (Ha), natoms (int32), forces (Ha/Bohr), virial
 * (Ha, 9 doubles), then the extra string's length and bytes.
 *
 * The virial goes out transposed: ASE's sendforce writes `virial.T` and its reader transposes
 * back, because ASE's matrices act on row vectors and i-PI's (r = h·s) on column vectors, so the
 * wire holds i-PI's W_ab = Σ_i F_ia r_ib, row-major. For the symmetric virial of a
 * rotation-invariant model that changes nothing but round-off, which still lands where the reader
 * expects it.
 *
 * The extra string is sent empty (length 0, no bytes). ASE's own client sends one zero byte
 * because a Python 2 recv(0) used to block; the readers that matter now (ASE's server, i-PI,
 * which parses a non-empty one as JSON) read the bytes only when the length is positive.
 */
export function encodeForceReady(r: ForceReply): Buffer {
  const n = r.forces.length / 3;
  if (!Number.isInteger(n)) throw new Error(`forces must be 3 per atom, got ${r.forces.length} numbers`);
  const buf = Buffer.alloc(HEADER_BYTES + 8 + 4 + 24 * n + 72 + 4);
  encodeHeader('FORCEREADY').copy(buf, 0);
  let o = HEADER_BYTES;
  buf.writeDoubleLE(r.energy / Hartree, o);
  o += 8;
  buf.writeInt32LE(n, o);
  o += 4;
  const forceUnit = Bohr / Hartree; // eV/Å → Ha/Bohr
  for (let i = 0; i < 3 * n; i++, o += 8) buf.writeDoubleLE(r.forces[i] * forceUnit, o);
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++, o += 8) buf.writeDoubleLE(r.virial[3 * b + a] / Hartree, o);
  }
  buf.writeInt32LE(0, o);
  return buf;
}

/**
 * The virial of an isolated system in ASE's convention, W_ab = Σ_i r_ia F_ib, in eV.
 *
 * Sign: ASE's client sends `virial = −V·σ` with σ = (1/V) ∂E/∂ε its stress, so W = −∂E/∂ε. ASE
 * strains row vectors, r_b → r_b + Σ_a r_a ε_ab, so ∂E/∂ε_ab = −Σ_i r_ia F_ib and W = +Σ r ⊗ F.
 * i-PI's virial has the same sign (it adds W/V to the kinetic pressure, so repulsion raises the
 * pressure). Positions are taken relative to the centroid, so the result does not depend on where
 * the molecule sits even where the forces' sum is not exactly zero in floating point.
 */
export function isolatedVirial(positions: Float64Array, forces: Float64Array): Float64Array {
  const n = positions.length / 3;
  const c = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) c[k] += positions[3 * i + k] / n;
  const w = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const r = positions[3 * i + a] - c[a];
      for (let b = 0; b < 3; b++) w[3 * a + b] += r * forces[3 * i + b];
    }
  }
  return w;
}

/**
 * The closest approach (Å) of the molecule to one of its periodic images under `cell` (rows =
 * lattice vectors), if some image comes within `cutoff`; otherwise undefined. A zero cell, or a
 * zero lattice vector (no periodicity along it), adds no images.
 *
 * Images n·cell with n in [-2, 2]³ are looked at: that finds the nearest one for any cell that
 * is not extremely skewed. Translations longer than the molecule's diameter plus the cutoff are
 * skipped before the O(N²) pair loop, so a big box costs almost nothing per step.
 */
export function imageWithinCutoff(positions: Float64Array, cell: Float64Array, cutoff: number): number | undefined {
  const n = positions.length / 3;
  if (n === 0) return undefined;
  const live = [0, 1, 2].map((j) => Math.hypot(cell[3 * j], cell[3 * j + 1], cell[3 * j + 2]) > 0);
  if (!live.some(Boolean)) return undefined;
  const c = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) c[k] += positions[3 * i + k] / n;
  let radius = 0;
  for (let i = 0; i < n; i++) {
    radius = Math.max(radius, Math.hypot(positions[3 * i] - c[0], positions[3 * i + 1] - c[1], positions[3 * i + 2] - c[2]));
  }
  let closest = Infinity;
  const range = (j: number) => (live[j] ? [-2, -1, 0, 1, 2] : [0]);
  for (const n0 of range(0)) {
    for (const n1 of range(1)) {
      for (const n2 of range(2)) {
        if (n0 === 0 && n1 === 0 && n2 === 0) continue;
        const t = [0, 1, 2].map((k) => n0 * cell[k] + n1 * cell[3 + k] + n2 * cell[6 + k]);
        const len = Math.hypot(t[0], t[1], t[2]);
        if (len === 0 || len - 2 * radius >= Math.min(cutoff, closest)) continue;
        for (let i = 0; i < n; i++) {
          const xi = positions[3 * i] + t[0];
          const yi = positions[3 * i + 1] + t[1];
          const zi = positions[3 * i + 2] + t[2];
          for (let j = 0; j < n; j++) {
            const d = Math.hypot(xi - positions[3 * j], yi - positions[3 * j + 1], zi - positions[3 * j + 2]);
            if (d < closest) closest = d;
          }
        }
      }
    }
  }
  return closest < cutoff ? closest : undefined;
}
