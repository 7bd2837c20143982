/**
 * Running an external quantum-chemistry program in a scratch directory of its own, synchronously
 * (for MD, whose Calculator interface is synchronous) or asynchronously (for labelling several
 * frames at once). The program's stdout and stderr go to a log file in the scratch directory rather
 * than through a pipe, so that a chatty program can never fill a buffer; on failure the caller
 * reads the log's tail to explain what went wrong.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OreoError } from '../errors.js';

export interface ProgramCall {
  /** Executable name (looked up on PATH) or path. */
  program: string;
  args: string[];
  /** Working directory: the scratch directory of this call. */
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Wall-clock limit, ms; the program is killed (SIGKILL) when it runs longer. */
  timeoutMs: number;
  /** Name of the file in `cwd` that receives stdout and stderr. */
  logFile: string;
  /** What to call the program in messages, e.g. "xtb". */
  label: string;
  /** One sentence on how to get the program, appended when it cannot be started. */
  installHint: string;
}

export interface ProgramResult {
  /** Exit code, or null when a signal ended it. */
  status: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
}

function startError(call: ProgramCall, err: NodeJS.ErrnoException): OreoError {
  if (err.code === 'ENOENT') {
    return new OreoError(`${call.label}: program '${call.program}' not found. ${call.installHint}`);
  }
  if (err.code === 'EACCES') {
    return new OreoError(`${call.label}: '${call.program}' is not executable (permission denied). ${call.installHint}`);
  }
  return new OreoError(`${call.label}: cannot start '${call.program}': ${err.message}`, { cause: err });
}

function timeoutError(call: ProgramCall): OreoError {
  return new OreoError(
    `${call.label} did not finish within ${(call.timeoutMs / 1000).toFixed(0)} s and was stopped; ` +
      `raise the time limit (--timeout) for molecules this large`,
  );
}

/** Run to completion, blocking. Throws an OreoError if the program cannot start or times out. */
export function runProgramSync(call: ProgramCall): ProgramResult {
  const log = openSync(join(call.cwd, call.logFile), 'w');
  const t0 = performance.now();
  let res;
  try {
    res = spawnSync(call.program, call.args, {
      cwd: call.cwd,
      env: call.env,
      stdio: ['ignore', log, log],
      timeout: call.timeoutMs,
      killSignal: 'SIGKILL',
    });
  } finally {
    closeSync(log);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (res.error) {
    const err = res.error as NodeJS.ErrnoException;
    if (err.code === 'ETIMEDOUT') throw timeoutError(call);
    throw startError(call, err);
  }
  return { status: res.status, signal: res.signal, seconds };
}

/** Run to completion without blocking the event loop. Same errors as runProgramSync. */
export function runProgram(call: ProgramCall): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const log = openSync(join(call.cwd, call.logFile), 'w');
    const t0 = performance.now();
    let timedOut = false;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closeSync(log);
      fn();
    };
    const child = spawn(call.program, call.args, { cwd: call.cwd, env: call.env, stdio: ['ignore', log, log] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, call.timeoutMs);
    child.on('error', (err) => finish(() => reject(startError(call, err))));
    child.on('close', (status, signal) =>
      finish(() => {
        if (timedOut) reject(timeoutError(call));
        else resolve({ status, signal, seconds: (performance.now() - t0) / 1000 });
      }),
    );
  });
}

/** The last `lines` lines of a file in `dir`, or '' if it cannot be read. */
export function logTail(dir: string, file: string, lines = 15): string {
  try {
    const text = readFileSync(join(dir, file), 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A fresh empty directory under the system temp dir, for one program call. */
export function makeScratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Remove a scratch directory and everything in it; never throws. */
export function removeScratchDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // A leftover temp directory is not worth failing a calculation for.
  }
}

/** Run `fn` with a fresh scratch directory that is removed afterwards, whatever happens. */
export function withScratchDir<T>(prefix: string, fn: (dir: string) => T): T {
  const dir = makeScratchDir(prefix);
  try {
    return fn(dir);
  } finally {
    removeScratchDir(dir);
  }
}

/** Async variant of withScratchDir. */
export async function withScratchDirAsync<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeScratchDir(prefix);
  try {
    return await fn(dir);
  } finally {
    removeScratchDir(dir);
  }
}
