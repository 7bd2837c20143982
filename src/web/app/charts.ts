/**
 * Line charts (uPlot). A time chart carries a marker at the player's current time, and a click in
 * it asks the player to jump to that time, which is how plots and the 3D view stay linked.
 */
import uPlot from 'uplot';
import { h } from './dom.js';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Draw points only (e.g. validation loss measured now and then). */
  points?: boolean;
  dash?: number[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  /** Logarithmic y axis. */
  logY?: boolean;
  height?: number;
}

export type Column = ArrayLike<number | null>;

/** Okabe–Ito colours, distinguishable with colour-vision deficiencies. */
export const COLORS = { blue: '#0072B2', orange: '#D55E00', green: '#009E73', purple: '#CC79A7', black: '#222222', sky: '#56B4E9', yellow: '#E69F00' };

/** Axis tick labels: plain for ordinary magnitudes, exponent form for tiny or huge ones (learning rates). */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

const ticks = (_u: uPlot, splits: number[]) => splits.map((v) => (v === null || v === undefined ? '' : tickLabel(v)));

export class Chart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private markerX: number | null = null;
  private data: Column[] = [];
  /** Called with the x value under the pointer when the chart is clicked. */
  onSeek: ((x: number) => void) | null = null;

  constructor(private readonly spec: ChartSpec) {
    this.element = h('div', { class: 'chart', 'data-title': spec.title });
  }

  /** Draw (or redraw) with columns [x, y1, y2, …]; call once the element is in the document. */
  setData(columns: Column[]): void {
    this.data = columns;
    const width = Math.max(240, this.element.clientWidth || 480);
    const marker = this;
    const opts: uPlot.Options = {
      title: this.spec.title,
      width,
      height: this.spec.height ?? 200,
      scales: { x: { time: false }, y: this.spec.logY ? { distr: 3 } : {} },
      axes: [
        { label: this.spec.xLabel, size: 40, values: ticks },
        { label: this.spec.yLabel, size: 70, values: this.spec.logY ? undefined : ticks },
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: this.spec.xLabel },
        ...this.spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.points ? 0 : 1.5,
          dash: s.dash,
          points: s.points ? { show: true, size: 6, stroke: s.color, fill: s.color } : { show: false },
          spanGaps: false,
        })),
      ],
      hooks: {
        draw: [
          (u: uPlot) => {
            if (marker.markerX === null) return;
            const x = u.valToPos(marker.markerX, 'x', true);
            if (!Number.isFinite(x)) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#b00020';
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    this.plot?.destroy();
    this.plot = new uPlot(opts, columns as unknown as uPlot.AlignedData, this.element);
    this.plot.over.addEventListener('click', () => {
      const idx = this.plot?.cursor.idx;
      if (idx === null || idx === undefined || !this.onSeek) return;
      const x = this.data[0][idx];
      if (x !== null && x !== undefined) this.onSeek(x);
    });
    this.element.dataset.points = String(columns[0]?.length ?? 0);
  }

  /** Update the data in place (live MD) without rebuilding the chart. */
  update(columns: Column[]): void {
    if (!this.plot) return this.setData(columns);
    this.data = columns;
    this.plot.setData(columns as unknown as uPlot.AlignedData);
    this.element.dataset.points = String(columns[0]?.length ?? 0);
  }

  /** Move the frame marker to x (null hides it). */
  setMarker(x: number | null): void {
    this.markerX = x;
    this.element.dataset.marker = x === null ? '' : String(x);
    this.plot?.redraw(false, false);
  }

  resize(): void {
    if (!this.plot) return;
    this.plot.setSize({ width: Math.max(240, this.element.clientWidth || 480), height: this.spec.height ?? 200 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
