/**
 * Several stateless instances on one store: tokens travel between instances,
 * migrations can race, and an import never shows readers half of itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fold } from '../src/kernel/text.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { openStore } from '../src/platform/db/connect.js';
import { migrateToLatest, migrations, pendingMigrations } from '../src/platform/db/migrate.js';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { runCli, type ServeProcess, serveProcess } from './helpers/cli.js';
import { postForm } from './helpers/service.js';
import pg from 'pg';
import { AUTH_TOKEN, createTestDatabase, openTestStore, seed, storeKinds, TEST_PG_URL, type TestDatabase, testConfig } from './helpers/stores.js';

const ALICE = workerIdentity(0);

for (const kind of storeKinds()) {
  describe(`two service processes on one ${kind} store`, () => {
    let db: TestDatabase;
    let a: ServeProcess;
    let b: ServeProcess;
    const records = [...generateCustomers({ customers: 400, workers: 3, seed: 5 })];

    before(async () => {
      db = await createTestDatabase(kind);
      const store = await openTestStore(db);
      await seed(store, records);
      await store.close();
      const env = { ...db.env, TWILIO_AUTH_TOKEN: AUTH_TOKEN };
      [a, b] = await Promise.all([serveProcess(env), serveProcess(env)]);
    });
    after(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await db.drop();
    });

    test('walking a worker list alternately between them, by token, lists every customer exactly once', async () => {
      const expected = records
        .filter((r) => r.workers.includes(ALICE))
        .sort((x, y) => Buffer.compare(Buffer.from(fold(x.display_name)), Buffer.from(fold(y.display_name))) || Buffer.compare(Buffer.from(x.customer_id), Buffer.from(y.customer_id)))
        .map((r) => r.customer_id);
      const ids: string[] = [];
      let token: string | undefined;
      for (let i = 0; ; i++) {
        const instance = i % 2 === 0 ? a : b;
        const res = await postForm(instance.url, '/callbacks/crm', {
          Location: 'GetCustomersList',
          Worker: ALICE,
          PageSize: '9',
          ...(token ? { NextPageToken: token } : {}),
        });
        assert.equal(res.status, 200, res.text);
        ids.push(...res.json.objects.customers.map((c: { customer_id: string }) => c.customer_id));
        token = res.json.objects.next_page_token;
        if (!token) break;
      }
      assert.deepEqual(ids, expected);
    });

    test('an import while both answer: every reader sees the old book or the new one, never half', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'fis-swap-'));
      try {
        // Alice's whole book is replaced by 150 new customers, in a file large enough to take a while.
        const others = records.filter((r) => !r.workers.includes(ALICE));
        const fresh: CustomerRecord[] = Array.from({ length: 150 }, (_, i) => ({
          customer_id: `fresh-${i}`,
          display_name: `Fresh Customer ${String(i).padStart(3, '0')}`,
          workers: [ALICE],
        }));
        const filler = [...generateCustomers({ customers: 8_000, workers: 50, seed: 99 })].map((r) => ({
          ...r,
          customer_id: `filler-${r.customer_id}`,
          workers: ['filler@example.com'],
        }));
        const file = path.join(dir, 'swap.ndjson');
        writeFileSync(file, [...others, ...fresh, ...filler].map((r) => JSON.stringify(r)).join('\n'));

        const oldIds = new Set(records.filter((r) => r.workers.includes(ALICE)).map((r) => r.customer_id));
        const newIds = new Set(fresh.map((r) => r.customer_id));
        const importing = runCli(['import', '--prune', file], db.env);
        let done = false;
        void importing.then(() => (done = true));
        const seen = { old: 0, new: 0 };
        while (!done) {
          const res = await postForm(seen.old % 2 === 0 ? a.url : b.url, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '200' });
          assert.equal(res.status, 200, res.text);
          const ids = new Set<string>(res.json.objects.customers.map((c: { customer_id: string }) => c.customer_id));
          const isOld = [...oldIds].every((id) => ids.has(id)) && ids.size === oldIds.size;
          const isNew = [...newIds].every((id) => ids.has(id)) && ids.size === newIds.size;
          assert.ok(isOld || isNew, `a reader saw a mix of ${ids.size} customers`);
          seen[isOld ? 'old' : 'new']++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const result = await importing;
        assert.equal(result.code, 0, result.stderr);
        assert.ok(seen.old > 0, 'readers were answered while the import ran');
        const last = await postForm(a.url, '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, PageSize: '200' });
        assert.equal(last.json.objects.customers.length, 150);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe(`migrations on ${kind}`, () => {
    test('two processes migrating a fresh database at once apply each migration exactly once', async () => {
      const db = await createTestDatabase(kind);
      try {
        const results = await Promise.all([runCli(['migrate'], db.env), runCli(['migrate'], db.env)]);
        const applied: string[] = [];
        for (const r of results) {
          assert.equal(r.code, 0, r.stderr);
          const names = /applied \d+ migration\(s\): (.*)/.exec(r.stderr)?.[1];
          if (names) applied.push(...names.split(', '));
          else assert.match(r.stderr, /up to date/);
        }
        const store = openStore(testConfig(db));
        try {
          assert.deepEqual(applied.sort(), Object.keys(migrations(store.dialect)).sort(), 'each applied by exactly one');
          assert.deepEqual(await pendingMigrations(store), []);
          assert.deepEqual(await migrateToLatest(store), [], 'running again is a no-op');
        } finally {
          await store.close();
        }
      } finally {
        await db.drop();
      }
    });

    // PostgreSQL only: a SQLite store is a file of its own.
    if (kind === 'postgres') test('other schemas of the database created and dropped meanwhile do not disturb a migration', async () => {
      // Another deployment, or a test run's private schema, dropped while this store migrates: Kysely's own
      // introspection named every schema of the database and failed on one dropped under it (3F000).
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      let churning = true;
      let churned = 0;
      const churn = (async () => {
        while (churning) {
          const other = `t_churn_${process.pid}_${churned++}`;
          await admin.query(`create schema ${other}; create table ${other}.t (id serial primary key, x text)`);
          await admin.query(`drop schema ${other} cascade`);
        }
      })();
      try {
        for (let round = 0; round < 3; round++) {
          const db = await createTestDatabase(kind);
          const store = openStore(testConfig(db));
          try {
            assert.deepEqual((await migrateToLatest(store)).sort(), Object.keys(migrations(store.dialect)).sort());
            assert.deepEqual(await pendingMigrations(store), []);
            assert.deepEqual(await migrateToLatest(store), []);
          } finally {
            await store.close();
            await db.drop();
          }
        }
      } finally {
        churning = false;
        await churn;
        await admin.end();
      }
      assert.ok(churned > 10, `schemas were created and dropped meanwhile (${churned})`);
    });

    // What the migrator asks the introspection (its own tables, by name) and what Kysely's introspection says of columns.
    if (kind === 'postgres') test('the store’s introspection lists its own schema’s tables and columns, and no other’s', async () => {
      const db = await createTestDatabase(kind);
      const other = await createTestDatabase(kind);
      const store = openStore(testConfig(db));
      const otherStore = openStore(testConfig(other));
      try {
        await migrateToLatest(store);
        await migrateToLatest(otherStore);
        const tables = await store.db.introspection.getTables();
        assert.ok(tables.every((t) => t.schema === db.env.DATABASE_SCHEMA));
        assert.ok(!tables.some((t) => t.name === 'kysely_migration'), 'the migrator’s tables only when asked for');
        const internal = await store.db.introspection.getTables({ withInternalKyselyTables: true });
        assert.ok(internal.some((t) => t.name === 'kysely_migration'));
        const customers = tables.find((t) => t.name === 'customers');
        const column = (name: string) => customers?.columns.find((c) => c.name === name);
        assert.deepEqual(
          [column('pk')?.isAutoIncrementing, column('customer_id')?.isNullable, column('customer_id')?.dataType, column('avatar')?.isNullable],
          [true, false, 'text', true],
        );
        assert.deepEqual(await store.db.introspection.getSchemas(), [{ name: db.env.DATABASE_SCHEMA }]);
      } finally {
        await store.close();
        await otherStore.close();
        await db.drop();
        await other.drop();
      }
    });

    test('fis migrate from the command line, and serve refuses a database that is behind', async () => {
      const db = await createTestDatabase(kind);
      try {
        const refused = await runCli(['serve'], { ...db.env, TWILIO_AUTH_TOKEN: 't', PUBLIC_URL: 'https://fis.example.com' });
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /run "fis migrate"/);
        const res = await runCli(['migrate'], db.env);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, /applied \d+ migration/);
        const again = await runCli(['migrate'], db.env);
        assert.match(again.stderr, /up to date/);
      } finally {
        await db.drop();
      }
    });
  });
}
