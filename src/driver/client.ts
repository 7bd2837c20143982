/**
 * The driver loop: connect to an i-PI protocol server (ASE's SocketIOCalculator, i-PI),
 * then answer its messages until it says EXIT or goes away. Energies and forces come from any
 * MD Calculator (oreo's ET through its fast path in `oreo driver`), in eV and Å; ipi-protocol.ts
 * converts at the wire.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Calculator } from '../calculator.js';
import { OreoError } from '../errors.js';
import {
  HEADER_BYTES,
  ProtocolError,
  cellFromWire,
  decodeHeader,
  encodeForceReady,
  encodeHeader,
  imageWithinCutoff,
  isolatedVirial,
  positionsFromWire,
  readDoubles,
  readInt32,
  readMatrix,
  type ForceReply,
} from './ipi-protocol.js';
import { SocketClosedError, SocketReader } from './socket-reader.js';

/** Where the server listens. */
export type DriverAddress = { unix: string } | { host: string; port: number };

/**
 * ASE and i-PI put a unix socket named NAME at /tmp/ipi_NAME (and i-PI's clients, LAMMPS fix ipi
 * among them, look for it there); a name with a slash in it is taken as the socket's path itself,
 * for servers that put it elsewhere.
 */
export function unixSocketPath(name: string): string {
  return name.includes('/') ? name : `/tmp/ipi_${name}`;
}

