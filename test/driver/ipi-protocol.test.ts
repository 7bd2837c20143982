// The i-PI driver against a small i-PI server written here on node:net: real sockets, with the
// server's bytes laid out by hand from the protocol (ASE's socketio.py, i-PI's drivers), so that
// the byte layout, the units at the wire and the end-of-session rules are checked from outside
// the client's own encoder.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInet } from '../../src/cli/driver.js';
import { connectToServer, serve, unixSocketPath, type ServeOptions } from '../../src/driver/client.js';
import { cellFromWire, cellToWire, decodeHeader, encodeHeader, imageWithinCutoff, isolatedVirial } from '../../src/driver/ipi-protocol.js';
import { SocketReader } from '../../src/driver/socket-reader.js';
import type { Calculator } from '../../src/calculator.js';
import { Bohr, Hartree } from '../../src/units.js';
import { oreoArgv, runOreo } from '../cli.js';
import { dataDir, repoRoot } from '../paths.js';

// CODATA 2014, written out here so that a wrong constant in src/units.ts cannot cancel itself.
const BOHR_A = 0.52917721067;
const HARTREE_EV = 4.35974465e-18 / 1.6021766208e-19;

/**
 * A toy calculator with a known answer: harmonic bonds between all pairs (translation and
 * rotation invariant), plus a couple on atoms 0 and 1 perpendicular to their bond, which makes the
 * virial asymmetric so that its transpose on the wire shows.
 */
const toy: Calculator = {
  name: 'toy',
  compute(z, r) {
    const n = z.length;
    const k = 2.5;
    const d0 = 1.1;
    let energy = 0;
    const forces = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = [0, 1, 2].map((c) => r[3 * i + c] - r[3 * j + c]);
        const len = Math.hypot(d[0], d[1], d[2]);
        energy += 0.5 * k * (len - d0) ** 2;
        for (let c = 0; c < 3; c++) {
          const f = (-k * (len - d0) * d[c]) / len;
          forces[3 * i + c] += f;
          forces[3 * j + c] -= f;
        }
      }
    }
    forces[2] += 0.3; // +z on atom 0, −z on atom 1: a torque about the bond's normal
    forces[5] -= 0.3;
    return { energy, forces };
  },
};

// Water-like positions, Å, off the origin so that the virial's centroid matters.
const positions = Float64Array.from([0.1, 0.2, 0.3, 1.05, 0.25, 0.32, -0.15, 1.1, 0.28]);
const z = Int32Array.from([8, 1, 1]);

function f64(values: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(8 * values.length);
  for (let i = 0; i < values.length; i++) b.writeDoubleLE(values[i], 8 * i);
  return b;
}
function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}
function doubles(b: Buffer): number[] {
  return Array.from({ length: b.length / 8 }, (_, i) => b.readDoubleLE(8 * i));
}
const header = (s: string) => Buffer.from(s.padEnd(12, ' '), 'ascii');

/** POSDATA as ASE's sendposdata lays it out: cell.T/Bohr, icell.T·Bohr, natoms, positions/Bohr. */
function posdata(r: Float64Array, cellRows: number[] = new Array(9).fill(0)): Buffer {
  const t = (m: number[]) => [0, 1, 2].flatMap((a) => [0, 1, 2].map((b) => m[3 * b + a]));
  return Buffer.concat([header('POSDATA'), f64(t(cellRows).map((x) => x / BOHR_A)), f64(new Array(9).fill(0)), i32(r.length / 3), f64(Array.from(r, (x) => x / BOHR_A))]);
}

interface Session {
  server: Server;
  path: string;
  /** The server's end of the first connection. */
  accepted: Promise<{ socket: Socket; reader: SocketReader }>;
  /** Stop listening and drop every connection, so that a failed test cannot keep the process alive. */
  close(): void;
}

function listen(dir: string, name = 'ipi-test'): Promise<Session> {
  const path = join(dir, name);
  const sockets: Socket[] = [];
  let resolveAccepted: (s: { socket: Socket; reader: SocketReader }) => void;
  const accepted = new Promise<{ socket: Socket; reader: SocketReader }>((r) => (resolveAccepted = r));
  const server = createServer((socket) => {
    sockets.push(socket);
    resolveAccepted({ socket, reader: new SocketReader(socket) });
  });
  const close = () => {
    for (const sk of sockets) sk.destroy();
    server.close();
    open.delete(session);
  };
  const session: Session = { server, path, accepted, close };
  open.add(session);
  return new Promise((resolve) => server.listen(path, () => resolve(session)));
}

