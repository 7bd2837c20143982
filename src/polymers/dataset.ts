/**
 * A poly24-style dataset: for each repeat unit and loop count, build the capped chain, relax it
 * with the reference calculator, then run Langevin MD with the same calculator at an elevated
 * temperature, saving frames with their energies and forces (off-equilibrium data).
 *
 * Layout of the output directory:
 *   manifest.json         what was generated, how, and where (updated after each system)
 *   polymers.extxyz       every saved frame of every system, with `system`, `unit`, `loops` per frame
 *   <UNIT>-L<loops>/      one directory per system:
 *     start.xyz           the relaxed starting structure (extxyz; smiles, relaxation energy)
 *     trajectory.extxyz   MD frames (energy eV, forces eV/Å, velocities), thermo.csv, state.json
 *
 * Resumable at every level: a finished system is skipped, an unfinished MD run continues from its
 * checkpoint, and a built start.xyz is reused. Settings that change the data (temperature, time
 * step, calculator, …) must match those in an existing manifest.
 */
import { existsSync, mkdirSync, readFileSync, writeSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicWith } from '../io/atomic.js';
import { join } from 'node:path';
import { formatExtxyzFrame, iterateExtxyzFile, readExtxyzFile, type ExtxyzFrame } from '../data/extxyz.js';
import { formula } from '../elements.js';
import { OreoError } from '../errors.js';
import { readCheckpoint, runSimulation, STATE_FILE, TRAJECTORY_FILE, type Progress } from '../md/run.js';
import type { ReferenceCalculator, ReferenceDescription } from '../qm/reference.js';
import { checkCap, checkLoops, type EndCap } from './build.js';
import { buildPolymer, polymerAtomicNumbers, type PolymerStructure } from './embed.js';
import type { RepeatUnit } from './units.js';

export const MANIFEST_FILE = 'manifest.json';
export const COMBINED_FILE = 'polymers.extxyz';
export const START_FILE = 'start.xyz';
export const MANIFEST_FORMAT = 'oreo-polymer-dataset';

export interface PolymerDatasetOptions {
  outDir: string;
  units: RepeatUnit[];
  loops: number[];
  calculator: ReferenceCalculator;
  /** MD steps per system. */
  mdSteps: number;
  /** Langevin temperature, K (default 500). */
  temperature?: number;
  /** Time step, fs (default 0.5). */
  dt?: number;
  /** Save a frame every this many steps (default 10). */
  saveEvery?: number;
  /** Langevin friction, 1/fs (default 0.01). */
  friction?: number;
  cap?: EndCap;
  /** Seed for conformers and MD (default 1); each system derives its own from it and its name. */
  seed?: number;
  /** Relaxation level in the calculator's terms (xtb: default loose). */
  relaxLevel?: string;
  /** Relaxation cycle limit (default 300). */
  relaxCycles?: number;
  log?(message: string): void;
  onProgress?(system: string, p: Progress): void;
}

export interface SystemEntry {
  name: string;
  unit: string;
  unitSmiles: string;
  loops: number;
  smiles: string;
  formula: string;
  atoms: number;
  /** Paths relative to the dataset directory. */
  start: string;
  trajectory: string;
  frames: number;
  steps: number;
  status: 'completed' | 'stopped';
  stopReason?: string;
  relaxation?: { energy: number; converged: boolean; cycles: number };
  mdWallSeconds: number;
  mdSeed: number;
}

export interface PolymerManifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  units: { energy: 'eV'; forces: 'eV/Å'; positions: 'Å'; time: 'fs'; temperature: 'K' };
  reference: ReferenceDescription;
  build: { cap: EndCap; relaxLevel: string; relaxCycles: number; seed: number; embedding: string };
  md: {
    thermostat: 'langevin';
    temperature: number;
    /** Temperature of the initial Maxwell–Boltzmann velocities, K. */
    initTemperature: number;
    dt: number;
    friction: number;
    steps: number;
    saveEvery: number;
  };
  systems: SystemEntry[];
  combined?: { file: string; frames: number };
  updatedAt: string;
}

