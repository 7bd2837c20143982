/**
 * The HTTP server of `oreo serve`: the app (bundled at start-up, see bundle.ts), a JSON API over
 * the runs found in the served folders, the bundled models and molecules for in-browser MD, and
 * the run folders' own files under /files/ROOT/PATH.
 *
 * It is a local tool, so it binds to 127.0.0.1 by default and guards what a local server must:
 * only GET/HEAD; only files inside the served folders (see safe-path.ts); every query parameter
 * checked (see query.ts); a Host-header check so that a web page elsewhere cannot reach it through
 * DNS rebinding; and a Content-Security-Policy that keeps scripts in served files from running.
 */
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { OreoError } from '../errors.js';
import { packageRoot } from '../data/bundled.js';
import { listModels, listMolecules, modelBytes, readMolecule } from './catalog.js';
import { analysisPayload, publicMessage, trainingPayload, trajectoryPayload, type AnalysisAccess } from './payloads.js';
import { parseQuery, QueryError, type ParamSpec } from './query.js';
import { openRun, RUN_ID_PATTERN, scanRuns, runKinds, type RunKind } from './runs.js';
import { AccessRefused, fileInside, realRoot } from './safe-path.js';
import type { WebAssets } from './bundle.js';

export interface ServeOptions {
  /** Folders whose runs are listed and whose files may be served. */
  roots: string[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Models offered for in-browser MD (default: the package's models/). */
  modelsDir?: string;
  /** Sample molecules for in-browser MD (default: the package's data/). */
  dataDir?: string;
  /** The app's files, from buildWebAssets(). */
  assets: WebAssets;
  /** One line per failed request (default: none). */
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** The served folders as real paths, in the order of their ROOT index. */
  roots: string[];
  server: Server;
  close(): Promise<void>;
}

const APP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

/** Sent with every answer, the app's and the run files' alike. */
const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  // Cross-origin isolation (COOP + COEP): the page gets SharedArrayBuffer, which a second WASM
  // thread for in-browser MD needs. Everything is served from here, so require-corp costs nothing.
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** Files from run folders may be HTML or SVG written by anyone: show them, never run their scripts. */
const FILES_CSP = "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'";

const FILE_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
  '.csv': 'text/plain; charset=utf-8',
  '.xyz': 'text/plain; charset=utf-8',
  '.extxyz': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
};

const runParam: ParamSpec = { type: 'string', pattern: RUN_ID_PATTERN, maxLength: 1024, required: true };
const ENDPOINT_PARAMS: Record<string, Record<string, ParamSpec>> = {
  '/api/runs': {},
  '/api/trajectory': {
    run: runParam,
    stride: { type: 'int', min: 1, max: 1_000_000 },
    maxFrames: { type: 'int', min: 1, max: 20_000 },
  },
  '/api/analysis': { run: runParam },
  '/api/training': { run: runParam },
  '/api/models': {},
  '/api/model': { id: { type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/, maxLength: 200, required: true } },
  '/api/molecules': {},
  '/api/molecule': { id: { type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, maxLength: 300, required: true } },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  if (options.roots.length === 0) throw new OreoError('oreo serve: no folder to serve');
  if (options.roots.length > 999) throw new OreoError('oreo serve: at most 999 folders');
  const roots = options.roots.map((d) => {
    try {
      return realRoot(d);
    } catch (err) {
      throw new OreoError(`oreo serve: ${(err as Error).message}`);
    }
  });
  const host = options.host ?? '127.0.0.1';
  const modelsDir = options.modelsDir ?? join(packageRoot(), 'models');
  const dataDir = options.dataDir ?? join(packageRoot(), 'data');
  const dataRoot = (() => {
    try {
      return realRoot(dataDir);
    } catch {
      return null;
    }
  })();
  const assets = options.assets;
  let allowedHosts = new Set<string>();
  const checkHost = isLoopback(host);

  // Inputs an analysis names (its trajectory folder and reference file) are read only from here.
  const readable = [...roots, ...(dataRoot ? [dataRoot] : [])];
  const withinServed = (p: string): boolean => {
    let real: string;
    try {
      real = realpathSync(p);
    } catch {
      return false;
    }
    return readable.some((r) => real === r || real.startsWith(r + sep));
  };
  const access: AnalysisAccess = {
    allowed: withinServed,
    runIdOf(dir: string) {
      let real: string;
      try {
        real = realRoot(dir);
      } catch {
        return null;
      }
      for (let r = 0; r < roots.length; r++) {
        if (real === roots[r] || real.startsWith(roots[r] + sep)) {
          if (!runKinds(real).includes('md')) return null;
          return `${r}:${relative(roots[r], real).split(sep).join('/')}`;
        }
      }
      return null;
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const head = req.method === 'HEAD';
    const send = (status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
        ...COMMON_HEADERS,
        'Content-Security-Policy': APP_CSP,
        ...extra,
      });
      res.end(head ? undefined : body);
    };
    const json = (status: number, value: unknown) => send(status, 'application/json; charset=utf-8', JSON.stringify(value), { 'Cache-Control': 'no-store' });
    try {
      if (req.method !== 'GET' && !head) throw new HttpError(405, `method ${req.method} not allowed (GET or HEAD)`);
      // On a loopback address, a Host other than our own means a page elsewhere reached us
      // through DNS rebinding; a server deliberately bound to a network address answers any name.
      const hostHeader = (req.headers.host ?? '').toLowerCase();
      if (checkHost && !allowedHosts.has(hostHeader)) throw new HttpError(403, `unexpected Host header '${hostHeader.slice(0, 100)}'`);
      const rawUrl = req.url ?? '/';
      if (!rawUrl.startsWith('/')) throw new HttpError(400, 'request target must be a path');
      const url = new URL(rawUrl, 'http://localhost');
      const path = url.pathname;

      if (path === '/' || assets.has(path)) {
        if ([...url.searchParams.keys()].length > 0) throw new QueryError('this page takes no parameters');
        const f = assets.get(path === '/' ? '/index.html' : path)!;
        send(200, f.type, f.body, { 'Cache-Control': 'no-cache' });
        return;
      }
      if (path.startsWith('/files/')) {
        if ([...url.searchParams.keys()].length > 0) throw new QueryError('files take no parameters');
        serveFile(path.slice('/files/'.length), req, res, head);
        return;
      }
      const spec = ENDPOINT_PARAMS[path];
      if (!spec) throw new HttpError(404, 'not found');
      const q = parseQuery(url.searchParams, spec);
      switch (path) {
        case '/api/runs':
          json(200, { roots: roots.map((p, index) => ({ index, path: p })), runs: scanRuns(roots) });
          return;
        case '/api/trajectory': {
          const run = needKind(String(q.run), 'md');
          json(200, trajectoryPayload(run, { stride: (q.stride as number | undefined) ?? 1, maxFrames: (q.maxFrames as number | undefined) ?? 2000 }));
          return;
        }
        case '/api/analysis':
          json(200, analysisPayload(needKind(String(q.run), 'analysis'), access));
          return;
        case '/api/training':
          json(200, trainingPayload(needKind(String(q.run), 'training')));
          return;
        case '/api/models':
          json(200, { models: listModels(modelsDir) });
          return;
        case '/api/model':
          send(200, 'application/octet-stream', modelBytes(modelsDir, String(q.id)), { 'Cache-Control': 'no-cache' });
          return;
        case '/api/molecules':
          json(200, { molecules: listMolecules(dataDir) });
          return;
        case '/api/molecule':
          json(200, readMolecule(dataDir, String(q.id)));
          return;
      }
      throw new HttpError(404, 'not found');
    } catch (err) {
      const status =
        err instanceof HttpError || err instanceof AccessRefused || err instanceof QueryError
          ? err.status
          : err instanceof OreoError
            ? 422
            : 500;
      const message = (err as Error)?.message ?? String(err);
      if (status >= 500 || options.log) options.log?.(`${req.method} ${(req.url ?? '').slice(0, 200)} → ${status} ${message}`);
      // Refusals and query errors say what was wrong with the request; a file that failed to
      // read says which file only, never a line of it.
      const body = err instanceof HttpError || err instanceof AccessRefused || err instanceof QueryError ? message : publicMessage(err);
      if (!res.headersSent) json(status, { error: body });
      else res.destroy();
    }
  };

