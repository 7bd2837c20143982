/**
 * The files `oreo analyze` leaves behind: metrics.json, one SVG and one PNG per plot, and a
 * one-page report.html that shows the metrics table and the plots. Every file is written
 * atomically, so a folder never holds a half-written report.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { ForceErrors } from './forces.js';
import { binCentres } from './hr.js';
import type { ThermoTable } from './io.js';
import { lineChart, type ChartSpec, type Marker, type Series } from './plot/chart.js';
import { svgToPng } from './plot/png.js';
import { bondName, summarize, type SimulationAnalysis } from './simulation.js';
import { describeRun, type RunInfo } from './run-info.js';

export interface ReportInputs {
  /** Where the trajectory came from (a folder or a label). */
  trajectory: string;
  /** Where the reference came from. */
  reference: string;
  referenceFrames: number;
  /** thermo.csv, for Epot/T at its own cadence (else the frames' values are used). */
  thermo?: ThermoTable;
  /** Force errors of the model on a test set, when computed. */
  forceErrors?: ForceErrors & { testSet: string; model: string };
  /** Options as given, recorded in metrics.json. */
  options?: Record<string, unknown>;
  /** How the run was made (from its state.json): model, thermostat, temperature, time step. */
  run?: RunInfo;
}

export interface ReportOptions {
  /** PNG pixel scale relative to the SVG size (default 2). */
  pngScale?: number;
}

export interface WrittenReport {
  dir: string;
  metrics: Record<string, unknown>;
  files: string[];
}

/** The metrics.json object: inputs, the MDsim triple, and everything else `summarize` gives. */
export function metricsObject(a: SimulationAnalysis, inputs: ReportInputs): Record<string, unknown> {
  const fe = inputs.forceErrors;
  return {
    oreo: 'analysis',
    format: 1,
    trajectory: inputs.trajectory,
    reference: inputs.reference,
    reference_frames: inputs.referenceFrames,
    // The three numbers of MDsim / ET-OREO Table 2.
    mdsim: {
      force_mae_meV_per_A: fe ? fe.forceMae * 1000 : null,
      stability_ps: a.stabilityPs,
      hr_mae: a.hr.mae,
    },
    ...summarize(a),
    force_errors: fe
      ? {
          model: fe.model,
          test_set: fe.testSet,
          force_mae_meV_per_A: fe.forceMae * 1000,
          force_rmse_meV_per_A: fe.forceRmse * 1000,
          components: fe.components,
          energy_mae_meV: fe.energyMae !== undefined ? fe.energyMae * 1000 : null,
          frames: fe.frames,
        }
      : null,
    options: inputs.options ?? {},
    run: inputs.run ?? null,
  };
}

