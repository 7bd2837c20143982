// ANI-2x in oreo against TorchANI's own numbers (test/fixtures/torchani/ani2x-reference.json,
// written by scripts/torchani-reference.py from TorchANI 2.2.4 on torch 1.13, float64, reading the
// published NeuroChem files), against finite differences, and the ensemble's bookkeeping.
//
// Energies agree to round-off (≈1e-16 relative). Forces agree to ≈1e-8 of the largest force:
// torch 1.13's CELU backward multiplies by a float32-rounded 1/α (checked: its gradient at
// x = −1 differs from exp(−10) by 1.3e-7 relative), which oreo does not copy; oreo's ∂E/∂AEV
// equals a naive double-precision sweep bit for bit, and its AEV backward equals TorchANI's
// autograd to 1e-15. The bounds below are the issue's 1e-5, and a tighter one that documents
// what is reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fixturesDir, repoRoot } from '../paths.js';
import { findProgram, systemPython } from '../system-tools.js';
import { loadEnergyModel } from '../../src/model/load.js';
import { AniEnsemble } from '../../src/model/ani/ensemble.js';
import { Hartree } from '../../src/units.js';
import { atomicNumber } from '../../src/elements.js';

interface RefEntry {
  energy: number;
  forces: number[][];
}
interface RefMolecule {
  name: string;
  symbols: string[];
  positions: number[][];
  members: RefEntry[];
  ensemble: RefEntry;
}
interface Fixture {
  provenance: Record<string, unknown>;
  molecules: RefMolecule[];
}

const fixturePath = join(fixturesDir, 'torchani', 'ani2x-reference.json');
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as Fixture;

let f64: AniEnsemble | undefined;
function ani64(): AniEnsemble {
  if (!f64) {
    const m = loadEnergyModel('ani2x', { dtype: 'float64' });
    assert.ok(m instanceof AniEnsemble);
    f64 = m;
  }
  return f64;
}

function zOf(m: RefMolecule): Int32Array {
  return Int32Array.from(m.symbols.map(atomicNumber));
}

/** Worst relative energy error and worst force error / largest force, oreo (eV) vs reference (Hartree). */
function errors(energyEv: number, forcesEv: ArrayLike<number>, ref: RefEntry): { e: number; f: number } {
  const rf = ref.forces.flat();
  let df = 0, fmax = 0;
  rf.forEach((v, i) => {
    df = Math.max(df, Math.abs(forcesEv[i] / Hartree - v));
    fmax = Math.max(fmax, Math.abs(v));
  });
  return { e: Math.abs(energyEv / Hartree - ref.energy) / Math.abs(ref.energy), f: df / fmax };
}

function compare(ani: AniEnsemble, molecules: RefMolecule[]) {
  // All molecules as one batch: also checks that molecules in a batch do not see each other.
  const n = molecules.reduce((k, m) => k + m.symbols.length, 0);
  const z = new Int32Array(n);
  const positions = new Float64Array(3 * n);
  const mol = new Int32Array(n);
  let o = 0;
  molecules.forEach((m, k) => {
    z.set(zOf(m), o);
    positions.set(m.positions.flat(), 3 * o);
    mol.fill(k, o, o + m.symbols.length);
    o += m.symbols.length;
  });
  const r = ani.compute(z, positions, mol, molecules.length, { spread: true });
  o = 0;
  return molecules.map((m, k) => {
    const a = o, b = o + m.symbols.length;
    o = b;
    const members = m.members.map((ref, j) => errors(r.memberEnergies![j][k], r.memberForces![j].subarray(3 * a, 3 * b), ref));
    return { name: m.name, members, ensemble: errors(r.energy[k], r.forces.subarray(3 * a, 3 * b), m.ensemble) };
  });
}

