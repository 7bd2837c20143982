/**
 * The oreo web app: a list of the runs in the served folders (MD runs, analyses, training runs),
 * a view of the selected one, and MD in the browser. The location hash names what is shown
 * (#run=ID&view=md|analysis|training, or #live), so views can be bookmarked and reloaded.
 */
import 'uplot/dist/uPlot.min.css';
import { api, type RunEntry } from './api.js';
import { analysisView } from './analysis-view.js';
import { clear, fmt, h } from './dom.js';
import { LiveMd, MdWorker } from './live-md.js';
import { TrajectoryPlayer } from './player.js';
import { trainingView } from './training-view.js';

interface View {
  element: HTMLElement;
  mount(): void;
  resize(): void;
  destroy?(): void;
}

const KIND_LABEL = { md: 'MD', analysis: 'analysis', training: 'training' } as const;

const content = document.getElementById('content')!;
const runList = document.getElementById('runs')!;
let current: View | null = null;
let runs: RunEntry[] = [];
const worker = new MdWorker();
let live: LiveMd | null = null;

function show(view: View): void {
  current?.destroy?.();
  clear(content);
  content.append(view.element);
  current = view;
  view.mount();
}

function showError(message: string): void {
  current?.destroy?.();
  current = null;
  clear(content);
  content.append(h('p', { class: 'error', id: 'view-error' }, message));
}

function runTitle(r: RunEntry): string {
  return r.path === '' ? '(folder root)' : r.path;
}

function runFacts(r: RunEntry): string {
  const s = r.summary;
  const parts: string[] = [];
  if (s.thermostat) parts.push(`${s.thermostat} ${fmt(s.temperature as number)} K`);
  if (s.status) parts.push(String(s.status));
  if (s.formula) parts.push(String(s.formula));
  const md = s.mdsim as Record<string, number | null> | undefined;
  if (md) parts.push(`stable ${fmt(md.stability_ps)} ps, h(r) ${fmt(md.hr_mae, 3)}`);
  if (s.loss !== undefined) parts.push(`step ${s.trainingStep}, loss ${fmt(s.loss as number, 3)}`);
  return parts.join(' · ');
}

async function loadRuns(): Promise<void> {
  const list = await api.runs();
  runs = list.runs;
  clear(runList);
  for (const root of list.roots) {
    const here = runs.filter((r) => r.root === root.index);
    runList.append(h('h3', { title: root.path }, root.path.split('/').slice(-2).join('/')));
    if (here.length === 0) runList.append(h('p', { class: 'muted' }, 'no runs found'));
    const ul = h('ul', {});
    for (const r of here) {
      ul.append(
        h(
          'li',
          {},
          h('div', { class: 'run-title' }, runTitle(r)),
          h('div', { class: 'muted small' }, runFacts(r)),
          h('div', { class: 'kinds' }, ...r.kinds.map((k) => h('a', { href: `#run=${encodeURIComponent(r.id)}&view=${k}`, class: `kind kind-${k}`, 'data-run': r.id, 'data-kind': k }, KIND_LABEL[k]))),
        ),
      );
    }
    runList.append(ul);
  }
}

async function openView(id: string, kind: string): Promise<void> {
  const run = runs.find((r) => r.id === id);
  if (!run) return showError(`No run ${id} in the served folders.`);
  document.querySelectorAll('.kind.active').forEach((e) => e.classList.remove('active'));
  document.querySelector(`.kind[data-run="${CSS.escape(id)}"][data-kind="${CSS.escape(kind)}"]`)?.classList.add('active');
  content.dataset.loading = '1';
  try {
    if (kind === 'md') {
      const t = await api.trajectory(id);
      const player = new TrajectoryPlayer(t, `MD run ${runTitle(run)}`);
      show({ element: player.element, mount: () => player.mount(), resize: () => player.resize(), destroy: () => player.destroy() });
      (window as unknown as { oreoPlayer: TrajectoryPlayer }).oreoPlayer = player;
    } else if (kind === 'analysis') {
      show(analysisView(run, await api.analysis(id), (trajId) => (location.hash = `run=${encodeURIComponent(trajId)}&view=md`)));
    } else if (kind === 'training') {
      show(trainingView(run, await api.training(id)));
    } else {
      showError(`Unknown view '${kind}'.`);
    }
  } catch (err) {
    showError(`Cannot show ${id}: ${(err as Error).message}`);
  } finally {
    delete content.dataset.loading;
  }
}

async function openLive(): Promise<void> {
  if (!live) {
    const [{ molecules }, { models }] = await Promise.all([api.molecules(), api.models()]);
    live = new LiveMd(worker, molecules, models);
  }
  const l = live;
  // The live view keeps its state (and simulation) when the user looks at runs in between.
  show({ element: l.element, mount: () => l.resize(), resize: () => l.resize() });
  if (!l.element.dataset.mounted) {
    l.element.dataset.mounted = '1';
    l.mount();
  }
}

async function route(): Promise<void> {
  const params = new URLSearchParams(location.hash.slice(1));
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', (a.getAttribute('href') === '#live') === params.has('live')));
  if (params.has('live')) return openLive();
  const id = params.get('run');
  if (id) return openView(id, params.get('view') ?? 'md');
  current?.destroy?.();
  current = null;
  clear(content);
  content.append(h('p', { class: 'muted', id: 'welcome' }, runs.length ? 'Choose a run on the left, or simulate a molecule in the browser.' : 'No runs in the served folders yet. Try “Simulate in the browser”.'));
}

window.addEventListener('hashchange', () => void route());
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => current?.resize(), 150);
});
document.getElementById('refresh')?.addEventListener('click', () => void loadRuns());

/** For scripted checks (the end-to-end test): energies and forces from the in-browser engine. */
(window as unknown as { oreo: unknown }).oreo = {
  async forces(modelId: string, moleculeId: string, dtype: 'float32' | 'float64') {
    const mol = await api.molecule(moleculeId);
    const r = await worker.forces(modelId, dtype, mol.z, mol.positions);
    return { energy: r.energy, forces: Array.from(r.forces) };
  },
};

void (async () => {
  try {
    await loadRuns();
  } catch (err) {
    runList.append(h('p', { class: 'error' }, `Cannot list runs: ${(err as Error).message}`));
  }
  await route();
  document.body.dataset.ready = '1';
})();
