import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { bundledData } from '../../src/data/bundled.js';
import type { Conformation } from '../../src/data/conformation.js';
import { detectFormat, readConformations } from '../../src/data/read.js';
import { readMd17Npz } from '../../src/data/md17.js';
import { Hartree, kcalPerMol } from '../../src/units.js';

const RMD17: Record<string, number[]> = {
  aspirin: [6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 6, 6, 8, 1, 1, 1, 1, 1, 1, 1, 1],
  ethanol: [6, 6, 8, 1, 1, 1, 1, 1, 1],
  naphthalene: [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1],
  salicylic: [6, 6, 6, 8, 6, 6, 6, 6, 8, 8, 1, 1, 1, 1, 1, 1],
};
// Energy ranges in kcal/mol from SOURCES.md §1, widened by 1 kcal/mol.
const RMD17_E: Record<string, [number, number]> = {
  ethanol: [-97087, -97055],
  aspirin: [-406291, -406245],
  naphthalene: [-241653, -241613],
  salicylic: [-310696, -310656],
};

function shapesOk(c: Conformation): void {
  assert.equal(c.positions.length, c.z.length * 3);
  if (c.forces) assert.equal(c.forces.length, c.z.length * 3);
  for (const x of c.positions) assert.ok(Number.isFinite(x));
  assert.ok(typeof c.source === 'string' && c.source.length > 0);
  assert.ok(Number.isInteger(c.index));
}

test('rMD17: four target molecules, train and test, 1000 frames each, atom order and energy range of SOURCES.md', async () => {
  for (const [mol, z] of Object.entries(RMD17)) {
    for (const part of ['train', 'test']) {
      const path = bundledData('rmd17', `rmd17_${mol}_${part}_01.npz`);
      assert.equal(await detectFormat(path), 'md17-npz');
      const confs = await readConformations(path);
      assert.equal(confs.length, 1000);
      confs.forEach((c, i) => {
        shapesOk(c);
        assert.deepEqual([...c.z], z);
        assert.equal(c.index, i);
        const kcal = c.energy! / kcalPerMol;
        assert.ok(kcal > RMD17_E[mol][0] && kcal < RMD17_E[mol][1], `${mol} ${part} ${i}: ${kcal} kcal/mol`);
      });
    }
  }
});

test('rMD17: train and test frames are disjoint (old_indices), and old labels are readable', () => {
  const tr = readMd17Npz(bundledData('rmd17', 'rmd17_ethanol_train_01.npz'));
  const te = readMd17Npz(bundledData('rmd17', 'rmd17_ethanol_test_01.npz'));
  const a = new Set(tr.map((c) => c.props!.md17_index));
  assert.ok(te.every((c) => !a.has(c.props!.md17_index)));
  const old = readMd17Npz(bundledData('rmd17', 'rmd17_ethanol_train_01.npz'), { oldLabels: true });
  // MD17 (PBE+vdW-TS) and rMD17 (PBE/def2-SVP) totals differ by a constant-ish offset, not zero.
  assert.notEqual(old[0].energy, tr[0].energy);
  assert.deepEqual(old[0].positions, tr[0].positions);
});

test('the six other rMD17 molecules (pre-training data) open with 1000 frames', async () => {
  const names = readdirSync(bundledData('rmd17')).filter((n) => n.endsWith('.npz'));
  assert.equal(names.length, 14);
  for (const n of ['azobenzene', 'benzene', 'malonaldehyde', 'paracetamol', 'toluene', 'uracil']) {
    const confs = await readConformations(bundledData('rmd17', `rmd17_${n}_train_01.npz`));
    assert.equal(confs.length, 1000, n);
    confs.forEach(shapesOk);
  }
});

test('ANI-1x: 5 formula groups, 8 conformations with 13–19 atoms, energies in eV from Hartree', async () => {
  const path = bundledData('ani1x', 'ani1x_modelforge_n5.hdf5');
  assert.equal(await detectFormat(path), 'ani1x-h5');
  const confs = await readConformations(path);
  assert.equal(confs.length, 8);
  for (const c of confs) {
    shapesOk(c);
    assert.ok(c.z.length >= 13 && c.z.length <= 19);
    assert.ok(c.forces, 'wb97x_dz forces present');
    // −560 Ha-ish molecules: total energy between −700 and −400 Ha.
    assert.ok(c.energy! / Hartree < -400 && c.energy! / Hartree > -700, String(c.energy));
  }
  // ccsd(t)_cbs has no forces and 2 of 8 energies are NaN: those come back without energy.
  const cc = await readConformations(path, { level: 'ccsd(t)_cbs' });
  assert.equal(cc.length, 8);
  assert.equal(cc.filter((c) => c.energy === undefined).length, 2);
  assert.ok(cc.every((c) => c.forces === undefined));
  await assert.rejects(readConformations(path, { level: 'b3lyp' }), /no group has 'b3lyp.energy'; levels of theory in this file: .*wb97x_dz/);
});

