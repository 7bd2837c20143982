// oreo as another project sees it: the `npm pack` tarball installed into a throwaway project,
// imported by name from a ten-line script, must give the energy and forces `oreo predict` prints.
// npm fetches the dependencies (from its cache after `npm ci`, else the registry).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const script = `
import { loadModel, readStructures, bundledModel, bundledData } from 'oreo';
const model = loadModel(bundledModel('oreo-aspirin-et4x64.oreo'));
const frames = await readStructures(bundledData('rmd17', 'rmd17_aspirin_test_01.npz'), { limit: 3 });
const { energy, forces } = model.energyAndForces(frames[2]);
console.log(JSON.stringify({ energy, forces: Array.from(forces) }));
`;

/** The JavaScript example of README.md ("Using oreo from JavaScript"), exactly as printed there. */
export function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using oreo from JavaScript'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README.md has no js block under "Using oreo from JavaScript"');
  return m[1];
}

test('the npm pack tarball installs into a fresh project and its API equals oreo predict', { timeout: 600_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'oreo-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], repoRoot)) as { filename: string; files: { path: string }[] }[];
  const files = new Set(packed[0].files.map((f) => f.path));
  for (const f of ['bin/oreo.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'models/oreo-aspirin-et4x64.oreo', 'data/rmd17/rmd17_aspirin_test_01.npz', 'LICENSE', 'data/PROVENANCE.md']) {
    assert.ok(files.has(f), `tarball lacks ${f}`);
  }
  assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.startsWith('test/')), 'tests do not ship');

  const project = join(work, 'project');
  run('mkdir', ['-p', project], work);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-oreo', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)], project);
  assert.ok(existsSync(join(project, 'node_modules', 'oreo', 'dist', 'src', 'index.js')));
  assert.ok(!readdirSync(join(project, 'node_modules', 'oreo')).includes('test'));
  writeFileSync(join(project, 'aspirin.mjs'), script);
  const api = JSON.parse(run(process.execPath, ['aspirin.mjs'], project)) as { energy: number; forces: number[] };

  const installedCli = join(project, 'node_modules', '.bin', 'oreo');
  const cli = JSON.parse(
    run(installedCli, ['predict', '--model', join(project, 'node_modules', 'oreo', 'models', 'oreo-aspirin-et4x64.oreo'), '--input', join(project, 'node_modules', 'oreo', 'data', 'rmd17', 'rmd17_aspirin_test_01.npz'), '--frames', '2'], project),
  ) as { frames: { energy: number; forces: number[][] }[] };
  assert.equal(api.energy, cli.frames[0].energy);
  assert.deepEqual(api.forces, cli.frames[0].forces.flat());

  // README's example runs as written in this fresh project: energy, relaxation, MD observers, end.
  writeFileSync(join(project, 'readme.mjs'), readmeExample());
  const out = run(process.execPath, ['readme.mjs'], project).trim().split('\n');
  assert.match(out[0], /^-?\d+\.\d+ Float64Array\(3\)/);
  assert.ok(out.some((l) => /^relaxed: true \d+ steps -?\d+\.\d+ eV$/.test(l)), out.join('\n'));
  assert.equal(out.filter((l) => /^\d+ \d+(\.\d+)? \d+(\.\d+)?$/.test(l)).length, 11, out.join('\n'));
  assert.equal(out.at(-1), 'completed 1000 steps');
});
