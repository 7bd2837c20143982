// The CLI names the command once in an error: "oreo simulate: error: missing --steps", not
// "oreo simulate: error: oreo simulate: missing --steps", whichever layer wrote the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorLine } from '../../src/cli/main.js';
import { runOreo } from '../cli.js';

test('errorLine puts the command in front once and keeps a subcommand the message names', () => {
  assert.equal(errorLine('simulate', 'oreo simulate: missing --steps'), 'oreo simulate: error: missing --steps');
  assert.equal(errorLine('simulate', 'x.xyz: file not found'), 'oreo simulate: error: x.xyz: file not found');
  assert.equal(errorLine('dataset', 'oreo dataset polymers: --md-steps is required'), 'oreo dataset polymers: error: --md-steps is required');
  // Another command's name is not this command's prefix.
  assert.equal(errorLine('eval', 'oreo finetune: --x'), 'oreo eval: error: oreo finetune: --x');
});

test('every kind of CLI error prints the command name once', () => {
  const cases: [string[], RegExp][] = [
    [['simulate', '--model', 'lj'], /^oreo simulate: error: missing --input, --steps, --out/],
    [['eval', '--bogus', '1'], /^oreo eval: error: unknown option --bogus/],
    [['predict', '--model'], /^oreo predict: error: --model needs a value/],
    [['analyze', '--traj', 'x', '--frames', 'abc'], /^oreo analyze: error: /],
    [['dataset', 'polymers', '--units', 'CK', '--loops', '1', '--out', 'x'], /^oreo dataset polymers: error: --md-steps is required/],
    [['serve', '--host', 'a b'], /^oreo serve: error: --host a b: not a host name/],
  ];
  for (const [args, pattern] of cases) {
    const r = runOreo(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /error: oreo /, args.join(' '));
  }
});