export function describeAddress(a: DriverAddress): string {
  return 'unix' in a ? `unix socket ${unixSocketPath(a.unix)}` : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

// Errors that waiting cannot cure; everything else (no socket file yet, nobody listening yet) is
// what a client started before its server sees, so it polls.
const PERMANENT = new Set(['ENOTFOUND', 'EACCES', 'EPERM', 'EINVAL', 'ENOTSOCK', 'ENAMETOOLONG', 'EAFNOSUPPORT']);

const HINTS: Record<string, string> = {
  ENOENT: 'no socket file there: is the server running, with the same socket name?',
  ECONNREFUSED: 'nothing is accepting connections there: is the server running, on that address?',
  ENOTFOUND: 'unknown host name',
  EACCES: 'permission denied',
};

/**
 * Connect, retrying every `pollMs` for up to `timeoutSeconds`, since a driver is usually started
 * beside its server and either may come up first.
 */
export async function connectToServer(address: DriverAddress, options: { timeoutSeconds: number; pollMs?: number }): Promise<Socket> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const pollMs = options.pollMs ?? 200;
  for (;;) {
    try {
      return await attempt(address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      const last = Date.now() + pollMs > deadline;
      if (PERMANENT.has(code) || last) {
        const why = HINTS[code] ? `${code}: ${HINTS[code]}` : (err as Error).message;
        const waited = PERMANENT.has(code) ? '' : ` within ${options.timeoutSeconds} s (raise --connect-timeout to wait longer)`;
        throw new OreoError(`could not connect to the i-PI server at ${describeAddress(address)}${waited}: ${why}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}

function attempt(address: DriverAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'unix' in address ? netConnect({ path: unixSocketPath(address.unix) }) : netConnect({ host: address.host, port: address.port });
    const onError = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      // Messages are small and strictly request/answer: Nagle's delay would add to every step.
      if (!('unix' in address)) socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

export interface ServeOptions {
  calculator: Calculator;
  /** Atomic numbers, in the order the server sends positions. */
  z: Int32Array;
  /** What the atoms' elements came from, for messages ("aspirin.npz:0"). */
  structureLabel: string;
  /** The model's cutoff, Å: periodic images closer than this would have interacted. */
  cutoff: number;
  /** One-time warnings and progress lines (stderr in the CLI). */
  log: (line: string) => void;
  /** A progress line at most this often, seconds; 0 for none (default 10). */
  progressSeconds?: number;
  now?: () => number;
}

export interface ServeResult {
  /** Force evaluations answered (GETFORCE → FORCEREADY). */
  steps: number;
  seconds: number;
  /** How the session ended: the server said EXIT, or it closed the connection at a message boundary. */
  ending: 'exit' | 'closed';
}

/**
 * Answer the server until EXIT or a clean close; returns what was served. Throws an OreoError for
 * a protocol violation, a wrong atom count, or the server leaving in the middle of an exchange.
 * The socket is destroyed before returning or throwing.
 */
export async function serve(socket: Socket, o: ServeOptions): Promise<ServeResult> {
  const reader = new SocketReader(socket);
  const now = o.now ?? (() => performance.now());
  const progressMs = (o.progressSeconds ?? 10) * 1000;
  const started = now();
  let lastReport = { t: started, steps: 0 };
  let steps = 0;
  let result: ForceReply | null = null;
  let warnedImages = false;
  // Which message we were in when the server left: an EOF between messages is a normal end.
  let inMessage: string | null = null;

  const send = (buf: Buffer) =>
    new Promise<void>((resolve, reject) => {
      socket.write(buf, (err?: NodeJS.ErrnoException | null) => {
        if (!err) resolve();
        else reject(err.code === 'EPIPE' || err.code === 'ECONNRESET' ? new SocketClosedError(0, err.code) : err);
      });
    });
  const read = (n: number) => reader.read(n);

  try {
    for (;;) {
      inMessage = null;
      const header = decodeHeader(await read(HEADER_BYTES));
      inMessage = header;
      switch (header) {
        case 'STATUS':
          // This driver needs no INIT, so it is READY from the start (NEEDINIT would make i-PI and
          // ASE send one first); HAVEDATA once forces wait for GETFORCE.
          await send(encodeHeader(result ? 'HAVEDATA' : 'READY'));
          break;
        case 'INIT': {
          // Bead (replica) index and an init string, which a force field has no use for.
          await read(4);
          const length = readInt32(await read(4));
          if (length < 0) throw new ProtocolError(`INIT: negative init-string length ${length}`);
          await read(length);
          break;
        }
        case 'POSDATA': {
          const h = readMatrix(await read(72));
          await read(72); // the inverse cell: nothing here needs it
          const natoms = readInt32(await read(4));
          if (natoms !== o.z.length) {
            throw new OreoError(
              `the server sent positions of ${natoms} atoms, but --structure ${o.structureLabel} has ${o.z.length}: ` +
                'i-PI sends no elements, so the structure file must list the same atoms in the same order',
            );
          }
          const positions = positionsFromWire(readDoubles(await read(24 * natoms), 3 * natoms));
          const cell = cellFromWire(h);
          if (!warnedImages) {
            const d = imageWithinCutoff(positions, cell, o.cutoff);
            if (d !== undefined) {
              warnedImages = true;
              o.log(
                `oreo driver: warning: the server's cell puts periodic images ${d.toFixed(2)} Å from the molecule, within the model's ` +
                  `${o.cutoff} Å cutoff; oreo's ET is non-periodic and computes the isolated molecule (images ignored), with its virial`,
              );
            }
          }
          const ef = o.calculator.compute(o.z, positions);
          result = { energy: ef.energy, forces: ef.forces, virial: isolatedVirial(positions, ef.forces) };
          break;
        }
        case 'GETFORCE':
          if (!result) throw new ProtocolError('GETFORCE before any POSDATA: no forces to send');
          await send(encodeForceReady(result));
          result = null;
          steps++;
          if (progressMs > 0 && now() - lastReport.t >= progressMs) {
            const t = now();
            const rate = (steps - lastReport.steps) / ((t - lastReport.t) / 1000);
            o.log(`oreo driver: ${steps} steps served, ${rate.toFixed(1)} steps/s`);
            lastReport = { t, steps };
          }
          break;
        case 'EXIT':
          return { steps, seconds: (now() - started) / 1000, ending: 'exit' };
        default:
          throw new ProtocolError(
            `unexpected message '${header.replace(/[^\x20-\x7e]/g, '?')}' from the server (expected STATUS, INIT, POSDATA, GETFORCE or EXIT): is it an i-PI server?`,
          );
      }
    }
  } catch (err) {
    if (!(err instanceof SocketClosedError)) throw err;
    const how = err.code ? `reset the connection (${err.code})` : 'closed the connection';
    if (inMessage === null && err.partial === 0 && result === null) {
      return { steps, seconds: (now() - started) / 1000, ending: 'closed' };
    }
    if (inMessage === null && result === null) {
      throw new OreoError(`the server ${how} in the middle of a message header, after ${steps} steps`);
    }
    if (inMessage === null) {
      throw new OreoError(`the server ${how} after sending positions, without asking for their forces (after ${steps} steps)`);
    }
    throw new OreoError(`the server ${how} in the middle of its ${inMessage} message, after ${steps} steps`);
  } finally {
    socket.destroy();
  }
}