test('the fixture covers H C N O S F Cl, a 20–40 atom molecule, and eight members', () => {
  const elements = new Set(fixture.molecules.flatMap((m) => m.symbols));
  for (const el of ['H', 'C', 'N', 'O', 'S', 'F', 'Cl']) assert.ok(elements.has(el), el);
  assert.ok(fixture.molecules.some((m) => m.symbols.length >= 20 && m.symbols.length <= 40));
  for (const m of fixture.molecules) assert.equal(m.members.length, 8, m.name);
  assert.equal((fixture.provenance.torchani as { tag: string }).tag, '2.2.4');
});

test('ANI-2x float64: every member and the ensemble match TorchANI (energies to round-off, forces to 1e-6 of max |F|)', () => {
  for (const r of compare(ani64(), fixture.molecules)) {
    for (const [k, e] of [...r.members.entries(), [-1, r.ensemble] as const]) {
      const who = `${r.name} ${k < 0 ? 'ensemble' : `member ${k}`}`;
      assert.ok(e.e <= 1e-5 && e.f <= 1e-5, `${who}: the issue's bound`);
      assert.ok(e.e <= 1e-12, `${who}: energy relative error ${e.e}`);
      assert.ok(e.f <= 1e-6, `${who}: force error ${e.f} of max |F|`);
    }
  }
});

test('ANI-2x float32 arithmetic stays close to the float64 reference', () => {
  const m = loadEnergyModel('ani2x', { dtype: 'float32' });
  assert.ok(m instanceof AniEnsemble);
  assert.equal(m.dtype, 'float32');
  for (const r of compare(m, fixture.molecules.slice(0, 3))) {
    assert.ok(r.ensemble.e <= 1e-7, `${r.name}: energy ${r.ensemble.e}`);
    assert.ok(r.ensemble.f <= 1e-4, `${r.name}: forces ${r.ensemble.f}`);
  }
});

test('ANI-2x forces are −∂E/∂r: the analytic backward against central differences', () => {
  const ani = ani64();
  const m = fixture.molecules.find((x) => x.name === 'chlorofluorothiophene-carboxamide')!;
  const z = zOf(m);
  const pos = Float64Array.from(m.positions.flat());
  const r = ani.compute(z, pos, undefined, 1, { spread: true });
  const energyOf = (p: Float64Array, member?: number) => {
    const x = ani.compute(z, p, undefined, 1, { spread: member !== undefined });
    return member === undefined ? x.energy[0] : x.memberEnergies![member][0];
  };
  const h = 1e-4;
  let worst = 0, fmax = 0;
  for (let i = 0; i < 3 * z.length; i += 4) {
    for (const member of [undefined, 3]) {
      const p = Float64Array.from(pos);
      p[i] += h;
      const ep = energyOf(p, member);
      p[i] -= 2 * h;
      const em = energyOf(p, member);
      const fd = -(ep - em) / (2 * h);
      const analytic = member === undefined ? r.forces[i] : r.memberForces![member][i];
      worst = Math.max(worst, Math.abs(fd - analytic));
      fmax = Math.max(fmax, Math.abs(analytic));
    }
  }
  assert.ok(worst <= 1e-5 * fmax, `finite differences differ by ${worst} eV/Å (max |F| ${fmax})`);
});

