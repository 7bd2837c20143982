// `oreo serve` with real symbolic links: nothing outside the served folders is read through any
// path or link, no dotfile or hidden folder is served, and an error body names a file but never
// echoes a line of it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { tempDir } from './files.js';

const SECRET = 'TOPSECRET-7f3a';

function get(server: RunningServer, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host: `127.0.0.1:${server.port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const frame = (t: number) => `2\nProperties=species:S:1:pos:R:3 time_fs=${t}\nH 0 0 0\nH 0.74 0 0\n`;

describe('oreo serve and hostile links', () => {
  let base: string;
  let server: RunningServer;

  before(async () => {
    base = tempDir('serve');
    const outside = join(base, 'outside');
    const runs = join(base, 'runs');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), `${SECRET} first line\nmore\n`);
    writeFileSync(join(outside, 'secret.jsonl'), `{"step":1,"loss":42,"note":"${SECRET}"}\n`);
    writeFileSync(join(outside, 'metrics.json'), JSON.stringify({ oreo: 'analysis', note: SECRET }));
    for (const d of ['evil-md', 'evil-train', 'evil-analysis', 'bad-md', 'good', 'thermo-link', '.hidden']) mkdirSync(join(runs, d), { recursive: true });
    // Run files that are links out of the served folder.
    symlinkSync(join(outside, 'secret.txt'), join(runs, 'evil-md', 'trajectory.extxyz'));
    symlinkSync(join(outside, 'secret.jsonl'), join(runs, 'evil-train', 'log.jsonl'));
    symlinkSync(join(outside, 'metrics.json'), join(runs, 'evil-analysis', 'metrics.json'));
    // A real MD run whose thermo.csv is a link out.
    writeFileSync(join(runs, 'thermo-link', 'trajectory.extxyz'), frame(0) + frame(1));
    symlinkSync(join(outside, 'secret.txt'), join(runs, 'thermo-link', 'thermo.csv'));
    // A run file that is damaged: its first line is the secret.
    writeFileSync(join(runs, 'bad-md', 'trajectory.extxyz'), `${SECRET}\nnot a frame\n`);
    // Hidden files, and links to them.
    writeFileSync(join(runs, '.env'), `TOKEN=${SECRET}\n`);
    writeFileSync(join(runs, '.hidden', 'x.txt'), SECRET);
    writeFileSync(join(runs, 'good', '.secret'), SECRET);
    symlinkSync(join(runs, '.hidden', 'x.txt'), join(runs, 'good', 'to-hidden.txt'));
    // Positive controls: a plain file, and a link that stays inside.
    writeFileSync(join(runs, 'good', 'notes.txt'), 'visible');
    symlinkSync(join(runs, 'good', 'notes.txt'), join(runs, 'good', 'inside-link.txt'));
    server = await startServer({ roots: [runs], port: 0, modelsDir: join(base, 'models-none'), assets: new Map([['/index.html', { type: 'text/html', body: Buffer.from('<p>') }]]) });
  });

  after(async () => {
    await server?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('does not list or open runs whose files are links out of the folder', async () => {
    const runs = await get(server, '/api/runs');
    assert.equal(runs.status, 200);
    const ids = (JSON.parse(runs.body) as { runs: { id: string }[] }).runs.map((r) => r.id).sort();
    assert.deepEqual(ids, ['0:bad-md', '0:thermo-link']);
    assert.ok(!runs.body.includes(SECRET));
    for (const [path, status] of [
      ['/api/trajectory?run=0:evil-md', 404],
      ['/api/training?run=0:evil-train', 404],
      ['/api/analysis?run=0:evil-analysis', 404],
      ['/api/trajectory?run=0:thermo-link', 403],
    ] as const) {
      const r = await get(server, path);
      assert.equal(r.status, status, `${path}: ${r.body}`);
      assert.ok(!r.body.includes(SECRET), `${path} echoes the secret: ${r.body}`);
    }
  });

  it('names a damaged run file without echoing its contents', async () => {
    const r = await get(server, '/api/trajectory?run=0:bad-md');
    assert.equal(r.status, 422);
    assert.match(JSON.parse(r.body).error, /^trajectory\.extxyz, record 0: not readable as expected/);
    assert.ok(!r.body.includes(SECRET), r.body);
  });

  it('serves no dotfile, hidden folder or link to one, and no link out, under /files/', async () => {
    for (const path of [
      '/files/0/.env',
      '/files/0/%2eenv',
      '/files/0/.hidden/x.txt',
      '/files/0/good/.secret',
      '/files/0/good/to-hidden.txt',
      '/files/0/evil-md/trajectory.extxyz',
      '/files/0/evil-train/log.jsonl',
      '/files/0/thermo-link/thermo.csv',
    ]) {
      const r = await get(server, path);
      assert.equal(r.status, 403, `${path}: ${r.status} ${r.body}`);
      assert.ok(!r.body.includes(SECRET), path);
    }
    assert.equal((await get(server, '/files/0/good/notes.txt')).body, 'visible');
    assert.equal((await get(server, '/files/0/good/inside-link.txt')).body, 'visible');
  });
});
