/** Small books are searched by the plain scan: the probe that decides it, at its boundary, on each store. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bookIsAtMost, SMALL_BOOK } from '../src/domains/customers/customer.repository.js';
import type { Store } from '../src/platform/db/connect.js';
import { createTestDatabase, openTestStore, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`small-book probe on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
      const records = Array.from({ length: SMALL_BOOK + 1 }, (_, i) => ({
        customer_id: `c-${i}`,
        display_name: `Customer ${i}`,
        workers: i < SMALL_BOOK ? ['exact@example.com', 'over@example.com'] : ['over@example.com'],
      }));
      await seed(store, records);
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('a book of exactly SMALL_BOOK customers is small; one more is not; an empty book is small', async () => {
      assert.equal(await bookIsAtMost(store, 'exact@example.com', SMALL_BOOK), true);
      assert.equal(await bookIsAtMost(store, 'over@example.com', SMALL_BOOK), false);
      assert.equal(await bookIsAtMost(store, 'nobody@example.com', SMALL_BOOK), true);
    });
  });
}
