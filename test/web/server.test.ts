// `oreo serve` without a browser: the JSON API against the run files it reads, and every way a
// request could try to reach a file outside the served folders or pass a bad parameter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseThermoCsv } from '../../src/analysis/io.js';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { buildWebAssets } from '../../src/web/bundle.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import type { AnalysisPayload, TrainingPayload, TrajectoryPayload } from '../../src/web/payloads.js';
import { repoRoot } from '../paths.js';
import { makeWebFixture, MODEL_ID, type WebFixture } from './fixture.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as written (no client-side normalisation of '..'). */
function get(server: RunningServer, path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${server.port}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function getJson<T>(server: RunningServer, path: string): Promise<T> {
  const r = await get(server, path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

describe('oreo serve', () => {
  let dir: string;
  let fx: WebFixture;
  let server: RunningServer;
  let outside: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'oreo-web-server-'));
    fx = await makeWebFixture(dir);
    // A secret next to the served folder, and links inside it that lead out.
    outside = join(dir, 'secret');
    mkdirSync(outside);
    writeFileSync(join(outside, 'key.txt'), 'do not serve');
    symlinkSync(outside, join(fx.runsDir, 'link-to-dir'));
    symlinkSync(join(outside, 'key.txt'), join(fx.runsDir, 'link-to-file.txt'));
    server = await startServer({ roots: [fx.runsDir], port: 0, modelsDir: fx.modelsDir, assets: await buildWebAssets({ minify: false }) });
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app shell and the bundles', async () => {
    const page = await get(server, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/app.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    for (const f of ['/app.js', '/app.css', '/md-worker.js', '/kernel-helper.js']) assert.equal((await get(server, f)).status, 200, f);
    // The MD worker's second kernel thread: a script of this origin (the CSP allows no Blob workers).
    const helper = await get(server, '/kernel-helper.js');
    assert.match(String(helper.headers['content-type']), /^text\/javascript/);
    assert.match(helper.body, /function runKernelHelper\(module, memory, control\)/);
    // Cross-origin isolated, so the page may use SharedArrayBuffer (threads) for in-browser MD.
    for (const f of ['/', '/app.js', '/md-worker.js', '/kernel-helper.js', '/api/runs']) {
      const r = await get(server, f);
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', f);
      assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', f);
    }
  });

  it('lists the MD run, its analysis and the training run', async () => {
    const { runs } = await getJson<{ runs: { id: string; kinds: string[] }[] }>(server, '/api/runs');
    const byId = new Map(runs.map((r) => [r.id, r.kinds]));
    assert.deepEqual(byId.get('0:md'), ['md']);
    assert.deepEqual(byId.get('0:md/analysis'), ['analysis']);
    assert.deepEqual(byId.get('0:finetune'), ['training']);
    // The symlinked folder is not searched: it leads outside.
    assert.ok(!runs.some((r) => r.id.includes('link-to-dir')));
  });

  it('sends the trajectory as written, with RMSD and thermo.csv', async () => {
    const t = await getJson<TrajectoryPayload>(server, '/api/trajectory?run=0:md');
    const frames = readExtxyzFile(join(fx.runsDir, 'md', 'trajectory.extxyz'));
    assert.equal(t.totalFrames, frames.length);
    assert.equal(t.positions.length, frames.length);
    assert.deepEqual(t.z, Array.from(frames[0].z));
    const last = frames.length - 1;
    for (let k = 0; k < frames[last].positions.length; k++) assert.ok(Math.abs(t.positions[last][k]! - frames[last].positions[k]) <= 1e-6);
    assert.equal(t.timesPs[last], (frames[last].info.time_fs as number) / 1000);
    assert.equal(t.energies![last], frames[last].info.energy);
    assert.equal(t.rmsd[0], 0);
    assert.ok(t.rmsd[last]! > 0);
    const thermo = parseThermoCsv(readFileSync(join(fx.runsDir, 'md', 'thermo.csv'), 'utf8'), 'thermo.csv');
    assert.deepEqual(t.thermo!.epot, Array.from(thermo.epot));

    const strided = await getJson<TrajectoryPayload>(server, '/api/trajectory?run=0:md&stride=2');
    assert.deepEqual(strided.indices, t.indices.filter((i) => i % 2 === 0));
    const capped = await getJson<TrajectoryPayload>(server, '/api/trajectory?run=0:md&maxFrames=5');
    assert.ok(capped.indices.length <= 5 && capped.stride === Math.ceil(frames.length / 5));
  });

  it('shows the complete frames of a run still writing its trajectory', async () => {
    const live = join(fx.runsDir, 'md-live');
    cpSync(join(fx.runsDir, 'md'), live, { recursive: true });
    try {
      const text = readFileSync(join(live, 'trajectory.extxyz'), 'utf8');
      const lines = text.split('\n');
      const perFrame = Number(lines[0]) + 2;
      // Five whole frames and half of the sixth.
      writeFileSync(join(live, 'trajectory.extxyz'), lines.slice(0, 5 * perFrame + Math.floor(perFrame / 2)).join('\n'));
      const t = await getJson<TrajectoryPayload>(server, '/api/trajectory?run=0:md-live');
      assert.equal(t.totalFrames, 5);
      assert.match(t.truncated ?? '', /ends inside the frame/);
      const whole = await getJson<TrajectoryPayload>(server, '/api/trajectory?run=0:md');
      assert.equal(whole.truncated, null);
    } finally {
      rmSync(live, { recursive: true, force: true });
    }
  });

  it('recomputes the analysis h(r) curves and gets the h(r) MAE of metrics.json', async () => {
    const a = await getJson<AnalysisPayload>(server, '/api/analysis?run=0:md/analysis');
    const metrics = JSON.parse(readFileSync(join(fx.runsDir, 'md', 'analysis', 'metrics.json'), 'utf8'));
    assert.ok(a.hr, a.hrNote);
    assert.equal(a.hr.r.length, metrics.hr.bins);
    assert.ok(Math.abs(a.hr.mae! - metrics.hr.mae) < 1e-9, `${a.hr.mae} vs ${metrics.hr.mae}`);
    assert.equal(a.trajectoryRun, '0:md');
    assert.ok(a.charts.includes('hr.svg'));
  });

  it('sends the training log as columns', async () => {
    const t = await getJson<TrainingPayload>(server, '/api/training?run=0:finetune');
    const lines = readFileSync(join(fx.runsDir, 'finetune', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(t.rows, lines.length);
    assert.deepEqual(t.columns.step, lines.map((l) => l.step));
    assert.equal(t.columns.val_loss.filter((v) => v !== null).length, lines.filter((l) => l.val_loss !== undefined).length);
  });

  it('offers the bundled models and molecules', async () => {
    const { models } = await getJson<{ models: { id: string }[] }>(server, '/api/models');
    assert.deepEqual(models.map((m) => m.id), [MODEL_ID]);
    const bytes = await get(server, `/api/model?id=${MODEL_ID}`);
    assert.equal(bytes.status, 200);
    const { molecules } = await getJson<{ molecules: { id: string }[] }>(server, '/api/molecules');
    assert.ok(molecules.some((m) => m.id === 'rmd17/rmd17_aspirin_train_01.npz'));
    const mol = await getJson<{ z: number[]; positions: number[] }>(server, '/api/molecule?id=rmd17/rmd17_aspirin_train_01.npz');
    assert.equal(mol.positions.length, 3 * mol.z.length);
    assert.equal(mol.z.length, 21);
  });

  it('serves run files, with scripts disabled', async () => {
    const r = await get(server, '/files/0/md/analysis/report.html');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'/);
    assert.equal((await get(server, '/files/0/md/analysis/hr.svg')).headers['content-type'], 'image/svg+xml');
  });

  it('refuses paths outside the served folders', async () => {
    const cases: [string, number[]][] = [
      ['/../../etc/passwd', [403, 404]],
      ['/etc/passwd', [404]],
      ['/files/0/../../etc/passwd', [403, 404]],
      ['/files/0/..%2f..%2f..%2fetc%2fpasswd', [403]],
      ['/files/0/%2e%2e/secret/key.txt', [403, 404]],
      ['/files/0/md/..%2f..%2fsecret%2fkey.txt', [403]],
      ['/files/0//etc/passwd', [403]],
      ['/files/0/%2Fetc%2Fpasswd', [403]],
      [`/files/0/${encodeURIComponent(join(dir, 'secret', 'key.txt'))}`, [403]],
      ['/files/0/md%5c..%5c..%5csecret%5ckey.txt', [403]],
      ['/files/0/md/trajectory.extxyz%00.png', [400]],
      ['/files/0/link-to-dir/key.txt', [403]],
      ['/files/0/link-to-file.txt', [403]],
      ['/files/1/anything', [404]],
      ['/files/x/anything', [404]],
      ['/files/0/md', [404]],
      ['/files/0/no-such-file', [404]],
    ];
    for (const [path, statuses] of cases) {
      const r = await get(server, path);
      assert.ok(statuses.includes(r.status), `${path} → ${r.status} ${r.body}`);
      assert.ok(!r.body.includes('do not serve') && !r.body.includes('root:'), `${path} leaked a file`);
    }
  });

  it('checks every query parameter', async () => {
    const cases: [string, number][] = [
      ['/api/trajectory', 400],
      ['/api/trajectory?run=0:md&stride=abc', 400],
      ['/api/trajectory?run=0:md&stride=0', 400],
      ['/api/trajectory?run=0:md&stride=1.5', 400],
      ['/api/trajectory?run=0:md&maxFrames=99999999', 400],
      ['/api/trajectory?run=0:md&evil=1', 400],
      ['/api/trajectory?run=0:md&run=0:md', 400],
      ['/api/trajectory?run=md', 400],
      ['/api/trajectory?run=0:../secret', 403],
      ['/api/trajectory?run=0:md/../../secret', 403],
      ['/api/trajectory?run=0:/etc', 403],
      ['/api/trajectory?run=0:link-to-dir', 403],
      ['/api/trajectory?run=7:md', 404],
      ['/api/trajectory?run=0:md/analysis', 404],
      ['/api/analysis?run=0:md', 404],
      ['/api/training?run=0:nowhere', 404],
      ['/api/runs?x=1', 400],
      ['/?debug=1', 400],
      ['/files/0/md/thermo.csv?x=1', 400],
      ['/api/model?id=../../etc/passwd', 400],
      ['/api/model?id=missing.oreo', 404],
      ['/api/molecule?id=rmd17/../../../etc/passwd', 400],
      ['/api/molecule?id=rmd17/not-listed.npz', 404],
      ['/api/molecule?id=%00', 400],
    ];
    for (const [path, status] of cases) {
      const r = await get(server, path);
      assert.equal(r.status, status, `${path} → ${r.status} ${r.body}`);
      assert.ok(typeof JSON.parse(r.body).error === 'string', `${path}: JSON error body`);
    }
  });

  it('answers only GET/HEAD, and only to its own host name', async () => {
    assert.equal((await get(server, '/api/runs', { method: 'POST' })).status, 405);
    assert.equal((await get(server, '/api/runs', { method: 'DELETE' })).status, 405);
    const head = await get(server, '/api/runs', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await get(server, '/api/runs', { host: 'evil.example:80' })).status, 403);
    assert.equal((await get(server, '/api/runs', { host: `localhost:${server.port}` })).status, 200);
  });

  it('runs as `oreo serve`, prints its URL and stops on SIGTERM', async () => {
    const compiled = import.meta.url.includes('/dist/');
    const entry = compiled ? join(repoRoot, 'bin', 'oreo.js') : join(repoRoot, 'scripts', 'oreo-dev.mjs');
    const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), entry, 'serve', '--port', '0', '--models', fx.modelsDir, fx.runsDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => reject(new Error(`oreo serve exited with ${code}: ${err}`)));
      });
      const res = await fetch(url + 'api/runs');
      assert.equal(res.status, 200);
      const body = (await res.json()) as { runs: unknown[] };
      assert.equal(body.runs.length, 3);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c))));
    assert.equal(code, 0);
  });
});
