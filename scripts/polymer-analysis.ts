/**
 * Polymer experiment, last step (issue 11, paper Fig. 2): compare an `oreo simulate` trajectory
 * with the reference calculator's labels of its saved frames (`oreo label` output).
 *
 *   node --import tsx scripts/polymer-analysis.ts --traj DIR --labels FILE --out DIR [--img DIR --prefix NAME]
 *
 * Per saved frame: force MAE and cosine similarity oreo vs reference, RMSD to the first frame
 * (Kabsch), potential energies of both, each relative to its own first frame (the model's
 * per-element energy offsets are not the reference's, so only differences are comparable).
 * Writes frames.csv and summary.json into --out, and SVG/PNG plots plus a snapshot picture into --img.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readExtxyzFile, type ExtxyzFrame } from '../src/data/extxyz.js';
import { kabsch, superposedRmsd } from '../src/analysis/rmsd.js';
import { lineChart, PALETTE, type Series } from '../src/analysis/plot/chart.js';
import { svgToPng } from '../src/analysis/plot/png.js';
import { TextRenderer } from '../src/analysis/plot/text.js';
import { covalentRadius, formula } from '../src/elements.js';
import { parseArgs, requireStr, str } from '../src/cli/args.js';

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function num(frame: ExtxyzFrame, key: string, file: string, index: number): number {
  const v = frame.info[key];
  if (typeof v !== 'number') throw new Error(`${file}: frame ${index} has no numeric '${key}'`);
  return v;
}

function forcesOf(frame: ExtxyzFrame, file: string, index: number): Float64Array {
  const f = frame.arrays.forces;
  if (!(f instanceof Float64Array) || f.length !== frame.positions.length) throw new Error(`${file}: frame ${index} has no forces column`);
  return f;
}

/** Mean absolute error over all Cartesian components (as MDsim reports it), eV/Å. */
function mae(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Cosine of the angle between the two 3N force vectors, and the mean of the per-atom cosines. */
function cosines(a: Float64Array, b: Float64Array): { global: number; perAtom: number } {
  let ab = 0, aa = 0, bb = 0, sum = 0;
  const n = a.length / 3;
  for (let i = 0; i < n; i++) {
    let d = 0, na = 0, nb = 0;
    for (let k = 3 * i; k < 3 * i + 3; k++) {
      d += a[k] * b[k];
      na += a[k] * a[k];
      nb += b[k] * b[k];
    }
    ab += d; aa += na; bb += nb;
    sum += d / Math.sqrt(na * nb || 1);
  }
  return { global: ab / Math.sqrt(aa * bb), perAtom: sum / n };
}

const ELEMENT_COLOURS: Record<number, string> = { 1: '#e8e8e8', 6: '#555555', 7: '#3050f8', 8: '#e0281e' };

/**
 * A ball-and-stick picture of one or more frames of the same chain, side by side, in the plane of
 * the first frame's two largest principal axes (later frames superposed onto it first), so the
 * frames are drawn in the same orientation and scale.
 */
function snapshotSvg(z: Int32Array, frames: Float64Array[], labels: string[]): string {
  const n = z.length;
  const ref = frames[0];
  const centre = [0, 0, 0];
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) centre[k] += ref[3 * i + k] / n;
  const cov = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) cov[a][b] += (ref[3 * i + a] - centre[a]) * (ref[3 * i + b] - centre[b]);
  }
  const axes = principalAxes(cov);
  const projected = frames.map((f) => {
    const sup = kabsch(f, ref);
    const R = sup.rotation, t = sup.translation;
    const out = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) {
      const x = f[3 * i], y = f[3 * i + 1], w = f[3 * i + 2];
      const p = [0, 1, 2].map((r) => R[3 * r] * x + R[3 * r + 1] * y + R[3 * r + 2] * w + t[r] - centre[r]);
      for (let k = 0; k < 3; k++) out[3 * i + k] = p[0] * axes[k][0] + p[1] * axes[k][1] + p[2] * axes[k][2];
    }
    return out;
  });
  let xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
  for (const p of projected) for (let i = 0; i < n; i++) {
    xmin = Math.min(xmin, p[3 * i]); xmax = Math.max(xmax, p[3 * i]);
    ymin = Math.min(ymin, p[3 * i + 1]); ymax = Math.max(ymax, p[3 * i + 1]);
  }
  const text = new TextRenderer();
  const W = 1400, panelH = Math.max(120, Math.min(260, (W - 40) * (ymax - ymin + 2) / (xmax - xmin + 2)));
  const scale = Math.min((W - 40) / (xmax - xmin + 2), (panelH - 30) / (ymax - ymin + 2));
  const H = panelH * frames.length;
  const body: string[] = [`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`];
  projected.forEach((p, f) => {
    const ox = W / 2 - scale * (xmin + xmax) / 2, oy = f * panelH + 24 + (panelH - 30) / 2 + scale * (ymin + ymax) / 2;
    const sx = (i: number) => (ox + scale * p[3 * i]).toFixed(1);
    const sy = (i: number) => (oy - scale * p[3 * i + 1]).toFixed(1);
    body.push(text.text(labels[f], 12, f * panelH + 18, { size: 14 }));
    // Bonds from the first frame's geometry, so a broken bond shows as a long stick.
    const items: { depth: number; svg: string }[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = Math.hypot(ref[3 * i] - ref[3 * j], ref[3 * i + 1] - ref[3 * j + 1], ref[3 * i + 2] - ref[3 * j + 2]);
        if (d < covalentRadius(z[i]) + covalentRadius(z[j]) + 0.4) {
          items.push({ depth: (p[3 * i + 2] + p[3 * j + 2]) / 2 - 0.01, svg: `<line x1="${sx(i)}" y1="${sy(i)}" x2="${sx(j)}" y2="${sy(j)}" stroke="#888" stroke-width="${(0.18 * scale).toFixed(1)}"/>` });
        }
      }
      const r = (z[i] === 1 ? 0.22 : 0.36) * scale;
      items.push({ depth: p[3 * i + 2], svg: `<circle cx="${sx(i)}" cy="${sy(i)}" r="${r.toFixed(1)}" fill="${ELEMENT_COLOURS[z[i]] ?? '#c080ff'}" stroke="#333" stroke-width="0.6"/>` });
    }
    items.sort((a, b) => a.depth - b.depth);
    for (const it of items) body.push(it.svg);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H.toFixed(0)}" viewBox="0 0 ${W} ${H.toFixed(0)}"><defs>${text.defs()}</defs>${body.join('')}</svg>`;
}

