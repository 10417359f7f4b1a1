/**
 * A first import (into an empty store) drops the secondary indexes of the tables it fills and builds
 * them at its end. On SQLite inside its transaction (search-index.ts, deferSearchIndex): whatever
 * happens to the import, the store keeps every index as the migrations made it, and readers keep
 * using them while it runs. On PostgreSQL in a transaction of its own before it (deferred-indexes.ts):
 * a refused import builds them again at once; a killed one leaves them listed for the next import,
 * `fis migrate` or the service's start; readers are not held up while it runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { generateCustomers } from '../src/application/files/seed.js';
import { runCli, startCli } from './helpers/cli.js';
import { pgClient, sqliteFile, untilWriteLockTaken } from './helpers/store-probes.js';
import { createTestDatabase, openTestStore, storeKinds, type TestDatabase } from './helpers/stores.js';
import { createCustomerIfAbsent } from '../src/domains/customers/customer-create.repository.js';
import { validateCustomer } from '../src/domains/customers/customer.validate.js';
import { deferIndexesOfFirstImport } from '../src/platform/db/deferred-indexes.js';
import { prepareSchema } from '../src/transports/http/server.js';

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
/** Large enough that a first import is still writing some time after it took the lock. */
const LARGE = 60_000;

let dir: string;
let smallFile: string;
let badFile: string;
let largeFile: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fis-import-first-'));
  const small = [...generateCustomers({ customers: 3000, workers: 7, seed: 31 })];
  smallFile = path.join(dir, 'small.ndjson');
  badFile = path.join(dir, 'bad.ndjson');
  largeFile = path.join(dir, 'large.ndjson');
  writeFileSync(smallFile, ndjson(small));
  // The last record has no display name: the whole import is refused, after every other record was written.
  writeFileSync(badFile, ndjson([...small, { customer_id: 'no-name', workers: ['a@example.com'] }]));
  writeFileSync(largeFile, ndjson([...generateCustomers({ customers: LARGE, workers: 9, seed: 32 })]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

for (const kind of storeKinds()) {
  describe(`a first import on ${kind}`, () => {
    let db: TestDatabase;
    let migrated: string[];

    beforeEach(async () => {
      db = await createTestDatabase(kind);
      const res = await runCli(['migrate'], db.env);
      assert.equal(res.code, 0, res.stderr);
      migrated = await schemaOf(db);
      assert.ok(migrated.some((line) => line.includes('customers_import_seq')), 'the migrated store has its indexes');
    });
    afterEach(async () => db.drop());

    test('the store ends with every index the migrations made, each holding every row', async () => {
      const res = await runCli(['import', smallFile], db.env);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /imported 3000 customer\(s\).*3000 created/);
      assert.deepEqual(await schemaOf(db), migrated);
      if (kind === 'sqlite') {
        const conn = new SqliteDatabase(sqliteFile(db), { readonly: true });
        try {
          assert.deepEqual(conn.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
          // Read through the rebuilt indexes: every customer is in each, in list order.
          const bySeq = conn.prepare('select count(*) as n from customers indexed by customers_import_seq where import_seq >= 0').get() as { n: number };
          const byScan = conn.prepare('select count(*) as n from customers indexed by customers_search_scan where sort_key >= ?').get('') as { n: number };
          const labelled = conn.prepare('select count(*) as n from customers indexed by customers_list_pos where list_pos > 0').get() as { n: number };
          assert.deepEqual([bySeq.n, byScan.n, labelled.n], [3000, 3000, 3000]);
        } finally {
          conn.close();
        }
      }
      if (kind === 'postgres') assert.deepEqual(await deferredIndexNames(db), []);
      // The next import is not a first one: it writes through the indexes, and they stay whole.
      const again = await runCli(['import', '--prune', smallFile], db.env);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await schemaOf(db), migrated);
    });

    if (kind === 'postgres') {
      test('indexes a dead import left dropped are built by the service as it starts, and by the next import', async () => {
        // What a first import leaves when it dies after dropping the indexes: its import transaction never committed.
        const store = await openTestStore(db);
        try {
          await deferIndexesOfFirstImport(store);
          assert.deepEqual(await deferredIndexNames(db), DEFERRED_ON_POSTGRES);
          await prepareSchema(store, { migrateOnStart: false });
          assert.deepEqual(await schemaOf(db), migrated);
          assert.deepEqual(await deferredIndexNames(db), []);

          // Dropped again, with a customer routing created since (not a first import any more): the import builds them.
          await deferIndexesOfFirstImport(store);
          const routed = validateCustomer(
            { customer_id: 'routed-1', display_name: '+14155550100', workers: ['a@example.com'], channels: [{ type: 'sms', value: '+14155550100' }] },
            { defaultCountry: 'US' },
          );
          assert.ok(routed.ok);
          assert.equal(await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, routed.value)), 'created');
          const res = await runCli(['import', smallFile], db.env);
          assert.equal(res.code, 0, res.stderr);
          assert.deepEqual(await schemaOf(db), migrated);
          assert.deepEqual(await deferredIndexNames(db), []);
          assert.equal(await customerCount(db), 3001);
        } finally {
          await store.close();
        }
      });
    }

    test('a refused first import leaves the store empty, with every index', async () => {
      const res = await runCli(['import', badFile], db.env);
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /display_name/);
      assert.deepEqual(await schemaOf(db), migrated);
      assert.equal(await customerCount(db), 0);
    });

    test('killed mid-way: the store is empty and has every index; readers used them meanwhile', async (t) => {
      // SQLite: a connection open before the import keeps it on the write-ahead log, which readers read
      // beside (with none open it holds the file alone: import-alone.test.ts).
      const early = kind === 'sqlite' ? new SqliteDatabase(sqliteFile(db), { readonly: true }) : undefined;
      early?.prepare('select count(*) from customers').get();
      t.after(() => early?.close());
      const child = startCli(['import', largeFile], db.env, dir);
      await untilWriteLockTaken(db, child);
      // While it writes, a reader's statements go through the indexes the import has dropped in its transaction.
      const reads = await readThroughIndexes(db, 300);
      assert.ok(!child.done(), `the import finished while it was being read; make the file larger: ${child.stderr()}`);
      child.kill('SIGKILL');
      assert.equal((await child.exited).signal, 'SIGKILL');
      assert.ok(reads > 0);

      if (kind === 'postgres') {
        // Dropped and committed before the import began: listed for whoever builds them first.
        const now = await schemaOf(db);
        const missing = new Set(migrated.filter((line) => !now.includes(line)).map((line) => line.split(':')[0]));
        assert.deepEqual([...missing].sort(), DEFERRED_ON_POSTGRES);
        assert.deepEqual(await deferredIndexNames(db), DEFERRED_ON_POSTGRES);
        const migrate = await runCli(['migrate'], db.env);
        assert.equal(migrate.code, 0, migrate.stderr);
        assert.deepEqual(await deferredIndexNames(db), []);
      }
      assert.deepEqual(await schemaOf(db), migrated);
      assert.equal(await customerCount(db), 0);
      const again = await runCli(['import', largeFile], db.env);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, new RegExp(`imported ${LARGE} customer\\(s\\).*${LARGE} created`));
      assert.deepEqual(await schemaOf(db), migrated);
    });
  });
}