test('COMP6 S66x8: 66 dimers × 8 points = 528 conformations', async () => {
  const path = bundledData('comp6_s66x8', 's66x8_wb97x6-31gd.h5');
  assert.equal(await detectFormat(path), 'comp6-h5');
  const confs = await readConformations(path);
  assert.equal(confs.length, 528);
  confs.forEach(shapesOk);
  assert.deepEqual([...confs[0].z], [8, 1, 1, 8, 1, 1]); // mol00: water dimer
  assert.ok(confs.every((c) => c.forces && c.energy !== undefined));
});

test('SPICE: 2 molecules, 50 + 5 conformations, positions converted from bohr', async () => {
  const path = bundledData('spice', 'SPICE-1.1.4_n2.hdf5');
  assert.equal(await detectFormat(path), 'spice-h5');
  const confs = await readConformations(path);
  assert.equal(confs.length, 55);
  confs.forEach(shapesOk);
  assert.equal(confs.filter((c) => c.z.length === 27).length, 50);
  assert.equal(confs.filter((c) => c.z.length === 5).length, 5);
  // Bond lengths tell bohr from Å: the shortest C–H must be about 1.09 Å after conversion.
  for (const c of [confs[0], confs[54]]) {
    let min = Infinity;
    for (let a = 0; a < c.z.length; a++) {
      for (let b = 0; b < c.z.length; b++) {
        if (c.z[a] !== 6 || c.z[b] !== 1) continue;
        const d = Math.hypot(...[0, 1, 2].map((k) => c.positions[a * 3 + k] - c.positions[b * 3 + k]));
        min = Math.min(min, d);
      }
    }
    assert.ok(min > 1.0 && min < 1.2, `shortest C–H ${min} Å`);
  }
  assert.equal(confs[0].props!.charge, 1); // the ammonium of SOURCES.md §7
  assert.equal(confs[54].props!.charge, 1); // C#C.[Na+]: acetylene and a sodium cation
});

test('QM9: raw files, the ASE-db JSON copy and the extxyz samples agree and convert Ha to eV', async () => {
  const raw = await readConformations(bundledData('qm9', 'raw_xyz_first10'));
  assert.equal(raw.length, 10);
  const json = await readConformations(bundledData('qm9', 'qm9_schnetpack_20.json'));
  assert.equal(json.length, 20);
  const meta = await readConformations(bundledData('qm9', 'metatrain_qm9_reduced_100.xyz'));
  assert.equal(meta.length, 100);
  const micro = await readConformations(bundledData('qm9', 'qm9_3d_graphium_micro958.extxyz'));
  assert.equal(micro.length, 958);
  for (const set of [raw, json, meta, micro]) {
    for (const c of set) {
      shapesOk(c);
      const p = c.props!;
      assert.equal(c.kind, 'equilibrium');
      // |lumo − homo − gap| ≤ 1e-4 Ha in the source data (SOURCES.md §4, §8).
      assert.ok(Math.abs(p.lumo - p.homo - p.gap) <= 1e-4 * Hartree + 1e-12, JSON.stringify(p));
      assert.ok(p.homo < -2 && p.homo > -15, `homo ${p.homo} eV`);
    }
  }
  // Rows 1–10 of the schnetpack DB equal the raw files, positions and properties (SOURCES.md §4).
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(json[i].positions, raw[i].positions);
    for (const k of ['homo', 'lumo', 'gap', 'U0', 'A', 'Cv']) assert.equal(json[i].props![k], raw[i].props![k], `${i} ${k}`);
  }
  // Ethane (gdb 7): homo −0.3385 Ha.
  assert.equal(raw[6].props!.gdb_id, 7);
  assert.equal(raw[6].props!.homo, -0.3385 * Hartree);
  // graphium micro: gdb 1–6 coordinates equal the raw files to 1e-9 Å (SOURCES.md §9).
  for (let i = 0; i < 6; i++) {
    assert.equal(micro[i].props!.gdb_id, i + 1);
    micro[i].positions.forEach((x, k) => assert.ok(Math.abs(x - raw[i].positions[k]) < 1e-9));
  }
});

