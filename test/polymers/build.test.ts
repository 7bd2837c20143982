// Polymer chains from repeat units: the right atoms for L = 1, 2 of every Table 3 unit, sensible
// 3D geometry, and clear refusals of malformed SMILES, bad loop counts and unsupported elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formula } from '../../src/elements.js';
import { OreoError } from '../../src/errors.js';
import { markAttachmentPoints, polymerSmiles } from '../../src/polymers/build.js';
import { buildPolymer, embedPolymer, polymerAtomicNumbers, type PolymerStructure } from '../../src/polymers/embed.js';
import { PAPER_UNITS, resolveUnit } from '../../src/polymers/units.js';
import { XtbCalculator } from '../../src/qm/xtb.js';
import { skipUnless } from '../system-tools.js';

// Repeat-unit compositions worked out by hand from the Table 3 SMILES (the [*] ends excluded):
// CK   -(CH2)8-                         C8H16
// OTH  -O-CH(C3H7)-(CH2)3-C(=O)-        C8H14O2
// LAC1 -O-CH2-CH2-O-CH2-C(=O)-          C4H6O3
// LAC2 -O-CH2-CH2-O-CH(CH3)-C(=O)-      C5H8O3
const repeatComposition: Record<string, Record<string, number>> = {
  CK: { C: 8, H: 16 },
  OTH: { C: 8, H: 14, O: 2 },
  LAC1: { C: 4, H: 6, O: 3 },
  LAC2: { C: 5, H: 8, O: 3 },
};

function expectedFormula(unit: string, loops: number, cap: 'H' | 'CH3'): string {
  const counts: Record<string, number> = {};
  for (const [el, n] of Object.entries(repeatComposition[unit])) counts[el] = n * loops;
  // Two ends: H adds one hydrogen each; CH3 one carbon and three hydrogens each.
  if (cap === 'H') counts.H += 2;
  else {
    counts.C += 2;
    counts.H += 6;
  }
  const z: number[] = [];
  const zOf: Record<string, number> = { H: 1, C: 6, O: 8 };
  for (const [el, n] of Object.entries(counts)) for (let i = 0; i < n; i++) z.push(zOf[el]);
  return formula(z);
}

function distance(s: PolymerStructure, i: number, j: number): number {
  const p = s.positions;
  return Math.hypot(p[3 * i] - p[3 * j], p[3 * i + 1] - p[3 * j + 1], p[3 * i + 2] - p[3 * j + 2]);
}

// Covalent bond lengths (Å) well outside which a structure is broken.
const bondRange: Record<string, [number, number]> = {
  'C-C': [1.3, 1.65],
  'C-H': [0.95, 1.2],
  'C-O': [1.15, 1.5],
  'H-O': [0.9, 1.1],
};

function checkGeometry(s: PolymerStructure, what: string): void {
  const n = s.z.length;
  const bonded = new Set<number>();
  for (let b = 0; b < s.bonds.length; b += 2) {
    const [i, j] = [s.bonds[b], s.bonds[b + 1]];
    bonded.add(i * n + j).add(j * n + i);
    const key = [s.z[i], s.z[j]].sort((a, c) => a - c).map((z) => ({ 1: 'H', 6: 'C', 8: 'O' })[z]).sort().join('-');
    const range = bondRange[key];
    assert.ok(range, `${what}: unexpected bond ${key}`);
    const d = distance(s, i, j);
    assert.ok(d >= range[0] && d <= range[1], `${what}: ${key} bond ${i}-${j} is ${d.toFixed(3)} Å`);
  }
  // A chain is a tree: one bond fewer than atoms, and every atom bonded.
  assert.equal(s.bonds.length / 2, n - 1, `${what}: bond count`);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (!bonded.has(i * n + j)) assert.ok(distance(s, i, j) > 1.2, `${what}: non-bonded atoms ${i}, ${j} only ${distance(s, i, j).toFixed(2)} Å apart`);
    }
  }
}

