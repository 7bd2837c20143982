import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import { lineChart, niceTicks, formatTick } from '../../src/analysis/plot/chart.js';
import { svgToPng, pngSize } from '../../src/analysis/plot/png.js';
import { TextRenderer, textWidth } from '../../src/analysis/plot/text.js';

function inkedPixels(svg: string): number {
  const img = new Resvg(svg, { font: { loadSystemFonts: false }, background: '#ffffff' }).render();
  const px = img.pixels;
  let dark = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i] < 128 && px[i + 1] < 128 && px[i + 2] < 128) dark++;
  return dark;
}

test('text is drawn as outlines, so it renders with no system fonts at all', () => {
  const t = new TextRenderer();
  const label = t.text('h(r) Å⁻¹ −0.5', 10, 40, { size: 24 });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><defs>${t.defs()}</defs>${label}</svg>`;
  assert.ok(inkedPixels(svg) > 300, 'the label left no ink');
  const empty = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><text x="10" y="40" font-size="24">h(r)</text></svg>`;
  assert.equal(inkedPixels(empty), 0); // what plain <text> gives on a machine without fonts
  assert.match(label, /aria-label="h\(r\) Å⁻¹ −0.5"/);
  // Widths scale with the size and grow with the string.
  assert.ok(Math.abs(textWidth('Å', 24) - 2 * textWidth('Å', 12)) < 1e-12);
  assert.ok(textWidth('RMSD (Å)', 12) > textWidth('RMSD', 12));
});

test('ticks are round numbers covering the range, labelled with the decimals they need', () => {
  const t = niceTicks(0, 10, 5);
  assert.deepEqual(t.values, [0, 2, 4, 6, 8, 10]);
  const u = niceTicks(-406.3, -405.1, 6);
  assert.equal(u.step, 0.2);
  assert.ok(u.values[0] >= -406.3 && u.values[u.values.length - 1] <= -405.1);
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(-2, 0.5), '−2.0');
  assert.equal(formatTick(1500, 500), '1500');
  assert.equal(formatTick(2.5e-17, 0.25), '0.00');
});

test('a chart renders to a PNG of the requested size', () => {
  const x = Float64Array.from({ length: 200 }, (_, i) => i * 0.05);
  const svg = lineChart({
    title: 'test chart',
    xLabel: 'time (ps)',
    yLabel: 'T (K)',
    width: 600,
    height: 400,
    series: [
      { label: 'T', x, y: x.map((v) => 500 + 50 * Math.sin(v)) },
      { label: 'with a gap', x, y: x.map((v, i) => (i === 50 ? NaN : 480 + v)), dash: '4 2' },
    ],
    markers: [{ x: 5, label: 'collapse' }],
  });
  assert.match(svg, /^<svg [^>]*width="600" height="400"/);
  const png = svgToPng(svg, { scale: 2 });
  assert.deepEqual(pngSize(png), { width: 1200, height: 800 });
  assert.deepEqual(pngSize(svgToPng(svg, { scale: 1 })), { width: 600, height: 400 });
  assert.throws(() => pngSize(new Uint8Array(30)), /not a PNG/);
  // A gap (NaN) starts a new sub-path instead of drawing to a bogus point.
  assert.equal((svg.match(/stroke-dasharray="4 2"/g) ?? []).length, 2); // the series and its legend line
  assert.throws(() => lineChart({ xLabel: 'x', yLabel: 'y', series: [{ label: 'bad', x: [1, 2], y: [1] }] }), /2 x values for 1 y/);
});

test('long series are thinned per pixel column but keep their extremes', () => {
  const n = 100000;
  const x = Float64Array.from({ length: n }, (_, i) => i);
  const y = Float64Array.from({ length: n }, (_, i) => (i === 54321 ? 100 : Math.sin(i / 1000)));
  const svg = lineChart({ xLabel: 'x', yLabel: 'y', series: [{ label: 's', x, y }], legend: 'none' });
  assert.ok(svg.length < 200000, `svg is ${svg.length} bytes`);
  // The spike at y = 100 must survive: the top of the y range is ≈ 100, so some point sits at the plot top.
  const path = svg.match(/<path d="(M[^"]+)" fill="none"/)![1];
  const ys = [...path.matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
  assert.ok(Math.min(...ys) < 40, 'spike lost by thinning');
});