/** Eigenvectors of a 3×3 symmetric matrix by Jacobi rotations, sorted by decreasing eigenvalue. */
function principalAxes(m: number[][]): number[][] {
  const a = m.map((r) => r.slice());
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < 2; p++) for (let q = p + 1; q < 3; q++) {
      if (Math.abs(a[p][q]) < 1e-14) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p], akq = a[k][q];
        a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k], aqk = a[q][k];
        a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p], vkq = v[k][q];
        v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j][j] - a[i][i]);
  return order.map((c) => [v[0][c], v[1][c], v[2][c]]);
}

function main(): void {
  const opts = parseArgs('polymer-analysis', process.argv.slice(2), {
    traj: { type: 'string' }, labels: { type: 'string' }, out: { type: 'string' },
    img: { type: 'string' }, prefix: { type: 'string' }, title: { type: 'string' },
  });
  const trajDir = requireStr('polymer-analysis', opts, 'traj');
  const labelsFile = requireStr('polymer-analysis', opts, 'labels');
  const outDir = requireStr('polymer-analysis', opts, 'out');
  const imgDir = str(opts, 'img') ?? outDir;
  const prefix = str(opts, 'prefix') ?? 'polymers';
  mkdirSync(outDir, { recursive: true });
  mkdirSync(imgDir, { recursive: true });

  const trajFile = join(trajDir, 'trajectory.extxyz');
  const traj = readExtxyzFile(trajFile);
  const labels = readExtxyzFile(labelsFile);
  const byIndex = new Map<number, ExtxyzFrame>();
  labels.forEach((f, i) => byIndex.set(num(f, 'input_index', labelsFile, i), f));

  const rows: { step: number; timePs: number; maeMeV: number; cosGlobal: number; cosAtom: number; rmsd: number; eOreo: number; eRef: number; tK: number; refRmsMeV: number }[] = [];
  const first = traj[0];
  traj.forEach((frame, i) => {
    const ref = byIndex.get(i);
    if (!ref) return;
    if (ref.positions.some((x, k) => Math.abs(x - frame.positions[k]) > 1e-5)) throw new Error(`${labelsFile}: frame with input_index ${i} is not frame ${i} of ${trajFile}`);
    const fo = forcesOf(frame, trajFile, i), fr = forcesOf(ref, labelsFile, i);
    const c = cosines(fo, fr);
    rows.push({
      step: num(frame, 'step', trajFile, i),
      timePs: num(frame, 'time_fs', trajFile, i) / 1000,
      maeMeV: 1000 * mae(fo, fr),
      cosGlobal: c.global,
      cosAtom: c.perAtom,
      rmsd: superposedRmsd(frame.positions, first.positions),
      eOreo: num(frame, 'energy', trajFile, i),
      eRef: num(ref, 'energy', labelsFile, i),
      tK: num(frame, 'T_K', trajFile, i),
      refRmsMeV: 1000 * Math.sqrt(fr.reduce((a, x) => a + x * x, 0) / fr.length),
    });
  });
  if (rows.length === 0) throw new Error(`${labelsFile}: no labelled frame matches ${trajFile}`);
  const e0o = rows[0].eOreo, e0r = rows[0].eRef;

  const csv = ['step,time_ps,T_K,ref_force_rms_meV_per_A,force_mae_meV_per_A,force_cos_3N,force_cos_per_atom_mean,rmsd_A,dE_oreo_eV,dE_ref_eV']
    .concat(rows.map((r) => [r.step, r.timePs, r.tK.toFixed(2), r.refRmsMeV.toFixed(1), r.maeMeV.toFixed(2), r.cosGlobal.toFixed(5), r.cosAtom.toFixed(5), r.rmsd.toFixed(4), (r.eOreo - e0o).toFixed(5), (r.eRef - e0r).toFixed(5)].join(',')))
    .join('\n') + '\n';
  writeAtomic(join(outDir, 'frames.csv'), csv);

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const later = rows.length > 1 ? rows.slice(1) : rows;
  const dO = rows.map((r) => r.eOreo - e0o), dR = rows.map((r) => r.eRef - e0r);
  const summary = {
    trajectory: trajFile,
    labels: labelsFile,
    atoms: first.z.length,
    formula: formula(first.z),
    labelledFrames: rows.length,
    lastStep: rows[rows.length - 1].step,
    // The first frame is the reference calculator's own minimum: its forces are ~0, so their
    // direction (the cosine) means little there; the statistics after it are the informative ones.
    forceMAE_meV_per_A: { mean: mean(rows.map((r) => r.maeMeV)), meanAfterFirst: mean(later.map((r) => r.maeMeV)), first: rows[0].maeMeV, last: rows[rows.length - 1].maeMeV },
    forceCosine3N: { mean: mean(rows.map((r) => r.cosGlobal)), meanAfterFirst: mean(later.map((r) => r.cosGlobal)), minAfterFirst: Math.min(...later.map((r) => r.cosGlobal)) },
    forceCosinePerAtom: { mean: mean(rows.map((r) => r.cosAtom)), meanAfterFirst: mean(later.map((r) => r.cosAtom)), minAfterFirst: Math.min(...later.map((r) => r.cosAtom)) },
    referenceForceRms_meV_per_A: { meanAfterFirst: mean(later.map((r) => r.refRmsMeV)) },
    rmsd_A: { last: rows[rows.length - 1].rmsd, max: Math.max(...rows.map((r) => r.rmsd)) },
    energyRelativeToFirst_eV: {
      oreoLast: dO[dO.length - 1],
      refLast: dR[dR.length - 1],
      maeOfDifferences: mean(dO.map((x, i) => Math.abs(x - dR[i]))),
      pearson: pearson(dO, dR),
      pearsonAfterFirst: pearson(dO.slice(1), dR.slice(1)),
      maeOfDifferencesAfterFirst: mean(dO.slice(1).map((x, i) => Math.abs(x - dR[i + 1]))),
    },
  };
  writeAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');

  const t = rows.map((r) => r.timePs);
  const title = str(opts, 'title') ?? `${summary.formula} (${summary.atoms} atoms), oreo MD`;
  const charts: Record<string, { yLabel: string; series: Series[]; yRange?: [number, number] }> = {
    'force-mae': { yLabel: 'force MAE oreo vs GFN2-xTB (meV/Å)', yRange: [0, 1.1 * Math.max(...rows.map((r) => r.maeMeV))], series: [{ label: 'force MAE', x: t, y: rows.map((r) => r.maeMeV), color: PALETTE[0] }] },
    'force-cosine': {
      yLabel: 'force cosine similarity', yRange: [0, 1],
      series: [
        { label: 'cosine of the 3N force vectors', x: t, y: rows.map((r) => r.cosGlobal), color: PALETTE[0] },
        { label: 'mean per-atom cosine', x: t, y: rows.map((r) => r.cosAtom), color: PALETTE[1], dash: '6 3' },
      ],
    },
    rmsd: { yLabel: 'RMSD to first frame (Å)', yRange: [0, 1.1 * Math.max(...rows.map((r) => r.rmsd), 0.1)], series: [{ label: 'RMSD (Kabsch)', x: t, y: rows.map((r) => r.rmsd), color: PALETTE[2] }] },
    energy: {
      yLabel: 'potential energy − first frame (eV)',
      series: [
        { label: 'oreo', x: t, y: dO, color: PALETTE[0] },
        { label: 'GFN2-xTB', x: t, y: dR, color: PALETTE[1], dash: '6 3' },
      ],
    },
  };
  for (const [name, c] of Object.entries(charts)) {
    const svg = lineChart({ title, xLabel: 'time (ps)', yLabel: c.yLabel, series: c.series, yRange: c.yRange, legend: 'bottom-right' });
    writeAtomic(join(imgDir, `${prefix}-${name}.svg`), svg);
    writeAtomic(join(imgDir, `${prefix}-${name}.png`), svgToPng(svg));
  }
  const lastIndex = traj.length - 1;
  const snap = snapshotSvg(first.z, [first.positions, traj[lastIndex].positions], [
    `step ${num(first, 'step', trajFile, 0)} (start)`,
    `step ${num(traj[lastIndex], 'step', trajFile, lastIndex)} (oreo MD, superposed on the start; RMSD ${superposedRmsd(traj[lastIndex].positions, first.positions).toFixed(2)} Å)`,
  ]);
  writeAtomic(join(imgDir, `${prefix}-snapshots.svg`), snap);
  writeAtomic(join(imgDir, `${prefix}-snapshots.png`), svgToPng(snap, { scale: 1.5 }));
  console.log(JSON.stringify(summary, null, 1));
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n, mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

main();
