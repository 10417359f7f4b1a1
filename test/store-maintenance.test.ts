/**
 * Work that takes as long as the data is large (migrations building indexes, VACUUM after an
 * import) runs without the request-sized statement timeout, and only that work does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../src/platform/db/connect.js';
import { afterLargeWrite, LARGE_WRITE } from '../src/platform/db/maintenance.js';
import { createTestDatabase, openTestStore, storeKinds, type TestDatabase } from './helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`store maintenance on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db, { DATABASE_TIMEOUT_MS: '300' });
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    if (kind === 'postgres') {
      test('a statement longer than DATABASE_TIMEOUT_MS fails on the pool and succeeds in maintenance', async () => {
        await assert.rejects(sql`select pg_sleep(0.6)`.execute(store.db), /statement timeout/);
        const { rows } = await store.maintenance((own) => sql<{ t: string }>`select pg_sleep(0.6)::text as t`.execute(own));
        assert.equal(rows.length, 1);
        const { rows: setting } = await store.maintenance((own) => sql<{ s: string }>`select current_setting('statement_timeout') as s`.execute(own));
        assert.equal(setting[0]?.s, '0');
        // The maintenance connection sees the store's schema.
        await store.maintenance((own) => sql`select count(*) from customers`.execute(own));
      });

      test('a large write is followed by VACUUM (ANALYZE) of the customer tables; a small one is not', async () => {
        const vacuumed = async () =>
          (await sql<{ n: string }>`select count(*) as n from pg_stat_user_tables where schemaname = current_schema() and relname in ('customers', 'customer_owners', 'customer_addresses') and last_vacuum is not null and last_analyze is not null`.execute(store.db)).rows[0]?.n;
        await afterLargeWrite(store, LARGE_WRITE - 1);
        assert.equal(await vacuumed(), '0');
        await afterLargeWrite(store, LARGE_WRITE);
        // The statistics collector reports with a short delay.
        let n = await vacuumed();
        for (let i = 0; i < 50 && n !== '3'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          n = await vacuumed();
        }
        // customer_addresses too: the next import's deletes by customer_pk are planned from its statistics.
        assert.equal(n, '3');
      });
    } else {
      test('maintenance runs on the store itself', async () => {
        const { rows } = await store.maintenance((own) => sql<{ n: number }>`select count(*) as n from customers`.execute(own));
        assert.equal(rows[0]?.n, 0);
      });
    }
  });
}
