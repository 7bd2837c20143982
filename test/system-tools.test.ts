// The helper that skips tests needing optional system programs (xtb, Chromium, Python with ASE):
// its lookup agrees with how spawn finds programs, and under OREO_REQUIRE_SYSTEM_TOOLS=1 a missing
// program is a failure, not a skip (what CI relies on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProgram } from './system-tools.js';

test('findProgram looks a bare name up on PATH and checks a path as given', () => {
  const node = process.execPath;
  assert.equal(findProgram(basename(node), dirname(node)), join(dirname(node), basename(node)));
  assert.equal(findProgram(node), node);
  assert.equal(findProgram('no-such-program-oreo'), undefined);
  assert.equal(findProgram('/nonexistent/bin/xtb'), undefined);
  const dir = mkdtempSync(join(tmpdir(), 'oreo-test-tools-'));
  try {
    // A file that is there but not executable cannot be started, so it does not count.
    const plain = join(dir, 'xtb');
    writeFileSync(plain, '#!/bin/sh\n');
    chmodSync(plain, 0o644);
    assert.equal(findProgram('xtb', dir), undefined);
    chmodSync(plain, 0o755);
    assert.equal(findProgram('xtb', dir), plain);
    // A directory of that name is not a program either.
    assert.equal(findProgram(basename(dir), dirname(dir)), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** skipUnless(tool) in a fresh process with the given environment: its outcome, printed as JSON. */
function skipInChild(env: Record<string, string>, tool = 'xtb') {
  const here = fileURLToPath(new URL('./system-tools.js', import.meta.url));
  const compiled = import.meta.url.includes('/dist/');
  const module = compiled ? here : here.replace(/\.js$/, '.ts');
  const code = `import(${JSON.stringify('file://' + module)}).then((m) => { try { console.log(JSON.stringify(m.skipUnless(${JSON.stringify(tool)}))); } catch (e) { console.error(e.message); process.exit(3); } });`;
  return spawnSync(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

test('a missing program is a skip with its install command, or a failure under OREO_REQUIRE_SYSTEM_TOOLS=1', () => {
  const skipped = skipInChild({ OREO_XTB: '/nonexistent/bin/xtb', OREO_REQUIRE_SYSTEM_TOOLS: '' });
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.match(JSON.parse(skipped.stdout), /needs xtb \('\/nonexistent\/bin\/xtb' not found\); install it with: sudo apt-get install xtb/);
  const required = skipInChild({ OREO_XTB: '/nonexistent/bin/xtb', OREO_REQUIRE_SYSTEM_TOOLS: '1' });
  assert.equal(required.status, 3);
  assert.match(required.stderr, /OREO_REQUIRE_SYSTEM_TOOLS=1 but a test needs xtb.*sudo apt-get install xtb/);
  // A program that is there runs the test, required or not.
  const present = skipInChild({ OREO_XTB: process.execPath, OREO_REQUIRE_SYSTEM_TOOLS: '1' });
  assert.equal(present.status, 0, present.stderr);
  assert.equal(JSON.parse(present.stdout), false);
});


test('python3-ase: a Python without ASE, or none, is a skip naming python3-ase, or a failure when required', () => {
  const none = skipInChild({ PYTHON: '/nonexistent/bin/python3', OREO_REQUIRE_SYSTEM_TOOLS: '' }, 'python3-ase');
  assert.equal(none.status, 0, none.stderr);
  assert.match(JSON.parse(none.stdout), /needs python3-ase \('\/nonexistent\/bin\/python3' not found\); install it with: sudo apt-get install python3-ase/);
  // A program that runs but cannot import ASE's socket module: node, which fails on `-c`.
  const noAse = skipInChild({ PYTHON: process.execPath, OREO_REQUIRE_SYSTEM_TOOLS: '' }, 'python3-ase');
  assert.match(JSON.parse(noAse.stdout), /needs python3-ase \('.*' cannot import ase\.calculators\.socketio\); install it with: sudo apt-get install python3-ase/);
  const required = skipInChild({ PYTHON: '/nonexistent/bin/python3', OREO_REQUIRE_SYSTEM_TOOLS: '1' }, 'python3-ase');
  assert.equal(required.status, 3);
  assert.match(required.stderr, /OREO_REQUIRE_SYSTEM_TOOLS=1 but a test needs python3-ase.*sudo apt-get install python3-ase/);
});
