/**
 * Small, dependency-free SVG charts: x–y lines and histograms (as steps) with axes, ticks, axis
 * labels, a legend and optional vertical markers (e.g. "collapse"). Enough for MD analysis;
 * not a plotting library.
 */
import { TextRenderer, textWidth } from './text.js';

export interface Series {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  /** SVG stroke-dasharray, e.g. '6 3'. */
  dash?: string;
  /** Stroke width, px (default 1.6). */
  width?: number;
  /**
   * 'line' joins the points; 'steps' draws a histogram outline where x are the bin edges
   * (length y.length + 1).
   */
  kind?: 'line' | 'steps';
}

export interface Marker {
  x: number;
  label: string;
  color?: string;
}

export interface ChartSpec {
  title?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** px; default 720 × 440. */
  width?: number;
  height?: number;
  xRange?: [number, number];
  yRange?: [number, number];
  markers?: Marker[];
  legend?: 'top-right' | 'top-left' | 'bottom-right' | 'none';
}

/** Colour-blind-safe palette (Okabe & Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

const FONT = 13;
const TICK_FONT = 12;
const TITLE_FONT = 15;

export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 720;
  const H = spec.height ?? 440;
  if (spec.series.length === 0) throw new RangeError('chart: no series');
  spec.series.forEach((s) => {
    const need = s.kind === 'steps' ? s.y.length + 1 : s.y.length;
    if (s.x.length !== need) throw new RangeError(`chart: series '${s.label}' has ${s.x.length} x values for ${s.y.length} y values`);
  });

  const xr = spec.xRange ?? padRange(extent(spec.series.map((s) => s.x)), 0);
  const yr = spec.yRange ?? padRange(extent(spec.series.map((s) => s.y)), 0.05);
  const xt = niceTicks(xr[0], xr[1], Math.max(3, Math.round(W / 110)));
  const yt = niceTicks(yr[0], yr[1], Math.max(3, Math.round(H / 70)));
  const yLabels = yt.values.map((v) => formatTick(v, yt.step));

  const left = 28 + Math.max(...yLabels.map((l) => textWidth(l, TICK_FONT))) + 10;
  const right = 18;
  const top = spec.title ? 38 : 16;
  const bottom = 52;
  const pw = W - left - right;
  const ph = H - top - bottom;
  const sx = (v: number) => left + ((v - xr[0]) / (xr[1] - xr[0])) * pw;
  const sy = (v: number) => top + ph - ((v - yr[0]) / (yr[1] - yr[0])) * ph;

  const t = new TextRenderer();
  const body: string[] = [];
  body.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  // Grid and ticks.
  for (const v of yt.values) {
    const y = r(sy(v));
    body.push(`<line x1="${r(left)}" y1="${y}" x2="${r(left + pw)}" y2="${y}" stroke="#e6e6e6" stroke-width="1"/>`);
    body.push(`<line x1="${r(left - 5)}" y1="${y}" x2="${r(left)}" y2="${y}" stroke="#333" stroke-width="1"/>`);
    body.push(t.text(formatTick(v, yt.step), left - 8, y, { size: TICK_FONT, anchor: 'end', valign: 'middle' }));
  }
  for (const v of xt.values) {
    const x = r(sx(v));
    body.push(`<line x1="${x}" y1="${r(top)}" x2="${x}" y2="${r(top + ph)}" stroke="#e6e6e6" stroke-width="1"/>`);
    body.push(`<line x1="${x}" y1="${r(top + ph)}" x2="${x}" y2="${r(top + ph + 5)}" stroke="#333" stroke-width="1"/>`);
    body.push(t.text(formatTick(v, xt.step), x, top + ph + 20, { size: TICK_FONT, anchor: 'middle' }));
  }
  // Data, clipped to the plot area.
  body.push(`<clipPath id="plot-area"><rect x="${r(left)}" y="${r(top)}" width="${r(pw)}" height="${r(ph)}"/></clipPath>`);
  body.push('<g clip-path="url(#plot-area)">');
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const d = s.kind === 'steps' ? stepsPath(s, sx, sy) : linePath(s, sx, sy, pw);
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    body.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width ?? 1.6}" stroke-linejoin="round"${dash}/>`);
  });
  for (const m of spec.markers ?? []) {
    if (!(m.x >= xr[0] && m.x <= xr[1])) continue;
    const x = r(sx(m.x));
    body.push(`<line x1="${x}" y1="${r(top)}" x2="${x}" y2="${r(top + ph)}" stroke="${m.color ?? '#b00020'}" stroke-width="1.2" stroke-dasharray="4 3"/>`);
  }
  body.push('</g>');
  for (const m of spec.markers ?? []) {
    if (!(m.x >= xr[0] && m.x <= xr[1])) continue;
    const x = sx(m.x);
    const anchor = x > left + pw - textWidth(m.label, TICK_FONT) - 8 ? 'end' : 'start';
    body.push(t.text(m.label, x + (anchor === 'start' ? 4 : -4), top + 14, { size: TICK_FONT, anchor, fill: m.color ?? '#b00020' }));
  }
  // Frame and labels.
  body.push(`<rect x="${r(left)}" y="${r(top)}" width="${r(pw)}" height="${r(ph)}" fill="none" stroke="#333" stroke-width="1"/>`);
  body.push(t.text(spec.xLabel, left + pw / 2, H - 12, { size: FONT, anchor: 'middle' }));
  body.push(t.text(spec.yLabel, 16, top + ph / 2, { size: FONT, anchor: 'middle', valign: 'middle', rotate: -90 }));
  if (spec.title) body.push(t.text(spec.title, left + pw / 2, 24, { size: TITLE_FONT, anchor: 'middle', fill: '#111' }));
  if ((spec.legend ?? 'top-right') !== 'none') body.push(legend(spec, t, left, top, pw, ph));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    spec.title ? `<title>${escapeXml(spec.title)}</title>` : '',
    `<defs>${t.defs()}</defs>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(spec: ChartSpec, t: TextRenderer, left: number, top: number, pw: number, ph: number): string {
  const rowH = 18;
  const w = 38 + Math.max(...spec.series.map((s) => textWidth(s.label, TICK_FONT)));
  const h = 8 + rowH * spec.series.length;
  const pos = spec.legend ?? 'top-right';
  const x0 = pos === 'top-left' ? left + 10 : left + pw - w - 10;
  const y0 = pos === 'bottom-right' ? top + ph - h - 10 : top + 10;
  const out = [`<rect x="${r(x0)}" y="${r(y0)}" width="${r(w)}" height="${r(h)}" fill="#ffffff" fill-opacity="0.9" stroke="#bbb" stroke-width="0.8"/>`];
  spec.series.forEach((s, i) => {
    const y = y0 + 4 + rowH * i + rowH / 2;
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<line x1="${r(x0 + 8)}" y1="${r(y)}" x2="${r(x0 + 30)}" y2="${r(y)}" stroke="${color}" stroke-width="${s.width ?? 1.6}"${dash}/>`);
    out.push(t.text(s.label, x0 + 36, y, { size: TICK_FONT, valign: 'middle' }));
  });
  return out.join('');
}

/**
 * A polyline with gaps at non-finite values. Long series are thinned to the min and max of each
 * pixel column, which keeps every visible excursion and the file small.
 */
