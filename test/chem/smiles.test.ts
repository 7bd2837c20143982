// Molecules from SMILES: one identity however the SMILES is written, conformers with the right
// atoms and chemically sensible bond lengths, and refusals that name the file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formula } from '../../src/elements.js';
import { InputError } from '../../src/errors.js';
import { conformersFromSmiles, smilesIdentity } from '../../src/chem/smiles.js';

test('two spellings of one molecule share an identity; charge and radicals are read', () => {
  const a = smilesIdentity('OCC');
  const b = smilesIdentity('C(C)O');
  assert.equal(a.idcode, b.idcode);
  assert.equal(a.canonicalSmiles, b.canonicalSmiles);
  assert.equal(a.formula, 'C2H6O');
  assert.notEqual(smilesIdentity('CCO').idcode, smilesIdentity('COC').idcode);
  assert.equal(smilesIdentity('[NH4+]').charge, 1);
  assert.equal(smilesIdentity('C[O-]').charge, -1);
  assert.equal(smilesIdentity('[CH3]').unpaired, 1);
  assert.equal(a.unpaired, 0);
});

test('caffeine conformer: all 24 atoms, bonded pairs at bond lengths, no clashes', () => {
  const [c] = conformersFromSmiles('Cn1cnc2c1c(=O)n(C)c(=O)n2C', { seed: 7 });
  assert.equal(formula(c.z), 'C8H10N4O2');
  assert.equal(c.z.length, 24);
  const d = (i: number, j: number) =>
    Math.hypot(c.positions[3 * i] - c.positions[3 * j], c.positions[3 * i + 1] - c.positions[3 * j + 1], c.positions[3 * i + 2] - c.positions[3 * j + 2]);
  assert.equal(c.bonds.length / 2, 25);
  for (let b = 0; b < c.bonds.length; b += 2) {
    const r = d(c.bonds[b], c.bonds[b + 1]);
    assert.ok(r > 0.9 && r < 1.6, `bond ${c.bonds[b]}-${c.bonds[b + 1]} is ${r.toFixed(3)} Å`);
  }
  for (let i = 0; i < c.z.length; i++) for (let j = i + 1; j < c.z.length; j++) assert.ok(d(i, j) > 0.85);
  // Same seed, same structure.
  const [again] = conformersFromSmiles('Cn1cnc2c1c(=O)n(C)c(=O)n2C', { seed: 7 });
  assert.deepEqual(again.positions, c.positions);
});

test('a flexible molecule gives several distinct conformers, a rigid one fewer', () => {
  const flexible = conformersFromSmiles('CCCCCCO', { count: 4, seed: 3 });
  assert.ok(flexible.length >= 2);
  assert.notDeepEqual(flexible[0].positions, flexible[1].positions);
  const rigid = conformersFromSmiles('c1ccccc1', { count: 4, seed: 3 });
  assert.ok(rigid.length >= 1 && rigid.length <= 4);
});

test('bad SMILES are refused with file and line', () => {
  for (const [s, why] of [
    ['C1CC', /not a valid SMILES/],
    ['CC.O', /2 separate fragments/],
    ['', /empty SMILES/],
    ['CC O', /whitespace/],
  ] as const) {
    assert.throws(
      () => smilesIdentity(s, { file: 'mols.smi', line: 12 }),
      (e: unknown) => e instanceof InputError && /^mols\.smi: line 12: /.test(e.message) && why.test(e.message),
    );
  }
});