  const needKind = (id: string, kind: RunKind): string => {
    const run = openRun(roots, id);
    if (!run.kinds.includes(kind)) throw new AccessRefused(404, `${id} is not ${kind === 'md' ? 'an MD run' : kind === 'analysis' ? 'an analysis' : 'a training run'}`);
    return run.dir;
  };

  const serveFile = (rest: string, req: IncomingMessage, res: ServerResponse, head: boolean) => {
    const slash = rest.indexOf('/');
    const rootText = slash < 0 ? rest : rest.slice(0, slash);
    if (!/^\d{1,3}$/.test(rootText)) throw new HttpError(404, 'not found');
    const r = Number(rootText);
    if (r >= roots.length) throw new HttpError(404, `no served folder number ${r}`);
    let rel: string;
    try {
      rel = (slash < 0 ? '' : rest.slice(slash + 1))
        .split('/')
        .map((s) => decodeURIComponent(s))
        .join('/');
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in path');
    }
    const file = fileInside(roots[r], rel);
    const size = statSync(file).size;
    res.writeHead(200, {
      'Content-Type': FILE_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(size),
      ...COMMON_HEADERS,
      'Content-Security-Policy': FILES_CSP,
      'Cache-Control': 'no-cache',
    });
    if (head || req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server = createServer(handle);
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      rejectListen(new OreoError(`oreo serve: cannot listen on ${host}:${options.port ?? 0}: ${err.code ?? err.message}`)),
    );
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]']);
  if (host.includes(':') && !host.startsWith('[')) names.add(`[${host}]`);
  allowedHosts = new Set([...names].map((n) => `${n.toLowerCase()}:${port}`));
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    host,
    roots,
    server,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

