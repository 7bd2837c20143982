/**
 * Finding the runs inside the served folders: a folder is an MD run when it holds
 * `trajectory.extxyz` (written by `oreo simulate`), an analysis when its `metrics.json` says
 * `"oreo": "analysis"` (`oreo analyze`), and a training run when it holds `log.jsonl`
 * (`oreo pretrain` / `finetune`). Symbolic links are not followed while searching, so the list
 * never leads outside the roots.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AccessRefused, dirInside, runFileOrNull } from './safe-path.js';
import { QueryError } from './query.js';

export type RunKind = 'md' | 'analysis' | 'training';

export interface RunEntry {
  /** `ROOT:PATH`: index of the served folder and the POSIX path inside it ('' for the folder itself). */
  id: string;
  root: number;
  path: string;
  kinds: RunKind[];
  /** Newest modification time of the run's files, ms since the epoch. */
  modified: number;
  /** A few facts to show in the list (thermostat, status, metrics, last loss). */
  summary: Record<string, unknown>;
}

export const TRAJECTORY = 'trajectory.extxyz';
export const THERMO = 'thermo.csv';
export const STATE = 'state.json';
export const METRICS = 'metrics.json';
export const TRAINING_LOG = 'log.jsonl';

/** Files larger than this are not opened just to describe a run in the list. */
const SUMMARY_MAX_BYTES = 4 << 20;

const SKIP = new Set(['node_modules', '.git']);

function readSmallJson(path: string): Record<string, unknown> | undefined {
  try {
    if (statSync(path).size > SUMMARY_MAX_BYTES) return undefined;
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isAnalysisMetrics(m: Record<string, unknown> | undefined): boolean {
  return m?.oreo === 'analysis';
}

/** What kinds of run a folder holds (empty: none). */
export function runKinds(dir: string): RunKind[] {
  // Only files that really lie in the folder count (runFileOrNull): a link out of it is no run.
  const kinds: RunKind[] = [];
  if (runFileOrNull(dir, TRAJECTORY)) kinds.push('md');
  const metrics = runFileOrNull(dir, METRICS);
  if (metrics && isAnalysisMetrics(readSmallJson(metrics))) kinds.push('analysis');
  if (runFileOrNull(dir, TRAINING_LOG)) kinds.push('training');
  return kinds;
}

function newestModification(dir: string): number {
  let t = 0;
  for (const f of [TRAJECTORY, THERMO, STATE, METRICS, TRAINING_LOG]) {
    try {
      const p = runFileOrNull(dir, f);
      if (p) t = Math.max(t, statSync(p).mtimeMs);
    } catch {
      /* absent */
    }
  }
  return t;
}

function lastLine(path: string): string | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    return lines[lines.length - 1];
  } catch {
    return undefined;
  }
}

function summarizeRun(dir: string, kinds: RunKind[]): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  if (kinds.includes('md')) {
    const statePath = runFileOrNull(dir, STATE);
    const state = statePath ? readSmallJson(statePath) : undefined;
    const settings = state?.settings as Record<string, unknown> | undefined;
    if (state) {
      s.status = state.status;
      s.step = state.step;
    }
    if (settings) {
      for (const k of ['thermostat', 'temperature', 'dt', 'steps', 'model', 'init']) if (settings[k] !== undefined) s[k] = settings[k];
    }
  }
  if (kinds.includes('analysis')) {
    const metricsPath = runFileOrNull(dir, METRICS);
    const m = metricsPath ? readSmallJson(metricsPath) : undefined;
    if (m) {
      s.formula = m.formula;
      s.mdsim = m.mdsim;
    }
  }
  if (kinds.includes('training')) {
    const logPath = runFileOrNull(dir, TRAINING_LOG);
    const last = logPath ? lastLine(logPath) : undefined;
    if (last) {
      try {
        const row = JSON.parse(last) as Record<string, unknown>;
        s.trainingStep = row.step;
        s.loss = row.loss;
      } catch {
        /* a half-written last line of a running training */
      }
    }
  }
  return s;
}

export interface ScanOptions {
  /** How deep below each root to look (default 4). */
  maxDepth?: number;
  /** Stop after visiting this many folders in all (default 5000). */
  maxFolders?: number;
}

/** Every run under the roots (real, absolute paths), ordered by root, then path. */
export function scanRuns(roots: readonly string[], options: ScanOptions = {}): RunEntry[] {
  const maxDepth = options.maxDepth ?? 4;
  let budget = options.maxFolders ?? 5000;
  const out: RunEntry[] = [];
  roots.forEach((root, r) => {
    const visit = (dir: string, path: string, depth: number) => {
      if (budget-- <= 0) return;
      const kinds = runKinds(dir);
      if (kinds.length > 0) {
        out.push({ id: `${r}:${path}`, root: r, path, kinds, modified: newestModification(dir), summary: summarizeRun(dir, kinds) });
      }
      if (depth >= maxDepth) return;
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const name of names) {
        if (name.startsWith('.') || SKIP.has(name)) continue;
        const child = join(dir, name);
        let st;
        try {
          st = lstatSync(child);
        } catch {
          continue;
        }
        if (st.isDirectory()) visit(child, path === '' ? name : `${path}/${name}`, depth + 1);
      }
    };
    visit(root, '', 0);
  });
  return out;
}

/** The shape of a run id; what it points at is checked by `openRun`. */
export const RUN_ID_PATTERN = /^\d{1,3}:[^\\\0]*$/;

export interface OpenRun {
  id: string;
  dir: string;
  root: number;
  path: string;
  kinds: RunKind[];
}

/** Resolve a run id to its folder, refusing ids outside the roots or folders that hold no run. */
export function openRun(roots: readonly string[], id: string): OpenRun {
  const m = /^(\d{1,3}):(.*)$/s.exec(id);
  if (!m) throw new QueryError(`run id ${JSON.stringify(id.slice(0, 80))} is malformed (expected ROOT:PATH)`);
  const root = Number(m[1]);
  if (root >= roots.length) throw new AccessRefused(404, `no served folder number ${root}`);
  const dir = dirInside(roots[root], m[2]);
  const kinds = runKinds(dir);
  if (kinds.length === 0) throw new AccessRefused(404, `${id}: no run in this folder`);
  return { id, dir, root, path: m[2], kinds };
}