test('ensemble bookkeeping: mean of members, spread definitions, the spread-free path gives the same mean', () => {
  const ani = ani64();
  const m = fixture.molecules.find((x) => x.name === 'caffeine')!;
  const z = zOf(m);
  const pos = Float64Array.from(m.positions.flat());
  const r = ani.compute(z, pos, undefined, 1, { spread: true });
  const plain = ani.compute(z, pos, undefined, 1, { spread: false });
  const M = r.memberForces!.length;
  assert.equal(M, 8);
  const meanE = r.memberEnergies!.reduce((s, e) => s + e[0], 0) / M;
  assert.ok(Math.abs(meanE - r.energy[0]) <= 1e-9 * Math.abs(meanE));
  assert.ok(Math.abs(plain.energy[0] - r.energy[0]) <= 1e-9 * Math.abs(meanE));
  const sdE = Math.sqrt(r.memberEnergies!.reduce((s, e) => s + (e[0] - meanE) ** 2, 0) / (M - 1));
  assert.ok(Math.abs(sdE - r.energySpread![0]) <= 1e-9);
  for (let i = 0; i < 3 * z.length; i++) assert.ok(Math.abs(plain.forces[i] - r.forces[i]) <= 1e-9, `F[${i}]`);
  const a = 5;
  let s2 = 0;
  for (const f of r.memberForces!) for (let c = 0; c < 3; c++) s2 += (f[3 * a + c] - r.forces[3 * a + c]) ** 2;
  assert.ok(Math.abs(Math.sqrt(s2 / (M - 1)) - r.forceSpread![a]) <= 1e-12);
  const s = AniEnsemble.summary(r);
  assert.equal(s.maxForce, Math.max(...r.forceSpread!));
  assert.ok(s.maxForce > 0 && s.meanForce > 0 && s.meanForce <= s.maxForce);
});

test('ANI-2x refuses elements outside H C N O S F Cl, naming them, and open-shell structures', () => {
  const ani = ani64();
  assert.throws(() => ani.compute(Int32Array.from([35, 1]), new Float64Array([0, 0, 0, 1.4, 0, 0])), /covers H C N O S F Cl only; this structure has Br/);
  assert.throws(() => ani.checkElements(Int32Array.from([11, 17])), /has Na/);
  // CH3 (9 electrons as a neutral structure) is a radical.
  assert.throws(() => ani.checkElements(Int32Array.from([6, 1, 1, 1])), /open-shell/);
  assert.doesNotThrow(() => ani.checkElements(Int32Array.from([6, 1, 1, 1, 1])));
  assert.throws(() => ani.checkChargeAndSpin(1, 0), /neutral molecules only; charge 1/);
  assert.throws(() => ani.checkChargeAndSpin(0, 2), /closed-shell/);
});

// The same numbers straight from TorchANI, where its source and torch are present (TORCHANI_SRC,
// a Python with torch, and the NeuroChem files at ANI_MODEL_DIR): not something CI installs, so
// skipped there. Runs scripts/torchani-reference.py on the fixture's structures, then compares.
const torchaniSrc = process.env.TORCHANI_SRC;
const modelDir = process.env.ANI_MODEL_DIR ?? '/work/shared/models/ani-model-zoo/ani-2x_8x';
const liveSkip = !torchaniSrc
  ? 'set TORCHANI_SRC to a TorchANI 2.2.4 source tree (and ANI_MODEL_DIR to the NeuroChem ANI-2x files) to run TorchANI live'
  : !existsSync(join(torchaniSrc, 'torchani', 'aev.py'))
    ? `TORCHANI_SRC=${torchaniSrc} holds no torchani/aev.py`
    : !existsSync(modelDir)
      ? `no NeuroChem ANI-2x files at ${modelDir} (set ANI_MODEL_DIR)`
      : !findProgram(systemPython())
        ? `no ${systemPython()}`
        : false;

test('TorchANI live: the reference script re-run now agrees with oreo', { skip: liveSkip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-torchani-'));
  try {
    const out = join(dir, 'ref.json');
    const r = spawnSync(systemPython(), [join(repoRoot, 'scripts', 'torchani-reference.py'), '--model-dir', modelDir, '--input', join(fixturesDir, 'torchani', 'molecules.xyz'), '--out', out, '--torchani-src', torchaniSrc!], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const live = JSON.parse(readFileSync(out, 'utf8')) as Fixture;
    for (const res of compare(ani64(), live.molecules)) {
      for (const e of [...res.members, res.ensemble]) assert.ok(e.e <= 1e-12 && e.f <= 1e-6, `${res.name}: ${JSON.stringify(e)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
