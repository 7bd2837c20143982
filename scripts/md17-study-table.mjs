#!/usr/bin/env node
// The MD17 study's table (docs/results.md §6) from the result files that scripts/md17-study.sh
// keeps in docs/md17-study/: test force/energy MAE of each fine-tune, its steps and training
// clock, and the MD benchmark's stability and h(r) (mean (std) over seeds), with the paper's ET
// rows beside.
//   node scripts/md17-study-table.mjs [docs/md17-study | runs/md17-study]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISHED_TABLE2 } from '../dist/src/analysis/benchmark/published.js';
import { formatMeanStd } from '../dist/src/analysis/benchmark/stats.js';

const runs = process.argv[2] ?? 'docs/md17-study';
const molecules = ['aspirin', 'ethanol', 'naphthalene', 'salicylic'];
const starts = [['scratch', 'scratch'], ['et-ore', 'ET-ORE'], ['et-oreo', 'ET-OREO']];
const paper = { scratch: 'TorchMDNet', 'et-ore': 'ET-ORO', 'et-oreo': 'ET-OREO' };
const json = (f) => (existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null);
const lastLine = (f) => {
  if (!existsSync(f)) return null;
  const lines = readFileSync(f, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? JSON.parse(lines[lines.length - 1]) : null;
};

const out = [];
out.push('| molecule | start | test force MAE (meV/Å) | test energy MAE (meV) | steps | training clock (min) | MD seeds × ps | stability (ps) | h(r) MAE | published (same start): force / stability / h(r) |');
out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
for (const m of molecules) {
  for (const [key, label] of starts) {
    const ft = join(runs, `ft-${m}-${key}`);
    const t = json(join(ft, 'test-metrics.json'));
    // The training log's last line (a kept thinned log, or a run folder's full one); for runs whose
    // folder was lost before logs were kept, training.json holds the steps and clock recorded then.
    const log = lastLine(join(ft, 'log-thinned.jsonl')) ?? lastLine(join(ft, 'log.jsonl')) ?? json(join(ft, 'training.json'));
    const md = json(join(runs, `md-${m}-${key}`, 'results.json'));
    const p = PUBLISHED_TABLE2[m].find((r) => r.model === `published: ${paper[key]}`);
    const s = md?.summary;
    out.push(`| ${m} | ${label} | ${t ? t.forceMAE_meV_per_A.toFixed(1) : '–'} | ${t ? t.energyMAE_meV.toFixed(1) : '–'} | ${log?.step ?? '–'} | ${log ? (log.clock_s / 60).toFixed(1) : '–'} | ` +
      `${s ? `${s.seeds_finished}/${s.seeds_total} × ${md.simulated_ps_target}` : '–'} | ${s ? formatMeanStd(s.stability_ps, 2) : '–'} | ${s ? formatMeanStd(s.hr_mae, 3) : '–'} | ` +
      `${p ? `${p.forceMae} / ${p.stability} / ${p.hrMae}` : '–'} |`);
  }
}
console.log(out.join('\n'));
