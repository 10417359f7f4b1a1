/**
 * The benchmark at a small size, on each store: it must run end to end and
 * produce every scenario with real throughput. Not timed: CI machines vary.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import type { BenchResults } from '../bench/report.js';
import { storeKinds, TEST_PG_URL } from './helpers/stores.js';

const SCENARIOS = [
  'list first page',
  'deep page by token',
  'deep page by anchor',
  'search name prefix',
  'search phone digits',
  'details',
];

for (const kind of storeKinds()) {
  describe(`npm run bench (small) on ${kind}`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fis-bench-'));
    const schema = `bench_smoke_${randomBytes(4).toString('hex')}`;
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      if (kind === 'postgres') {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`).finally(() => client.end());
      }
    });

    test('runs every scenario against the real service and the ceiling', { timeout: 180_000 }, () => {
      const json = path.join(dir, 'results.json');
      const args = [
        '--import', 'tsx', 'bench/run.ts',
        '--store', kind,
        '--customers', '2000',
        '--duration', '1',
        '--warmup', '0',
        '--pause', '0',
        '--connections', '10',
        '--cli', 'src',
        '--work-dir', dir,
        '--pg-url', TEST_PG_URL,
        '--pg-schema', schema,
        '--json', json,
      ];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 170_000 });
      assert.equal(run.status, 0, `bench failed:\n${run.stderr}\n${run.stdout}`);
      const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;

      assert.deepEqual(results.scenarios.map((s) => s.name), SCENARIOS);
      for (const s of results.scenarios) {
        assert.ok(s.requestsPerSecond > 0, `${s.name}: no throughput`);
        assert.ok(s.ceiling.requestsPerSecond > 0, `${s.name}: no ceiling throughput`);
        assert.equal(s.non2xx, 0, `${s.name}: non-2xx answers`);
        assert.ok(s.p99Ms >= s.p50Ms, `${s.name}: p99 below p50`);
        assert.ok(s.serviceRssMb > 0, `${s.name}: service memory not read`);
      }
      assert.ok(results.framework && results.framework.fastify.requestsPerSecond > 0, 'the Fastify reference was measured');
      assert.equal(results.framework.fastify.non2xx, 0);
      assert.equal(results.import.customers, 2000);
      assert.ok(results.import.perSecond > 0 && results.import.peakRssMb > 0);
      for (const name of SCENARIOS) assert.match(run.stdout, new RegExp(`\\| ${name} `), `the table has a ${name} row`);
    });
  });
}

describe('npm run bench --search-mix (small) on sqlite', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fis-bench-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs the search query mix with one-at-a-time latencies', { timeout: 180_000 }, () => {
    const json = path.join(dir, 'results.json');
    const args = [
      '--import', 'tsx', 'bench/run.ts',
      '--customers', '2000', '--duration', '0.5', '--rounds', '1', '--warmup', '0', '--pause', '0',
      '--connections', '5', '--cli', 'src', '--work-dir', dir, '--json', json,
      '--search-mix', '--only', 'search mix', '--sequential', '5',
    ];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 170_000 });
    assert.equal(run.status, 0, `bench failed:\n${run.stderr}\n${run.stdout}`);
    const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
    // The eleven forms of issue 11's query mix (bench/scenarios.ts): the last four digits of a number and an
    // address typed from its start among them.
    assert.equal(results.scenarios.length, 11);
    assert.ok(results.scenarios.some((s) => s.name === 'search mix: e-mail from its start'));
    for (const s of results.scenarios) {
      assert.match(s.name, /^search mix: /);
      assert.ok(s.requestsPerSecond > 0, `${s.name}: no throughput`);
      assert.equal(s.sequential?.requests, 5);
      assert.ok((s.stall?.probes ?? 0) > 0, `${s.name}: no probe`);
    }
  });
});
