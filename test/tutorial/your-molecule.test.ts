// docs/your-molecule.md as a test: the same commands, in the same order, through the real `oreo`
// command, with small numbers (ethanol, a few dozen xtb samples, a few fine-tuning steps, 200 MD
// steps). Each step's output is read back and checked for what a user would look at: the relaxed
// structure converged, the samples carry finite xtb labels, the fine-tuned model optimises and
// runs MD without the watchdog stopping it, xtb labels of frames of that MD give a finite force
// MAE, the unfitted pre-trained model is stopped as collapsed on caffeine (exit 3, the bond
// named), and ANI-2x optimises and runs the molecule directly. Needs xtb (skipped without it,
// failing under OREO_REQUIRE_SYSTEM_TOOLS=1 as CI sets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExtxyzFile } from '../../src/data/extxyz.js';
import { runOreo } from '../cli.js';
import { skipUnless } from '../system-tools.js';

// By its bundled name, as the doc writes it (resolved to models/ from any folder).
const PRETRAINED = 'oreo-pretrained-et4x64';
const CAFFEINE = 'Cn1cnc2c1c(=O)n(C)c(=O)n2C';

test('your own molecule, SMILES to a checked MD run, as docs/your-molecule.md walks it (ethanol, small numbers)', { skip: skipUnless('xtb') }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-your-molecule-'));
  try {
    const oreo = (args: string[], expectStatus = 0) => {
      const r = runOreo(args, { cwd: dir });
      assert.equal(r.status, expectStatus, `oreo ${args.join(' ')}\n${r.stderr}`);
      return r;
    };

    // 1. SMILES → 3D, relaxed with xtb.
    oreo(['build', '--smiles', 'CCO', '--relax', 'xtb', '--out', 'ethanol.xyz']);
    const [built] = readExtxyzFile(join(dir, 'ethanol.xyz'));
    assert.deepEqual(Array.from(built.z).sort(), [1, 1, 1, 1, 1, 1, 6, 6, 8]);
    assert.equal(built.info.relax_converged, true);

    // 2. Off-equilibrium samples labelled by xtb: normal modes and xtb MD at 300 and 600 K.
    const sampled = oreo(['sample', '--input', 'ethanol.xyz', '--no-relax', '--method', 'normal-modes,md', '--temperatures', '300,600', '--count', '4', '--every', '5', '--out', 'samples.extxyz']);
    // Progress in frames: the relaxed one, 2 × 4 normal-mode samples and 2 × 4 MD frames, to the end.
    assert.match(sampled.stderr, /\] 0\/17 frames/);
    assert.match(sampled.stderr, /\] 17\/17 frames .* ETA 0s/);
    const samples = readExtxyzFile(join(dir, 'samples.extxyz'));
    // The relaxed structure, up to 8 normal-mode samples (a few may break a bond and be left out) and 8 MD frames.
    assert.ok(samples.length >= 12 && samples.length <= 17, `${samples.length} samples`);
    const samplers = new Set(samples.map((f) => f.info.sampler));
    assert.ok(samplers.has('normal-modes') && samplers.has('md'), [...samplers].join(','));
    for (const f of samples) {
      assert.ok(Number.isFinite(f.info.energy as number));
      assert.ok(f.arrays.forces && f.arrays.forces.every(Number.isFinite));
    }
    // Off-equilibrium: the forces are not those of a minimum.
    const maxForce = Math.max(...samples.flatMap((f) => Array.from(f.arrays.forces!, Math.abs)));
    assert.ok(maxForce > 0.5, `largest sampled force component ${maxForce} eV/Å`);

    // 3. Fine-tune the pre-trained ET on them (a few steps here; minutes in the doc).
    oreo(['finetune', '--from', PRETRAINED, '--data', 'samples.extxyz', '--train', String(samples.length - 4), '--val', '4', '--steps', '6', '--out', 'ft']);
    assert.ok(existsSync(join(dir, 'ft', 'model.oreo')));
    const log = readFileSync(join(dir, 'ft', 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(log.length > 0);

    // 4. Optimise with the fine-tuned model.
    const opt = oreo(['optimize', '--input', 'ethanol.xyz', '--model', 'ft/model.oreo', '--out', 'ethanol-opt.xyz', '--quiet']);
    assert.match(opt.stderr + opt.stdout, /converged/);
    const [relaxed] = readExtxyzFile(join(dir, 'ethanol-opt.xyz'));
    assert.ok((relaxed.info.fmax as number) < 0.05, `fmax ${relaxed.info.fmax}`);

    // 5. MD at 300 K with the watchdog on: finishes (exit 0), every frame kept.
    oreo(['simulate', '--model', 'ft/model.oreo', '--input', 'ethanol-opt.xyz', '--steps', '200', '--dt', '0.5', '--temperature', '300', '--seed', '1', '--save-every', '10', '--out', 'md', '--quiet']);
    const traj = readExtxyzFile(join(dir, 'md', 'trajectory.extxyz'));
    assert.equal(traj.length, 21);
    const thermo = readFileSync(join(dir, 'md', 'thermo.csv'), 'utf8').trim().split('\n');
    const lastT = Number(thermo[thermo.length - 1].split(',').at(-1));
    assert.ok(lastT > 20 && lastT < 1500, `last temperature ${lastT} K`);

    // 6. xtb labels on frames of that MD, and the model's force MAE against them.
    oreo(['label', '--calculator', 'xtb', '--input', 'md/trajectory.extxyz', '--frames', '1:21:4', '--out', 'md-xtb.extxyz', '--quiet']);
    const labelled = readExtxyzFile(join(dir, 'md-xtb.extxyz'));
    assert.deepEqual(labelled.map((f) => f.info.input_index), [1, 5, 9, 13, 17]);
    oreo(['analyze', '--traj', 'md', '--model', 'ft/model.oreo', '--test', 'md-xtb.extxyz']);
    const metrics = JSON.parse(readFileSync(join(dir, 'md', 'analysis', 'metrics.json'), 'utf8'));
    assert.equal(metrics.stability.collapsed, false);
    const analyzeMae = metrics.mdsim.force_mae_meV_per_A as number;
    oreo(['eval', '--model', 'ft/model.oreo', '--data', 'md-xtb.extxyz', '--out', 'eval.json']);
    const evalMae = JSON.parse(readFileSync(join(dir, 'eval.json'), 'utf8')).forceMAE_meV_per_A as number;
    t.diagnostic(`force MAE against xtb on 5 MD frames: ${evalMae.toFixed(1)} meV/Å (after 6 fine-tuning steps)`);
    // Finite and below the forces' own size (ethanol at 300 K: mean |F| ≈ 1 eV/Å per component).
    assert.ok(evalMae > 0 && evalMae < 1500, `force MAE ${evalMae} meV/Å`);
    assert.ok(Math.abs(analyzeMae - evalMae) <= 1e-6 * evalMae, `analyze ${analyzeMae} vs eval ${evalMae}`);

    // 7. The unfitted pre-trained model on caffeine: stopped as collapsed, the bond named.
    oreo(['build', '--smiles', CAFFEINE, '--relax', 'xtb', '--out', 'caffeine.xyz']);
    const unfitted = oreo(['simulate', '--model', PRETRAINED, '--input', 'caffeine.xyz', '--steps', '1000', '--dt', '0.5', '--temperature', '300', '--seed', '1', '--out', 'md-unfitted', '--quiet'], 3);
    assert.match(unfitted.stderr, /collapsed at [\d.]+ ps.*bond [A-Z][a-z]?\d+–[A-Z][a-z]?\d+/s);
    assert.ok(existsSync(join(dir, 'md-unfitted', 'trajectory.extxyz')));

    // 8. ANI-2x directly: optimise, then MD, no fitting.
    oreo(['optimize', '--input', 'ethanol.xyz', '--model', 'ani2x', '--out', 'ethanol-ani2x.xyz', '--quiet']);
    oreo(['simulate', '--model', 'ani2x', '--input', 'ethanol-ani2x.xyz', '--steps', '200', '--dt', '0.5', '--temperature', '300', '--seed', '1', '--save-every', '50', '--out', 'md-ani2x', '--quiet']);
    assert.equal(readExtxyzFile(join(dir, 'md-ani2x', 'trajectory.extxyz')).length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
