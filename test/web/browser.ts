// Headless Chromium for the web app's end-to-end tests: one launch recipe (no GPU, no network
// side traffic, a fixed viewport), page errors collected so a test can assert there were none.
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