/**
 * The secondary indexes of customers, customer_owners and customer_addresses, and the primary keys of the
 * last two: a first import on PostgreSQL builds them at its end.
 */
const DEFERRED_ON_POSTGRES = [
  'customer_addresses_customer',
  'customer_addresses_pk',
  'customer_owners_customer',
  'customer_owners_phone_digits_trgm',
  'customer_owners_pk',
  'customers_import_seq',
  'customers_phone_digits_trgm',
  'customers_phone_windows',
  'customers_search_text_trgm',
  'customers_sort',
  'customers_sort_key_trgm',
];

async function deferredIndexNames(db: TestDatabase): Promise<string[]> {
  const client = await pgClient(db);
  try {
    return (await client.query<{ name: string }>('select name from deferred_indexes order by name')).rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

/** The store's indexes and triggers (PostgreSQL: indexes and constraints), each as the statement that makes it. */
async function schemaOf(db: TestDatabase): Promise<string[]> {
  if (db.kind === 'sqlite') {
    const conn = new SqliteDatabase(sqliteFile(db), { readonly: true });
    try {
      const rows = conn.prepare("select name, sql from sqlite_master where type in ('index', 'trigger') order by name").all() as Array<{ name: string; sql: string | null }>;
      return rows.map((r) => `${r.name}: ${r.sql ?? '(automatic)'}`);
    } finally {
      conn.close();
    }
  }
  const client = await pgClient(db);
  try {
    const indexes = await client.query<{ indexname: string; indexdef: string }>('select indexname, indexdef from pg_indexes where schemaname = $1 order by indexname', [db.env.DATABASE_SCHEMA]);
    const constraints = await client.query<{ conname: string; def: string }>(
      'select conname, pg_get_constraintdef(c.oid) as def from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = $1 order by conname',
      [db.env.DATABASE_SCHEMA],
    );
    return [...indexes.rows.map((r) => `${r.indexname}: ${r.indexdef}`), ...constraints.rows.map((r) => `${r.conname}: constraint ${r.def}`)];
  } finally {
    await client.end();
  }
}

async function customerCount(db: TestDatabase): Promise<number> {
  if (db.kind === 'sqlite') {
    const conn = new SqliteDatabase(sqliteFile(db), { readonly: true });
    try {
      return (conn.prepare('select count(*) as n from customers').get() as { n: number }).n;
    } finally {
      conn.close();
    }
  }
  const client = await pgClient(db);
  try {
    return Number((await client.query('select count(*) as n from customers')).rows[0].n);
  } finally {
    await client.end();
  }
}

/** Reads for `ms` through the list-order indexes (named, on SQLite: a missing index is an error); how many reads. */
async function readThroughIndexes(db: TestDatabase, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let reads = 0;
  if (db.kind === 'sqlite') {
    const conn = new SqliteDatabase(sqliteFile(db), { readonly: true });
    try {
      while (Date.now() < until) {
        conn.prepare("select customer_id from customers indexed by customers_search_scan where sort_key >= '' order by sort_key limit 5").all();
        conn.prepare('select customer_id from customers indexed by customers_list_pos where list_pos > 0 limit 5').all();
        reads++;
        await sleep(10);
      }
    } finally {
      conn.close();
    }
    return reads;
  }
  const client = await pgClient(db);
  try {
    while (Date.now() < until) {
      await client.query('select customer_id from customers order by sort_key, customer_id limit 5');
      reads++;
      await sleep(10);
    }
  } finally {
    await client.end();
  }
  return reads;
}
