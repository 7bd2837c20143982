/**
 * Forces must come out as forces (−∇E) in eV/Å, consistent with energies in eV: checked with the
 * finite-difference relation ΔE ≈ −½(F_a + F_b)·(R_b − R_a) on nearby frames. A sign error gives
 * a slope of −1; forces left in another unit than the energy (kcal/mol vs eV: ×23; bohr vs Å:
 * ×1.9) move the slope far from 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundledData } from '../../src/data/bundled.js';
import type { Conformation } from '../../src/data/conformation.js';
import { readConformations } from '../../src/data/read.js';

function fdPair(a: Conformation, b: Conformation): { dE: number; work: number } {
  let work = 0;
  for (let k = 0; k < a.positions.length; k++) work += -0.5 * (a.forces![k] + b.forces![k]) * (b.positions[k] - a.positions[k]);
  return { dE: b.energy! - a.energy!, work };
}

/** Least-squares slope through the origin of dE against the work estimate, and the correlation. */
function fit(pairs: { dE: number; work: number }[]): { slope: number; r: number } {
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of pairs) {
    sxy += p.work * p.dE;
    sxx += p.work * p.work;
    syy += p.dE * p.dE;
  }
  return { slope: sxy / sxx, r: sxy / Math.sqrt(sxx * syy) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

test('rMD17: consecutive MD17 frames (old_indices differing by 1) satisfy ΔE = −∫F·dR with slope 1', async () => {
  for (const mol of ['aspirin', 'ethanol', 'naphthalene', 'salicylic']) {
    const confs = [
      ...(await readConformations(bundledData('rmd17', `rmd17_${mol}_train_01.npz`))),
      ...(await readConformations(bundledData('rmd17', `rmd17_${mol}_test_01.npz`))),
    ].sort((x, y) => x.props!.md17_index - y.props!.md17_index);
    const pairs = [];
    for (let i = 1; i < confs.length; i++) {
      if (confs[i].props!.md17_index - confs[i - 1].props!.md17_index === 1) pairs.push(fdPair(confs[i - 1], confs[i]));
    }
    assert.ok(pairs.length >= 8, `${mol}: only ${pairs.length} consecutive pairs`);
    const { slope, r } = fit(pairs);
    assert.ok(slope > 0.95 && slope < 1.05, `${mol}: slope ${slope}`);
    assert.ok(r > 0.99, `${mol}: correlation ${r}`);
  }
});

test('MD22 Ac-Ala3-NHMe: 4 consecutive pairs, read with kcal/mol, agree in sign and size', async () => {
  const confs = await readConformations(bundledData('md22', 'md22_Ac-Ala3-NHMe_5frames.xyz'), { energyUnit: 'kcal/mol' });
  const pairs = confs.slice(1).map((c, i) => fdPair(confs[i], c));
  for (const p of pairs) assert.ok(p.dE / p.work > 0.95 && p.dE / p.work < 1.05, `ratio ${p.dE / p.work}`);
  // The energy changes are real (0.2–0.5 eV), not noise around zero.
  assert.ok(pairs.every((p) => Math.abs(p.dE) > 0.1));
});

test('COMP6 S66x8: gradients are negated, so adjacent points of each dissociation curve give ratio +1', async () => {
  const confs = await readConformations(bundledData('comp6_s66x8', 's66x8_wb97x6-31gd.h5'));
  const ratios: number[] = [];
  for (let m = 0; m < 66; m++) {
    for (let k = 1; k < 8; k++) {
      const p = fdPair(confs[m * 8 + k - 1], confs[m * 8 + k]);
      if (Math.abs(p.work) > 1e-4) ratios.push(p.dE / p.work);
    }
  }
  assert.ok(ratios.length > 400);
  const med = median(ratios);
  assert.ok(med > 0.95 && med < 1.05, `median ratio ${med}`);
  // Read as stored (not negated), the same relation flips sign: the file holds gradients.
  const raw = await readConformations(bundledData('comp6_s66x8', 's66x8_wb97x6-31gd.h5'), { forcesAreGradients: false, limit: 80 });
  const rawRatios = [];
  for (let m = 0; m < 10; m++) for (let k = 1; k < 8; k++) rawRatios.push(fdPair(raw[m * 8 + k - 1], raw[m * 8 + k]));
  assert.ok(median(rawRatios.map((p) => p.dE / p.work)) < -0.9);
});

test('SPICE: the 5 close conformations of C#C.[Na+] (bohr, Ha/bohr gradient) give ratio ≈ +1 after conversion', async () => {
  const confs = (await readConformations(bundledData('spice', 'SPICE-1.1.4_n2.hdf5'))).filter((c) => c.z.length === 5);
  assert.equal(confs.length, 5);
  const ratios: number[] = [];
  for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) {
    const p = fdPair(confs[i], confs[j]);
    ratios.push(p.dE / p.work);
  }
  const med = median(ratios);
  assert.ok(med > 0.85 && med < 1.2, `median ratio ${med} over ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
});
