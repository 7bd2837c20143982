// ANI-2x in the browser (headless Chromium, as e2e.test.ts): the app lists the bundled
// models/ani2x.oreo, its Web Worker opens it by kind and runs MD on a molecule, and its forces
// equal the ones oreo computes in Node; and a user's own molecule typed as a SMILES (caffeine,
// docs/your-molecule.md) runs under ANI-2x with the stability watchdog on and does not collapse.
// Screenshots go to $OREO_WEB_SCREENSHOTS (default: a folder under the OS temp dir). Skipped
// without Chromium (test/system-tools.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { closeAll, launchHeadless, runLiveMd, testFolders } from './browser.js';
import { buildWebAssets } from '../../src/web/bundle.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import { readMolecule } from '../../src/web/catalog.js';
import { loadEnergyModel, AniEnsemble } from '../../src/model/load.js';
import { dataDir, repoRoot } from '../paths.js';
import { skipUnless } from '../system-tools.js';

const MOLECULE = 'rmd17/rmd17_aspirin_train_01.npz';
const MODEL = 'ani2x.oreo';
const CAFFEINE = 'Cn1cnc2c1c(=O)n(C)c(=O)n2C';
const skip = skipUnless('chromium');

describe('ANI-2x in the browser', () => {
  let dir: string;
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  before(async () => {
    if (skip) return;
    ({ dir, shots } = testFolders('oreo-ani-web-'));
    mkdirSync(join(dir, 'runs'));
    server = await startServer({ roots: [join(dir, 'runs')], port: 0, modelsDir: join(repoRoot, 'models'), assets: await buildWebAssets() });
    ({ context, page } = await launchHeadless(dir, 60_000, pageErrors));
  });

  after(() => closeAll(context, server, dir));

  it('runs ANI-2x MD in the page and computes the forces Node computes', { skip }, async (t) => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
    await page.click('#nav-live');
    await page.waitForSelector('#live');
    await page.selectOption('#md-molecule', MOLECULE);
    await page.selectOption('#md-model', MODEL);
    await page.fill('#md-steps', '20');
    await page.fill('#md-dt', '0.5');
    const status = await runLiveMd(page, 120_000);
    t.diagnostic(status.text ?? '');
    assert.equal(status.step, '20', status.text);
    for (const k of ['epot', 'etot', 'temperature'] as const) assert.ok(Number.isFinite(Number(status[k])), `${k} = ${status[k]}`);

    const web = await page.evaluate(([m, mol]) => (window as unknown as { oreo: { forces(a: string, b: string, c: string): Promise<{ energy: number; forces: number[] }> } }).oreo.forces(m, mol, 'float64'), [MODEL, MOLECULE] as const);
    const mol = readMolecule(dataDir, MOLECULE);
    const ani = loadEnergyModel('ani2x', { dtype: 'float64' });
    assert.ok(ani instanceof AniEnsemble);
    const node = ani.compute(Int32Array.from(mol.z), Float64Array.from(mol.positions), undefined, 1, { spread: false });
    let maxDiff = 0, maxF = 0;
    web.forces.forEach((f, k) => {
      maxDiff = Math.max(maxDiff, Math.abs(f - node.forces[k]));
      maxF = Math.max(maxF, Math.abs(node.forces[k]));
    });
    t.diagnostic(`float64: max |F_browser − F_node| = ${maxDiff.toExponential(2)} eV/Å of max |F| ${maxF.toFixed(3)}`);
    assert.ok(maxF > 0.1);
    assert.ok(maxDiff <= 1e-9 * maxF, `max |ΔF| ${maxDiff}`);
    assert.ok(Math.abs(web.energy - node.energy[0]) <= 1e-9 * Math.abs(node.energy[0]));
    assert.deepEqual(pageErrors, []);
  });

  // OREO_E2E_ANI_STEPS=20000 runs the same check for 10 ps (about 10 minutes), by hand.
  const steps = Number(process.env.OREO_E2E_ANI_STEPS ?? 400);
  it(`caffeine typed as a SMILES, relaxed with ANI-2x in the page, runs ${steps} steps of MD at 300 K without collapse`, { skip }, async (t) => {
    // The same molecule the bundled pre-trained ET shreds within 50 fs (e2e.test.ts): ANI-2x, a
    // universal organic potential, must hold it together with the watchdog on.
    await page.uncheck('#md-allow-unstable');
    await page.fill('#md-smiles', CAFFEINE);
    await page.click('#md-smiles-build');
    await page.waitForFunction(() => document.getElementById('live')!.dataset.ownMolecule === 'C8H10N4O2');
    await page.selectOption('#md-model', MODEL);
    await page.selectOption('#md-thermostat', 'nose-hoover');
    await page.fill('#md-temperature', '300');
    await page.fill('#md-dt', '0.5');
    await page.fill('#md-steps', String(steps));
    await page.check('#md-relax');
    const status = await runLiveMd(page, Math.max(300_000, steps * 150));
    t.diagnostic(status.text ?? '');
    await page.screenshot({ path: join(shots, 'live-md-caffeine-ani2x.png') });
    t.diagnostic(`screenshot ${join(shots, 'live-md-caffeine-ani2x.png')}`);
    assert.equal(status.collapsed, undefined, status.text);
    assert.equal(status.done, String(steps), status.text);
    // Relaxed in the page before the first step (a structure from a SMILES is no minimum of ANI-2x).
    assert.ok(Number(status.relaxSteps) > 0, `relaxation steps: ${status.relaxSteps}`);
    const temperature = Number(status.temperature);
    // Nosé–Hoover at 300 K on 24 atoms after 0.2 ps: finite and not running away.
    assert.ok(Number.isFinite(temperature) && temperature > 50 && temperature < 900, `T = ${status.temperature} K`);
    assert.notEqual(await page.getAttribute('#md-status', 'class'), 'status error');
    assert.deepEqual(pageErrors, []);
  });
});