export interface PolymerDatasetResult {
  manifest: PolymerManifest;
  manifestPath: string;
  combinedPath: string;
}

export function systemName(unit: RepeatUnit, loops: number): string {
  return `${unit.name}-L${loops}`;
}

/** A per-system seed that does not depend on the order systems are listed in. */
function systemSeed(seed: number, name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return (seed * 1000003 + h) % 2147483647;
}


function readManifest(path: string): PolymerManifest | undefined {
  if (!existsSync(path)) return undefined;
  let m: PolymerManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as PolymerManifest;
  } catch (err) {
    throw new OreoError(`${path}: not readable JSON (${(err as Error).message}); move it away to start a new dataset`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new OreoError(`${path} is not an oreo polymer dataset manifest (format '${String(m.format)}')`);
  return m;
}

/** Settings that change the data must be those of the dataset already in the directory. */
function checkSameSettings(path: string, old: PolymerManifest, now: PolymerManifest): void {
  const diffs: string[] = [];
  const cmp = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) diffs.push(`${what}: ${JSON.stringify(a)} before, ${JSON.stringify(b)} now`);
  };
  cmp('reference method', old.reference.method, now.reference.method);
  cmp('reference settings', old.reference.settings, now.reference.settings);
  const { steps: _a, ...oldMd } = old.md;
  const { steps: _b, ...newMd } = now.md;
  cmp('MD settings', oldMd, newMd);
  cmp('build settings', old.build, now.build);
  if (diffs.length) {
    throw new OreoError(`${path} was made with other settings (${diffs.join('; ')}); use the same settings to continue it, or another --out`);
  }
}

function startFrame(s: PolymerStructure, unit: RepeatUnit, relaxation?: SystemEntry['relaxation']): ExtxyzFrame {
  const info: ExtxyzFrame['info'] = { unit: unit.name, unit_smiles: s.unitSmiles, loops: s.loops, cap: s.cap, smiles: s.smiles };
  if (relaxation) {
    info.energy = relaxation.energy;
    info.relax_converged = relaxation.converged;
    info.relax_cycles = relaxation.cycles;
  }
  return { z: s.z, positions: s.positions, info, arrays: {}, pbc: [false, false, false] };
}

function countFrames(path: string): number {
  let n = 0;
  for (const _ of iterateExtxyzFile(path)) n++;
  return n;
}

/** Frames of all systems in one file, labelled with their system, written atomically. */
function writeCombined(outDir: string, systems: SystemEntry[]): number {
  const path = join(outDir, COMBINED_FILE);
  let frames = 0;
  writeFileAtomicWith(path, (fd) => {
    for (const s of systems) {
      for (const f of iterateExtxyzFile(join(outDir, s.trajectory))) {
        const info: ExtxyzFrame['info'] = { energy: f.info.energy, system: s.name, unit: s.unit, loops: s.loops };
        for (const k of ['step', 'time_fs', 'T_K']) if (k in f.info) info[k] = f.info[k];
        writeSync(fd, formatExtxyzFrame({ z: f.z, positions: f.positions, info, arrays: { forces: f.arrays.forces }, pbc: [false, false, false] }));
        frames++;
      }
    }
  });
  return frames;
}