// Whatever a test leaves open when an assertion fails mid-conversation is closed after it.
const open = new Set<Session>();
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const s of [...open]) s.close();
  for (const c of children) c.kill();
  children.clear();
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options(extra: Partial<ServeOptions> = {}): ServeOptions & { lines: string[] } {
  const lines: string[] = [];
  return { calculator: toy, z, structureLabel: 'water.xyz:0', cutoff: 5, log: (l) => lines.push(l), progressSeconds: 0, lines, ...extra };
}

test('headers are 12 ASCII bytes padded with spaces; cells go over as i-PI h matrices (lattice vectors as columns)', () => {
  assert.deepEqual([...encodeHeader('READY')], [...Buffer.from('READY       ')]);
  assert.equal(decodeHeader(Buffer.from('GETFORCE    ')), 'GETFORCE');
  assert.equal(decodeHeader(Buffer.from('EXIT\0\0\0\0\0\0\0\0')), 'EXIT');
  assert.throws(() => encodeHeader('TOO-LONG-HEADER'));
  // ASE writes cell.T / Bohr: for rows a=(1,2,3), b=(4,5,6), c=(7,8,9) Å, the wire is the columns.
  const rows = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const wire = Float64Array.from([1, 4, 7, 2, 5, 8, 3, 6, 9], (x) => x / BOHR_A);
  const back = cellFromWire(wire);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(back[i] - rows[i]) < 1e-12, `cell[${i}]`);
  const there = cellToWire(rows);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(there[i] - wire[i]) < 1e-12, `wire[${i}]`);
});

test('one exchange through a real socket: byte layout of every reply, and Bohr/Hartree at the wire', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ipi-'));
  const s = await listen(dir);
  try {
    assert.equal(unixSocketPath(s.path), s.path);
    const client = connectToServer({ unix: s.path }, { timeoutSeconds: 5 }).then((socket) => serve(socket, options()));
    const { socket, reader } = await s.accepted;
    const say = (b: Buffer) => socket.write(b);

    say(header('STATUS'));
    assert.equal((await reader.read(12)).toString('latin1'), 'READY       ');

    // INIT is accepted (bead index, length, bytes) and changes nothing.
    say(Buffer.concat([header('INIT'), i32(0), i32(3), Buffer.from('abc')]));
    say(header('STATUS'));
    assert.equal((await reader.read(12)).toString('latin1'), 'READY       ');

    // POSDATA in two pieces that split the header, as a stream socket may deliver it.
    const msg = posdata(positions, [30, 0, 0, 0, 30, 0, 0, 0, 30]);
    say(msg.subarray(0, 5));
    await pause(30);
    say(msg.subarray(5));
    say(header('STATUS'));
    assert.equal((await reader.read(12)).toString('latin1'), 'HAVEDATA    ');

    say(header('GETFORCE'));
    const n = 3;
    const reply = await reader.read(12 + 8 + 4 + 24 * n + 72 + 4);
    assert.equal(reply.subarray(0, 12).toString('latin1'), 'FORCEREADY  ');
    const energyHa = reply.readDoubleLE(12);
    assert.equal(reply.readInt32LE(20), n);
    const forcesAu = doubles(reply.subarray(24, 24 + 24 * n));
    const virialWire = doubles(reply.subarray(24 + 24 * n, 24 + 24 * n + 72));
    assert.equal(reply.readInt32LE(24 + 24 * n + 72), 0, 'empty extra string');

    // What the toy gives at the positions the server sent (Bohr → Å on the way in).
    const inA = Float64Array.from(positions, (x) => (x / BOHR_A) * BOHR_A);
    const want = toy.compute(z, inA);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
    assert.ok(rel(energyHa * HARTREE_EV, want.energy) < 1e-12, `energy ${energyHa} Ha vs ${want.energy} eV`);
    assert.ok(Math.abs(energyHa - want.energy / 27.211386) < 1e-8 * Math.abs(energyHa), 'the energy is in Hartree');
    for (let i = 0; i < 3 * n; i++) {
      assert.ok(Math.abs(forcesAu[i] * (HARTREE_EV / BOHR_A) - want.forces[i]) < 1e-12, `force ${i}`);
    }
    // The wire holds i-PI's virial, W_ab = Σ_i F_ia (r_ib − c_b), which ASE reads transposed.
    const c = [0, 1, 2].map((k) => (inA[k] + inA[3 + k] + inA[6 + k]) / 3);
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let w = 0;
        for (let i = 0; i < n; i++) w += want.forces[3 * i + a] * (inA[3 * i + b] - c[b]);
        assert.ok(Math.abs(virialWire[3 * a + b] * HARTREE_EV - w) < 1e-12, `virial wire [${a}][${b}]`);
      }
    }
    assert.ok(Math.abs(virialWire[3 * 0 + 2] - virialWire[3 * 2 + 0]) > 1e-3, 'the toy virial is asymmetric, so the transpose is tested');

    // After the forces the driver is READY again; EXIT ends it with what it served.
    say(header('STATUS'));
    assert.equal((await reader.read(12)).toString('latin1'), 'READY       ');
    say(header('EXIT'));
    const r = await client;
    assert.equal(r.ending, 'exit');
    assert.equal(r.steps, 1);
    socket.destroy();
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the isolated virial is +Σ r⊗F (ASE: virial = −V·stress) and origin-independent', () => {
  const { forces } = toy.compute(z, positions);
  const w = isolatedVirial(positions, forces);
  const shifted = Float64Array.from(positions, (x, i) => x + [5, -3, 7][i % 3]);
  const w2 = isolatedVirial(shifted, toy.compute(z, shifted).forces);
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(w[i] - w2[i]) < 1e-12);
  // Finite strain check of the sign on the pair part alone: W = −∂E/∂ε.
  const pairOnly: Calculator = { name: 'pairs', compute: (zz, r) => { const e = toy.compute(zz, r); e.forces[2] -= 0.3; e.forces[5] += 0.3; return e; } };
  const f = pairOnly.compute(z, positions).forces;
  const wp = isolatedVirial(positions, f);
  const h = 1e-6;
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const strained = (eps: number) => {
        const r = Float64Array.from(positions);
        // ASE's strain of row vectors: r_b → r_b + Σ_a r_a ε_ab.
        for (let i = 0; i < 3; i++) r[3 * i + b] += eps * positions[3 * i + a];
        return pairOnly.compute(z, r).energy;
      };
      const dEdEps = (strained(h) - strained(-h)) / (2 * h);
      assert.ok(Math.abs(wp[3 * a + b] + dEdEps) < 1e-6, `W[${a}][${b}] = ${wp[3 * a + b]}, −dE/dε = ${-dEdEps}`);
    }
  }
});

