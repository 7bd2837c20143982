// Headless Chromium for the web app's end-to-end tests: one launch recipe (no GPU, no network
// side traffic, a fixed viewport), page errors collected so a test can assert there were none.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from '../system-tools.js';

export interface HeadlessBrowser {
  context: BrowserContext;
  page: Page;
  /** Messages of uncaught errors in the page, in order. */
  pageErrors: string[];
}

/** Page errors go into `pageErrors` (a fresh array unless one is given). */
export async function launchHeadless(dir: string, defaultTimeoutMs: number, pageErrors: string[] = []): Promise<HeadlessBrowser> {
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(defaultTimeoutMs);
  return { context, page, pageErrors };
}

/** A fresh temporary folder for one suite, and the screenshots folder ($OREO_WEB_SCREENSHOTS, default under the OS temp dir). */
export function testFolders(prefix: string): { dir: string; shots: string } {
  const shots = process.env.OREO_WEB_SCREENSHOTS ?? join(tmpdir(), 'oreo-web-screenshots');
  mkdirSync(shots, { recursive: true });
  return { dir: mkdtempSync(join(tmpdir(), prefix)), shots };
}

/** After a suite: the browser, then the server closed, the temporary folder removed (whatever was started). */
export async function closeAll(context: BrowserContext | undefined, server: { close(): Promise<unknown> } | undefined, dir: string | undefined): Promise<void> {
  await context?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Press Run on the live MD form, wait until it is done, and read its status (data-* and text). */
export async function runLiveMd(page: Page, timeoutMs = 60_000): Promise<Record<string, string | undefined>> {
  await page.click('#md-run');
  await page.waitForSelector('#md-status[data-done]', { timeout: timeoutMs });
  return page.evaluate(() => {
    const el = document.getElementById('md-status')!;
    return { ...el.dataset, text: el.textContent ?? '' };
  });
}
