/** An `oreo analyze` result: the metrics table, h(r) simulation vs reference, and its saved plots. */
import { Chart, COLORS } from './charts.js';
import { h, fmt } from './dom.js';
import { fileUrl, type AnalysisPayload, type RunEntry } from './api.js';

type Obj = Record<string, unknown>;

function get(o: unknown, ...path: string[]): unknown {
  let v = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined;
  return v;
}

function cell(v: unknown): string {
  if (typeof v === 'number') return fmt(v, 5);
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The rows a chemist reads first, then every other number of metrics.json. */
function metricRows(m: Obj): [string, string, string][] {
  const rows: [string, string, string][] = [
    ['Force MAE', cell(get(m, 'mdsim', 'force_mae_meV_per_A')), 'meV/Å'],
    ['Stability (bond criterion)', cell(get(m, 'mdsim', 'stability_ps')), 'ps'],
    ['h(r) MAE', cell(get(m, 'mdsim', 'hr_mae')), '∫|Δh| dr'],
    ['Collapsed', cell(get(m, 'stability', 'collapsed')), ''],
    ['Broken bond', cell(get(m, 'stability', 'broken_bond', 'name')), ''],
    ['Stability (h(r) windows)', cell(get(m, 'hr_window_stability', 'stability_ps')), 'ps'],
    ['RMSD max until collapse', cell(get(m, 'rmsd_A', 'max_until_collapse')), 'Å'],
    ['Temperature mean ± std', `${cell(get(m, 'temperature_K', 'mean_until_collapse'))} ± ${cell(get(m, 'temperature_K', 'std_until_collapse'))}`, 'K'],
    ['Frames', cell(m.frames), ''],
    ['Duration', cell(m.duration_ps), 'ps'],
    ['Molecule', `${cell(m.formula)} (${cell(m.atoms)} atoms)`, ''],
    ['Reference', cell(m.reference), `${cell(m.reference_frames)} frames`],
    ['Trajectory', cell(m.trajectory), ''],
  ];
  return rows;
}

export function analysisView(run: RunEntry, a: AnalysisPayload, openRun: (id: string) => void): { element: HTMLElement; mount(): void; resize(): void } {
  const m = a.metrics;
  const table = h(
    'table',
    { class: 'metrics', id: 'metrics-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Metric'), h('th', {}, 'Value'), h('th', {}, 'Unit / note'))),
    h('tbody', {}, ...metricRows(m).map(([k, v, u]) => h('tr', {}, h('td', {}, k), h('td', { class: 'num' }, v), h('td', {}, u)))),
  );
  let chart: Chart | null = null;
  const hrBox = h('div', { class: 'hr' });
  if (a.hr) {
    chart = new Chart({
      title: `h(r): simulation (first ${a.hr.framesUsed} frames) vs reference`,
      xLabel: 'r (Å)',
      yLabel: 'h(r) (Å⁻¹)',
      series: [
        { label: 'reference', color: COLORS.black },
        { label: 'simulation', color: COLORS.orange },
      ],
      height: 260,
    });
    chart.element.id = 'hr-chart';
    hrBox.append(chart.element, h('p', { class: 'muted' }, `h(r) MAE recomputed from the inputs: ${fmt(a.hr.mae, 5)} (metrics.json: ${fmt(get(m, 'hr', 'mae') as number, 5)})`));
  } else {
    hrBox.append(h('p', { class: 'muted' }, `h(r) curves unavailable: ${a.hrNote ?? 'unknown reason'}`));
  }
  const links = h('p', {});
  if (a.hasReport) links.append(h('a', { href: fileUrl(run, 'report.html'), target: '_blank', rel: 'noopener' }, 'report.html'), ' ');
  if (a.trajectoryRun) {
    const id = a.trajectoryRun;
    links.append(h('button', { type: 'button', id: 'open-analysed-trajectory', onclick: () => openRun(id) }, 'Open the analysed trajectory'));
  }
  const gallery = h(
    'div',
    { class: 'gallery' },
    ...a.charts.map((name) => h('figure', {}, h('img', { src: fileUrl(run, name), alt: name, loading: 'lazy' }), h('figcaption', {}, name))),
  );
  const element = h(
    'section',
    { class: 'analysis', id: 'analysis' },
    h('h2', {}, `Analysis ${run.path || '(folder root)'}`),
    links,
    h('div', { class: 'analysis-grid' }, table, hrBox),
    a.charts.length ? h('h3', {}, 'Plots written by oreo analyze') : null,
    gallery,
  );
  return {
    element,
    mount() {
      if (chart && a.hr) chart.setData([a.hr.r, a.hr.reference, a.hr.simulation]);
    },
    resize() {
      chart?.resize();
    },
  };
}
