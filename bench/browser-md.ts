/**
 * Steps per second of in-browser MD on one and two kernel threads, in Debian's headless Chromium
 * (the browser the end-to-end test drives; playwright-core). Run:
 *
 *   node --import tsx bench/browser-md.ts [--page] [--models a.oreo,b.oreo] [--repeat N]
 *
 * Without --page it drives the MD worker (/md-worker.js) directly from a page that draws nothing,
 * which is what the kernels themselves gain. With --page it fills in and runs the app's live MD
 * form, which also redraws the 3D view and the plots about 20 times a second: with no GPU that is
 * software rendering on the page's thread, so it shows what a user of a small machine gets.
 * Aspirin (rMD17 frame 0), Nosé–Hoover at 500 K, 0.5 fs; models from models/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { packageRoot } from '../src/data/bundled.js';
import { buildWebAssets } from '../src/web/bundle.js';
import { startServer } from '../src/web/server.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const usePage = args.includes('--page');
const models = opt('--models', 'oreo-aspirin-et4x64.oreo,et6x128-aspirin-scratch-35min.oreo').split(',');
const repeat = Number(opt('--repeat', '2'));
const MOLECULE = 'rmd17/rmd17_aspirin_train_01.npz';

const scratch = mkdtempSync(join(tmpdir(), 'oreo-browser-md-'));
const server = await startServer({ roots: [scratch], port: 0, modelsDir: join(packageRoot(), 'models'), assets: await buildWebAssets() });
const context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(600_000);

/** The worker alone: init, run, and the last reported rate. */
async function workerAlone(model: string, dtype: string, threads: number, steps: number): Promise<string> {
  return page.evaluate(
    async ([model, dtype, threads, steps, molecule]) => {
      const mol = await (await fetch('/api/molecule?id=' + encodeURIComponent(molecule as string))).json();
      const bytes = await (await fetch('/api/model?id=' + encodeURIComponent(model as string))).arrayBuffer();
      const w = new Worker('/md-worker.js');
      const settings = { thermostat: 'nose-hoover', dt: 0.5, temperature: 500, seed: 1, ttime: 20, friction: 0.01, chainLength: 3, zeroMomentum: true, zeroAngularMomentum: true };
      return new Promise<string>((resolve) => {
        let kernels = '';
        let rate = 0;
        w.onmessage = (e) => {
          const m = e.data;
          if (m.type === 'ready') {
            kernels = m.kernels;
            w.postMessage({ type: 'run', steps, reportEvery: 100 });
          } else if (m.type === 'frame') rate = m.stepsPerSecond;
          else if (m.type === 'done' || m.type === 'error') {
            w.terminate();
            resolve(`${rate.toFixed(1)} steps/s · kernels: ${kernels}${m.message ? ' · ' + m.message : ''}`);
          }
        };
        w.postMessage({ type: 'init', model: bytes, modelName: model, dtype, z: mol.z, positions: mol.positions, settings, threads }, [bytes]);
      });
    },
    [model, dtype, threads, steps, MOLECULE] as const,
  );
}

/** The app's live MD form. */
async function livePage(model: string, dtype: string, threads: number, steps: number, seed: number): Promise<string> {
  await page.selectOption('#md-model', model);
  await page.selectOption('#md-dtype', dtype);
  await page.selectOption('#md-threads', String(threads));
  await page.fill('#md-seed', String(seed));
  await page.fill('#md-steps', String(steps));
  await page.click('#md-run');
  await page.waitForSelector('#md-status[data-done]');
  const text = (await page.textContent('#md-status')) ?? '';
  return `${text.match(/([\d.]+) steps\/s/)?.[1] ?? '?'} steps/s · ${text.match(/kernels: [^·]*/)?.[0] ?? ''}`;
}

if (usePage) {
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="1"]');
  await page.click('#nav-live');
  await page.selectOption('#md-molecule', MOLECULE);
} else {
  await page.goto(server.url + 'favicon.svg');
}
console.log(`# ${usePage ? 'live MD page' : 'MD worker alone'}; Chromium ${context.browser()?.version() ?? ''}; ${await page.evaluate(() => navigator.hardwareConcurrency)} cores`);
for (const model of models) {
  const steps = /6x128|8x256/.test(model) ? 600 : 2000;
  for (const dtype of ['float32', 'float64']) {
    for (let r = 1; r <= repeat; r++) {
      for (const threads of [1, 2]) {
        const line = usePage ? await livePage(model, dtype, threads, steps, r) : await workerAlone(model, dtype, threads, steps);
        console.log(`${model} ${dtype} threads ${threads}: ${line}`);
      }
    }
  }
}
await context.close();
await server.close();
rmSync(scratch, { recursive: true, force: true });
