/**
 * The `oreo` command: dispatch to one module per sub-command. No science lives here; each
 * command module parses its options and calls into src/.
 */
import { OreoError, describeSystemError } from '../errors.js';
import type { Command } from './command.js';

// Lazy so that `oreo --help` and a single command load only what they need.
const commands: Record<string, () => Promise<Command>> = {
  predict: async () => (await import('./predict.js')).command,
  export: async () => (await import('./export.js')).command,
  simulate: async () => (await import('./simulate.js')).command,
  build: async () => (await import('./build.js')).command,
  optimize: async () => (await import('./optimize.js')).command,
  data: async () => (await import('./data.js')).command,
  analyze: async () => (await import('./analyze.js')).command,
  pretrain: async () => (await import('./pretrain.js')).command,
  finetune: async () => (await import('./finetune.js')).command,
  eval: async () => (await import('./eval.js')).command,
  benchmark: async () => (await import('./benchmark.js')).command,
  demo: async () => (await import('./demo.js')).command,
  bench: async () => (await import('./bench.js')).command,
  serve: async () => (await import('./serve.js')).command,
  label: async () => (await import('./label.js')).command,
  dataset: async () => (await import('./dataset.js')).command,
  driver: async () => (await import('./driver.js')).command,
  sample: async () => (await import('./sample.js')).command,
  corpus: async () => (await import('./corpus.js')).command,
  worker: async () => (await import('./worker.js')).command,
};

/** The help text: every command with its one-line summary (each command module's own `summary`). */
async function usage(): Promise<string> {
  const names = Object.keys(commands);
  const summaries = await Promise.all(names.map(async (c) => (await commands[c]()).summary));
  const width = Math.max(...names.map((c) => c.length)) + 2;
  return [
    'oreo — force-centric pre-trained Equivariant Transformer force fields and molecular dynamics',
    '',
    'usage: oreo <command> [options]     (oreo <command> --help or -h for its options)',
    '',
    'commands:',
    ...names.map((c, i) => '  ' + c.padEnd(width) + summaries[i]),
    '',
    'Units: Å, eV, eV/Å, fs, amu, K unless a command says otherwise.',
    'Set OREO_DEBUG=1 or pass --debug to see stack traces.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug') || process.env.OREO_DEBUG === '1';
  argv = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return 0;
  }
  if (name === '--version') {
    console.log('oreo 0.1.0');
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`oreo: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  try {
    const cmd = await load();
    const code = await cmd.run(rest);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const system = describeSystemError(err);
    if (debug) console.error(err);
    else if (err instanceof OreoError) console.error(errorLine(name, err.message));
    // A file-system error that escaped a writer: its path (when Node gives one) and the reason in words.
    else if (system) console.error(errorLine(name, system.path ? `${system.path}: ${system.text}` : `${system.text} (run with --debug for the stack trace)`));
    else console.error(`${errorLine(name, (err as Error)?.message ?? String(err))}\n(run with --debug for the stack trace)`);
    return 1;
  }
}

/**
 * "oreo <command>: error: <message>". Many messages already start with "oreo <command>: " (or
 * "oreo <command> <subcommand>: ") so that they read well when src/ is used as a library; that
 * leading copy becomes the label instead of being printed a second time, for every command, and
 * a subcommand it names is kept ("oreo dataset polymers: error: …").
 */
export function errorLine(name: string, message: string): string {
  const m = new RegExp(`^(oreo ${name.replace(/[^A-Za-z0-9-]/g, '')}(?: [A-Za-z0-9-]+)?): `).exec(message);
  return m ? `${m[1]}: error: ${message.slice(m[0].length)}` : `oreo ${name}: error: ${message}`;
}
