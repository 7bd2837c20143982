// Silent wrong units: an extxyz frame that states `units=Hartree` has every energy-like property
// (QM9's homo, lumo, gap, zpve, U0, U, H, G) and its energy converted, whichever of them it has;
// an unknown unit is an error naming file, record and field; oreo's own files state eV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConformations } from '../../src/data/read.js';
import { conformationToFrame, formatExtxyzFrame } from '../../src/data/extxyz.js';
import { Hartree } from '../../src/units.js';
import { runMeasured, tempDir } from './files.js';
import { dataDir } from '../paths.js';

const dir = tempDir('units');
const mol = 'C 0 0 0\nH 0.63 0.63 0.63\nH -0.63 -0.63 0.63\nH -0.63 0.63 -0.63\nH 0.63 -0.63 -0.63\n';

test('QM9 extxyz with only homo/lumo/gap and units=Hartree comes out in eV', async () => {
  const f = join(dir, 'gap-only.extxyz');
  writeFileSync(f, `5\nProperties=species:S:1:pos:R:3 homo=-0.3877 lumo=0.1171 gap=0.5048 units=Hartree\n${mol}`);
  const [c] = await readConformations(f);
  assert.ok(Math.abs(c.props!.gap - 0.5048 * Hartree) < 1e-12, `gap ${c.props!.gap}`);
  assert.ok(Math.abs(c.props!.homo + 0.3877 * Hartree) < 1e-12);
  assert.ok(c.props!.gap > 13 && c.props!.gap < 14, 'methane gap ≈ 13.7 eV');
  // The same through the CLI: oreo data inspect reports the converted range.
  const r = runMeasured(['data', 'inspect', f, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /13\.7/);
});

test('any QM9 alias and the energy key follow the stated unit; case does not matter', async () => {
  const f = join(dir, 'aliases.extxyz');
  writeFileSync(f, `5\nProperties=species:S:1:pos:R:3 energy=-40.47893 epsHOMO=-0.3877 zpve=0.044749 units=hartree\n${mol}`);
  const [c] = await readConformations(f);
  assert.ok(Math.abs(c.energy! + 40.47893 * Hartree) < 1e-9);
  assert.ok(Math.abs(c.props!.homo + 0.3877 * Hartree) < 1e-12, 'epsHOMO renamed and converted');
  assert.ok(Math.abs(c.props!.zpve - 0.044749 * Hartree) < 1e-12);
  const g = join(dir, 'kcal.extxyz');
  writeFileSync(g, `5\nProperties=species:S:1:pos:R:3 energy=-25000 units=kcal/mol\n${mol}`);
  const [d] = await readConformations(g);
  assert.ok(Math.abs(d.energy! + 25000 * 0.0433641043) < 0.01);
});

test('an unknown or contradicted unit is an error naming file, record and field', async () => {
  const f = join(dir, 'parsec.extxyz');
  writeFileSync(f, `5\nProperties=species:S:1:pos:R:3 gap=0.5 units=parsec\n${mol}`);
  const r = runMeasured(['data', 'inspect', f]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, '\\.')}, record 0, field 'units': unknown energy unit 'parsec'`));
  const g = join(dir, 'conflict.extxyz');
  writeFileSync(g, `5\nProperties=species:S:1:pos:R:3 energy=-40 units=Hartree\n${mol}`);
  await assert.rejects(readConformations(g, { energyUnit: 'eV' }), /record 0, field 'units': the frame says units=Hartree, but energy unit 'eV' was asked for/);
});

test("oreo's own extxyz states eV, so a full QM9 property set written by oreo reads back unchanged", async () => {
  const src = join(dataDir, 'qm9', 'qm9_3d_graphium_micro958.extxyz');
  const confs = await readConformations(src, { limit: 3 });
  const f = join(dir, 'roundtrip.extxyz');
  writeFileSync(f, confs.map((c) => formatExtxyzFrame(conformationToFrame(c))).join(''));
  assert.match(readFileSync(f, 'utf8').split('\n')[1], /units=eV/);
  const back = await readConformations(f);
  for (let i = 0; i < confs.length; i++) {
    for (const k of ['homo', 'lumo', 'gap', 'U0']) assert.ok(Math.abs(back[i].props![k] - confs[i].props![k]) < 1e-9, `${k}: ${back[i].props![k]} vs ${confs[i].props![k]}`);
  }
});
