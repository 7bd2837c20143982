// Optional system programs some tests need (xtb, Chromium, Python with ASE). On a machine with only
// Node, `npm test` must pass, so a test that needs a missing program is skipped, and the skip
// message names the one command that installs it. CI (.ci/run) installs them and sets
// OREO_REQUIRE_SYSTEM_TOOLS=1: there a missing program is a failure, so a broken install can never
// turn the whole xtb suite into skips.
//
// Use:  test('…', { skip: skipUnless('xtb') }, async () => { … })
//
// Detection looks for the same file the code will start, without running it: a PATH lookup for a
// bare name (as spawn does), or the path itself. That keeps it to a few stat calls per test file.
// TorchMD-Net (skipUnlessTorchMDNet, at the end) is the exception: a Python package can only be
// found by importing it, so it runs a probe once, and it is never forced (see there why). ASE
// ('python3-ase') is probed the same way, once, but is a Debian package, so it is forced in CI.
import { accessSync, constants, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { repoRoot } from './paths.js';

const scriptsDir = join(repoRoot, 'scripts');

export type SystemTool = 'xtb' | 'chromium' | 'python3-ase' | 'redis-server';

/** The Chromium binary the browser end-to-end test drives (Debian's package puts it here). */
export const CHROMIUM = '/usr/bin/chromium';

interface ToolInfo {
  /** The executable as the code under test will start it: a bare name (PATH lookup) or a path. */
  program(): string;
  /** The one command that installs it (Debian/Ubuntu, as .ci/run does). */
  install: string;
  /** Beyond being there, what the program must do: undefined if it does it, else what fails. */
  probe?(program: string): string | undefined;
}

/**
 * The Python the ASE tests run: $PYTHON (as for TorchMD-Net below), else the system one, where
 * Debian's python3-ase installs ASE.
 */
export function systemPython(): string {
  return process.env.PYTHON || '/usr/bin/python3';
}

const TOOLS: Record<SystemTool, ToolInfo> = {
  // XtbCalculator runs $OREO_XTB, else `xtb` from PATH (src/qm/xtb.ts); so do the tests.
  xtb: { program: () => process.env.OREO_XTB ?? 'xtb', install: 'sudo apt-get install xtb' },
  chromium: { program: () => CHROMIUM, install: 'sudo apt-get install chromium' },
  // The corpus queue tests start their own Redis on 127.0.0.1 (test/corpus/queue.test.ts).
  'redis-server': { program: () => process.env.OREO_REDIS_SERVER ?? 'redis-server', install: 'sudo apt-get install redis-server' },
  // ASE's i-PI socket server, which test/driver/ase-socket.test.ts runs against `oreo driver`.
  'python3-ase': {
    program: systemPython,
    install: 'sudo apt-get install python3-ase',
    probe(program) {
      const r = spawnSync(program, ['-c', 'import ase.calculators.socketio'], { encoding: 'utf8', timeout: 60_000 });
      return r.status === 0 ? undefined : `'${program}' cannot import ase.calculators.socketio`;
    },
  },
};

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where `program` resolves to, the way child_process.spawn resolves it; undefined if nowhere. */
export function findProgram(program: string, path = process.env.PATH ?? ''): string | undefined {
  if (program.includes('/')) return isExecutableFile(program) ? program : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** True when missing programs must fail the run rather than skip tests (CI). */
export function systemToolsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.OREO_REQUIRE_SYSTEM_TOOLS === '1';
}

const cache = new Map<SystemTool, string | false>();

/**
 * For node:test's `skip` option: false when `tool` is present (the test runs), else the reason to
 * skip, with the install command. Under OREO_REQUIRE_SYSTEM_TOOLS=1 a missing tool throws instead,
 * which fails the test file at load time with the same message.
 */
export function skipUnless(tool: SystemTool): string | false {
  let reason = cache.get(tool);
  if (reason === undefined) {
    const info = TOOLS[tool];
    const program = info.program();
    const found = findProgram(program);
    const failed = found ? info.probe?.(found) : `'${program}' not found`;
    reason = failed === undefined ? false : `needs ${tool} (${failed}); install it with: ${info.install}`;
    cache.set(tool, reason);
  }
  if (reason && systemToolsRequired()) {
    throw new Error(`OREO_REQUIRE_SYSTEM_TOOLS=1 but a test ${reason}`);
  }
  return reason;
}

/**
 * TorchMD-Net for the checks that load oreo's exported checkpoints with TorchMD-Net's own
 * `load_model` (test/model/export.test.ts, through scripts/torchmdnet-check-export.py): a Python
 * with torch (`$PYTHON`, default /usr/bin/python3, where Debian's python3-torch lives) and the
 * TorchMD-Net source (`$TORCHMDNET_SRC`, default /work/tmdnet/torchmd-net) or an installed
 * `torchmdnet` package.
 *
 * Unlike skipUnless, this is a skip even under OREO_REQUIRE_SYSTEM_TOOLS=1. CI (.ci/run) installs
 * only what Debian packages and the repository's own files provide, and TorchMD-Net is neither:
 * it is no Debian package, oreo does not vendor it, and its pip package wants torch ≥ 2 and the
 * network. Forcing it would make CI fail on a program CI cannot install; the pure-oreo round
 * trip (export, re-import, identical energies and forces) runs everywhere instead.
 */
export function skipUnlessTorchMDNet(): string | false {
  if (torchmdnetReason === undefined) {
    const python = torchmdnetPython();
    const install =
      `install it with: sudo apt-get install python3-torch python3-numpy, and the TorchMD-Net v2.6.2 source at ` +
      `$TORCHMDNET_SRC (default ${DEFAULT_TORCHMDNET_SRC}); the steps are in scripts/torchmdnet-check-export.py`;
    if (!findProgram(python)) {
      torchmdnetReason = `needs TorchMD-Net ('${python}' not found; set $PYTHON); ${install}`;
    } else {
      const probe = spawnSync(python, [join(scriptsDir, 'torchmdnet-check-export.py'), '--probe', '--torchmdnet', torchmdnetSource()], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const why = (probe.stderr || probe.error?.message || '').trim().split('\n').pop();
      torchmdnetReason = probe.status === 0 ? false : `needs TorchMD-Net (${python}: ${why || 'probe failed'}); ${install}`;
    }
  }
  return torchmdnetReason;
}

export const DEFAULT_TORCHMDNET_SRC = '/work/tmdnet/torchmd-net';
export function torchmdnetPython(): string {
  return process.env.PYTHON || '/usr/bin/python3';
}
export function torchmdnetSource(): string {
  return process.env.TORCHMDNET_SRC || DEFAULT_TORCHMDNET_SRC;
}
let torchmdnetReason: string | false | undefined;