/** The charts of a report, as SVG strings keyed by file stem. */
export function reportCharts(a: SimulationAnalysis, thermo?: ThermoTable): Map<string, { title: string; svg: string }> {
  const charts = new Map<string, { title: string; svg: string }>();
  const collapse: Marker[] = a.collapsed ? [{ x: a.stabilityPs, label: `unstable at ${fmt(a.stabilityPs, 3)} ps` }] : [];
  // After a collapse the values run away; show a little of it, not a y-axis scaled to 10⁵ K.
  const shown = a.collapsed ? Math.min(a.frames, a.bondStability.collapseIndex + Math.max(5, Math.round(0.05 * a.frames))) : a.frames;
  const tShown = a.timesPs[shown - 1];
  const add = (stem: string, spec: ChartSpec) => charts.set(stem, { title: spec.title ?? stem, svg: lineChart(spec) });

  add('hr', {
    title: `h(r) of ${a.formula}: simulation (first ${a.hr.framesUsed} frames) vs reference`,
    xLabel: 'r (Å)',
    yLabel: 'h(r) (Å⁻¹)',
    xRange: [0, a.hr.bins.rMax],
    series: [
      { label: 'reference', x: binCentres(a.hr.bins), y: a.hr.reference, color: '#000000', width: 1.4 },
      { label: `simulation  (h(r) MAE ${fmt(a.hr.mae, 3)})`, x: binCentres(a.hr.bins), y: a.hr.simulated, color: '#D55E00', width: 1.4 },
    ],
  });

  // Energy and temperature over time: from thermo.csv where the run wrote one, else from the frames.
  const overTime = (key: string, title: string, yLabel: string, label: string, fromThermo: Float64Array | undefined, fromFrames: Float64Array | undefined, color?: string) => {
    const t = thermo && thermo.timePs.length ? thermo.timePs : fromFrames ? a.timesPs : undefined;
    const y = thermo && thermo.timePs.length ? fromThermo : fromFrames;
    if (!t || !y) return;
    const n = countUpTo(t, tShown);
    add(key, { title, xLabel: 'time (ps)', yLabel, series: [{ label, x: t.subarray(0, n), y: y.subarray(0, n), color }], markers: collapse, legend: 'none' });
  };
  overTime('energy', 'Potential energy', 'Epot (eV)', 'Epot', thermo?.epot, a.energies);
  overTime('temperature', 'Temperature', 'T (K)', 'T', thermo?.temperature, a.temperatures, '#D55E00');
  add('rmsd', {
    title: 'RMSD to the first frame (after superposition)',
    xLabel: 'time (ps)',
    yLabel: 'RMSD (Å)',
    series: [{ label: 'RMSD', x: a.timesPs.subarray(0, shown), y: a.rmsd.subarray(0, shown), color: '#009E73' }],
    markers: collapse,
    legend: 'none',
  });
  const b = a.bondStability;
  const series: Series[] = [
    { label: 'max bond deviation', x: a.timesPs.subarray(0, shown), y: b.maxDeviation.subarray(0, shown).map((v) => (Number.isFinite(v) ? v : NaN)) },
    { label: `threshold ${b.threshold} Å`, x: [a.timesPs[0], a.timesPs[shown - 1]], y: [b.threshold, b.threshold], color: '#b00020', dash: '5 4', width: 1.2 },
  ];
  let devMax = b.threshold;
  for (let i = 0; i < shown; i++) if (Number.isFinite(b.maxDeviation[i])) devMax = Math.max(devMax, b.maxDeviation[i]);
  add('bond-deviation', {
    title: `Largest deviation of ${b.bonds.length} bonds from their reference means`,
    xLabel: 'time (ps)',
    yLabel: 'max |b(t) − ⟨b⟩| (Å)',
    series,
    yRange: [0, Math.min(devMax, 4 * b.threshold) * 1.3],
    markers: collapse,
    legend: 'top-left',
  });
  const w = a.hrStability;
  if (w.windowMae.some((v) => Number.isFinite(v))) {
    add('hr-window', {
      title: `h(r) error of ${w.windowFrames}-frame windows vs the reference`,
      xLabel: 'window start (ps)',
      yLabel: '∫|Δh| dr',
      series: [
        { label: 'window h(r) MAE', x: a.timesPs, y: w.windowMae, color: '#CC79A7' },
        { label: `threshold ${w.threshold}`, x: [a.timesPs[0], a.timesPs[a.frames - 1]], y: [w.threshold, w.threshold], color: '#b00020', dash: '5 4', width: 1.2 },
      ],
      yRange: [0, 2.05],
      legend: 'top-left',
    });
  }
  return charts;
}

/** Write metrics.json, the plots (SVG + PNG) and report.html into `dir`. */
export function writeReport(dir: string, a: SimulationAnalysis, inputs: ReportInputs, options: ReportOptions = {}): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileAtomic(join(dir, name), data);
    files.push(join(dir, name));
  };
  const metrics = metricsObject(a, inputs);
  write('metrics.json', JSON.stringify(metrics, null, 2) + '\n');
  const charts = reportCharts(a, inputs.thermo);
  for (const [stem, c] of charts) {
    write(`${stem}.svg`, c.svg);
    write(`${stem}.png`, svgToPng(c.svg, { scale: options.pngScale }));
  }
  write('report.html', reportHtml(a, metrics, charts, inputs));
  return { dir, metrics, files };
}