test('PCQM4Mv2 CXSMILES sample: 1999 molecules, 11–46 atoms, element totals and gap range of SOURCES.md', async () => {
  const path = bundledData('pcqm4mv2', 'graphium_pcqm4mv2-2k.csv');
  const confs = await readConformations(path);
  assert.equal(confs.length, 1999);
  const counts = new Map<number, number>();
  let minA = Infinity;
  let maxA = 0;
  for (const c of confs) {
    shapesOk(c);
    assert.equal(c.kind, 'equilibrium');
    minA = Math.min(minA, c.z.length);
    maxA = Math.max(maxA, c.z.length);
    for (const z of c.z) counts.set(z, (counts.get(z) ?? 0) + 1);
    assert.ok(c.props!.gap >= 1.7 && c.props!.gap <= 8.9); // SOURCES.md: 1.750 … 8.887 eV
  }
  assert.equal(minA, 11);
  assert.equal(maxA, 46);
  assert.deepEqual(
    Object.fromEntries([...counts].sort((a, b) => a[0] - b[0])),
    { 1: 28210, 5: 13, 6: 21551, 7: 3043, 8: 4285, 9: 299, 14: 21, 15: 16, 16: 268, 17: 164, 32: 1, 35: 17 },
  );
  assert.equal(confs[0].props!.gap, 3.0476751256);
});

test('MD22 and MD17 xyz read with kcal/mol given; the positions-only trajectory has no labels', async () => {
  const md22 = await readConformations(bundledData('md22', 'md22_Ac-Ala3-NHMe_5frames.xyz'), { energyUnit: 'kcal/mol' });
  assert.equal(md22.length, 5);
  assert.ok(Math.abs(md22[0].energy! - -620726.002662 * kcalPerMol) < 1e-9);
  const disp = await readConformations(bundledData('md22', 'md22_Ac-Ala3-NHMe_disp_100frames.extxyz'));
  assert.equal(disp.length, 98);
  assert.ok(disp.every((c) => c.energy === undefined && c.forces === undefined));
  // It starts at the same geometry as the 5-frame file (SOURCES.md §3).
  assert.deepEqual(disp[0].positions, md22[0].positions);
  const md17 = await readConformations(bundledData('md17', 'md17_aspirin_nequip_15frames.xyz'), { energyUnit: 'kcal/mol' });
  assert.equal(md17.length, 15);
  assert.ok(md17.every((c) => c.z.length === 21 && c.forces && c.energy! / kcalPerMol < -405600));
});

test('ASE database JSON layout (ids, __ndarray__, _property_unit_dict) reads like the flat QM9 copy', async () => {
  const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const flat = JSON.parse(readFileSync(bundledData('qm9', 'qm9_schnetpack_20.json'), 'utf8')) as {
    units: Record<string, string>;
    molecules: { row_id: number; z: number[]; pos: number[][]; props: Record<string, number> }[];
  };
  // The layout ase.db's JSON backend writes: one object per row id, then ids, nextid, metadata.
  const db: Record<string, unknown> = {};
  for (const m of flat.molecules) {
    db[String(m.row_id)] = {
      numbers: { __ndarray__: [[m.z.length], 'int64', m.z] },
      positions: { __ndarray__: [[m.z.length, 3], 'float64', m.pos.flat()] },
      pbc: { __ndarray__: [[3], 'bool', [false, false, false]] },
      cell: { __ndarray__: [[3, 3], 'float64', [0, 0, 0, 0, 0, 0, 0, 0, 0]] },
      data: Object.fromEntries(Object.entries(m.props).map(([k, v]) => [k, { __ndarray__: [[1], 'float64', [v]] }])),
    };
  }
  db.ids = flat.molecules.map((m) => m.row_id);
  db.nextid = flat.molecules.length + 1;
  db.metadata = { _property_unit_dict: flat.units };
  const dir = mkdtempSync(join(tmpdir(), 'oreo-asedb-'));
  try {
    const p = join(dir, 'qm9.json');
    writeFileSync(p, JSON.stringify(db));
    const a = await readConformations(p);
    const b = await readConformations(bundledData('qm9', 'qm9_schnetpack_20.json'));
    assert.equal(a.length, 20);
    a.forEach((c, i) => {
      assert.deepEqual(c.positions, b[i].positions);
      assert.deepEqual([...c.z], [...b[i].z]);
      for (const k of ['homo', 'lumo', 'gap', 'U0', 'mu', 'Cv']) assert.equal(c.props![k], b[i].props![k]);
      assert.equal(c.cell, undefined);
    });
    // Without stated units, QM9 energies are refused rather than guessed.
    delete db.metadata;
    writeFileSync(p, JSON.stringify(db));
    await assert.rejects(readConformations(p), /does not state the unit of QM9 property/);
    assert.equal((await readConformations(p, { energyUnit: 'Ha' }))[3].props!.homo, b[3].props!.homo);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
