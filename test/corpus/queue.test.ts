// The corpus through a real Redis (Debian's redis-server, started here on 127.0.0.1 at a free
// port) and BullMQ: `oreo corpus build --queue` with two `oreo worker` processes, one of them
// killed with SIGKILL mid-run (its job goes back to the queue when its lock expires), and the
// builder itself killed and restarted: the corpus has the same content hash as the embedded build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus } from '../../src/corpus/build.js';
import { readCorpusManifest } from '../../src/corpus/summary.js';
import { oreoArgv } from '../cli.js';
import { fixturesDir } from '../paths.js';
import { skipUnless } from '../system-tools.js';
import { tinyFlags, tinySettings } from './settings.js';

const ten = join(fixturesDir, 'corpus', 'ten.smi');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.end();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });
}

/** `oreo ARGS` in its own process group (so a kill takes its child processes too), output collected. */
function oreo(args: string[]): ChildProcess & { output: () => string } {
  const p = spawn(process.execPath, oreoArgv(args), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  return Object.assign(p, { output: () => out });
}

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-p.pid!, signal);
  } catch {
    // Already gone.
  }
}

function jobFiles(dir: string): number {
  const jobs = join(dir, 'jobs');
  if (!existsSync(jobs)) return 0;
  return readdirSync(jobs).reduce((n, d) => n + readdirSync(join(jobs, d)).filter((f) => f.endsWith('.json.gz')).length, 0);
}

test(
  'two oreo workers on a Redis queue, one killed mid-run, and a restarted builder give the embedded build’s corpus',
  { skip: skipUnless('xtb') || skipUnless('redis-server'), timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oreo-test-queue-'));
    const port = await freePort();
    const redis = spawn(process.env.OREO_REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const started: (ChildProcess & { output: () => string })[] = [];
    try {
      const embedded = await buildCorpus({
        inputs: [{ path: ten }],
        outDir: join(dir, 'embedded'),
        settings: tinySettings,
        splits: { seed: 1, val: 0.05, test: 0.05 },
        workers: 2,
      });
      await waitFor('redis-server', () => accepts(port), 20);
      const url = `redis://127.0.0.1:${port}`;
      const out = join(dir, 'queued');
      const buildArgs = ['corpus', 'build', '--molecules', ten, '--out', out, '--queue', url, '--quiet', ...tinyFlags];
      const first = oreo(buildArgs);
      started.push(first);
      const workerArgs = ['worker', '--queue', url, '--workers', '1', '--lock-seconds', '2'];
      const a = oreo(workerArgs);
      const b = oreo(workerArgs);
      started.push(a, b);
      // Kill worker A just after its first job, when it has taken the next one.
      await waitFor('worker A to finish a job', () => /done /.test(a.output()), 120);
      killGroup(a, 'SIGKILL');
      // Kill the builder once it has collected something, and start it again.
      await waitFor('the builder to collect a result', () => jobFiles(out) > 0, 120);
      killGroup(first, 'SIGKILL');
      await exited(first);
      const second = oreo(buildArgs);
      started.push(second);
      const code = await exited(second);
      assert.equal(code, 0, second.output());
      // The job A held when it was killed was finished by B after its lock expired.
      const keys = (text: string, what: string) => [...text.matchAll(new RegExp(`${what} ([0-9a-f]{12})`, 'g'))].map((m) => m[1]);
      const orphaned = keys(a.output(), 'start').filter((k) => !keys(a.output(), 'done').includes(k));
      assert.ok(orphaned.length >= 1, `worker A was killed between jobs:\n${a.output()}`);
      for (const k of orphaned) assert.ok(keys(b.output(), 'done').includes(k), `job ${k} of the killed worker was not redone:\n${b.output()}`);
      const queued = readCorpusManifest(out);
      assert.equal(queued.counts.labelledMolecules, 10);
      assert.equal(queued.hashes.corpus, embedded.hashes.corpus);
      assert.deepEqual(queued.counts, embedded.counts);
    } finally {
      for (const p of started) killGroup(p, 'SIGKILL');
      redis.kill('SIGKILL');
      await exited(redis);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('a Redis address where nothing listens is an error naming it, not a hang', async () => {
  const port = await freePort();
  for (const args of [
    ['worker', '--queue', `redis://127.0.0.1:${port}`],
    ['corpus', 'build', '--molecules', ten, '--out', join(tmpdir(), `oreo-test-noredis-${process.pid}`), '--queue', `redis://127.0.0.1:${port}`, '--quiet', ...tinyFlags],
  ]) {
    const p = oreo(args);
    const code = await Promise.race([exited(p), new Promise<string>((r) => setTimeout(() => r('hung'), 30_000))]);
    if (code === 'hung') killGroup(p, 'SIGKILL');
    assert.equal(code, 1, p.output());
    assert.match(p.output(), new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
  }
  rmSync(join(tmpdir(), `oreo-test-noredis-${process.pid}`), { recursive: true, force: true });
});
