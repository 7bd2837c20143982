/**
 * `oreo serve`: the web app over local run folders — trajectory player, energy/temperature/RMSD
 * plots, analyses (metrics, h(r)), training curves — and MD in the browser.
 */
import type { Command } from './command.js';
import { flag, helpText, num, parseArgs, str, type OptionSpec } from './args.js';
import { OreoError } from '../errors.js';
import { buildWebAssets } from '../web/bundle.js';
import { isLoopback, startServer } from '../web/server.js';

const spec: Record<string, OptionSpec> = {
  port: { type: 'string', help: 'TCP port (default 8765; 0 picks a free one)' },
  host: { type: 'string', help: 'address to listen on (default 127.0.0.1; the app has no login, so keep it local)' },
  models: { type: 'string', help: 'folder of models offered for in-browser MD (default: oreo\'s models/)' },
  molecules: { type: 'string', help: 'folder of sample molecules for in-browser MD (default: oreo\'s data/)' },
  verbose: { type: 'boolean', help: 'log every refused or failed request' },
  help: { type: 'boolean', help: 'show this help' },
};

const usage = 'oreo serve [--port 8765] [--host 127.0.0.1] [DIR ...]';

export const command: Command = {
  summary: 'web app: watch trajectories, plots and training curves of local runs; run MD in the browser',
  async run(argv) {
    const p = parseArgs('serve', argv, spec);
    if (p.options.help) {
      console.log(
        helpText(
          usage,
          'Serves the runs found in the DIRs (default: the current folder) — MD runs (trajectory.extxyz), analyses (metrics.json) and training runs (log.jsonl) — and nothing else from the disk. Prints the URL; stop with Ctrl-C.',
          spec,
        ),
      );
      return 0;
    }
    const port = num('serve', p, 'port', 8765, { min: 0, max: 65535, integer: true });
    const host = str(p, 'host') ?? '127.0.0.1';
    if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new OreoError(`oreo serve: --host ${host}: not a host name or address`);
    const roots = p.positionals.length > 0 ? p.positionals : ['.'];
    const assets = await buildWebAssets();
    const verbose = flag(p, 'verbose');
    const server = await startServer({
      roots,
      host,
      port,
      assets,
      modelsDir: str(p, 'models'),
      dataDir: str(p, 'molecules'),
      log: verbose ? (line) => console.error(line) : (line) => (line.includes('→ 5') ? console.error(line) : undefined),
    });
    if (!isLoopback(host)) console.error(`oreo serve: warning: listening on ${host}, reachable from other machines; the app has no login`);
    console.error(`oreo serve: serving ${server.roots.length === 1 ? server.roots[0] : server.roots.length + ' folders: ' + server.roots.join(', ')}`);
    // The URL alone on stdout, so scripts can read it.
    console.log(server.url);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
