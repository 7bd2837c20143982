/** A training run's log.jsonl: loss curves (training per step, validation when measured), learning rate. */
import { Chart, COLORS, type Column, type SeriesSpec } from './charts.js';
import { h, fmt } from './dom.js';
import type { RunEntry, TrainingPayload } from './api.js';

const PART_COLORS = [COLORS.sky, COLORS.green, COLORS.purple, COLORS.yellow];

export function trainingView(run: RunEntry, t: TrainingPayload): { element: HTMLElement; mount(): void; resize(): void } {
  const c = t.columns;
  const step = c.step ?? [];
  const charts: { chart: Chart; columns: Column[] }[] = [];
  const positive = (col: (number | null)[] | undefined) => (col ?? []).map((v) => (v !== null && v > 0 ? v : null));

  if (c.loss) {
    const series: SeriesSpec[] = [{ label: 'training loss', color: COLORS.blue }];
    const columns: Column[] = [step, positive(c.loss)];
    Object.keys(c)
      .filter((k) => k.startsWith('loss_'))
      .sort()
      .forEach((k, i) => {
        series.push({ label: k.slice(5), color: PART_COLORS[i % PART_COLORS.length], dash: [4, 3] });
        columns.push(positive(c[k]));
      });
    if (c.val_loss) {
      series.push({ label: 'validation loss', color: COLORS.orange, points: true });
      columns.push(positive(c.val_loss));
    }
    charts.push({ chart: new Chart({ title: 'Loss', xLabel: 'optimizer step', yLabel: 'loss', series, logY: true, height: 280 }), columns });
  }
  if (c.val_force_mae_meV) {
    charts.push({
      chart: new Chart({ title: 'Validation force MAE', xLabel: 'optimizer step', yLabel: 'meV/Å', series: [{ label: 'force MAE', color: COLORS.orange, points: true }], height: 200 }),
      columns: [step, c.val_force_mae_meV],
    });
  }
  if (c.lr) {
    charts.push({ chart: new Chart({ title: 'Learning rate', xLabel: 'optimizer step', yLabel: 'lr', series: [{ label: 'lr', color: COLORS.black }], height: 160 }), columns: [step, c.lr] });
  }
  const last = (col?: (number | null)[]) => {
    for (let i = (col?.length ?? 0) - 1; i >= 0; i--) if (col![i] !== null) return col![i];
    return null;
  };
  const element = h(
    'section',
    { class: 'training', id: 'training' },
    h('h2', {}, `Training ${run.path || '(folder root)'}`),
    h('p', { class: 'muted' }, `${t.rows} logged steps · last loss ${fmt(last(c.loss))} · last validation loss ${fmt(last(c.val_loss))}${t.skipped ? ` · ${t.skipped} unreadable lines skipped` : ''}`),
    h('div', { class: 'charts' }, ...charts.map((x) => x.chart.element)),
  );
  return {
    element,
    mount() {
      for (const x of charts) x.chart.setData(x.columns);
    },
    resize() {
      for (const x of charts) x.chart.resize();
    },
  };
}
