/**
 * The browser side of `oreo serve`, bundled in memory with esbuild when the server starts: the app
 * (src/web/app/main.ts, with 3Dmol.js and uPlot), the MD Web Worker (src/web/worker/md-worker.ts,
 * with oreo's engine, ET and integrators) and that worker's kernel helper thread (kernel-helper.js).
 * Building at start-up keeps the served code in step with the sources and needs no build products
 * in the repository.
 *
 * A few engine modules import `node:fs` for functions the browser never calls (reading a model
 * from a path, writing one atomically). Those imports resolve to a stub that throws if called;
 * any other Node built-in in the bundle is an error, so a browser-incompatible import cannot slip
 * in unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OreoError } from '../errors.js';
import { packageRoot } from '../data/bundled.js';
import { TEAM_WORKER_SOURCE_BROWSER } from '../engine/kernels/wasm.js';

export interface BundledFile {
  body: Uint8Array;
  type: string;
}

/** Node built-ins the browser bundle may contain, as stubs (see the header comment). */
export const STUBBED_BUILTINS = ['fs', 'string_decoder'];

/** Files of the app shell (web/) and the bundles, keyed by URL path. */
export type WebAssets = Map<string, BundledFile>;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function typeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.'));
  return TYPES[ext] ?? 'application/octet-stream';
}

type EsbuildModule = typeof import('esbuild');

async function loadEsbuild(): Promise<EsbuildModule> {
  try {
    return await import('esbuild');
  } catch {
    throw new OreoError('oreo serve bundles its browser code with esbuild, which is not installed here (run npm install in the oreo folder)');
  }
}

/** The source of an entry point: the TypeScript file, or its compiled twin when sources are absent. */
function entry(root: string, rel: string): string {
  const ts = join(root, 'src', 'web', rel + '.ts');
  if (existsSync(ts)) return ts;
  const js = join(root, 'dist', 'src', 'web', rel + '.js');
  if (existsSync(js)) return js;
  throw new OreoError(`cannot find the web app's source ${ts}`);
}

export interface BuildOptions {
  /** Minify the bundles (default true). */
  minify?: boolean;
}

export async function buildWebAssets(options: BuildOptions = {}): Promise<WebAssets> {
  const esbuild = await loadEsbuild();
  const root = packageRoot();
  const refused = new Set<string>();
  const nodeBuiltins: import('esbuild').Plugin = {
    name: 'node-builtins',
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => {
        const name = args.path.slice(5);
        if (!STUBBED_BUILTINS.includes(name)) refused.add(`${args.path} (imported by ${args.importer})`);
        return { path: name, namespace: 'node-stub' };
      });
      build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
        contents:
          `const fail = (k) => () => { throw new Error('node:${args.path}.' + String(k) + ' is not available in the browser'); };\n` +
          `module.exports = new Proxy({}, { get: (_, k) => (k === '__esModule' ? false : fail(k)) });\n`,
        loader: 'js',
      }));
    },
  };
  const common = {
    bundle: true,
    write: false,
    platform: 'browser' as const,
    target: ['chrome114', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'none' as const,
    logLevel: 'silent' as const,
    plugins: [nodeBuiltins],
    absWorkingDir: root,
  };
  let results;
  try {
    results = await Promise.all([
      esbuild.build({ ...common, entryPoints: { app: entry(root, 'app/main') }, format: 'esm', outdir: join(root, 'web-out') }),
      esbuild.build({ ...common, entryPoints: { 'md-worker': entry(root, 'worker/md-worker') }, format: 'iife', outdir: join(root, 'web-out') }),
    ]);
  } catch (err) {
    throw new OreoError(`bundling the web app failed: ${(err as Error).message}`);
  }
  if (refused.size > 0) throw new OreoError(`the browser bundle imports Node built-ins it cannot use: ${[...refused].join('; ')}`);
  const assets: WebAssets = new Map();
  for (const r of results) {
    for (const f of r.outputFiles ?? []) {
      const name = f.path.slice(f.path.lastIndexOf('/') + 1);
      assets.set('/' + name, { body: f.contents, type: typeOf(name) });
    }
  }
  // The second kernel thread of the MD worker (engine/kernels/browser-threads.ts), as a file of
  // this origin: the app's content security policy starts workers from here only.
  assets.set('/kernel-helper.js', { body: new TextEncoder().encode(TEAM_WORKER_SOURCE_BROWSER), type: typeOf('kernel-helper.js') });
  // OpenChemLib's torsion and bond tables, which the conformer generator (SMILES → 3D in the
  // browser, src/web/app/own-molecule.ts) fetches once.
  const oclResources = join(root, 'node_modules', 'openchemlib', 'dist', 'resources.json');
  if (existsSync(oclResources)) assets.set('/ocl-resources.json', { body: readFileSync(oclResources), type: 'application/json; charset=utf-8' });
  const shell = join(root, 'web');
  for (const name of ['index.html', 'style.css', 'favicon.svg']) {
    const p = join(shell, name);
    if (existsSync(p)) assets.set('/' + name, { body: readFileSync(p), type: typeOf(name) });
  }
  if (!assets.has('/index.html')) throw new OreoError(`the app shell ${join(shell, 'index.html')} is missing`);
  return assets;
}
