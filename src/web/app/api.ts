/** The server's JSON API, typed with the server's own payload types. */
import type { AnalysisPayload, TrainingPayload, TrajectoryPayload } from '../payloads.js';
import type { RunEntry } from '../runs.js';
import type { ModelEntry, Molecule, MoleculeEntry } from '../catalog.js';

export type { AnalysisPayload, TrainingPayload, TrajectoryPayload, RunEntry, ModelEntry, Molecule, MoleculeEntry };

async function getJson<T>(path: string, params: Record<string, string | number> = {}): Promise<T> {
  const q = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  const res = await fetch(q ? `${path}?${q}` : path);
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

export const api = {
  runs: () => getJson<{ roots: { index: number; path: string }[]; runs: RunEntry[] }>('/api/runs'),
  trajectory: (run: string, maxFrames = 2000) => getJson<TrajectoryPayload>('/api/trajectory', { run, maxFrames }),
  analysis: (run: string) => getJson<AnalysisPayload>('/api/analysis', { run }),
  training: (run: string) => getJson<TrainingPayload>('/api/training', { run }),
  models: () => getJson<{ models: ModelEntry[] }>('/api/models'),
  molecules: () => getJson<{ molecules: MoleculeEntry[] }>('/api/molecules'),
  molecule: (id: string) => getJson<Molecule>('/api/molecule', { id }),
  async modelBytes(id: string): Promise<ArrayBuffer> {
    const res = await fetch(`/api/model?${new URLSearchParams({ id })}`);
    if (!res.ok) throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `${res.status}`);
    return res.arrayBuffer();
  },
};

/** URL of a file inside a run folder. */
export function fileUrl(run: RunEntry, name: string): string {
  const parts = run.path === '' ? [name] : [...run.path.split('/'), name];
  return `/files/${run.root}/${parts.map(encodeURIComponent).join('/')}`;
}
