// Acceptance: ASE's own i-PI server (SocketIOCalculator) drives `oreo driver`. The forces ASE
// receives for an aspirin frame must equal `oreo predict`'s on that frame after the round trip
// through Bohr and Hartree, and 100 velocity-Verlet steps must run through the socket, after which
// closing the calculator ends the driver cleanly. Needs /usr/bin/python3 with ASE (Debian's
// python3-ase); without it the test is skipped with the install command, or fails under
// OREO_REQUIRE_SYSTEM_TOOLS=1 (test/system-tools.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMd17Npz } from '../../src/data/md17.js';
import { oreoArgv, runOreo } from '../cli.js';
import { dataDir, repoRoot } from '../paths.js';
import { skipUnless, systemPython } from '../system-tools.js';

const model = join(repoRoot, 'models', 'oreo-aspirin-et4x64.oreo');
const structure = join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz');

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('ASE SocketIOCalculator drives oreo driver: same forces as oreo predict, then 100 MD steps', { skip: skipUnless('python3-ase') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-ase-socket-'));
  try {
    // oreo's own answer for frame 0, in float64, as `oreo predict` gives it.
    const pred = runOreo(['predict', '--model', model, '--input', structure, '--frames', '0', '--dtype', 'float64']);
    assert.equal(pred.status, 0, pred.stderr);
    const frame = JSON.parse(pred.stdout).frames[0] as { energy: number; forces: number[][] };
    const [c] = readMd17Npz(structure);
    const reference = join(dir, 'reference.json');
    writeFileSync(reference, JSON.stringify({ numbers: Array.from(c.z), positions: Array.from(c.positions), forces: frame.forces.flat(), energy: frame.energy }));

    // A name of our own, so that parallel runs and left-over sockets cannot collide.
    const name = `oreo-test-${process.pid}-${Date.now()}`;
    const server = run(systemPython(), [join(repoRoot, 'test', 'driver', 'ase_socket_md.py'), name, reference, '--steps', '100', '--dt', '0.5', '--timeout', '120'], 240_000);
    const driver = run(process.execPath, oreoArgv(['driver', '--model', model, '--structure', structure, '--unix', name, '--dtype', 'float64', '--connect-timeout', '60']), 240_000);
    const [s, d] = await Promise.all([server, driver]);
    assert.equal(s.code, 0, `ASE side failed:\n${s.stdout}\n${s.stderr}\ndriver:\n${d.stderr}`);
    const r = JSON.parse(s.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
    // Bohr and Hartree round trip: ASE derives its constants from mₑ, e, ε₀, ħ (CODATA 2014), oreo
    // uses the tabulated ones, 2e-10 apart, so agreement is to that, far inside 1e-6.
    assert.ok((r.max_rel_dF as number) < 1e-6, `max |ΔF| ${r.max_abs_dF} eV/Å (relative ${r.max_rel_dF})`);
    assert.ok(Math.abs(r.dE as number) < 1e-8 * Math.abs(frame.energy), `ΔE ${r.dE} eV`);
    assert.equal(r.md_steps, 100);
    assert.equal(r.final_positions_finite, true);
    assert.equal(d.code, 0, d.stderr);
    // One exchange for the check, then one per MD step (the first step reuses the check's forces).
    assert.match(d.stderr, /oreo driver: the server closed the connection; served 101 steps in [\d.]+ s/);
    t.diagnostic(`ASE ↔ oreo driver: max |ΔF| ${(r.max_abs_dF as number).toExponential(2)} eV/Å (relative ${(r.max_rel_dF as number).toExponential(2)}), ${(r.steps_per_s as number).toFixed(1)} MD steps/s through the socket`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
