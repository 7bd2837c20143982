// The web app end to end in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): open a trajectory, scrub it, see the plots drawn, look at an analysis and a
// training run, run 200 MD steps in the browser, and compare the browser's forces with
// `oreo predict`. Screenshots go to $OREO_WEB_SCREENSHOTS (default: a folder under the OS temp
// dir), named in the test output. Without Chromium the suite is skipped with the install command
// (test/system-tools.ts); CI installs it and sets OREO_REQUIRE_SYSTEM_TOOLS=1, where a missing
// Chromium fails instead.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { closeAll, launchHeadless, runLiveMd, testFolders } from './browser.js';
import { main } from '../../src/cli/main.js';
import { buildWebAssets } from '../../src/web/bundle.js';
import { startServer, type RunningServer } from '../../src/web/server.js';
import type { TrajectoryPayload } from '../../src/web/payloads.js';
import { dataDir, repoRoot } from '../paths.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { formatExtxyzFrame, parseExtxyz } from '../../src/data/extxyz.js';
import { makeWebFixture, MODEL_ID, type WebFixture } from './fixture.js';
import { skipUnless } from '../system-tools.js';

const ASPIRIN = 'rmd17/rmd17_aspirin_train_01.npz';
const ETHANOL_MODEL = 'oreo-ethanol-et4x64.oreo';
const PRETRAINED_MODEL = 'oreo-pretrained-et4x64.oreo';
const CAFFEINE = 'Cn1cnc2c1c(=O)n(C)c(=O)n2C';

/** Share of pixels of an element's canvases that are not background white (0..1). */
async function inkFraction(page: Page, selector: string): Promise<number> {
  const png = await page.locator(selector).screenshot();
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) ink++;
    return ink / (d.length / 4);
  }, png.toString('base64'));
}

// Each test is skipped on its own (not the suite) so that node:test's closing "skipped" count
// shows them; the hooks then have nothing to set up.
const skip = skipUnless('chromium');

