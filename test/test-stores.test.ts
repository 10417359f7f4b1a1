/**
 * The store suites cannot silently vanish: TEST_STORES naming no store makes a
 * store test file fail, rather than run no suite and pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

for (const value of ['', ' ', ',']) {
  test(`TEST_STORES=${JSON.stringify(value)} fails loudly`, () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', 'test/metrics.test.ts'], {
      // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of exiting on its own.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), TEST_STORES: value },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.notEqual(res.status, 0, res.stdout);
    assert.match(res.stdout + res.stderr, /names no store/);
  });
}
