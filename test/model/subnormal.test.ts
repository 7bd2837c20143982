// The radial basis in float32 has values below the smallest normal float (subnormals), which cost
// Intel CPUs a slow path in every multiply; the fast paths store them as zero. This checks that
// such values really occur for real geometries and that storing them as zero changes no result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPotential } from '../../src/model/load.js';
import { FastEnergyForces } from '../../src/model/fast/index.js';
import { flushSubnormal, smallestNormal } from '../../src/model/fast/weights.js';
import { torchmdnetFixture } from './helpers.js';

test('flushSubnormal zeroes exactly the values below the smallest normal number', () => {
  const tiny = smallestNormal('float32');
  assert.equal(tiny, 2 ** -126);
  assert.equal(smallestNormal('float64'), 2 ** -1022);
  for (const v of [0, 2 ** -149, -(2 ** -130), 0.99 * tiny]) assert.equal(Math.abs(flushSubnormal(v, tiny)), 0, String(v));
  for (const v of [tiny, -tiny, 1e-30, -3.5, 1]) assert.equal(flushSubnormal(v, tiny), v);
});

test('float32 fixtures hold subnormal basis values, and the fast path still gives TorchMD-Net\'s numbers', (t) => {
  const { ckpt, data } = torchmdnetFixture('et-small-f32');
  const pot = loadPotential(ckpt, { dtype: 'float32' });
  const param = (name: string) => Array.from(pot.params.get(`representation_model.distance_expansion.${name}`)!.data);
  const means = param('means'), betas = param('betas');
  const rc = pot.config.cutoff_upper, alpha = 5 / rc;
  // The expnorm basis times the cosine cutoff over every pair within the cutoff, rounded to float32.
  let subnormal = 0, total = 0;
  for (const c of data.cases) {
    for (let i = 0; i < c.z.length; i++) {
      for (let j = 0; j < c.z.length; j++) {
        if (i === j) continue;
        const r = Math.hypot(c.pos[i][0] - c.pos[j][0], c.pos[i][1] - c.pos[j][1], c.pos[i][2] - c.pos[j][2]);
        if (r >= rc) continue;
        const cut = 0.5 * (Math.cos((Math.PI * r) / rc) + 1);
        for (let k = 0; k < means.length; k++) {
          const g = Math.fround(Math.exp(-betas[k] * (Math.exp(-alpha * r) - means[k]) ** 2) * cut);
          total++;
          if (g !== 0 && Math.abs(g) < 2 ** -126) subnormal++;
        }
      }
    }
  }
  assert.ok(subnormal > 0, `no subnormal basis values among ${total}: this test would prove nothing`);
  // TorchMD-Net kept those values; oreo's fast path stored them as zero.
  for (const c of data.cases) {
    const got = new FastEnergyForces(pot).compute(Int32Array.from(c.z), Float64Array.from(c.pos.flat()), new Int32Array(c.z.length), 1);
    const ref = c.forces.flat();
    const fmax = Math.max(...ref.map(Math.abs));
    const df = Math.max(...ref.map((f, k) => Math.abs(f - got.forces[k])));
    assert.ok(Math.abs(got.energy[0] - c.energy) <= 1e-6 * Math.abs(c.energy), `energy ${got.energy[0]} vs ${c.energy}`);
    assert.ok(df <= 1e-5 * fmax, `max |ΔF| ${df} (max |F| ${fmax})`);
  }
  t.diagnostic(`${subnormal} of ${total} float32 basis values subnormal`);
});