/** Generate (or continue generating) the dataset; see the module comment. */
export async function generatePolymerDataset(o: PolymerDatasetOptions): Promise<PolymerDatasetResult> {
  const log = o.log ?? (() => {});
  const calc = o.calculator;
  const cap = o.cap ?? 'H';
  checkCap(cap);
  if (!o.units.length) throw new OreoError('no repeat units given');
  if (!o.loops.length) throw new OreoError('no loop counts given');
  for (const L of o.loops) checkLoops(L);
  if (!Number.isInteger(o.mdSteps) || o.mdSteps < 0) throw new OreoError(`MD steps must be an integer ≥ 0, got ${o.mdSteps}`);
  const names = new Set<string>();
  for (const u of o.units) {
    if (names.has(u.name)) throw new OreoError(`repeat unit '${u.name}' is listed twice`);
    names.add(u.name);
  }
  const seed = o.seed ?? 1;
  // Refuse every system the calculator cannot handle (or whose SMILES is bad) before any work.
  for (const u of o.units) {
    for (const L of o.loops) {
      try {
        calc.checkElements(polymerAtomicNumbers(u.smiles, L, cap));
      } catch (err) {
        throw new OreoError(`${systemName(u, L)}: ${(err as Error).message}`);
      }
    }
  }

  mkdirSync(o.outDir, { recursive: true });
  const manifestPath = join(o.outDir, MANIFEST_FILE);
  const manifest: PolymerManifest = {
    format: MANIFEST_FORMAT,
    version: 1,
    units: { energy: 'eV', forces: 'eV/Å', positions: 'Å', time: 'fs', temperature: 'K' },
    reference: calc.describe(),
    build: {
      cap,
      relaxLevel: o.relaxLevel ?? 'loose',
      relaxCycles: o.relaxCycles ?? 300,
      seed,
      embedding: 'openchemlib ConformerGenerator, then the reference calculator’s optimiser',
    },
    md: {
      thermostat: 'langevin',
      temperature: o.temperature ?? 500,
      // Started from a minimum, about half the kinetic energy flows into the potential at once:
      // velocities at twice the target bring the chain to the target temperature without waiting
      // for the thermostat (100 fs at the default friction).
      initTemperature: 2 * (o.temperature ?? 500),
      dt: o.dt ?? 0.5,
      friction: o.friction ?? 0.01,
      steps: o.mdSteps,
      saveEvery: o.saveEvery ?? 10,
    },
    systems: [],
    updatedAt: new Date().toISOString(),
  };
  const previous = readManifest(manifestPath);
  if (previous) {
    checkSameSettings(manifestPath, previous, manifest);
    // Systems generated earlier but not asked for now stay in the dataset.
    const wanted = new Set(o.units.flatMap((u) => o.loops.map((L) => systemName(u, L))));
    manifest.systems = previous.systems.filter((s) => !wanted.has(s.name));
  }

  const total = o.units.length * o.loops.length;
  let k = 0;
  for (const unit of o.units) {
    for (const loops of o.loops) {
      k++;
      const name = systemName(unit, loops);
      const dir = join(o.outDir, name);
      mkdirSync(dir, { recursive: true });
      const startPath = join(dir, START_FILE);
      let structure: { z: Int32Array; positions: Float64Array; smiles: string; unitSmiles: string };
      let relaxation: SystemEntry['relaxation'];
      if (existsSync(startPath)) {
        const f = readExtxyzFile(startPath)[0];
        if (!f) throw new OreoError(`${startPath} is empty; delete it to rebuild the structure`);
        structure = { z: f.z, positions: f.positions, smiles: String(f.info.smiles ?? ''), unitSmiles: String(f.info.unit_smiles ?? unit.smiles) };
        if (structure.unitSmiles !== unit.smiles) {
          throw new OreoError(`${startPath} was built from '${structure.unitSmiles}', not '${unit.smiles}'; delete ${dir} to rebuild it`);
        }
        if (typeof f.info.energy === 'number') {
          relaxation = { energy: f.info.energy, converged: f.info.relax_converged === true, cycles: Number(f.info.relax_cycles) };
        }
        log(`[${k}/${total}] ${name}: reusing ${startPath}`);
      } else {
        log(`[${k}/${total}] ${name}: building ${loops} loop${loops > 1 ? 's' : ''} of ${unit.smiles} and relaxing with ${calc.name}`);
        const t0 = performance.now();
        let built: ReturnType<typeof buildPolymer>;
        try {
          built = buildPolymer(unit.smiles, loops, {
            cap,
            seed: systemSeed(seed, name),
            calculator: calc,
            level: manifest.build.relaxLevel,
            maxCycles: manifest.build.relaxCycles,
          });
        } catch (err) {
          if (err instanceof OreoError) throw new OreoError(`${name}: ${err.message}`);
          throw err;
        }
        const r = built.relaxation!;
        relaxation = { energy: r.energy, converged: r.converged, cycles: r.cycles };
        writeFileAtomic(startPath, formatExtxyzFrame(startFrame(built.structure, unit, relaxation)));
        structure = built.structure;
        log(
          `[${k}/${total}] ${name}: ${built.structure.formula}, ${built.structure.z.length} atoms; relaxation ` +
            `${r.converged ? 'converged' : 'stopped at the cycle limit'} after ${r.cycles} cycles (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }

      const mdSeed = systemSeed(seed, name);
      const statePath = join(dir, STATE_FILE);
      const ckpt = existsSync(statePath) ? readCheckpoint(dir) : undefined;
      const hooks = {
        log: (m: string) => log(`[${k}/${total}] ${name}: ${m}`),
        onProgress: o.onProgress ? (p: Progress) => o.onProgress!(name, p) : undefined,
      };
      let status: SystemEntry['status'] = 'completed';
      let stopReason: string | undefined;
      let steps: number;
      let wall: number;
      if (ckpt && ckpt.status === 'stopped') {
        status = 'stopped';
        stopReason = ckpt.stopReason;
        steps = ckpt.step;
        wall = ckpt.wallSeconds;
        log(`[${k}/${total}] ${name}: MD had stopped early (${stopReason ?? 'no reason recorded'}); keeping its frames`);
      } else if (ckpt && ckpt.status === 'completed' && ckpt.step >= o.mdSteps) {
        steps = ckpt.step;
        wall = ckpt.wallSeconds;
        log(`[${k}/${total}] ${name}: MD already done (${ckpt.step} steps)`);
      } else {
        const res = await runSimulation(
          ckpt
            ? { outDir: dir, resume: true, steps: o.mdSteps, checkpointEvery: manifest.md.saveEvery }
            : {
                outDir: dir,
                // No checkpoint means nothing to continue: whatever an earlier attempt left is replaced.
                overwrite: true,
                initial: { z: structure.z, positions: structure.positions },
                init: `${START_FILE}:0`,
                model: calc.name,
                thermostat: 'langevin',
                dt: manifest.md.dt,
                temperature: manifest.md.temperature,
                initTemperature: manifest.md.initTemperature,
                friction: manifest.md.friction,
                steps: o.mdSteps,
                saveEvery: manifest.md.saveEvery,
                seed: mdSeed,
                zeroMomentum: true,
                zeroAngularMomentum: true,
                checkpointEvery: manifest.md.saveEvery,
              },
          calc,
          hooks,
        ).catch((err: unknown) => {
          // Say which system failed; its checkpoint (every saved frame) lets a rerun continue.
          if (err instanceof OreoError) throw new OreoError(`${name}: ${err.message}`);
          throw err;
        });
        if (res.status === 'interrupted') throw new OreoError(`interrupted in ${name}; run the same command again to continue`);
        if (res.status === 'stopped') {
          status = 'stopped';
          stopReason = res.reason;
          log(`[${k}/${total}] ${name}: MD stopped early: ${res.reason}`);
        }
        steps = res.step;
        wall = readCheckpoint(dir).wallSeconds;
      }
      const trajectory = join(name, TRAJECTORY_FILE);
      const entry: SystemEntry = {
        name,
        unit: unit.name,
        unitSmiles: unit.smiles,
        loops,
        smiles: structure.smiles,
        formula: formula(structure.z),
        atoms: structure.z.length,
        start: join(name, START_FILE),
        trajectory,
        frames: countFrames(join(o.outDir, trajectory)),
        steps,
        status,
        mdWallSeconds: wall,
        mdSeed,
      };
      if (stopReason) entry.stopReason = stopReason;
      if (relaxation) entry.relaxation = relaxation;
      manifest.systems = manifest.systems.filter((s) => s.name !== name).concat(entry);
      manifest.updatedAt = new Date().toISOString();
      writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    }
  }
  const frames = writeCombined(o.outDir, manifest.systems);
  manifest.combined = { file: COMBINED_FILE, frames };
  manifest.updatedAt = new Date().toISOString();
  writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  return { manifest, manifestPath, combinedPath: join(o.outDir, COMBINED_FILE) };
}
