/**
 * PostgreSQL going away in the middle of traffic: callbacks fail fast with a
 * 503 and a JSON error (never a hang past the app's ~7 s budget, never a
 * crash), /readyz says so, and the service recovers by itself.
 * (SQLite is a file in the process: it has no connection to lose.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, openTestStore, seed, storeKinds, TEST_PG_URL, type TestDatabase } from './helpers/stores.js';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy.js';

const ALICE = 'alice@example.com';
const LIST = { Location: 'GetCustomersList', Worker: ALICE };
/** The app gives a callback a little under 7 seconds. */
const BUDGET_MS = 6500;

/** Our connections, and only ours, are recognisable by this application_name. */
const APPLICATION = `fis-outage-${process.pid}`;

const viaProxy = (port: number) => {
  const url = new URL(TEST_PG_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.searchParams.set('application_name', APPLICATION);
  return url.toString();
};

if (storeKinds().includes('postgres')) {
  describe('PostgreSQL outage', () => {
    let db: TestDatabase;
    let proxy: TcpProxy;
    let service: TestService;

    before(async () => {
      db = await createTestDatabase('postgres');
      const store = await openTestStore(db);
      await seed(store, [{ customer_id: '1', display_name: 'Ann', workers: [ALICE] }]);
      await store.close();
      const target = new URL(TEST_PG_URL);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      service = await startService(db, { DATABASE_URL: viaProxy(proxy.port), DATABASE_TIMEOUT_MS: '1500' });
    });
    after(async () => {
      await service.close();
      await proxy.close();
      await db.drop();
    });

    const timed = async (fn: () => Promise<{ status: number; json: any }>) => {
      const started = performance.now();
      const res = await fn();
      return { ...res, ms: performance.now() - started };
    };
    const assertUnavailable = (res: { status: number; json: any; ms: number }) => {
      assert.equal(res.status, 503, JSON.stringify(res.json));
      assert.equal(res.json.error.code, 'STORE_UNAVAILABLE');
      assert.ok(res.ms < BUDGET_MS, `answered in ${Math.round(res.ms)} ms`);
    };

    test('backend sessions terminated mid-traffic: 503s, then normal answers, no restart', async () => {
      assert.equal((await service.post('/callbacks/crm', LIST)).status, 200);
      // Traffic in flight while the database kills our sessions and refuses new ones.
      const inFlight = Array.from({ length: 20 }, () => timed(() => service.post('/callbacks/crm', LIST)));
      proxy.setMode('refuse');
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [APPLICATION]);
      assert.ok(killed.rowCount && killed.rowCount > 0, 'the service had live sessions to terminate');
      await admin.end();
      proxy.cutAll();
      for (const res of await Promise.all(inFlight)) {
        assert.ok(res.status === 200 || res.status === 503, `status ${res.status}`);
        assert.ok(res.ms < BUDGET_MS);
      }
      const unavailable = async () =>
        Number(/^fis_store_errors_total\{kind="unavailable"\} (\d+)$/m.exec((await service.get('/metrics')).text)?.[1]);
      const countedBefore = await unavailable();
      for (let i = 0; i < 5; i++) assertUnavailable(await timed(() => service.post('/callbacks/crm', LIST)));
      assert.equal(await unavailable(), countedBefore + 5, 'each 503 is counted in /metrics');
      const ready = await service.get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal((await service.get('/healthz')).status, 200, 'the process itself is alive');

      proxy.setMode('pass');
      const res = await service.post('/callbacks/crm', LIST);
      assert.equal(res.status, 200, 'recovers by itself once the database is back');
      assert.equal(res.json.objects.customers.length, 1);
      assert.equal((await service.get('/readyz')).status, 200);
    });

    test('a database that accepts connections but never answers: 503 within the budget, not a hang', async () => {
      proxy.setMode('blackhole');
      proxy.cutAll();
      const results = await Promise.all(Array.from({ length: 5 }, () => timed(() => service.post('/callbacks/crm', LIST))));
      for (const res of results) assertUnavailable(res);
      const details = await timed(() =>
        service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '1' }),
      );
      assertUnavailable(details);
      proxy.setMode('pass');
      proxy.cutAll();
      let status = 0;
      for (let i = 0; i < 10 && status !== 200; i++) status = (await service.post('/callbacks/crm', LIST)).status;
      assert.equal(status, 200);
    });
  });
}
