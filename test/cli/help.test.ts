// `oreo --help` lists every command with its one-line summary; `-h` works on every command; an
// aligned option and its older name are one option (either works, both at once is refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { parseArgs } from '../../src/cli/args.js';

async function captured(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await main(argv), out: lines.join('\n') };
  } finally {
    console.log = log;
    console.error = err;
  }
}

test('oreo --help: every command with a one-line summary; -h on each command prints its usage', async () => {
  const { code, out } = await captured(['--help']);
  assert.equal(code, 0);
  const rows = out.split('\n').filter((l) => /^ {2}[a-z]+ {2,}\S/.test(l));
  const names = rows.map((l) => l.trim().split(/\s+/)[0]);
  for (const c of ['predict', 'simulate', 'build', 'optimize', 'analyze', 'finetune', 'pretrain', 'serve', 'driver']) assert.ok(names.includes(c), `${c} missing from:\n${out}`);
  for (const r of rows) assert.ok(r.trim().split(/\s{2,}/)[1].length > 10, `no summary: ${r}`);
  for (const c of names) {
    const h = await captured([c, '-h']);
    assert.equal(h.code, 0, `oreo ${c} -h: exit ${h.code}\n${h.out}`);
    assert.match(h.out, /usage: oreo /, `oreo ${c} -h`);
  }
});

test('an aligned option keeps its old name as an alias; giving both is refused', () => {
  const spec = { input: { type: 'string' as const }, init: { type: 'string' as const, aliasOf: 'input' } };
  assert.equal(parseArgs('x', ['--init', 'a.xyz'], spec).options.input, 'a.xyz');
  assert.equal(parseArgs('x', ['--input', 'a.xyz'], spec).options.input, 'a.xyz');
  assert.throws(() => parseArgs('x', ['--input', 'a.xyz', '--init', 'b.xyz'], spec), /--init and --input are the same option/);
});
