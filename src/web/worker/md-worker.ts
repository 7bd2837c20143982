/**
 * The in-browser MD: a Web Worker that runs oreo's own engine, ET and integrators (the very
 * modules `oreo simulate` runs), so the page stays responsive while it steps. The engine's WASM
 * SIMD kernels compile synchronously here, which browsers allow in workers. With two threads a
 * nested helper worker takes half of each matrix product (engine/kernels/browser-threads.ts).
 */
import type { Calculator } from '../../calculator.js';
import { browserKernelThreads, browserThreadsUnavailable, setBrowserKernelThreads } from '../../engine/kernels/browser-threads.js';
import { wasmKernels } from '../../engine/kernels/wasm.js';
import { createSimulation } from '../../md/setup.js';
import type { Simulation } from '../../md/simulation.js';
import { MdLoop } from '../../md/loop.js';
import { Watchdog } from '../../md/watchdog.js';
import { openModelBytes } from '../../model/open.js';
import type { FromWorker, MdFrame, RelaxationReport, ToWorker } from '../protocol.js';
import { minimize } from '../../optimize/minimize.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

/** The kernel helper's script, served next to this worker's (src/web/bundle.ts). */
const HELPER_URL = new URL('kernel-helper.js', self.location.href).href;

let sim: Simulation | null = null;
/** The stability watchdog of the current simulation (made at 'init', on the starting structure). */
let watchdog: Watchdog | null = null;
let allowUnstable = false;
/** Bumped by every run/stop message, so a superseded stepping loop ends itself. */
let generation = 0;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(m, transfer);
}

function frameOf(s: Simulation): MdFrame {
  const ekin = s.kineticEnergy();
  return {
    step: s.step,
    timeFs: s.time,
    epot: s.energy,
    ekin,
    etot: s.energy + ekin,
    econserved: s.conservedEnergy(),
    temperature: s.temperature(),
    positions: Float64Array.from(s.atoms.positions),
  };
}

function kernelsInUse(asked: number): string {
  const w = wasmKernels();
  const threads = browserKernelThreads();
  let text = w ? `WASM (${w.variant})` : 'JavaScript';
  text += threads === 2 ? ', 2 threads' : ', 1 thread';
  if (asked > threads) text += ` (2 asked: ${browserThreadsUnavailable() ?? 'unknown reason'})`;
  return text;
}

/** Step in slices of ~25 ms, yielding between them so that a 'stop' message gets through. */
function run(target: number, reportEvery: number, gen: number): void {
  const s = sim;
  if (!s) {
    post({ type: 'error', message: 'no simulation: load a molecule and a model first' });
    return;
  }
  // The same loop and checks as `oreo simulate` and the library's Dynamics (src/md/loop.ts).
  const loop = new MdLoop(s, {
    watchdog: watchdog ?? undefined,
    allowUnstable: allowUnstable,
    onWarning: (message) => post({ type: 'warning', message }),
  });
  const t0 = performance.now();
  const step0 = s.step;
  const report = () => {
    const rate = ((s.step - step0) * 1000) / Math.max(1e-3, performance.now() - t0);
    post({ type: 'frame', frame: frameOf(s), stepsPerSecond: rate });
  };
  loop.attach(() => report(), reportEvery);
  const slice = () => {
    if (gen !== generation) return;
    const sliceStart = performance.now();
    try {
      const stop = loop.run(target, () => performance.now() - sliceStart < 25);
      if (stop) {
        post({ type: 'frame', frame: frameOf(s), stepsPerSecond: 0 });
        const c = stop.collapse;
        post({ type: 'done', step: s.step, reason: stop.reason, collapse: c ? { timePs: c.timePs, kind: c.kind, message: c.message } : undefined });
        sim = null;
        return;
      }
    } catch (err) {
      post({ type: 'error', message: (err as Error).message });
      return;
    }
    if (s.step >= target) {
      if (s.step % reportEvery !== 0) report();
      post({ type: 'done', step: s.step, reason: null });
    } else setTimeout(slice, 0);
  };
  slice();
}

async function handle(m: ToWorker): Promise<void> {
  try {
    switch (m.type) {
      case 'init': {
        generation++;
        const threads = m.threads ?? 1;
        await setBrowserKernelThreads(threads === 2 ? 2 : 1, { helperUrl: HELPER_URL });
        const pot = openModelBytes(new Uint8Array(m.model), m.modelName, { dtype: m.dtype });
        const z = Int32Array.from(m.z);
        pot.checkElements(z);
        const calculator: Calculator = pot.asCalculator(m.modelName);
        const unsuited = calculator.applicability?.(z);
        if (unsuited) post({ type: 'warning', message: `warning: ${unsuited}` });
        let positions: ArrayLike<number> = m.positions;
        let relaxation: RelaxationReport | undefined;
        if (m.settings.relaxFirst) {
          const r = minimize(calculator, z, positions, { method: 'fire', fmax: 0.05, steps: 500 });
          positions = r.positions;
          relaxation = { steps: r.steps, converged: r.converged, startFmax: r.startFmax, fmax: r.fmax };
        }
        sim = createSimulation({ z, positions: Array.from(positions) }, calculator, { ...m.settings, initTemperature: m.settings.temperature });
        // Bonds are judged against the structure as given, so a relaxation that pulled the molecule
        // apart shows as a collapse at the first step instead of becoming the new reference.
        watchdog = new Watchdog(sim, { thermostat: m.settings.thermostat, temperature: m.settings.temperature }, { referencePositions: m.positions });
        allowUnstable = m.settings.allowUnstable ?? false;
        post({ type: 'ready', atoms: z.length, kernels: kernelsInUse(threads), parameters: pot.parameterCount(), frame: frameOf(sim), relaxation });
        break;
      }
      case 'run':
        generation++;
        run((sim?.step ?? 0) + m.steps, Math.max(1, Math.floor(m.reportEvery)), generation);
        break;
      case 'stop':
        generation++;
        post({ type: 'done', step: sim?.step ?? 0, reason: 'stopped' });
        break;
      case 'forces': {
        const pot = openModelBytes(new Uint8Array(m.model), m.modelName, { dtype: m.dtype });
        const z = Int32Array.from(m.z);
        pot.checkElements(z);
        const p = pot.predict({ z, positions: Float64Array.from(m.positions) });
        const forces = Float64Array.from(p.forces.data);
        post({ type: 'forces', id: m.id, energy: p.energy.data[0], forces }, [forces.buffer]);
        break;
      }
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message, id: m.type === 'forces' ? m.id : undefined });
  }
}

// One message at a time, in order: 'init' may wait for the helper worker to start, and a 'run'
// sent right behind it must find the simulation built.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  queue = queue.then(() => handle(m));
};