function linePath(s: Series, sx: (v: number) => number, sy: (v: number) => number, pw: number): string {
  const n = s.y.length;
  const parts: string[] = [];
  let pen = false;
  const emit = (x: number, y: number) => {
    parts.push(`${pen ? 'L' : 'M'}${r(sx(x))} ${r(sy(y))}`);
    pen = true;
  };
  if (n <= 4 * pw) {
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (Number.isFinite(x) && Number.isFinite(y)) emit(x, y);
      else pen = false;
    }
    return parts.join('');
  }
  // Thin: group consecutive points by pixel column.
  let col = NaN;
  let lo = { x: 0, y: Infinity }, hi = { x: 0, y: -Infinity };
  let first = { x: 0, y: 0 }, last = { x: 0, y: 0 };
  const flush = () => {
    if (Number.isNaN(col)) return;
    const pts = [first, lo.x <= hi.x ? lo : hi, lo.x <= hi.x ? hi : lo, last];
    let prev: { x: number; y: number } | null = null;
    for (const p of pts) {
      if (p !== prev) emit(p.x, p.y);
      prev = p;
    }
  };
  for (let i = 0; i < n; i++) {
    const x = s.x[i], y = s.y[i];
    if (!(Number.isFinite(x) && Number.isFinite(y))) {
      flush();
      col = NaN;
      pen = false;
      continue;
    }
    const c = Math.floor(sx(x));
    if (c !== col) {
      flush();
      col = c;
      first = lo = hi = last = { x, y };
    } else {
      const p = { x, y };
      if (y < lo.y) lo = p;
      if (y > hi.y) hi = p;
      last = p;
    }
  }
  flush();
  return parts.join('');
}

function stepsPath(s: Series, sx: (v: number) => number, sy: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < s.y.length; i++) {
    const y = s.y[i];
    if (!Number.isFinite(y)) {
      pen = false;
      continue;
    }
    const yy = r(sy(y));
    parts.push(`${pen ? 'L' : 'M'}${r(sx(s.x[i]))} ${yy}L${r(sx(s.x[i + 1]))} ${yy}`);
    pen = true;
  }
  return parts.join('');
}

function extent(arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return [0, 1];
  return [lo, hi];
}

function padRange([lo, hi]: [number, number], frac: number): [number, number] {
  if (hi === lo) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.05 : 1;
    return [lo - d, hi + d];
  }
  const p = (hi - lo) * frac;
  return [lo - p, hi + p];
}

/** Ticks at 1, 2 or 5 × 10^k inside [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target: number): { values: number[]; step: number } {
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const values: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  // toPrecision removes float noise (0.6000000000000001), + 0 turns −0 into 0.
  for (let k = first; k * step <= hi + step * 1e-9; k++) values.push(Number((k * step).toPrecision(12)) + 0);
  return { values, step };
}

/** A tick label with as many decimals as the step needs, and a proper minus sign. */
export function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step) + 1e-9) === 2.5 ? 1 : 0)));
  let s = (Math.abs(v) < step * 1e-9 ? 0 : v).toFixed(decimals);
  if (Math.abs(v) >= 1e6 || (Math.abs(v) > 0 && Math.abs(v) < 1e-4 && decimals > 6)) s = v.toExponential(2);
  return s.replace(/^-/, '−');
}

const r = (v: number) => Math.round(v * 100) / 100;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