test('L-mers of every Table 3 unit have the composition L × unit + end caps', () => {
  for (const name of Object.keys(PAPER_UNITS)) {
    for (const loops of [1, 2, 3]) {
      for (const cap of ['H', 'CH3'] as const) {
        const z = polymerAtomicNumbers(PAPER_UNITS[name].smiles, loops, cap);
        assert.equal(formula(z), expectedFormula(name, loops, cap), `${name} L=${loops} cap ${cap}`);
      }
    }
  }
  // With hydrogen caps the smallest CK chain is octane, and two loops make hexadecane.
  assert.equal(polymerSmiles(PAPER_UNITS.CK.smiles, 1), 'CCCCCCCC');
  assert.equal(polymerSmiles(PAPER_UNITS.CK.smiles, 2), 'C'.repeat(16));
});

test('3D structures for L = 1, 2 of every unit: right atoms, covalent bond lengths, no clashes', () => {
  for (const [name, unit] of Object.entries(PAPER_UNITS)) {
    for (const loops of [1, 2]) {
      const s = embedPolymer(unit.smiles, loops);
      const what = `${name} L=${loops}`;
      assert.equal(s.formula, expectedFormula(name, loops, 'H'), what);
      assert.equal(s.positions.length, 3 * s.z.length);
      assert.ok(s.positions.every(Number.isFinite));
      checkGeometry(s, what);
    }
  }
  // The same seed gives the same structure.
  const a = embedPolymer(PAPER_UNITS.LAC1.smiles, 2, { seed: 7 });
  const b = embedPolymer(PAPER_UNITS.LAC1.smiles, 2, { seed: 7 });
  assert.deepEqual(a.positions, b.positions);
});

test('relaxing with xtb lowers the energy and keeps the chain intact', { skip: skipUnless('xtb') }, () => {
  const calc = new XtbCalculator();
  const raw = embedPolymer(PAPER_UNITS.LAC2.smiles, 1);
  const built = buildPolymer(PAPER_UNITS.LAC2.smiles, 1, { calculator: calc, level: 'normal' });
  assert.ok(built.relaxation?.converged);
  assert.ok(built.relaxation!.energy < calc.compute(raw.z, raw.positions).energy);
  assert.deepEqual(built.structure.z, raw.z);
  checkGeometry(built.structure, 'relaxed LAC2 L=1');
});

test('malformed SMILES, loop counts < 1 and unsupported elements are refused clearly', () => {
  const refuses = (smiles: string, why: RegExp) =>
    assert.throws(() => polymerAtomicNumbers(smiles, 1), (e: Error) => e instanceof OreoError && why.test(e.message) && e.message.includes(smiles), smiles);
  refuses('[*]C(C[*]', /never closed/);
  refuses('[*]CC)C[*]', /closes no branch/);
  refuses('[*]CCC', /exactly two attachment points.*found 1/);
  refuses('[*]C[*]C[*]', /found 3/);
  refuses('[*]C1CC[*]', /not valid SMILES.*ring closure/);
  refuses('[*]CXxC[*]', /not valid SMILES/);
  refuses('[*]C.C[*]', /disconnected/);
  refuses('[*]C(C)(C)(C)(C)[*]', /valence/);
  refuses('[*]=CC[*]', /single bond/);
  refuses('[*][*]', /no atoms besides/);
  refuses('[*]C[C[*]', /not closed/);
  assert.throws(() => markAttachmentPoints(''), /empty/);
  for (const loops of [0, -2, 1.5, NaN]) {
    assert.throws(() => polymerAtomicNumbers(PAPER_UNITS.CK.smiles, loops), /loop count must be an integer ≥ 1/);
  }
  assert.throws(() => polymerAtomicNumbers(PAPER_UNITS.CK.smiles, 1, 'OH' as never), /unknown end cap 'OH'/);
  // Uranium is valid chemistry for OpenChemLib but GFN2-xTB has no parameters for it: refused
  // before embedding (and before xtb would crash on it).
  const calc = new XtbCalculator();
  assert.throws(() => buildPolymer('[*]O[U]O[*]', 2, { calculator: calc }), /no parameters for U/);
  assert.throws(() => resolveUnit('PET'), /unknown repeat unit 'PET'.*CK, OTH, LAC1, LAC2/);
  assert.deepEqual(resolveUnit('lac1'), PAPER_UNITS.LAC1);
  assert.equal(resolveUnit('[*]CC(C)[*]').smiles, '[*]CC(C)[*]');
});
