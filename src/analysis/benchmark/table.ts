/**
 * table.md: oreo's row in the layout of ET-OREO's Table 2 (force MAE, stability, h(r) MAE as
 * mean (std) over seeds), the published rows beside it when published.ts has them, then every
 * seed and the protocol, so the file stands on its own.
 */
import { basename } from 'node:path';
import { MOLECULE_LABELS } from './molecules.js';
import { PUBLISHED_MISSING_NOTE, PUBLISHED_REFERENCE, PUBLISHED_SCALE, PUBLISHED_TABLE2, type PublishedRow } from './published.js';
import type { BenchmarkResults } from './results.js';
import { formatMeanStd } from './stats.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** A short label for the model: the file name, or the analytic spec as given. */
export function modelLabel(model: string): string {
  return model.includes('/') ? basename(model) : model;
}

/** Both scales in one sentence: oreo's model and run length, and the published ones. */
export function scaleLine(r: BenchmarkResults): string {
  const ours = `oreo's row: ${r.modelSize ?? modelLabel(r.model)}, one CPU, ${fixed(r.simulated_ps_target, 2)} ps per seed`;
  return `Scale — ${ours}; ${PUBLISHED_SCALE}.`;
}

export function renderTable(r: BenchmarkResults, published: readonly PublishedRow[] = PUBLISHED_TABLE2[r.molecule]): string {
  const s = r.summary;
  const label = MOLECULE_LABELS[r.molecule];
  const lines: string[] = [];
  lines.push(`# MD17 simulation benchmark: ${label}`, '');
  if (!r.complete) {
    lines.push(`**Partial:** ${s.seeds_finished} of ${s.seeds_total} seeds finished; continue with \`oreo benchmark md17 --resume --out DIR\`.`, '');
  }
  const cap = r.simulated_ps_target;
  lines.push(
    row(['Model', 'Force MAE (meV/Å) ↓', `Stability (ps) ↑`, 'h(r) MAE ↓']),
    row(['---', '---:', '---:', '---:']),
    row([
      `oreo: ${modelLabel(r.model)} (${s.seeds_finished} seed${s.seeds_finished === 1 ? '' : 's'})`,
      fixed(s.force_mae_meV_per_A, 2),
      formatMeanStd(s.stability_ps, 2),
      formatMeanStd(s.hr_mae, 3),
    ]),
  );
  for (const p of published) lines.push(row([p.model, p.forceMae, p.stability, p.hrMae]));
  lines.push('');
  lines.push(
    `Mean (std) over seeds, std as numpy.std (ddof 0). Force MAE: all components of ` +
      (r.forceMae ? `${r.forceMae.frames} frames of \`${basename(r.forceMae.testFile)}\`` : 'the test file (not computed yet)') +
      ', computed once (it does not depend on the seed).',
  );
  lines.push(
    `Stability is the time of the first saved frame with a bond more than ${r.protocol.bond_threshold_A} Å from its reference mean, ` +
      `or the simulated length when no bond broke: at most ${fixed(cap, 2)} ps here` +
      (cap < 300 ? ` (the paper simulates 300 ps, so stabilities are comparable only up to ${fixed(cap, 2)} ps)` : '') +
      '.',
  );
  lines.push('');
  if (published.length) {
    const sources = [...new Set(published.map((p) => p.source))];
    lines.push(`Published rows: ${sources.join('; ')}.`, '');
    lines.push(`${scaleLine(r)} Compare the direction of an effect, not absolute values.`, '');
  } else {
    lines.push(PUBLISHED_MISSING_NOTE, '');
  }

  lines.push('## Seeds', '');
  lines.push(
    row(['Seed', 'Start frame', 'Initial T (K)', 'Status', 'Simulated (ps)', 'Stability (ps)', 'h(r) MAE', 'Steps/s']),
    row(['---:', '---:', '---:', '---', '---:', '---:', '---:', '---:']),
  );
  for (const sd of r.seeds) {
    const status = sd.status + (sd.reason ? `: ${sd.reason}` : '');
    lines.push(
      row([
        String(sd.seed),
        String(sd.startFrame),
        fixed(sd.initial_temperature_K, 1),
        status,
        fixed(sd.simulated_ps, 2),
        fixed(sd.stability_ps, 2) + (sd.collapsed ? ` (bond ${sd.broken_bond ?? '?'})` : ''),
        fixed(sd.hr_mae, 4),
        fixed(sd.steps_per_second, 1),
      ]),
    );
  }
  lines.push('');

  const p = r.protocol;
  lines.push('## Protocol (MDsim, Fu et al. "Forces are not enough")', '');
  lines.push(
    `- Start: a random frame of the rMD17 test file per seed; Maxwell–Boltzmann velocities at ${p.init_temperature_K} K, centre-of-mass motion kept.`,
    `- Dynamics: MDsim's Nosé–Hoover thermostat at ${p.temperature_K} K, ttime ${p.ttime_dt} × dt, dt ${p.dt_fs} fs, ${r.steps} steps (${fixed(cap, 2)} ps), ` +
      `a frame every ${p.save_every_steps} steps (${p.frame_interval_fs} fs); stop when T leaves [${p.min_temperature_K}, ${p.max_temperature_K}] K.`,
    `- Reference for bond means and h(r): ${r.reference.frames} frames (${r.reference.files.map((f) => `\`${basename(f)}\``).join(' + ')}). ${r.reference.note}`,
    `- h(r): histogram density of all interatomic distances, 500 bins on (1e-6, 10] Å, over the frames up to and including the first unstable one; h(r) MAE = ∫|h_sim − h_ref| dr.`,
    `- Full numbers: \`results.json\`; each seed's trajectory, thermo.csv, state.json and report are in its \`seed-N/\` folder.`,
    '',
  );
  if (!published.length) lines.push(`Reference for the comparison: ${PUBLISHED_REFERENCE}.`, '');
  return lines.join('\n');
}
