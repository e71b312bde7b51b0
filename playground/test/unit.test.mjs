// Unit tests of the playground's pure parts (no browser, no server):
// the share-link codec and the grants checker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeState, decodeState } from '../src/share.js';
import { checkGrants } from '../src/grants-lint.js';

const state = {
  style: 'auth0',
  script: 'exports.onExecutePostLogin = async (event, api) => {};\n// ✓ é 😀\n',
  token: '{ "kind": "AccessToken" }',
  context: '',
  environmentVariables: '{ "A": "1" }',
  grants: 'fuel = 1000\n',
};

test('a share fragment round-trips the whole state, compressed and URL-safe', () => {
  const fragment = encodeState(state);
  assert.match(fragment, /^#s=[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeState(fragment), state);
  const big = { ...state, context: JSON.stringify({ user: { roles: Array(200).fill({ name: 'admin' }) } }, null, 2) };
  assert.ok(encodeState(big).length < big.context.length / 10);
});

test('no fragment, or another one, is no state', () => {
  assert.equal(decodeState(''), null);
  assert.equal(decodeState('#section-2'), null);
});

test('a damaged or cut share fragment is a readable error', () => {
  const fragment = encodeState(state);
  assert.throws(() => decodeState(fragment.slice(0, fragment.length - 12)), /the shared link is damaged/);
  assert.throws(() => decodeState('#s=!!!'), /the shared link is damaged/);
});

test('grants: valid files have no problems', () => {
  assert.deepEqual(checkGrants(''), []);
  assert.deepEqual(
    checkGrants('fuel = 20_000_000\ntimeout_ms = 1000\n[env]\nexpose = ["A"]\n[fetch]\nallow = ["https://api.example.com"]\nmax_requests = 5\n'),
    [],
  );
});

test('grants: TOML syntax errors at their line and column', () => {
  const [problem, ...rest] = checkGrants('fuel = 1\n[fetch\nallow = 1\n');
  assert.deepEqual(rest, []);
  assert.equal(problem.line, 2);
  assert.ok(problem.column >= 1);
  assert.match(problem.message, /^TOML: /);
});

test('grants: unknown keys and wrong types at their line', () => {
  assert.deepEqual(checkGrants('fuel = 1\nfule = 2\n'), [
    { line: 2, message: 'unknown key `fule` (expected one of fuel, timeout_ms, memory_mb, max_output_bytes, env, fetch)' },
  ]);
  assert.deepEqual(checkGrants('[fetch]\nallow = ["x"]\nretries = 3\n'), [
    { line: 3, message: 'unknown key `retries` in [fetch] (expected one of allow, timeout_ms, max_response_bytes, max_requests)' },
  ]);
  assert.deepEqual(checkGrants('memory_mb = -1\n[env]\nexpose = [1]\n'), [
    { line: 1, message: '`memory_mb` must be a non-negative integer' },
    { line: 3, message: '`env.expose` must be an array of strings' },
  ]);
  assert.deepEqual(checkGrants('fetch = 3\n'), [{ line: 1, message: '`fetch` must be a table ([fetch])' }]);
});
