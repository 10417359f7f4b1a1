/**
 * PostgreSQL's search blocks (src/platform/db/search-blocks.ts): ranges of list
 * order cut from the customers, each block's bits holding every pair of adjacent
 * characters of every customer in it, after every writer (import, a re-import
 * that renames, the admin API's writer, routing's auto-create, and the upgrade
 * that cuts them); a search read in list order reads only the blocks that can
 * hold its fragment, and answers what the scan answers. (search-equivalence.test.ts proves the answers over
 * thousands of awkward names and queries; this checks the blocks themselves.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import fc from 'fast-check';
import { type Store } from '../src/platform/db/connect.js';
import { migrateToLatest, migrations } from '../src/platform/db/migrate.js';
import { BLOCK_BITS, addTextBits, blockIndex, blockStart } from '../src/platform/db/search-blocks.js';
import { type KeyRange, blocksHolding, candidatesContaining } from '../src/platform/db/search-index.js';
import { indexedSearchPage, scanSearchPage, type Scope } from '../src/domains/customers/customer.repository.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import { createCustomerIfAbsent } from '../src/domains/customers/customer-create.repository.js';
import { upsertCustomers } from '../src/domains/customers/customer-import.repository.js';
import { derive } from '../src/domains/customers/customer.validate.js';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { fold } from '../src/kernel/text.js';
import { createTestDatabase, openTestStore, seed, storeKinds, type TestDatabase } from './helpers/stores.js';
import { statementsOf } from './helpers/store-probes.js';

const maskOf = (text: string) => {
  const mask = new Uint8Array(BLOCK_BITS / 8);
  addTextBits(mask, text);
  return mask;
};
const within = (part: Uint8Array, whole: Uint8Array) => part.every((byte, i) => (byte & (whole[i] as number)) === byte);

interface Block {
  prefix: string;
  bits: string;
}
const blocksOf = async (store: Store): Promise<Block[]> =>
  (await sql<Block>`select prefix, bits::text as bits from customer_search_blocks order by prefix`.execute(store.db)).rows;
const customersOf = async (store: Store) =>
  (await sql<{ customer_id: string; sort_key: string; search_text: string }>`select customer_id, sort_key, search_text from customers`.execute(store.db)).rows;
const blockHolding = (blocks: Block[], sortKey: string): Block => blocks[blockIndex(blocks.map((b) => Buffer.from(b.prefix)), Buffer.from(sortKey))] as Block;

/** Every customer's pairs are in the bits of its block (the one with the greatest start not above its sort key). */
async function assertEveryCustomerInItsBlock(store: Store): Promise<void> {
  const blocks = await blocksOf(store);
  assert.equal(blocks[0]?.prefix, '', 'the first block starts before every sort key');
  const customers = await customersOf(store);
  assert.ok(customers.length > 0);
  for (const customer of customers) {
    const { bits } = blockHolding(blocks, customer.sort_key);
    const mask = maskOf(customer.search_text);
    for (let bit = 0; bit < BLOCK_BITS; bit++) {
      if (((mask[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0) assert.equal(bits[bit], '1', `${customer.customer_id}: bit ${bit}`);
    }
  }
}

/** Whether `sortKey` is inside one of `ranges`. */
const inRanges = (ranges: Array<{ from: string; until: string | undefined }>, sortKey: string) =>
  ranges.some((r) => Buffer.compare(Buffer.from(r.from), Buffer.from(sortKey)) <= 0 && (r.until === undefined || Buffer.compare(Buffer.from(sortKey), Buffer.from(r.until)) < 0));

describe('search blocks: names and bits', () => {
  test('writers add bits by the first three characters of a sort key (code points, the whole key when shorter)', () => {
    assert.equal(blockStart('xavier smith'), 'xav');
    assert.equal(blockStart('zoë'), 'zoë');
    assert.equal(blockStart('al'), 'al');
    assert.equal(blockStart(''), '');
    assert.equal(blockStart('😀😀😀😀'), '😀😀😀');
  });

  test('a sort key is in the block with the greatest start not above it, compared as bytes (as collate "C")', () => {
    const bounds = ['', 'ann lee 5', 'bob', 'zoë', '😀'].map((b) => Buffer.from(b));
    const at = (key: string) => blockIndex(bounds, Buffer.from(key));
    assert.deepEqual(['', 'a', 'ann lee 5', 'ann lee 6', 'bob', 'bob a', 'zz', 'zoë', '\uffff', '😀', '😀😀'].map(at), [0, 0, 1, 1, 2, 2, 3, 3, 3, 4, 4]);
  });

  test('a text’s bits hold the bits of every fragment it contains, one character and more', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (text, a, b) => {
        const chars = [...text];
        const start = a % chars.length;
        const end = start + 1 + (b % (chars.length - start));
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
    const assertBlocksHold = () => assertEveryCustomerInItsBlock(store);

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
      // Cut about every 256 customers: the Xaviers (the last 400 in list order) are in the last blocks, and
      // the one range holding them starts at most one block before the first of them.
      const blocks = await blocksOf(store);
      assert.equal(blocks.length, Math.ceil(2400 / 256));
      const ranges = await blocksHolding(store, 'av');
      assert.deepEqual(ranges, [{ from: blockHolding(blocks, 'xavier lee 2000').prefix, until: undefined }]);
      const before = (await customersOf(store)).filter((c) => inRanges(ranges, c.sort_key) && !c.sort_key.startsWith('xavier'));
      assert.ok(before.length < 256, `${before.length} customers before the Xaviers are read`);
      assert.deepEqual(await blocksHolding(store, 'qz'), []);
      const page = await search('av');
      assert.equal(page.length, 30);
      assert.ok(page.every((row) => row.sort_key.startsWith('xavier')));
      assert.deepEqual(await search('qz'), []);
      // One character: `v` only in the Xaviers' blocks; `-`, in no text, in no block (answered without a read).
      assert.deepEqual(await blocksHolding(store, 'v'), ranges);
      assert.deepEqual(await blocksHolding(store, '-'), []);
      assert.equal((await search('v')).length, 30);
      assert.deepEqual(await search('-'), []);
    });

    test('a fragment the index names in many rows, in few blocks, is read there, not fetched, when the read goes through the blocks', async () => {
      // ` xavier.` (rank 1 of `xavier.`: a word of the name after the first starting with it): GIN names the 400
      // Xaviers (pg_trgm takes no `.`, and counts the name's start as a word start), none of whom holds it, while
      // no block holds its pair `r.`. A read through the blocks reads nothing; a fetch, 400 rows.
      await blocksHolding(store, 'xavier');
      const fragment = [{ column: 'sort_key' as const, text: ' xavier.' }];
      assert.deepEqual((await candidatesContaining(store, fragment, 1500, 30))?.pks, [], 'its read not through the blocks: fetched');
      assert.equal(await candidatesContaining(store, fragment, 1500, 30, true), undefined, 'through the blocks: not fetched');
      assert.deepEqual(await blocksHolding(store, ' xavier.'), []);
      // Holders spread over every block (`lee 19`: the Lees 19, 190–199 and 1900–1999 of every first name) are fetched.
      assert.equal((await candidatesContaining(store, [{ column: 'search_text', text: 'lee 19' }], 1500, 30, true))?.pks.length, 111);
      assert.deepEqual(await search('xavier.'), []);
      assert.equal((await search('lee 19')).length, 30);
    });

    test('a re-import that renames, the admin API’s writer and routing’s auto-create add their bits', async () => {
      // Renamed by a re-import: Ann Lee 0 becomes Dave (block `dav`, before the Xaviers).
      await seed(store, [{ ...person(0), display_name: 'Dave Lee 0' }]);
      // The admin API's writer (the same as the import's, in a transaction of its own).
      await store.write(async (trx) => {
        await upsertCustomers(trx, store.bulk, [derive({ ...person(1), display_name: 'Ava Lee 1' })], 999);
      });
      // Routing's auto-create. The service keeps the blocks in memory while their version stands
      // (search-index.ts, blocksHolding): a statement that changes a block moves it, one that changes none leaves it.
      const version = async () => (await sql<{ version: string }>`select version::text as version from customer_search_blocks_version`.execute(store.db)).rows[0]?.version;
      const before = await version();
      const outcome = await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, derive({ ...person(5000), display_name: 'Gavin New' })));
      assert.equal(outcome, 'created');
      const moved = await version();
      assert.notEqual(moved, before);
      await sql`update customer_search_blocks set bits = bits where prefix = 'no such block'`.execute(store.db);
      assert.equal(await version(), moved);
      await assertBlocksHold();
      // Not cut again (a few customers written): their bits were added to every block their sort key's start can be in.
      assert.equal((await blocksOf(store)).length, Math.ceil(2400 / 256));
      const ranges = await blocksHolding(store, 'av');
      for (const key of ['ava lee 1', 'dave lee 0', 'gavin new', 'xavier lee 2000']) assert.ok(inRanges(ranges, key), `${key} in ${JSON.stringify(ranges)}`);
      const page = await search('av');
      assert.deepEqual(page.slice(0, 3).map((row) => row.customer_id), ['c-1', 'c-0', 'c-5000']);
      // A customer with nothing in common with the others is found by a pair only it holds.
      assert.deepEqual((await search('ew')).map((row) => row.customer_id), ['c-5000']);
    });

    test('an import that writes a fifth of the store or more cuts the blocks again, exactly', async () => {
      const blocksBefore = (await blocksOf(store)).length;
      // 700 customers with one sort key: all in one block, however many there are.
      await seed(store, Array.from({ length: 700 }, (_, i) => ({ ...person(10_000 + i), display_name: 'Same Name' })));
      const blocks = await blocksOf(store);
      const customers = await customersOf(store);
      assert.ok(blocks.length > blocksBefore && blocks.length <= Math.ceil(customers.length / 256) + 1, `${blocksBefore} → ${blocks.length}`);
      await assertBlocksHold();
      const same = new Set(customers.filter((c) => c.sort_key === 'same name').map((c) => blockHolding(blocks, c.sort_key).prefix));
      assert.equal(same.size, 1);
      // Exact again: a pair only the renamed Dave had (`ve`, from before the cut) is now only in his block.
      const ranges = await blocksHolding(store, 've');
      assert.deepEqual(ranges, [{ from: blockHolding(blocks, 'dave lee 0').prefix, until: blocks[blocks.findIndex((b) => b.prefix === blockHolding(blocks, 'dave lee 0').prefix) + 1]?.prefix }]);
      assert.deepEqual((await search('ve')).map((row) => row.customer_id), ['c-0']);
    });

    test('capped, the ranges are merged with what lies between them: fewer, and covering every uncapped one', async () => {
      // `n ` ends Ann, Jon and Quin (and Gavin): blocks apart in list order.
      const uncapped = await blocksHolding(store, 'n ');
      assert.ok(uncapped.length >= 2, JSON.stringify(uncapped));
      for (const most of new Set([1, uncapped.length - 1])) {
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

    test('a search reads the blocks’ version once for all its ranks; a read sent before a write is not used by an ask that begins after it', async () => {
      const versionReads = (asked: string[]) => asked.filter((text) => text.includes('fis:search-blocks-version')).length;
      // `v`: rank 1 (` v`: no word starts with it) and rank 2 both read in list order through the blocks.
      let page: unknown[] = [];
      assert.equal(versionReads(await statementsOf(store, async () => (page = await search('v')))), 1);
      assert.equal(page.length, 30);
      // Asks that began before a read was sent use it; at once or one after the other.
      const began = performance.now();
      await blocksHolding(store, 'av', Infinity, began);
      assert.equal(versionReads(await statementsOf(store, () => Promise.all([blocksHolding(store, 'av', Infinity, began), blocksHolding(store, 'zz', Infinity, began)]))), 0);
      // A customer written since with a pair no block held: an ask that begins now reads the version again and finds its block.
      assert.deepEqual(await blocksHolding(store, 'qz', Infinity, began), []);
      await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, derive({ ...person(6000), display_name: 'Aqzel Quux' })));
      assert.deepEqual(await blocksHolding(store, 'qz', Infinity, began), [], 'asked as of before the write: the read sent before it');
      let after: KeyRange[] = [];
      assert.equal(versionReads(await statementsOf(store, async () => (after = await blocksHolding(store, 'qz')))), 1);
      assert.ok(inRanges(after, 'aqzel quux'), JSON.stringify(after));
      assert.deepEqual((await search('qz')).map((row) => row.customer_id), ['c-6000']);
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
      const names = ['Bo', ...Array.from({ length: 600 }, (_, i) => (i < 300 ? `Noa Ek ${i}` : `Øyvind Lee ${i}`))];
      for (const [i, name] of names.entries()) {
        await sql`insert into customers (customer_id, display_name, sort_key, channels, links, search_text, phone_digits)
          values (${`c${i}`}, ${name}, ${fold(name)}, '[]', '[]', ${fold(name)}, '')`.execute(store.db);
      }
      assert.deepEqual(await migrateToLatest(store), ['20261205T0100-search-blocks', '20261206T0100-deferred-indexes', '20261206T0300-sqlite-one-list-index', '20261206T0500-search-blocks-cut', '20261206T0700-phone-windows', '20261206T0900-sqlite-phone-windows', '20261206T1300-search-blocks-version', '20261206T1500-sqlite-text-windows', '20261206T1700-search-blocks-characters', '20261206T1900-sqlite-digits-list-order', '20261207T0500-pg-search-list-buckets', '20261207T1000-pg-book-digits-index', '20261207T1400-sqlite-list-pos-places', '20261207T1500-sqlite-trigram-counts']);
      // 601 customers cut about every 256: three blocks, the first from the start.
      const blocks = await blocksOf(store);
      assert.deepEqual(blocks.length, 3);
      await assertEveryCustomerInItsBlock(store);
      const { rows: cut } = await sql<{ customers: string }>`select customers from customer_search_blocks_cut`.execute(store.db);
      assert.deepEqual(cut.map((r) => Number(r.customers)), [601]);
      // `yv` (the Øyvinds, from the 302nd customer on): not in the first block.
      assert.deepEqual(await blocksHolding(store, 'yv'), [{ from: blockHolding(blocks, 'øyvind lee 300').prefix, until: undefined }]);
      assert.notEqual(blockHolding(blocks, 'øyvind lee 300').prefix, '');
      assert.deepEqual(await blocksHolding(store, 'qz'), []);
    });

  });
}
