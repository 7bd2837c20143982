/**
 * `oreo driver`: serve a model's energies and forces to an i-PI protocol server (ASE's
 * SocketIOCalculator, i-PI) over a unix or TCP socket. The server runs the dynamics; oreo is its
 * force engine, the role LAMMPS takes with `fix ipi`. Protocol and units: src/driver/.
 */
import { existsSync } from 'node:fs';
import type { Command } from './command.js';
import { helpText, num, parseArgs, requireStr, str, type OptionSpec } from './args.js';
import { InputError, OreoError } from '../errors.js';
import { setKernelThreads } from '../engine/kernels/threads.js';
import { readInitialStructure } from '../md/init.js';
import { connectToServer, describeAddress, serve, type DriverAddress } from '../driver/client.js';

const spec: Record<string, OptionSpec> = {
  model: { type: 'string', help: 'model file: oreo .oreo (ET or ANI ensemble) or TorchMD-Net .ckpt/.pt, or a bundled model name (ani2x)' },
  input: { type: 'string', help: 'the atoms\' elements, in the server\'s order: any file oreo reads (xyz, extxyz, npz, …); positions come from the server' },
  structure: { type: 'string', aliasOf: 'input', help: 'the older name' },
  frame: { type: 'string', help: 'frame of --input to take the elements from (default 0; -1 = last)' },
  unix: { type: 'string', help: 'unix socket NAME: connects to /tmp/ipi_NAME (the ASE and i-PI convention); a NAME with a / is the path itself' },
  inet: { type: 'string', help: 'TCP server HOST:PORT' },
  threads: { type: 'string', help: 'compute threads: 1 (default) or 2 (a helper thread takes half of each large matrix product)' },
  dtype: { type: 'string', help: 'float32 | float64 (default: the model\'s own precision)' },
  head: { type: 'string', help: "a multi-head model's head (its id or level of theory); default: the model's default head" },
  'connect-timeout': { type: 'string', help: 'keep trying to connect for this long, s, since the server may start after the driver (default 30)' },
  progress: { type: 'string', help: 'a progress line (steps served, steps/s) at most this often, s; 0 for none (default 10)' },
  help: { type: 'boolean' },
};

const usage = 'oreo driver --model FILE --input FILE (--unix NAME | --inet HOST:PORT) [--frame N] [--threads N] [--dtype float32|float64] [--connect-timeout S]';

/** "host:port", "[::1]:port" or ":port" (localhost). */
export function parseInet(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new OreoError(`--inet ${value}: expected HOST:PORT with a port from 1 to 65535 (e.g. localhost:31415)`);
  return { host: m[1] ?? (m[2] || 'localhost'), port };
}

export const command: Command = {
  summary: 'serve energies and forces to an i-PI / ASE socket server (i-PI protocol client)',
  async run(argv) {
    const p = parseArgs('driver', argv, spec);
    if (p.options.help) {
      console.log(
        helpText(
          usage,
          'Connects to an i-PI protocol server (ASE SocketIOCalculator, i-PI) and answers its force requests with the ' +
            'model until the server sends EXIT or closes the connection. Wire units are Bohr and Hartree; oreo converts. The ET is ' +
            'non-periodic: a cell is accepted, the isolated molecule is computed (with a warning if images would be within the cutoff).',
          spec,
        ),
      );
      return 0;
    }
    if (p.positionals.length) throw new OreoError(`oreo driver: unexpected argument '${p.positionals[0]}'`);
    const modelPath = requireStr('driver', p, 'model');
    const structure = requireStr('driver', p, 'input');
    const unix = str(p, 'unix');
    const inet = str(p, 'inet');
    if ((unix === undefined) === (inet === undefined)) throw new OreoError('oreo driver: give exactly one of --unix NAME and --inet HOST:PORT');
    if (unix === '') throw new OreoError('oreo driver: --unix needs a socket name');
    const address: DriverAddress = unix !== undefined ? { unix } : parseInet(inet!);
    const dtype = str(p, 'dtype');
    if (dtype !== undefined && dtype !== 'float32' && dtype !== 'float64') throw new OreoError(`--dtype ${dtype}: expected float32 or float64`);
    const threads = num('driver', p, 'threads', 1, { integer: true, min: 1 });
    if (threads > 2) throw new OreoError(`oreo driver: --threads ${threads}: at most 2 compute threads are implemented`);
    const timeoutSeconds = num('driver', p, 'connect-timeout', 30, { min: 0 });
    const progressSeconds = num('driver', p, 'progress', 10, { min: 0 });
    const frameArg = str(p, 'frame');
    const frame = frameArg === undefined ? undefined : num('driver', p, 'frame', 0, { integer: true });

    // Everything that can be wrong locally is refused before connecting, so a server is never
    // left holding a connection to a driver that cannot answer.
    const { loadEnergyModel, resolveModelPath, AniEnsemble } = await import('../model/load.js');
    if (!existsSync(resolveModelPath(modelPath))) throw new InputError(modelPath, 'model file not found');
    const head = str(p, 'head');
    const pot = loadEnergyModel(modelPath, { ...(dtype ? { dtype: dtype as 'float32' | 'float64' } : {}), ...(head !== undefined ? { head } : {}) });
    const init = await readInitialStructure(frame === undefined ? structure : `${structure}:${frame}`);
    const z = Int32Array.from(init.atoms.z);
    try {
      pot.checkElements(z);
    } catch (err) {
      if (err instanceof OreoError) throw new OreoError(`--input ${init.label}: ${err.message}`);
      throw err;
    }
    if (threads === 2 && setKernelThreads(2) < 2) console.error('oreo driver: shared WASM memory is unavailable here; running on one thread');
    const calculator = pot.asCalculator();

    const where = describeAddress(address);
    console.error(`oreo driver: ${modelPath} (${pot.dtype}) on ${z.length} atoms of ${init.label}; connecting to ${where}`);
    const socket = await connectToServer(address, { timeoutSeconds });
    console.error(`oreo driver: connected to ${where}`);
    const r = await serve(socket, {
      calculator,
      z,
      structureLabel: init.label,
      cutoff: pot instanceof AniEnsemble ? pot.cutoff : pot.config.cutoff_upper,
      log: (line) => console.error(line),
      progressSeconds,
    });
    const rate = r.seconds > 0 ? `, ${(r.steps / r.seconds).toFixed(1)} steps/s` : '';
    const why = r.ending === 'exit' ? 'the server sent EXIT' : 'the server closed the connection';
    console.error(`oreo driver: ${why}; served ${r.steps} steps in ${r.seconds.toFixed(1)} s${rate}`);
    return 0;
  },
};