describe('web app in headless Chromium', () => {
  let dir: string;
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let fx: WebFixture;
  let shots: string;
  const pageErrors: string[] = [];

  before(async () => {
    if (skip) return;
    ({ dir, shots } = testFolders('oreo-web-e2e-'));
    fx = await makeWebFixture(dir);
    // Two bundled models for the user's-own-molecule tests: one that holds ethanol together, and
    // the pre-trained one, which does not hold caffeine together.
    for (const m of [ETHANOL_MODEL, PRETRAINED_MODEL]) copyFileSync(join(repoRoot, 'models', m), join(fx.modelsDir, m));
    server = await startServer({ roots: [fx.runsDir], port: 0, modelsDir: fx.modelsDir, assets: await buildWebAssets() });
    ({ context, page } = await launchHeadless(dir, 30_000, pageErrors));
  });

  after(() => closeAll(context, server, dir));

  it('loads the app and lists the runs', { skip }, async (t) => {
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
    assert.equal(await page.locator('a.kind').count(), 3);
    t.diagnostic(`screenshots in ${shots}`);
  });

  it('plays a trajectory: scrubbing moves the 3D view, the time label and the plot markers', { skip }, async () => {
    const traj = (await (await fetch(`${server.url}api/trajectory?run=0:md`)).json()) as TrajectoryPayload;
    await page.click('a.kind[data-run="0:md"]');
    await page.waitForSelector('#player[data-frame="0"]');
    assert.equal(await page.getAttribute('#player', 'data-frames'), String(traj.indices.length));
    assert.ok(!(await page.locator('#traj-viewer.viewer-error').count()), 'the 3D viewer did not start (no WebGL?)');

    // Three plots, each drawn (not blank) and carrying every frame.
    const charts = page.locator('#player .chart');
    assert.equal(await charts.count(), 3);
    for (let i = 0; i < 3; i++) {
      assert.equal(await charts.nth(i).getAttribute('data-points'), String(traj.indices.length));
      assert.ok((await inkFraction(page, `#player .chart >> nth=${i}`)) > 0.02, `plot ${i} is blank`);
    }
    assert.ok((await inkFraction(page, '#traj-viewer')) > 0.02, 'the 3D view is blank');
    const before = await page.locator('#traj-viewer').screenshot();
    await page.screenshot({ path: join(shots, 'player-frame0.png') });

    const target = Math.floor((2 * traj.indices.length) / 3);
    await page.locator('#frame-slider').fill(String(target));
    await page.waitForSelector(`#player[data-frame="${target}"]`);
    const label = await page.textContent('#frame-label');
    assert.match(label!, new RegExp(`^frame ${traj.indices[target]} of ${traj.totalFrames - 1} · t = `));
    for (let i = 0; i < 3; i++) assert.equal(Number(await charts.nth(i).getAttribute('data-marker')), traj.timesPs[target]);
    await page.waitForTimeout(200);
    const after = await page.locator('#traj-viewer').screenshot();
    assert.ok(!before.equals(after), 'the 3D view did not change with the frame');
    await page.screenshot({ path: join(shots, 'player-scrubbed.png') });

    // A click in a plot seeks the player to that time (left quarter of the RMSD plot).
    const over = page.locator('#player .chart >> nth=2').locator('.u-over');
    const box = (await over.boundingBox())!;
    await over.click({ position: { x: box.width * 0.25, y: box.height / 2 } });
    const seeked = Number(await page.getAttribute('#player', 'data-frame'));
    assert.ok(seeked !== target && seeked > 0 && seeked < traj.indices.length / 2, `click seeked to frame ${seeked}`);

    await page.click('#play');
    await page.waitForFunction(() => Number(document.getElementById('player')!.dataset.frame) > 0 && document.getElementById('play')!.textContent === 'Pause');
    await page.click('#play');
  });

  it('shows an analysis: metrics table and h(r) simulation vs reference', { skip }, async () => {
    await page.click('a.kind[data-run="0:md/analysis"]');
    await page.waitForSelector('#hr-chart canvas');
    const rows = await page.locator('#metrics-table tbody tr').allTextContents();
    assert.ok(rows.some((r) => r.startsWith('h(r) MAE')), rows.join('\n'));
    const metrics = JSON.parse(readFileSync(join(fx.runsDir, 'md', 'analysis', 'metrics.json'), 'utf8'));
    assert.ok(rows.some((r) => r.startsWith('Stability (bond criterion)') && r.includes(String(Number(metrics.mdsim.stability_ps.toPrecision(5))))));
    assert.ok((await inkFraction(page, '#hr-chart')) > 0.02, 'h(r) plot is blank');
    await page.screenshot({ path: join(shots, 'analysis.png'), fullPage: true });
    // The analysis links to its trajectory.
    await page.click('#open-analysed-trajectory');
    await page.waitForSelector('#player[data-frame="0"]');
  });

  it('shows training curves', { skip }, async () => {
    await page.click('a.kind[data-run="0:finetune"]');
    await page.waitForSelector('#training .chart canvas');
    const loss = page.locator('#training .chart >> nth=0');
    assert.equal(await loss.getAttribute('data-title'), 'Loss');
    assert.equal(Number(await loss.getAttribute('data-points')), 12);
    assert.ok((await inkFraction(page, '#training .chart >> nth=0')) > 0.02, 'loss plot is blank');
    await page.screenshot({ path: join(shots, 'training.png') });
  });

  it('runs 200 MD steps in the browser and reads back finite energies', { skip }, async (t) => {
    await page.click('#nav-live');
    await page.waitForSelector('#live');
    // oreo serve's COOP/COEP headers make the page cross-origin isolated (SharedArrayBuffer).
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true, 'page is not cross-origin isolated');
    await page.selectOption('#md-molecule', ASPIRIN);
    await page.selectOption('#md-model', MODEL_ID);
    await page.fill('#md-steps', '200');
    await page.fill('#md-dt', '0.25');
    // The tiny random model is no force field: this test is about threads and numbers, not stability.
    await page.check('#md-allow-unstable');
    // Two threads by default where the page is isolated and has 4 cores or more; asked for here.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    assert.equal(await page.inputValue('#md-threads'), cores >= 4 ? '2' : '1');
    await page.selectOption('#md-threads', '2');
    const status = await runLiveMd(page);
    assert.equal(status.done, '200', status.text ?? '');
    assert.equal(status.step, '200');
    for (const k of ['epot', 'etot', 'temperature'] as const) assert.ok(Number.isFinite(Number(status[k])), `${k} = ${status[k]}`);
    assert.ok(Number(status.temperature) > 0);
    assert.equal(status.frames, '201');
    // Isolated, so the second thread starts: a nested helper worker runs half of each product.
    assert.match(status.text!, /kernels: WASM \([^)]*\), 2 threads/);
    t.diagnostic(status.text!);
    assert.ok((await inkFraction(page, '#md-energy-chart')) > 0.02, 'energy plot is blank');
    assert.ok((await inkFraction(page, '#md-viewer')) > 0.02, 'MD view is blank');
    await page.screenshot({ path: join(shots, 'live-md.png') });
  });

  it('runs the same MD on one thread: the helper worker changes no number', { skip }, async (t) => {
    const twoThreads = await page.evaluate(() => ({ ...document.getElementById('md-status')!.dataset }));
    await page.selectOption('#md-threads', '1');
    const status = await runLiveMd(page);
    t.diagnostic(status.text!);
    assert.match(status.text!, /kernels: WASM \([^)]*\), 1 thread/);
    assert.equal(status.step, '200');
    // The split is by columns of each product, each column summed in the same order: bit-identical.
    for (const k of ['epot', 'etot', 'temperature'] as const) assert.equal(status[k], twoThreads[k], `${k}: 1 thread ${status[k]}, 2 threads ${twoThreads[k]}`);
    await page.selectOption('#md-threads', '2');
  });

  it('computes the same forces in the browser as `oreo predict`', { skip }, async (t) => {
    const out = join(dir, 'predict.json');
    const log = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(['predict', '--model', fx.modelPath, '--input', join(dataDir, ...ASPIRIN.split('/')), '--frames', '0', '--dtype', 'float64', '--out', out]), 0);
    } finally {
      console.error = log;
    }
    const cli = JSON.parse(readFileSync(out, 'utf8')).frames[0] as { energy: number; forces: number[][] };
    const cliForces = cli.forces.flat();
    for (const dtype of ['float64', 'float32'] as const) {
      const web = await page.evaluate(([m, mol, d]) => (window as unknown as { oreo: { forces(a: string, b: string, c: string): Promise<{ energy: number; forces: number[] }> } }).oreo.forces(m, mol, d), [MODEL_ID, ASPIRIN, dtype] as const);
      assert.equal(web.forces.length, cliForces.length);
      let maxDiff = 0, maxF = 0;
      web.forces.forEach((f, k) => {
        maxDiff = Math.max(maxDiff, Math.abs(f - cliForces[k]));
        maxF = Math.max(maxF, Math.abs(cliForces[k]));
      });
      // float64: the same arithmetic up to fused multiply-adds; float32: single-precision rounding.
      const tol = dtype === 'float64' ? 1e-9 * Math.max(1, maxF) : 1e-4 * Math.max(1, maxF);
      t.diagnostic(`${dtype}: max |F_browser − F_cli| = ${maxDiff.toExponential(2)} eV/Å, max |F| = ${maxF.toFixed(3)} eV/Å, ΔE = ${Math.abs(web.energy - cli.energy).toExponential(2)} eV`);
      assert.ok(maxF > 0, 'the model gives zero forces: the comparison would prove nothing');
      assert.ok(maxDiff <= tol, `${dtype}: max |F_browser − F_cli| = ${maxDiff} eV/Å (max |F| ${maxF})`);
      assert.ok(Math.abs(web.energy - cli.energy) <= (dtype === 'float64' ? 1e-9 : 1e-4) * Math.max(1, Math.abs(cli.energy)), `${dtype}: energy ${web.energy} vs ${cli.energy}`);
    }
  });

  it('your own molecule from a SMILES: caffeine with the pre-trained model shows "collapsed at t ps"', { skip }, async (t) => {
    await page.uncheck('#md-allow-unstable');
    await page.fill('#md-smiles', CAFFEINE);
    await page.click('#md-smiles-build');
    await page.waitForFunction(() => document.getElementById('live')!.dataset.ownMolecule === 'C8H10N4O2');
    await page.selectOption('#md-model', PRETRAINED_MODEL);
    await page.selectOption('#md-thermostat', 'nose-hoover');
    await page.fill('#md-temperature', '300');
    await page.fill('#md-dt', '0.5');
    await page.fill('#md-steps', '2000');
    const status = await runLiveMd(page);
    t.diagnostic(status.text!);
    await page.screenshot({ path: join(shots, 'live-md-caffeine-collapsed.png') });
    assert.ok(status.collapsed, `no collapse reported: ${status.text}`);
    assert.ok(Number(status.done) < 2000, `ran ${status.done} steps`);
    assert.match(status.text!, new RegExp(`^collapsed at ${status.collapsed!.replace('.', '\\.')} ps: bond [A-Z]\\d+–[A-Z]\\d+`));
    assert.equal(Number(status.collapsed), Number(status.done) * 0.5 / 1000);
    assert.equal(await page.getAttribute('#md-status', 'class'), 'status error');
  });

  it('your own molecule from a file: ethanol xyz with its model runs, and the trajectory and thermo data download', { skip }, async (t) => {
    const [eth] = readMd17Npz(join(dataDir, 'rmd17', 'rmd17_ethanol_test_01.npz')).slice(0, 1);
    const xyz = join(dir, 'my-ethanol.xyz');
    writeFileSync(xyz, formatExtxyzFrame({ z: eth.z, positions: eth.positions, info: {}, arrays: {} }));
    await page.setInputFiles('#md-file', xyz);
    await page.waitForFunction(() => document.getElementById('live')!.dataset.ownMolecule === 'C2H6O');
    await page.selectOption('#md-model', ETHANOL_MODEL);
    await page.fill('#md-steps', '100');
    const status = await runLiveMd(page);
    t.diagnostic(status.text!);
    assert.equal(status.done, '100', status.text);
    assert.equal(status.collapsed, undefined);
    assert.equal(status.warning, undefined, 'its own model gives no molecule-specific warning');
    await page.screenshot({ path: join(shots, 'live-md-own-ethanol.png') });
    const [traj] = await Promise.all([page.waitForEvent('download'), page.click('#md-download-traj')]);
    const frames = parseExtxyz(readFileSync((await traj.path())!, 'utf8'), 'download');
    assert.equal(frames.length, 101);
    assert.deepEqual(Array.from(frames[0].z), Array.from(eth.z));
    assert.equal(frames[100].info.step, 100);
    assert.equal(String(frames[100].info.energy), status.epot);
    const [thermo] = await Promise.all([page.waitForEvent('download'), page.click('#md-download-thermo')]);
    const rows = readFileSync((await thermo.path())!, 'utf8').trim().split('\n');
    assert.equal(rows[0], 'time_ps,Etot_eV,Epot_eV,Ekin_eV,T_K');
    assert.equal(rows.length, 102);
    assert.equal(Number(rows[101].split(',')[4]), Number(status.temperature));
    // The ethanol model on caffeine would be a molecule-specific model on another molecule: warned.
    await page.fill('#md-smiles', CAFFEINE);
    await page.click('#md-smiles-build');
    await page.waitForFunction(() => document.getElementById('live')!.dataset.ownMolecule === 'C8H10N4O2');
    await page.fill('#md-steps', '1');
    const warned = await runLiveMd(page);
    assert.match(warned.warning ?? '', /molecule-specific: trained on C2H6O/);
  });

  it('raised no uncaught errors in the page', { skip }, () => {
    assert.deepEqual(pageErrors, []);
  });
});
