/**
 * The loss curve of a run (training loss per step, validation loss per round), from its JSONL
 * log, as SVG and PNG.
 */
import { existsSync, readFileSync } from 'node:fs';
import { lineChart } from '../analysis/plot/chart.js';
import { svgToPng } from '../analysis/plot/png.js';
import { writeFileAtomic } from '../io/atomic.js';

export function writeLossCurve(logPath: string, outBase: string): string | null {
  if (!existsSync(logPath)) return null;
  const rows = readFileSync(logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, number>);
  if (rows.length === 0) return null;
  const log10 = (v: number) => Math.log10(Math.max(v, 1e-12));
  const val = rows.filter((r) => r.val_loss !== undefined && Number.isFinite(r.val_loss));
  const series = [{ label: 'training loss', x: rows.map((r) => r.step), y: rows.map((r) => log10(r.loss)) }];
  if (val.length > 0) series.push({ label: 'validation loss', x: val.map((r) => r.step), y: val.map((r) => log10(r.val_loss)) });
  const svg = lineChart({ title: 'Training', xLabel: 'optimizer step', yLabel: 'log10(loss)', series });
  writeFileAtomic(`${outBase}.svg`, svg);
  writeFileAtomic(`${outBase}.png`, svgToPng(svg));
  return `${outBase}.svg`;
}