test('periodic images: none for a zero cell or a big box, found for a small one, zero lattice vectors ignored', () => {
  assert.equal(imageWithinCutoff(positions, new Float64Array(9), 5), undefined);
  assert.equal(imageWithinCutoff(positions, Float64Array.from([30, 0, 0, 0, 30, 0, 0, 0, 30]), 5), undefined);
  const d = imageWithinCutoff(positions, Float64Array.from([6, 0, 0, 0, 30, 0, 0, 0, 30]), 5);
  assert.ok(d !== undefined && d < 5 && d > 4.5, `closest image ${d}`);
  // Periodic along x only (a slab/wire cell with zero vectors), at 4 Å: images within 5 Å.
  assert.ok(imageWithinCutoff(positions, Float64Array.from([4, 0, 0, 0, 0, 0, 0, 0, 0]), 5) !== undefined);
});

test('a small cell is warned about once; positions of the wrong atom count are refused and the connection closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ipi-'));
  const s = await listen(dir);
  try {
    const o = options();
    const client = connectToServer({ unix: s.path }, { timeoutSeconds: 5 }).then((socket) => serve(socket, o));
    const rejected = assert.rejects(client, /the server sent positions of 4 atoms, but --structure water\.xyz:0 has 3/);
    const { socket, reader } = await s.accepted;
    const small = [4, 0, 0, 0, 4, 0, 0, 0, 4];
    for (let step = 0; step < 2; step++) {
      socket.write(Buffer.concat([posdata(positions, small), header('GETFORCE')]));
      await reader.read(12 + 8 + 4 + 72 + 72 + 4);
    }
    assert.equal(o.lines.length, 1, o.lines.join('\n'));
    assert.match(o.lines[0], /warning: .*periodic images .* within the model's 5 Å cutoff; oreo's ET is non-periodic and computes the isolated molecule/);
    const closed = new Promise((r) => socket.on('close', r));
    socket.write(posdata(Float64Array.from([...positions, 2, 2, 2])));
    await rejected;
    await closed;
  } finally {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the server closing between exchanges is a normal end; closing inside a message is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ipi-'));
  try {
    const s1 = await listen(dir, 'a');
    const c1 = connectToServer({ unix: s1.path }, { timeoutSeconds: 5 }).then((socket) => serve(socket, options()));
    const a = await s1.accepted;
    a.socket.write(Buffer.concat([posdata(positions), header('GETFORCE')]));
    await a.reader.read(12 + 8 + 4 + 72 + 72 + 4);
    a.socket.end();
    assert.deepEqual({ ...(await c1), seconds: 0 }, { steps: 1, ending: 'closed', seconds: 0 });
    s1.close();

    const s2 = await listen(dir, 'b');
    const c2 = connectToServer({ unix: s2.path }, { timeoutSeconds: 5 }).then((socket) => serve(socket, options()));
    const b = await s2.accepted;
    b.socket.end(posdata(positions).subarray(0, 40));
    await assert.rejects(c2, /the server closed the connection in the middle of its POSDATA message, after 0 steps/);
    s2.close();

    const s3 = await listen(dir, 'c');
    const c3 = connectToServer({ unix: s3.path }, { timeoutSeconds: 5 }).then((socket) => serve(socket, options()));
    const c = await s3.accepted;
    c.socket.end(header('HELLO'));
    await assert.rejects(c3, /unexpected message 'HELLO' from the server/);
    s3.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the driver waits for a server that starts after it, and gives up after the connect timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ipi-'));
  try {
    const path = join(dir, 'late');
    const early = connectToServer({ unix: path }, { timeoutSeconds: 10, pollMs: 50 });
    await pause(300);
    const s = await listen(dir, 'late');
    const socket = await early;
    socket.destroy();
    s.close();

    const t0 = Date.now();
    await assert.rejects(
      connectToServer({ unix: join(dir, 'never') }, { timeoutSeconds: 0.4, pollMs: 50 }),
      /could not connect to the i-PI server at unix socket .*never within 0\.4 s .*ENOENT: no socket file there/,
    );
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oreo driver refuses unknown elements before connecting, and exits non-zero on a wrong atom count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ipi-'));
  try {
    const model = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
    const xyz = join(dir, 'iron.xyz');
    writeFileSync(xyz, '2\n\nFe 0 0 0\nH 0 0 1.6\n');
    const bad = runOreo(['driver', '--model', model, '--structure', xyz, '--unix', join(dir, 'none'), '--connect-timeout', '0']);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /oreo driver: error: --input .*iron\.xyz:0: the model was trained on .* only; this structure has Fe/);
    const both = runOreo(['driver', '--model', model, '--structure', xyz, '--unix', 'x', '--inet', 'localhost:31415']);
    assert.match(both.stderr, /give exactly one of --unix NAME and --inet HOST:PORT/);

    // The real command against the test server: 5 atoms sent, aspirin has 21.
    const s = await listen(dir, 'mismatch');
    const child = spawn(process.execPath, oreoArgv(['driver', '--model', model, '--structure', join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz'), '--unix', s.path]), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const { socket } = await s.accepted;
    socket.write(posdata(Float64Array.from({ length: 15 }, (_, i) => i * 0.7)));
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /oreo driver: error: the server sent positions of 5 atoms, but --structure .*rmd17_aspirin_test_01\.npz:0 has 21/);
    socket.destroy();
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--unix names follow ASE and i-PI (/tmp/ipi_NAME); --inet takes HOST:PORT, [v6]:PORT or :PORT', () => {
  assert.equal(unixSocketPath('aspirin'), '/tmp/ipi_aspirin');
  assert.equal(unixSocketPath('/run/x.sock'), '/run/x.sock');
  assert.deepEqual(parseInet('node7:31415'), { host: 'node7', port: 31415 });
  assert.deepEqual(parseInet('[::1]:3141'), { host: '::1', port: 3141 });
  assert.deepEqual(parseInet(':31415'), { host: 'localhost', port: 31415 });
  assert.throws(() => parseInet('31415'), /expected HOST:PORT/);
  assert.throws(() => parseInet('localhost:70000'), /port from 1 to 65535/);
});

// Keep the CODATA constants in src/units.ts what this file assumes.
test('the wire constants are CODATA 2014', () => {
  assert.equal(Bohr, BOHR_A);
  assert.ok(Math.abs(Hartree - HARTREE_EV) < 1e-12);
});
