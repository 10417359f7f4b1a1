/**
 * PostgreSQL's search blocks (src/platform/db/search-blocks.ts): a block's bits
 * hold every pair of adjacent characters of every customer whose sort key starts
 * with it, after every writer (import, a re-import that renames, the admin API's
 * writer, routing's auto-create, and the upgrade that fills them); a search read
 * in list order reads only the blocks that can hold its fragment, and answers
 * what the scan answers. (search-equivalence.test.ts proves the answers over
 * thousands of awkward names and queries; this checks the blocks themselves.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import fc from 'fast-check';
import { type Store } from '../src/platform/db/connect.js';
import { migrateToLatest, migrations } from '../src/platform/db/migrate.js';
import { BLOCK_BITS, addPairs, blockOf } from '../src/platform/db/search-blocks.js';
import { blocksHolding } from '../src/platform/db/search-index.js';
import { indexedSearchPage, scanSearchPage, type Scope } from '../src/domains/customers/customer.repository.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import { createCustomerIfAbsent } from '../src/domains/customers/customer-create.repository.js';
import { upsertCustomers } from '../src/domains/customers/customer-import.repository.js';
import { derive } from '../src/domains/customers/customer.validate.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { fold } from '../src/kernel/text.js';
import { createTestDatabase, openTestStore, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const maskOf = (text: string) => {
  const mask = new Uint8Array(BLOCK_BITS / 8);
  addPairs(mask, text);
  return mask;
};
const within = (part: Uint8Array, whole: Uint8Array) => part.every((byte, i) => (byte & (whole[i] as number)) === byte);

describe('search blocks: names and bits', () => {
  test('a block is the first three characters of a sort key (code points, the whole key when shorter)', () => {
    assert.equal(blockOf('xavier smith'), 'xav');
    assert.equal(blockOf('zoë'), 'zoë');
    assert.equal(blockOf('al'), 'al');
    assert.equal(blockOf(''), '');
    assert.equal(blockOf('😀😀😀😀'), '😀😀😀');
  });

  test('a text’s bits hold the bits of every fragment of two characters or more it contains', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 2, maxLength: 40 }), fc.nat(), fc.nat(), (text, a, b) => {
        const chars = [...text];
        const start = a % (chars.length - 1);
        const end = start + 2 + (b % (chars.length - start - 1));
        const fragment = chars.slice(start, end).join('');
        assert.ok(within(maskOf(fragment), maskOf(text)), `${JSON.stringify(fragment)} in ${JSON.stringify(text)}`);
      }),
      { numRuns: 500 },
    );
  });
});

for (const kind of storeKinds().filter((k) => k === 'postgres')) {
  describe(`search blocks on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    const rep = 'rep@example.com';
    const scope: Scope = { kind: 'worker', worker: rep };
    // 2,400 customers in first-name order: the Xaviers (the only `av`) come after 2,000 others.
    const FIRST = ['Ann', 'Bob', 'Carl', 'Dora', 'Emil', 'Fern', 'Gus', 'Hugo', 'Ida', 'Jon', 'Kim', 'Lou', 'Mia', 'Ned', 'Olga', 'Pete', 'Quin', 'Rita', 'Sue', 'Tom'];
    const person = (i: number): CustomerRecord => ({
      customer_id: `c-${i}`,
      display_name: i >= 2000 ? `Xavier Lee ${i}` : `${FIRST[i % FIRST.length]} Lee ${i}`,
      channels: [{ type: 'email', value: `c${i}@example.org` }],
      workers: [rep],
    });

    /** Every customer's pairs are in its block's bits. */
    async function assertBlocksHold() {
      const { rows: blocks } = await sql<{ prefix: string; bits: string }>`select prefix, bits::text as bits from customer_search_blocks`.execute(store.db);
      const byPrefix = new Map(blocks.map((b) => [b.prefix, b.bits]));
      const { rows: customers } = await sql<{ customer_id: string; sort_key: string; search_text: string }>`
        select customer_id, sort_key, search_text from customers`.execute(store.db);
      assert.ok(customers.length > 0);
      for (const customer of customers) {
        const bits = byPrefix.get(blockOf(customer.sort_key));
        assert.ok(bits, `no block for ${customer.customer_id} (${customer.sort_key})`);
        const mask = maskOf(customer.search_text);
        for (let bit = 0; bit < BLOCK_BITS; bit++) {
          if (((mask[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0) assert.equal(bits[bit], '1', `${customer.customer_id}: bit ${bit}`);
        }
      }
    }

    const search = async (query: string) => {
      const terms = searchTerms(query, 'US');
      const indexed = await indexedSearchPage(store, scope, terms, undefined, 30);
      assert.deepEqual(indexed, await scanSearchPage(store, scope, terms, undefined, 30), query);
      return indexed;
    };

    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
      await seed(store, Array.from({ length: 2400 }, (_, i) => person(i)));
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('after an import, every customer’s pairs are in its block; a fragment’s ranges are the blocks holding it', async () => {
      await assertBlocksHold();
      assert.deepEqual(await blocksHolding(store, 'av'), [{ from: 'xav', until: undefined }]);
      assert.deepEqual(await blocksHolding(store, 'qz'), []);
      const page = await search('av');
      assert.equal(page.length, 30);
      assert.ok(page.every((row) => row.sort_key.startsWith('xavier')));
      assert.deepEqual(await search('qz'), []);
    });

    test('a re-import that renames, the admin API’s writer and routing’s auto-create add their bits', async () => {
      // Renamed by a re-import: Ann Lee 0 becomes Dave (block `dav`, before the Xaviers).
      await seed(store, [{ ...person(0), display_name: 'Dave Lee 0' }]);
      // The admin API's writer (the same as the import's, in a transaction of its own).
      await store.write(async (trx) => {
        await upsertCustomers(trx, store.bulk, [derive({ ...person(1), display_name: 'Ava Lee 1' })], 999);
      });
      // Routing's auto-create.
      const outcome = await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, derive({ ...person(5000), display_name: 'Gavin New' })));
      assert.equal(outcome, 'created');
      await assertBlocksHold();
      const ranges = await blocksHolding(store, 'av');
      assert.deepEqual(ranges.map((r) => r.from), ['ava', 'dav', 'gav', 'xav']);
      const page = await search('av');
      assert.deepEqual(page.slice(0, 3).map((row) => row.customer_id), ['c-1', 'c-0', 'c-5000']);
      // A customer with nothing in common with the others is found by a pair only it holds.
      assert.deepEqual((await search('ew')).map((row) => row.customer_id), ['c-5000']);
    });

    test('capped, the ranges are merged with what lies between them: fewer, and covering every uncapped one', async () => {
      // `n ` ends Ann and Jon (and some others): blocks apart in list order.
      const uncapped = await blocksHolding(store, 'n ');
      assert.ok(uncapped.length >= 3, JSON.stringify(uncapped));
      for (const most of [1, 2]) {
        const capped = await blocksHolding(store, 'n ', most);
        assert.equal(capped.length, most);
        assert.equal(capped[0]?.from, uncapped[0]?.from);
        assert.equal(capped.at(-1)?.until, uncapped.at(-1)?.until);
        for (const range of uncapped) {
          assert.ok(
            capped.some((c) => c.from <= range.from && (c.until === undefined || (range.until !== undefined && range.until <= c.until))),
            `${JSON.stringify(range)} within ${JSON.stringify(capped)}`,
          );
        }
      }
    });

    test('pages after a cursor and across ranges equal the scan’s', async () => {
      const terms = searchTerms('av', 'US');
      let cursor: Parameters<typeof indexedSearchPage>[3];
      let pages = 0;
      for (;;) {
        const indexed = await indexedSearchPage(store, scope, terms, cursor, 7);
        assert.deepEqual(indexed, await scanSearchPage(store, scope, terms, cursor, 7));
        if (indexed.length < 7) break;
        const last = indexed.at(-1) as (typeof indexed)[number];
        cursor = { rank: Number(last.rank), sortKey: last.sort_key, customerId: last.customer_id };
        pages++;
      }
      assert.ok(pages > 50);
    });
  });

  describe(`search blocks: the upgrade fills them on ${kind}`, () => {
    let db: TestDatabase;
    let store: Store;
    before(async () => {
      db = await createTestDatabase(kind);
    });
    after(async () => {
      await store?.close();
      await db.drop();
    });

    test('customers stored before the upgrade are in their blocks after it', async () => {
      store = await openTestStore(db);
      const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations('postgres') }, migrationTableSchema: store.schema });
      assert.equal((await migrator.migrateTo('20261204T2000-search-digits-merged')).error, undefined);
      for (const [id, name] of [['a', 'Noa Ek'], ['b', 'Øyvind Lee'], ['c', 'Bo']] as const) {
        await sql`insert into customers (customer_id, display_name, sort_key, channels, links, search_text, phone_digits)
          values (${id}, ${name}, ${fold(name)}, '[]', '[]', ${fold(name)}, '')`.execute(store.db);
      }
      assert.deepEqual(await migrateToLatest(store), ['20261205T0100-search-blocks', '20261206T0100-deferred-indexes', '20261206T0300-sqlite-one-list-index']);
      const { rows } = await sql<{ prefix: string }>`select prefix from customer_search_blocks order by prefix`.execute(store.db);
      assert.deepEqual(rows.map((r) => r.prefix), ['bo', 'noa', 'øyv']);
      assert.deepEqual(await blocksHolding(store, 'yv'), [{ from: 'øyv', until: undefined }]);
      assert.deepEqual(await blocksHolding(store, 'a '), [{ from: 'noa', until: 'øyv' }]);
    });
  });
}