function reportHtml(a: SimulationAnalysis, metrics: Record<string, unknown>, charts: Map<string, { title: string }>, inputs: ReportInputs): string {
  const b = a.bondStability;
  const fe = inputs.forceErrors;
  const rows: [string, string, string][] = [
    ['Force MAE', fe ? `${fmt(fe.forceMae * 1000, 4)} meV/Å` : 'not computed (give --model)', fe ? `all components, ${fe.frames || fe.components / (3 * a.atoms)} frames of ${fe.testSet}` : ''],
    ['Stability', `${fmt(a.stabilityPs, 4)} ps`, a.collapsed
      ? `first frame with a bond off its reference mean by > ${b.threshold} Å: frame ${b.firstUnstableFrame} (bond ${bondName(a.z, b.brokenBond!)})`
      : `no bond deviated by > ${b.threshold} Å in ${a.frames} frames`],
    ['h(r) MAE', fmt(a.hr.mae, 4), `∫|h_sim − h_ref| dr over frames [0, ${a.hr.framesUsed}); ${a.hr.bins.nBins} bins on (${a.hr.bins.rMin}, ${a.hr.bins.rMax}] Å`],
    ['Stability, h(r) windows', `${fmt(a.hrStability.stabilityPs, 4)} ps`, `${a.hrStability.windowFrames}-frame windows, threshold ${a.hrStability.threshold} (alternative criterion)`],
    ['Bonds checked', String(b.bonds.length), 'found on frame 0 like ASE NeighborList(natural_cutoffs): d < r_a + r_b + 2 × 0.3 Å skin'],
    ['Frames', String(a.frames), `${fmt(a.durationPs, 4)} ps simulated`],
  ];
  const rm = metrics.rmsd_A as { final: number | null; max_until_collapse: number };
  rows.push(['RMSD to frame 0', `max ${fmt(rm.max_until_collapse, 3)} Å`, 'after optimal superposition, until collapse']);
  const tk = metrics.temperature_K as { mean_until_collapse: number | null; std_until_collapse: number | null } | undefined;
  if (tk) rows.push(['Temperature', `${fmt(tk.mean_until_collapse ?? NaN, 4)} ± ${fmt(tk.std_until_collapse ?? NaN, 3)} K`, 'mean ± std until collapse']);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const figures = [...charts.entries()]
    .map(([stem, c]) => `<figure><img src="${stem}.svg" alt="${esc(c.title)}" width="720"><figcaption>${esc(c.title)} · <a href="${stem}.svg">SVG</a> · <a href="${stem}.png">PNG</a></figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>oreo analysis: ${esc(a.formula)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1500px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border-bottom: 1px solid #ddd; padding: 0.35em 0.8em; text-align: left; vertical-align: top; }
td:nth-child(2) { font-variant-numeric: tabular-nums; white-space: nowrap; font-weight: 600; }
.figs { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; }
figcaption { font-size: 0.85em; color: #555; }
code { font-size: 0.9em; }
</style>
</head>
<body>
<h1>Simulation analysis: ${esc(a.formula)}</h1>
${inputs.run ? `<p>Run: ${esc(describeRun(inputs.run))}.</p>\n` : ''}<p>Trajectory <code>${esc(inputs.trajectory)}</code> against reference <code>${esc(inputs.reference)}</code> (${inputs.referenceFrames} frames).
Metrics follow the MDsim benchmark (Fu et al., “Forces are not enough”). All numbers: <a href="metrics.json">metrics.json</a>.</p>
<table>
<tr><th>metric</th><th>value</th><th>definition</th></tr>
${rows.map(([k, v, d]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td><td>${esc(d)}</td></tr>`).join('\n')}
</table>
<div class="figs">
${figures}
</div>
</body>
</html>
`;
}

function countUpTo(t: ArrayLike<number>, tMax: number): number {
  let n = 0;
  while (n < t.length && t[n] <= tMax + 1e-9) n++;
  return Math.max(n, Math.min(1, t.length));
}

function fmt(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}
