// Optional system programs some tests need (xtb, Chromium). On a machine with only Node, `npm test`
// must pass, so a test that needs a missing program is skipped, and the skip message names the one
// command that installs it. CI (.ci/run) installs them and sets OREO_REQUIRE_SYSTEM_TOOLS=1: there a
// missing program is a failure, so a broken install can never turn the whole xtb suite into skips.
//
// Use:  test('…', { skip: skipUnless('xtb') }, async () => { … })
//
// Detection looks for the same file the code will start, without running it: a PATH lookup for a
// bare name (as spawn does), or the path itself. That keeps it to a few stat calls per test file.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type SystemTool = 'xtb' | 'chromium';

/** The Chromium binary the browser end-to-end test drives (Debian's package puts it here). */
export const CHROMIUM = '/usr/bin/chromium';

interface ToolInfo {
  /** The executable as the code under test will start it: a bare name (PATH lookup) or a path. */
  program(): string;
  /** The one command that installs it (Debian/Ubuntu, as .ci/run does). */
  install: string;
}

const TOOLS: Record<SystemTool, ToolInfo> = {
  // XtbCalculator runs $OREO_XTB, else `xtb` from PATH (src/qm/xtb.ts); so do the tests.
  xtb: { program: () => process.env.OREO_XTB ?? 'xtb', install: 'sudo apt-get install xtb' },
  chromium: { program: () => CHROMIUM, install: 'sudo apt-get install chromium' },
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
    reason = findProgram(program) ? false : `needs ${tool} ('${program}' not found); install it with: ${info.install}`;
    cache.set(tool, reason);
  }
  if (reason && systemToolsRequired()) {
    throw new Error(`OREO_REQUIRE_SYSTEM_TOOLS=1 but a test ${reason}`);
  }
  return reason;
}
