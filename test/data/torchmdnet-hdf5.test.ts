// Data for TorchMD-Net: oreo's conformations in its HDF5 dataset layout (groups by atom count,
// types / pos / energy / forces), read back here and by h5py as TorchMD-Net's reader does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMd17Npz } from '../../src/data/md17.js';
import { writeTorchmdnetHdf5 } from '../../src/data/torchmdnet-hdf5.js';
import { dataDir } from '../paths.js';

const ethanol = join(dataDir, 'rmd17', 'rmd17_ethanol_train_01.npz');
const aspirin = join(dataDir, 'rmd17', 'rmd17_aspirin_test_01.npz');

test('conformations go out in TorchMD-Net HDF5 layout: a group per atom count, values as read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oreo-h5-'));
  const out = join(dir, 'shards.h5');
  const e = readMd17Npz(ethanol).slice(0, 5), a = readMd17Npz(aspirin).slice(0, 3);
  const r = await writeTorchmdnetHdf5([{ file: ethanol, conformations: e }, { file: aspirin, conformations: a }], out);
  assert.deepEqual(r.groups, [{ name: 'n9', atoms: 9, conformations: 5 }, { name: 'n21', atoms: 21, conformations: 3 }]);
  assert.deepEqual(r.labels, ['energy', 'forces']);
  assert.deepEqual(readdirSync(dir), ['shards.h5'], 'no temp file left');
  const py = `
import h5py, json, sys
f = h5py.File(sys.argv[1], 'r')
g = f['n21']
print(json.dumps({'groups': sorted(f.keys()), 'types': g['types'][1].tolist(), 'pos': g['pos'][2].tolist(),
  'energy': g['energy'][:].tolist(), 'forces': g['forces'][0].tolist(), 'shape': list(f['n9']['forces'].shape)}))`;
  const run = spawnSync('/usr/bin/python3', ['-c', py, out], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    if (/No module named 'h5py'|ENOENT/.test(`${run.stderr}${run.error}`) && process.env.OREO_REQUIRE_SYSTEM_TOOLS !== '1') {
      t.skip('needs h5py for /usr/bin/python3; install it with: sudo apt-get install python3-h5py');
      return;
    }
    assert.fail(`h5py could not read ${out}: ${run.stderr}${run.error ?? ''}`);
  }
  const got = JSON.parse(run.stdout);
  assert.deepEqual(got.groups, ['n21', 'n9']);
  assert.deepEqual(got.types, [...a[1].z]);
  assert.deepEqual(got.pos.flat(), [...a[2].positions]);
  assert.deepEqual(got.energy, a.map((c) => c.energy));
  assert.deepEqual(got.forces.flat(), [...a[0].forces!]);
  assert.deepEqual(got.shape, [5, 9, 3]);
});

test('a conformation without a label the others have is refused, naming file, record and field', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'oreo-h5-')), 'x.h5');
  const e = readMd17Npz(ethanol).slice(0, 2);
  const bad = { ...e[1], forces: undefined };
  await assert.rejects(writeTorchmdnetHdf5([{ file: ethanol, conformations: [e[0], bad] }], out), (err: Error) => err.message.startsWith(ethanol) && /field 'forces'.*has no forces/.test(err.message));
});
