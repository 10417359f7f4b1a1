/**
 * The search index's own claims (src/platform/db/search-index.ts): on PostgreSQL,
 * the parts of a fragment it asks GIN for, and the sampled trigram counts that
 * choose them. Answers are proven equal to the scan by search-equivalence.test.ts;
 * these check that the plan's own claims hold on a real server; on SQLite, that
 * the trigram counts it remembers never change an answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import fc from 'fast-check';
import { type Store, openStore } from '../src/platform/db/connect.js';
import { migrateToLatest, migrations } from '../src/platform/db/migrate.js';
import { seededRandom } from '../src/application/files/seed.js';
import {
  SAMPLE_SEPARATOR,
  asStored,
  candidatesContaining,
  forgetTrigramCounts,
  heldWidely,
  listOrderQuery,
  SampledTexts,
  bitCount,
  blocksHoldingBits,
  sampledBlocks,
  type Fragment,
  probes,
  trigramCounts,
  catchUpSearchIndex,
  deferSearchIndex,
  listBucket,
  streamBoundFor,
} from '../src/platform/db/search-index.js';
import { windowsConnection } from '../src/platform/db/migrations/20261206T0900-sqlite-phone-windows.js';
import { customerWriter, nextImportSeq } from '../src/domains/customers/customer-import.repository.js';
import { customerRows } from '../src/domains/customers/customer-rows.js';
import Database from 'better-sqlite3';
import { InsertedWindows, WINDOWED, textWindowAsked, textWindowsOf, windowsAsked, windowsOf } from '../src/platform/db/phone-windows.js';
import { createCustomerIfAbsent } from '../src/domains/customers/customer-create.repository.js';
import { deleteCustomer } from '../src/domains/customers/customer-record.repository.js';
import { validateCustomer } from '../src/domains/customers/customer.validate.js';
import { fold } from '../src/kernel/text.js';
import { type ListRow, type Scope, indexedSearchPage, scanSearchPage } from '../src/domains/customers/customer.repository.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import type { Cursor } from '../src/domains/customers/page-token.js';
import { createTestDatabase, openTestStore, seed, storeKinds, testConfig, type TestDatabase } from './helpers/stores.js';
import { statementsOf } from './helpers/store-probes.js';

describe('probes: the parts of a fragment pg_trgm turns into known trigrams', () => {
  test('every three ASCII letters or digits in a row, every word start after a separator, and every word end before one', () => {
    const found = probes('7234@example');
    const keys = found.map((p) => p.key).sort();
    assert.deepEqual(keys, [' ex', '234', '34 ', '723', 'amp', 'exa', 'mpl', 'ple', 'xam'].sort());
    const start = found.find((p) => p.key === ' ex');
    assert.deepEqual(start, { at: 4, pattern: '%@ex%', key: ' ex', read: ['  e', ' ex'] });
    assert.deepEqual(found.find((p) => p.key === '723'), { at: 0, pattern: '%723%', key: '723', read: ['723'] });
    assert.deepEqual(found.find((p) => p.key === '34 '), { at: 2, pattern: '%34@%', key: '34 ', read: ['34 '] });
    // The address of the customer numbered 1: its only part not in every address is where a word ends.
    assert.deepEqual(probes('n1@example').find((p) => p.key === 'n1 '), { at: 0, pattern: '%n1@%', key: 'n1 ', read: ['n1 '] });
    assert.deepEqual(probes('a_b%').map((p) => p.key), []);
    assert.deepEqual(probes('ab_').map((p) => p.pattern), ['%ab\\_%']);
  });

  test('LIKE wildcards as separators are escaped; non-ASCII letters and short fragments give none', () => {
    assert.deepEqual(probes('a%bc').map((p) => p.pattern), ['%\\%bc%']);
    assert.deepEqual(probes('_ab').map((p) => p.pattern), ['%\\_ab%']);
    assert.deepEqual(probes('müller'), probes('müller').filter((p) => !/ü/.test(p.pattern)));
    assert.deepEqual(probes('ler').map((p) => p.key), ['ler']);
    assert.deepEqual(probes('ab'), []);
    assert.deepEqual(probes('ñoño'), []);
  });
});

/** The pks of the customers the index finds holding one of `fragments` (candidatesContaining), or undefined past `cap`. */
const customersContaining = async (...args: Parameters<typeof candidatesContaining>) => (await candidatesContaining(...args))?.pks;

/**
 * Every page of a search walked by cursor, as `next_page_token` walks it: through `read` (the indexed search
 * or the scan). At most 3,000 pages, so that a walk that repeats a page ends too.
 */
async function searchPages(store: Store, read: typeof indexedSearchPage, scope: Scope, query: string, size: number): Promise<ListRow[][]> {
  const out: ListRow[][] = [];
  let after: Cursor | undefined;
  while (out.length < 3000) {
    const page = await read(store, scope, searchTerms(query, 'US'), after, size);
    if (page.length === 0) break;
    out.push(page);
    const last = page.at(-1) as ListRow;
    after = { rank: Number(last.rank), sortKey: last.sort_key, customerId: last.customer_id };
  }
  return out;
}

/**
 * For one describe: a fresh store of `kind` seeded with `customers()` before its tests (its trigram counts
 * forgotten, then sampled again unless `sample` is false), handed to `use`, and dropped after them.
 */
function seededStore(kind: TestDatabase['kind'], customers: () => Parameters<typeof seed>[1], use: (store: Store) => void, sample = true): void {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase(kind);
    store = await openTestStore(db);
    await seed(store, customers());
    forgetTrigramCounts(store);
    if (sample) await trigramCounts(store);
    use(store);
  });
  after(async () => {
    await store.close();
    await db.drop();
  });
}

for (const kind of storeKinds().filter((k) => k === 'postgres')) {
  describe(`trigram counts and probes on ${kind}`, () => {
    let store: Store;
    // 3,000 customers: every one at example.org, one in ten a Smith whose address holds `121212`.
    seededStore(
      kind,
      () =>
        Array.from({ length: 3000 }, (_, i) => ({
          customer_id: `c-${i}`,
          display_name: i % 10 === 0 ? `Ann Smith ${i}` : `Bob Jones ${i}`,
          channels: [{ type: 'email', value: i % 10 === 0 ? `s121212x${i}@example.org` : `user${i}@example.org` }],
          workers: ['rep@example.com'],
        })),
      (seeded) => (store = seeded),
      false,
    );

    test('the counts are the table’s (sampled whole when it is small)', async () => {
      const counts = await trigramCounts(store);
      assert.ok(counts);
      assert.equal(counts.rows, 3000);
      assert.equal(counts.estimate('search_text', 'exa'), 3000);
      assert.equal(counts.estimate('search_text', 'smi'), 300);
      assert.equal(counts.estimate('search_text', ' sm'), 300);
      assert.equal(counts.estimate('search_text', 'zqx'), 0);
      assert.equal(counts.estimate('sort_key', 'exa'), 0);
      assert.equal(counts.estimate('sort_key', ' sm'), 300);
      // Whole fragments, counted in the sampled rows (here every row), up to the count asked for.
      assert.equal(counts.containing('search_text', 's121212x', 1000), 300);
      assert.equal(counts.containing('search_text', 'smith', 100), 101);
      assert.equal(counts.containing('search_text', '@example.org', 5000), 3000);
      assert.equal(counts.containing('sort_key', '@example', 5000), 0);
      assert.equal(counts.containing('search_text', 'zqx', 5000), 0);
    });

    test('a fragment the sampled rows show common is not fetched: its parts only looked rare together', async () => {
      // `smi`, `mit` and `ith` are each in 300 rows, more than a cap of 50 may fetch (201); as independent
      // parts they would be in 3 rows together, so they used to be fetched to find out. All 300 Smiths hold `smith`.
      await trigramCounts(store);
      let found: unknown = 'not asked';
      assert.deepEqual(await statementsOf(store, async () => (found = await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 50))), []);
      assert.equal(found, undefined);
    });

    test('a word end finds an address whose other parts every address holds', async () => {
      // `r7@example`: `@ex`, `exa` … are in all 3,000 addresses and `r7@` is no three letters or digits in a row;
      // pg_trgm indexes `user7`'s end as `r7 `, in that address alone. Without it: common, read in list order.
      await trigramCounts(store);
      const { rows } = await sql<{ pk: number }>`select pk from customers where customer_id = 'c-7'`.execute(store.db);
      assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: 'r7@example' }], 50), rows.map((row) => Number(row.pk)));
    });

    test('a word start the sampled rows name in many texts is not fetched: its pattern would fail on most of them', async () => {
      // ` ann` (a word of the name starting with `ann`, after the first): pg_trgm names every text with a word
      // starting `an`, the first word included, so GIN names all 300 Anns, and `% an%` then fails on each (their
      // `Ann` is the first word). Parts taken as independent put 30 rows there, under the cap of 50: it used to be
      // fetched, reading all 300 rows to keep none.
      const counts = await trigramCounts(store);
      assert.equal(counts?.holdingAll('sort_key', [' an', 'ann'], 1000), 300);
      let found: unknown = 'not asked';
      assert.deepEqual(await statementsOf(store, async () => (found = await customersContaining(store, [{ column: 'sort_key', text: ' ann' }], 50))), []);
      assert.equal(found, undefined);
      // A word start GIN names in few rows is still fetched: no name has a word starting `ex`.
      assert.deepEqual(await customersContaining(store, [{ column: 'sort_key', text: ' exa' }], 50), []);
    });

    test('filling a page in a small store: a text held widely is left to the read in list order, unfetched; digits and rare texts are fetched', async () => {
      // 3,000 customers and a page of 31: past sqrt(31 × 3,000 / 5) = 136 holders a read in list order fills it for less.
      await trigramCounts(store);
      let found: unknown = 'not asked';
      assert.deepEqual(await statementsOf(store, async () => (found = await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 1500, 31))), []);
      assert.equal(found, undefined, '300 Smiths');
      assert.equal((await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 1500))?.length, 300, 'no page: fetched');
      // A page of 7 (the read fills it sooner still): 300 past sqrt(7 × 3,000 / 5) = 65.
      assert.equal(await customersContaining(store, [{ column: 'sort_key', text: ' smith' }], 1500, 7), undefined);
      assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: 'user1234@' }], 1500, 31), [1235]);
    });

    test('every row containing a fragment matches each of its probes’ patterns (on the server’s LIKE)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: fc.constantFrom(...'ab1 .@%_\\-é'.split('')), maxLength: 8 }),
          fc.string({ unit: fc.constantFrom(...'abc12 .@%_\\-ü'.split('')), minLength: 3, maxLength: 8 }),
          fc.string({ unit: fc.constantFrom(...'ab1 .@%_\\-'.split('')), maxLength: 8 }),
          async (before, fragment, afterText) => {
            const text = `${before}${fragment}${afterText}`;
            for (const probe of probes(fragment)) {
              const { rows } = await sql<{ ok: boolean }>`select ${text} like ${probe.pattern} escape '\\' as ok`.execute(store.db);
              assert.equal(rows[0]?.ok, true, `${JSON.stringify(text)} like ${JSON.stringify(probe.pattern)}`);
            }
          },
        ),
        { numRuns: 200 },
      );
    });

    test('a rare fragment is found exactly; a common one, and one past the fetch budget, is "more than the cap"', async () => {
      const rare = await customersContaining(store, [{ column: 'search_text', text: 'user1234@' }], 1500);
      assert.deepEqual(rare, [1235]);
      assert.equal(rare?.length, 1);
      // In every row: no part narrows it, so it is not asked for.
      assert.equal(await customersContaining(store, [{ column: 'search_text', text: 'example.org' }], 1500), undefined);
      // 300 Smiths against a cap of 100: not asked for; against 1,500: found.
      assert.equal(await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 100), undefined);
      const smiths = await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 1500);
      assert.equal(smiths?.length, 300);
      // `121` and `212` overlap, and parts of digits are taken as independent: 30 rows expected, 300
      // hold both. With a cap of 100 the fetch stops at 101 rows (the budget), and the fragment is common.
      assert.equal(await customersContaining(store, [{ column: 'search_text', text: '121212' }], 100), undefined);
      assert.equal((await customersContaining(store, [{ column: 'search_text', text: '121212' }], 1500))?.length, 300);
      // Names alone (the word-start rank): no name has a word starting with `ex`; every address does.
      assert.deepEqual(await customersContaining(store, [{ column: 'sort_key', text: ' exa' }], 1500), []);
      assert.equal(await customersContaining(store, [{ column: 'search_text', text: '@exa' }], 1500), undefined);
      assert.equal((await customersContaining(store, [{ column: 'sort_key', text: ' smith' }], 1500))?.length, 300);
      // A larger cap (a search's second chance) is declined: it would fetch the same rows within the same budget.
      assert.equal(await customersContaining(store, [{ column: 'search_text', text: 'user1234@' }], 4000), undefined);
      // 'son' and 'jones' parts are common but 'jones 2999' is one customer: digits narrow it.
      assert.equal((await customersContaining(store, [{ column: 'search_text', text: 'jones 2999' }], 1500))?.length, 1);
    });
  });
}

for (const kind of storeKinds().filter((k) => k === 'postgres')) {
  describe(`a query's digits and text on ${kind}`, () => {
    let store: Store;
    // 1,200 customers, 600 of whose numbers end in `4321`; one address holds `4321` too.
    seededStore(
      kind,
      () =>
        Array.from({ length: 1200 }, (_, i) => ({
          customer_id: `c-${String(i).padStart(4, '0')}`,
          display_name: `${i % 2 ? 'Ann' : 'Bob'} Digits ${i}`,
          channels: [
            { type: 'sms' as const, value: `+1212555${String(i % 2 ? 4321 : 1000 + (i % 1000)).padStart(4, '0')}` },
            ...(i === 7 ? [{ type: 'email' as const, value: 'x4321@example.org' }] : []),
          ],
          // The rep's book holds the last few holders in list order (`ann digits 1191` and on), others' the rest.
          workers: [i % 2 && i < 1190 ? 'other@example.com' : 'rep@example.com'],
        })),
      (seeded) => (store = seeded),
    );

    test('digits the sampled numbers put above the cap are common, and the text is not fetched for them', async () => {
      const fragments = [
        { column: 'search_text' as const, text: '4321' },
        { column: 'phone_digits' as const, text: '4321' },
      ];
      let found: unknown = 'not asked';
      assert.deepEqual(await statementsOf(store, async () => (found = await customersContaining(store, fragments, 500))), []);
      assert.equal(found, undefined);
      // Under a cap they fit: found, both columns.
      assert.equal((await customersContaining(store, fragments, 1500))?.length, 600);
      // Filling a page of 31 in 1,200 customers, 600 holders of a text would be left to the read in list order;
      // a query's digits are fetched whatever their count (their read in list order has no blocks to skip by).
      assert.equal((await customersContaining(store, [fragments[1] as Fragment], 1500, 31))?.length, 600);
    });

    test('many candidates are asked for in rank and list order, a page at a time, and give the scan\'s pages', async () => {
      // 601 hold `4321` (fewer than the cap: found through the index); the rep's book holds five of them, none among
      // the first pages' worth of candidates the book's first ask takes.
      const pages = (read: typeof indexedSearchPage, scope: Scope, query: string) => searchPages(store, read, scope, query, 7);
      for (const scope of [{ kind: 'worker', worker: 'rep@example.com' }, { kind: 'all' }] as const) {
        for (const query of ['4321', '5554321', 'digits 11', 'ann digits 1']) {
          const scanned = await pages(scanSearchPage, scope, query);
          assert.ok(scanned.length > 0, query);
          assert.deepEqual(await pages(indexedSearchPage, scope, query), scanned, `${query} (${scope.kind})`);
        }
      }
    });

    if (kind === 'postgres') {
      test("in a rep's book, digits many customers hold are found among the book's customers only; in a book and everyone visible, pages are ranked without a statement", async () => {
        const rep: Scope = { kind: 'worker', worker: 'rep@example.com' };
        const fragments = [
          { column: 'search_text' as const, text: '4321' },
          { column: 'phone_digits' as const, text: '4321' },
        ];
        // The store's 600 holders (more than BOOK_FINDS_FROM), of which the book holds five: only
        // those come back, each with what a page shows of it.
        const found = await candidatesContaining(store, fragments, 1500, 31, false, { book: rep.worker });
        const { rows } = await sql<{ pk: number; customer_id: string; display_name: string }>`
          select c.pk, c.customer_id, c.display_name from customers c join customer_owners o on o.customer_pk = c.pk
           where o.worker = ${rep.worker} and (c.phone_digits like '%4321%' or c.search_text like '%4321%')`.execute(store.db);
        assert.equal(rows.length, 5);
        assert.deepEqual([...(found?.pks ?? [])].sort((a, b) => a - b), rows.map((row) => Number(row.pk)).sort((a, b) => a - b));
        for (const row of rows) assert.equal(found?.shown?.get(Number(row.pk))?.displayName, row.display_name);
        // The search: rank 0, the digits through the book's index, the text's holders checked for the book as
        // they are fetched, and no statement ranking them.
        let page: ListRow[] = [];
        const asked = await statementsOf(store, async () => (page = await indexedSearchPage(store, rep, searchTerms('4321', 'US'), undefined, 31)));
        assert.equal(asked.filter((statement) => statement.includes('fis_worker_key(worker)')).length, 1);
        assert.equal(asked.filter((statement) => statement.includes('o.customer_pk = f.pk')).length, 1);
        assert.ok(!asked.some((statement) => statement.includes('any(')), 'no statement ranks the candidates');
        assert.deepEqual(page, await scanSearchPage(store, rep, searchTerms('4321', 'US'), undefined, 31));
        // Everyone visible: the store's holders, each with what the page shows, and no ranking statement either.
        let everyone: Awaited<ReturnType<typeof candidatesContaining>>;
        const all = await statementsOf(store, async () => (everyone = await candidatesContaining(store, fragments, 1500, 31, false, 'everyone')));
        assert.ok(!all.some((statement) => statement.includes('fis_worker_key')));
        assert.equal(everyone?.pks.length, 600);
        assert.equal(everyone?.shown?.size, 600);
        for (const query of ['x4321@example', '2125554321']) {
          const asked = await statementsOf(store, async () => (page = await indexedSearchPage(store, { kind: 'all' }, searchTerms(query, 'US'), undefined, 31)));
          assert.ok(!asked.some((statement) => statement.includes('any(')), `${query}: no statement ranks the candidates`);
          assert.deepEqual(page, await scanSearchPage(store, { kind: 'all' }, searchTerms(query, 'US'), undefined, 31), query);
        }
      });
    }

    if (kind === 'postgres') {
      test("in a rep's book, digits the store holds past the cap are judged by the book's share of the store (the server's statistics of the reps)", async () => {
        const fragments = [
          { column: 'search_text' as const, text: '4321' },
          { column: 'phone_digits' as const, text: '4321' },
        ];
        const rep = { book: 'rep@example.com' };
        // The rep owns 605 of the 1,200 customers, another rep the rest.
        await sql`analyze customer_owners`.execute(store.db);
        // Sampled again in the background; the counts before serve meanwhile.
        const before = await trigramCounts(store);
        forgetTrigramCounts(store);
        let counts = await trigramCounts(store);
        for (let waited = 0; counts === before && waited < 10_000; waited += 20) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          counts = await trigramCounts(store);
        }
        assert.ok(Math.abs((counts?.bookShare(rep.book) ?? 0) - 605 / 1200) < 0.05, String(counts?.bookShare(rep.book)));
        // A rep the statistics do not list has at most the least listed rep's share.
        assert.ok((counts?.bookShare('nobody@example.com') ?? 1) <= Math.min(counts?.bookShare(rep.book) ?? 0, counts?.bookShare('other@example.com') ?? 0));
        // 600 holders, past a cap of 500: common for everyone, unfetched.
        assert.deepEqual(await statementsOf(store, async () => assert.equal(await customersContaining(store, fragments, 500, 31, false, 'everyone'), undefined)), []);
        // In the rep's book about half of them are expected, under the cap: found through the book's own index,
        // which names only the book's five.
        let found: Awaited<ReturnType<typeof candidatesContaining>>;
        const asked = await statementsOf(store, async () => (found = await candidatesContaining(store, fragments, 500, 31, false, rep)));
        assert.equal(asked.filter((statement) => statement.includes('fis_worker_key(worker)')).length, 1);
        const { rows } = await sql<{ pk: number }>`
          select c.pk from customers c join customer_owners o on o.customer_pk = c.pk
           where o.worker = ${rep.book} and c.phone_digits like '%4321%'`.execute(store.db);
        assert.equal(rows.length, 5);
        assert.deepEqual([...(found?.pks ?? [])].sort((a, b) => a - b), rows.map((row) => Number(row.pk)).sort((a, b) => a - b));
        // Expected past the cap even in the book (a cap of 200): common, unfetched, as in the store.
        assert.deepEqual(await statementsOf(store, async () => assert.equal(await customersContaining(store, fragments, 200, 31, false, rep), undefined)), []);
      });

      test("a text's holders found in the store and checked for the book: only the book's come back, with their places and names; the cap counts them all", async () => {
        const rep = { book: 'rep@example.com' };
        const text = [{ column: 'search_text' as const, text: 'digits 11' }];
        const { rows } = await sql<{ pk: number; sort_key: string; customer_id: string; display_name: string; mine: boolean }>`
          select c.pk, c.sort_key, c.customer_id, c.display_name,
                 exists (select 1 from customer_owners o where o.customer_pk = c.pk and o.worker = ${rep.book}) as mine
            from customers c where c.search_text like '%digits 11%'`.execute(store.db);
        const book = rows.filter((row) => row.mine);
        assert.ok(book.length > 10 && book.length < rows.length - 10, `${book.length} of ${rows.length}`);
        const found = await candidatesContaining(store, text, rows.length, undefined, false, rep);
        assert.deepEqual([...(found?.pks ?? [])].sort((a, b) => a - b), book.map((row) => Number(row.pk)).sort((a, b) => a - b));
        for (const row of book) {
          assert.deepEqual(found?.places?.get(Number(row.pk)), [row.sort_key, row.customer_id]);
          assert.equal(found?.shown?.get(Number(row.pk))?.displayName, row.display_name);
        }
        // A cap under the store's holders but above the book's: common.
        assert.equal(await customersContaining(store, text, book.length, undefined, false, rep), undefined);
      });
    }

    test('candidates carry their places in the list (sort_key, customer_id), read with their rows', async () => {
      const found = await candidatesContaining(store, [{ column: 'search_text', text: 'x4321@' }, { column: 'phone_digits', text: '5554321' }], 1500);
      const places = found?.places;
      assert.ok(places);
      assert.equal(found?.pks.length, 600);
      const { rows } = await sql<{ pk: number; sort_key: string; customer_id: string }>`select pk, sort_key, customer_id from customers`.execute(store.db);
      for (const row of rows) {
        const place = places.get(Number(row.pk));
        if (place) assert.deepEqual(place, [row.sort_key, row.customer_id]);
      }
      assert.ok(places.has(Number(rows.find((row) => row.customer_id === 'c-0007')?.pk)));
    });
  });
}

for (const kind of storeKinds().filter((k) => k === 'postgres')) {
  describe(`a rep's book found through its own index on ${kind} (migration 20261207T1000)`, () => {
    let store: Store;
    // Reps whose names differ only in case or by a last character: each is a key of its own.
    const reps = ['rep@example.com', 'Rep@example.com', 'rep@example.com.'] as const;
    seededStore(
      kind,
      () =>
        Array.from({ length: 1200 }, (_, i) => ({
          customer_id: `k-${String(i).padStart(4, '0')}`,
          display_name: `${i % 5 ? 'Cara' : 'Dana'} Keys ${i}`,
          // A quarter of the numbers end in 7777, the rest in digits no query here asks for.
          channels: [{ type: 'sms' as const, value: `+1212${String(100 + (i % 800)).padStart(3, '0')}${i % 4 ? String(1000 + i).slice(-4) : '7777'}` }],
          workers: [reps[i % 3] as string],
        })),
      (seeded) => (store = seeded),
    );

    test('reps whose names differ only in case or by a character: each search in a book finds only its own, every page the scan\'s', async () => {
      for (const worker of reps) {
        const scope: Scope = { kind: 'worker', worker };
        let pages: ListRow[][] = [];
        const asked = await statementsOf(store, async () => (pages = await searchPages(store, indexedSearchPage, scope, '7777', 31)));
        assert.ok(asked.some((statement) => statement.includes('fis_worker_key(worker)')), 'found through the book\'s index');
        assert.equal(pages.flat().length, 100);
        assert.deepEqual(pages, await searchPages(store, scanSearchPage, scope, '7777', 31));
      }
    });
  });

  describe(`a query's digits found one stretch of the list at a time on ${kind} (candidatesInListBuckets)`, () => {
    let store: Store;
    // First characters from every bucket: before `a`, each letter, past `z` in ASCII, and past ASCII in each of the four.
    const FIRSTS = ['3rd', '!Bang', 'Émile', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `${c.toUpperCase()}ara`), '~Tilde', 'Øyvind', 'Ольга', '山田', '한국', '😀 Happy'];
    const random = seededRandom(20261207);
    // 3,000 customers, one number in three ending in `3447`; the text holds it too in a few: an address, an id,
    // a name's word (rank 1) and a name's start (rank 0), and one customer's id is the query (rank 0).
    seededStore(
      kind,
      () =>
        Array.from({ length: 3000 }, (_, i) => {
          const first = FIRSTS[Math.floor(random() * FIRSTS.length)] as string;
          const display_name = i === 11 ? '3447 Club' : i === 12 ? `${first} 3447 Unit` : `${first} Holder ${i}`;
          const digits = i % 3 === 0 ? `555${String(i / 3).padStart(3, '0')}3447` : `555${String(Math.floor(random() * 1e7)).padStart(7, '0')}`;
          return {
            customer_id: i === 13 ? '3447' : i === 14 ? `id-3447-${i}` : `c-${i}`,
            display_name,
            channels: [{ type: 'sms' as const, value: `+1${digits}` }, ...(i % 97 === 0 ? [{ type: 'email' as const, value: `n3447.${i}@example.org` }] : [])],
            workers: [i % 4 === 0 ? 'rep@example.com' : 'other@example.com'],
          };
        }),
      (seeded) => (store = seeded),
    );

    test('a sort key\'s bucket is the same in the service and on the server, and never decreases along the list', async () => {
      const samples = ['', ' ', '!', '0', '9', 'A', 'Z', '`', 'a', 'm', 'z', '{', '~', '\u007f', '\u0080', 'é', 'ø', 'Ω', 'о', '\u{407f}', '\u{4080}', '山', '\u{807f}', '\u{8080}', '한', '\u{c07f}', '\u{c080}', '\uffff', '😀', '\u{10ffff}'];
      for (let i = 0; i < 300; i++) {
        const point = Math.floor(random() * 0x110000);
        if (point > 0 && (point < 0xd800 || point > 0xdfff)) samples.push(`${String.fromCodePoint(point)}x`);
      }
      const { rows } = await sql<{ text: string; bucket: number[] }>`select t as text, fis_list_bucket(t) as bucket from unnest(${samples}::text[]) t`.execute(store.db);
      assert.equal(rows.length, samples.length);
      for (const row of rows) assert.deepEqual(row.bucket, [listBucket(row.text)], JSON.stringify(row.text));
      const inOrder = [...samples].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (let i = 1; i < inOrder.length; i++) assert.ok(listBucket(inOrder[i - 1] as string) <= listBucket(inOrder[i] as string), JSON.stringify(inOrder.slice(i - 1, i + 1)));
    });

    test('every page equals the scan\'s, by cursor, in a book and with all visible; with all visible the digits are asked for bucket by bucket', async () => {
      const walk = (read: typeof indexedSearchPage, scope: Scope, query: string, size: number) => searchPages(store, read, scope, query, size);
      for (const scope of [{ kind: 'worker', worker: 'rep@example.com' }, { kind: 'all' }] as const) {
        for (const size of [5, 31]) {
          for (const query of ['3447', '53447', '(555) 3447', '344', '4473']) {
            const scanned = await walk(scanSearchPage, scope, query, size);
            let walked: ListRow[][] = [];
            const asked = await statementsOf(store, async () => (walked = await walk(indexedSearchPage, scope, query, size)));
            assert.deepEqual(walked, scanned, `${query} (${scope.kind}, pages of ${size})`);
            if (query === '3447') {
              assert.ok(scanned.flat().length > (scope.kind === 'all' ? 900 : 200), `${query}: ${scanned.flat().length}`);
              // Every rank: a name's start and the id (0), a name's word (1), then the numbers and the address (2).
              const first = scanned.flat().slice(0, 3).map((row) => [row.customer_id, Number(row.rank)]);
              assert.deepEqual(first, scope.kind === 'all' ? [['c-11', 0], ['3447', 0], ['c-12', 1]] : [['c-12', 1], ...first.slice(1)]);
              assert.ok(scanned.flat().some((row) => row.customer_id === 'c-0' && Number(row.rank) === 2));
              // With every customer visible; a rep's book holds too few of each stretch's holders.
              assert.equal(asked.some((text) => text.includes('fis_list_bucket')), scope.kind === 'all', `${query} (${scope.kind}): asked by buckets`);
            }
          }
        }
      }
    });
  });
}

for (const kind of storeKinds()) {
  describe(`phone numbers found by their six-digit windows on ${kind} (phone-windows.ts)`, () => {
    let db: TestDatabase;
    let store: Store;
    const random = seededRandom(11);
    const digit = () => String(Math.floor(random() * 10));
    // Few distinct digits in places, so that windows and trigrams repeat across customers and numbers.
    const number = () => `+1${Array.from({ length: 10 }, (_, i) => (i < 4 ? '5' : digit())).join('')}`;
    const numbers: string[][] = [];
    const customer = (i: number, own: readonly string[]) => ({
      customer_id: `c-${i}`,
      display_name: `Customer ${i}`,
      channels: [...own, ...(i < 200 ? ['+18005550100'] : [])].map((value) => ({ type: 'sms' as const, value })),
      workers: ['rep@example.com'],
    });
    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
      for (let i = 0; i < 1500; i++) numbers.push(Array.from({ length: 1 + Math.floor(random() * 3) }, number));
      // 200 customers share one switchboard number: more than a cap of 40 may fetch.
      await seed(store, numbers.map((own, i) => customer(i, own)));
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    const holders = async (digits: string) =>
      (await sql<{ pk: number }>`select pk from customers where phone_digits like ${`%${digits}%`} order by pk`.execute(store.db)).rows.map((row) => Number(row.pk));
    const sorted = (pks: number[] | undefined) => pks?.map(Number).sort((a, b) => a - b);

    /** Every stored window against the ones the customers' numbers give (SQLite keeps them in a table). */
    async function assertWindowsKept(): Promise<void> {
      if (kind !== 'sqlite') return;
      const customers = await sql<{ pk: number; phone_digits: string }>`select pk, phone_digits from customers`.execute(store.db);
      const expected = new Set(customers.rows.flatMap((row) => windowsOf(row.phone_digits).map((win) => `${win}:${row.pk}`)));
      const stored = await sql<{ win: number; customer_pk: number }>`select win, customer_pk from customer_phone_windows`.execute(store.db);
      assert.deepEqual(new Set(stored.rows.map((row) => `${row.win}:${row.customer_pk}`)), expected);
      assert.equal(stored.rows.length, expected.size);
    }

    test('the windows: six digits at even offsets of each number, none across two numbers', async () => {
      assert.deepEqual(windowsOf('15550134 1234567 12345'), [155501, 550134, 123456]);
      assert.deepEqual(windowsOf(''), []);
      // A window starting with zeros is still six digits' worth: 012345 and 123450 are different windows.
      assert.deepEqual(windowsOf('0123450'), [12345]);
      assert.deepEqual(windowsAsked('5550134'), [555013, 550134]);
      if (kind === 'postgres') {
        const { rows } = await sql<{ w: number[]; e: number[]; z: number[] }>`select fis_phone_windows(${'15550134 1234567 12345'}) as w, fis_phone_windows('') as e, fis_phone_windows('0123450') as z`.execute(store.db);
        assert.deepEqual(rows[0], { w: [155501, 550134, 123456], e: [], z: [12345] });
      }
      await assertWindowsKept();
    });

    test('digits from any offset of any number, and digits across two numbers, find exactly the holders', async () => {
      let asked = 0;
      for (let i = 0; i < 400; i++) {
        const own = numbers[Math.floor(random() * numbers.length)] as string[];
        const digits = own.map((n) => n.slice(1)).join(' ');
        const length = 7 + Math.floor(random() * 5);
        const start = Math.floor(random() * Math.max(1, digits.length - length + 1));
        // Sometimes across the space between two numbers (the space dropped, as a query's digits have none).
        const query = digits.slice(start, start + length + 1).replace(' ', '').slice(0, length);
        if (!WINDOWED.test(query)) continue;
        asked++;
        const found = await customersContaining(store, [{ column: 'phone_digits', text: query }], 1500);
        assert.deepEqual(sorted(found), await holders(query), query);
      }
      assert.ok(asked > 300, `${asked} queries asked`);
      // A miss: no number holds it.
      assert.deepEqual(await customersContaining(store, [{ column: 'phone_digits', text: '9999999' }], 1500), []);
    });

    test('a number more customers share than the cap is common; under it, found', async () => {
      // 200 holders: past a cap of 40, within 1,500.
      assert.equal(await customersContaining(store, [{ column: 'phone_digits', text: '8005550100' }], 40), undefined);
      assert.deepEqual(sorted(await customersContaining(store, [{ column: 'phone_digits', text: '8005550100' }], 1500)), await holders('8005550100'));
    });

    test('every writer keeps them: a changed number, a deleted customer, one routing creates, a prune', async () => {
      // Re-imported with new numbers for the first 300 (and a number dropped for the next 100).
      const changed = numbers.map((own, i) => (i < 300 ? [number(), ...own.slice(1)] : i < 400 ? own.slice(0, 1) : own));
      await seed(store, changed.map((own, i) => customer(i, own)));
      await assertWindowsKept();
      await store.write((trx) => deleteCustomer(trx, 'c-7'));
      const routed = validateCustomer({ customer_id: 'routed-1', display_name: 'Routed', workers: ['rep@example.com'], channels: [{ type: 'sms', value: '+14155550123' }] }, { defaultCountry: 'US' });
      assert.ok(routed.ok);
      assert.equal(await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, routed.value)), 'created');
      await assertWindowsKept();
      for (const query of ['4155550123', (changed[3] as string[])[0]?.slice(2) as string, (numbers[3] as string[])[0]?.slice(2) as string, (changed[7] as string[])[0]?.slice(-8) as string]) {
        assert.deepEqual(sorted(await customersContaining(store, [{ column: 'phone_digits', text: query }], 1500)), await holders(query), query);
      }
      // Pruned to the first 1,000: the others' windows go with them.
      await seed(store, changed.slice(0, 1000).map((own, i) => customer(i, own)), { prune: true });
      await assertWindowsKept();
    });
  });
}

describe('names and addresses found by their five-digit windows on SQLite (phone-windows.ts)', () => {
  let db: TestDatabase;
  let store: Store;
  const random = seededRandom(12);
  // Few distinct digits, so that windows repeat across customers and runs.
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(random() * 3))).join('');
  const emails: string[][] = [];
  const customer = (i: number, own: readonly string[], name = `Customer ${i}`) => ({
    customer_id: `t-${i}`,
    display_name: name,
    channels: own.map((value) => ({ type: 'email' as const, value })),
    workers: ['rep@example.com'],
  });
  const address = (i: number) => pickOne([`ann${digits(4 + Math.floor(random() * 5))}@example.com`, `${digits(6)}.${digits(5)}@x${i % 7}.org`, `bob@example.com`]);
  const pickOne = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db);
    for (let i = 0; i < 1200; i++) emails.push(Array.from({ length: Math.floor(random() * 3) }, () => address(i)));
    await seed(store, emails.map((own, i) => customer(i, own, i % 50 === 0 ? `Agent 00${digits(5)}` : `Customer ${i}`)));
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  const holders = async (fragment: string) =>
    (await sql<{ pk: number }>`select pk from customers where instr(search_text, ${fragment}) > 0 order by pk`.execute(store.db)).rows.map((row) => Number(row.pk));
  const sorted = (pks: number[] | undefined) => pks?.map(Number).sort((a, b) => a - b);

  /** Every stored window against the ones the customers' texts give. */
  async function assertWindowsKept(): Promise<void> {
    const customers = await sql<{ pk: number; search_text: string }>`select pk, search_text from customers`.execute(store.db);
    const expected = new Set(customers.rows.flatMap((row) => textWindowsOf(row.search_text).map((win) => `${win}:${row.pk}`)));
    const stored = await sql<{ win: number; customer_pk: number }>`select win, customer_pk from customer_text_windows`.execute(store.db);
    assert.deepEqual(new Set(stored.rows.map((row) => `${row.win}:${row.customer_pk}`)), expected);
    assert.equal(stored.rows.length, expected.size);
  }

  test('the windows: every five consecutive digits, at every offset', async () => {
    assert.deepEqual(textWindowsOf('ann 0123456\nx12345@y.org 1234'), [1234, 12345, 23456]);
    assert.deepEqual(textWindowsOf('no digits, 1234 and 9'), []);
    assert.equal(textWindowAsked('son123456@'), 12345);
    assert.equal(textWindowAsked('00012'), 12);
    assert.equal(textWindowAsked('1234@5678'), undefined);
    await assertWindowsKept();
  });

  test('fragments with five digits find exactly the holders; a common window is common', async () => {
    let asked = 0;
    for (let i = 0; i < 5000 && asked < 300; i++) {
      const own = emails[Math.floor(random() * emails.length)] as string[];
      const text = own.join(' ');
      const length = 5 + Math.floor(random() * 8);
      const start = Math.floor(random() * Math.max(1, text.length - length + 1));
      const fragment = text.slice(start, start + length);
      if (textWindowAsked(fragment) === undefined) continue;
      asked++;
      assert.deepEqual(sorted(await customersContaining(store, [{ column: 'search_text', text: fragment }], 1500)), await holders(fragment), fragment);
    }
    assert.equal(asked, 300);
    assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: '99999@' }], 1500), []);
    // Three digits make 243 windows of five: `00000` is in many texts, more than a cap of 5.
    const many = (await holders('00000')).length;
    assert.ok(many > 5, `${many} hold 00000`);
    assert.equal(await customersContaining(store, [{ column: 'search_text', text: '00000' }], 5), undefined);
    assert.deepEqual(sorted(await customersContaining(store, [{ column: 'search_text', text: '00000' }], 1500)), await holders('00000'));
  });

  test('every writer keeps them: a changed address, a deleted customer, one routing creates, a prune', async () => {
    // Re-imported with new addresses for the first 300 (and an address dropped for the next 100).
    const changed = emails.map((own, i) => (i < 300 ? [address(i), ...own.slice(1)] : i < 400 ? own.slice(0, 1) : own));
    await seed(store, changed.map((own, i) => customer(i, own)));
    await assertWindowsKept();
    await store.write((trx) => deleteCustomer(trx, 't-7'));
    const routed = validateCustomer(
      { customer_id: 'routed-1', display_name: 'Routed 777777', workers: ['rep@example.com'], channels: [{ type: 'email', value: 'r.1234567@example.com' }] },
      { defaultCountry: 'US' },
    );
    assert.ok(routed.ok);
    assert.equal(await store.write((trx) => createCustomerIfAbsent(trx, store.bulk, routed.value)), 'created');
    await assertWindowsKept();
    for (const fragment of ['1234567@', '777777', (changed[3] as string[])[0] ?? '00000', (emails[3] as string[])[0] ?? '11111']) {
      if (textWindowAsked(fragment) === undefined) continue;
      assert.deepEqual(sorted(await customersContaining(store, [{ column: 'search_text', text: fragment }], 1500)), await holders(fragment), fragment);
    }
    // Pruned to the first 1,000: the others' windows go with them.
    await seed(store, changed.slice(0, 1000).map((own, i) => customer(i, own)), { prune: true });
    await assertWindowsKept();
  });

  test("an import writes its new customers' windows as it goes, a hold at a time; the catch-up reads none back", async () => {
    const records = Array.from({ length: 45 }, (_, i) => {
      const result = validateCustomer(
        {
          customer_id: `held-${i}`,
          display_name: `Held ${digits(6)}`,
          workers: ['rep@example.com'],
          channels: [
            { type: 'email', value: `h.${digits(7)}@example.com` },
            { type: 'sms', value: `+1555${digits(7)}` },
          ],
        },
        { defaultCountry: 'US' },
      );
      assert.ok(result.ok);
      return result.value;
    });
    const held = (since: number, table: string) => sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where customer_pk > ${since}`;
    await store.write(async (trx) => {
      const seq = await nextImportSeq(trx);
      assert.ok(await deferSearchIndex(trx, 'sqlite'));
      const since = Number((await sql<{ since: number }>`select since_pk as since from search_index_deferred`.execute(trx)).rows[0]?.since);
      // A hold of 7 customers: written after each batch of 10.
      const windows = new InsertedWindows(windowsConnection(trx), since, 7);
      const writer = customerWriter(trx, store.bulk, seq, { insertedWindows: windows });
      await writer.write(customerRows(records.slice(0, 10)));
      assert.ok(Number((await held(since, 'customer_phone_windows').execute(trx)).rows[0]?.n) >= 10, 'the first batch is written already');
      for (let i = 10; i < records.length; i += 10) await writer.write(customerRows(records.slice(i, i + 10)));
      await writer.finish();
      const last = Number((await sql<{ pk: number }>`select max(pk) as pk from customers`.execute(trx)).rows[0]?.pk);
      assert.equal(last - since, records.length);
      // Past every customer written: the catch-up's fill reads none of them back.
      assert.equal(Number((await sql<{ since: number }>`select since_pk as since from search_index_deferred`.execute(trx)).rows[0]?.since), last);
      await catchUpSearchIndex(trx, 'sqlite');
    });
    await assertWindowsKept();
    const customers = await sql<{ pk: number; phone_digits: string }>`select pk, phone_digits from customers`.execute(store.db);
    const expected = new Set(customers.rows.flatMap((row) => windowsOf(row.phone_digits).map((win) => `${win}:${row.pk}`)));
    const stored = await sql<{ win: number; customer_pk: number }>`select win, customer_pk from customer_phone_windows`.execute(store.db);
    assert.deepEqual(new Set(stored.rows.map((row) => `${row.win}:${row.customer_pk}`)), expected);
    for (const record of records.slice(0, 5)) {
      const fragment = record.phoneDigits.slice(1, 9);
      const holders = await sql<{ pk: number }>`select pk from customers where instr(phone_digits, ${fragment}) > 0 order by pk`.execute(store.db);
      assert.deepEqual(sorted(await customersContaining(store, [{ column: 'phone_digits', text: fragment }], 1500)), holders.rows.map((row) => Number(row.pk)), fragment);
    }
  });
});

describe('sampled rows containing a fragment', () => {
  test('counts texts, each once, up to the count asked for', () => {
    const texts = new SampledTexts(['ann smith\nann@smith.example', 'bob smith smith', 'smithers']);
    assert.equal(texts.containing('smith', 10), 3);
    assert.equal(texts.containing('smith', 2), 2);
    // A line break is inside one text (between its name and an address): a fragment never holds one, but
    // the text's two parts count once.
    assert.equal(texts.containing('ann', 10), 1);
    assert.equal(texts.containing(`h${SAMPLE_SEPARATOR}b`, 10), 0);
    assert.equal(texts.containing('hb', 10), 0);
    assert.equal(texts.containing('zed', 10), 0);
    assert.equal(texts.containing('', 10), 0);
    // Asked again: the same counts, from the lists kept.
    assert.equal(texts.containing('smith', 10), 3);
    assert.equal(texts.containing('mith smit', 10), 1);
  });
});

describe('sampled rows holding every part as pg_trgm indexes them', () => {
  test('three characters anywhere; a word start at the start of a word, the text’s first included', () => {
    const texts = new SampledTexts(['ann smith\nann@smith.example', 'bob marie-anne', 'joanna', 'dan annan', 'émile anne', 'léann']);
    assert.equal(texts.holdingAll(['ann'], 10), 6);
    // A word starting `an`: at the text's start, after a space or a hyphen; not inside `joanna` or `léann`.
    assert.equal(texts.holdingAll([' an'], 10), 4);
    assert.equal(texts.holdingAll([' an', 'smi'], 10), 1);
    assert.equal(texts.holdingAll([' an', 'ann'], 2), 2);
    // A word ending `an`: before the text's end or a separator (`dan`, `annan`); not inside `anna` or `anne`.
    assert.equal(texts.holdingAll(['an '], 10), 1);
    // Ending `nn`: `ann` before a line break, `léann` at the text's end; with a word starting `an`, the first.
    assert.equal(texts.holdingAll(['nn '], 10), 2);
    assert.equal(texts.holdingAll(['nn ', ' an'], 10), 1);
    assert.equal(texts.holdingAll(['zed'], 10), 0);
    assert.equal(texts.holdingAll([], 10), 0);
  });

  test('a word starts after any character that is no letter or digit, in ASCII and beyond', () => {
    const texts = new SampledTexts(['x_anna', 'r2anna', 'zanna', 'é.anna', 'éanna', '\u{1f600}anna', 'Zanna']);
    // After `_`, `.` and an emoji: word starts; after `2`, `z`, `é` and `Z`: inside a word.
    assert.equal(texts.holdingAll([' an'], 10), 3);
    assert.equal(texts.holdingAll(['nna', ' an'], 10), 3);
    assert.equal(texts.holdingAll([' an', 'nna', ' x'], 10), 1);
  });
});

describe('SampledTexts against a read of every sampled text', () => {
  // The plain reading the lists replaced: every text, one after the other.
  const startsWord = (text: string, at: number) => at === 0 || !/[\p{L}\p{N}]/u.test(text[at - 1] as string);
  const endsWord = (text: string, at: number) => at >= text.length || !/[\p{L}\p{N}]/u.test(text[at] as string);
  // ` ab`: a word starts with `ab`; `ab `: one ends with it; otherwise the characters anywhere.
  const holds = (text: string, trigram: string) => {
    const start = trigram.startsWith(' ');
    const end = !start && trigram.endsWith(' ');
    const characters = start ? trigram.trimStart() : end ? trigram.trimEnd() : trigram;
    if (characters === '') return false;
    if (!start && !end) return text.includes(characters);
    for (let at = text.indexOf(characters); at >= 0; at = text.indexOf(characters, at + 1)) {
      if (start ? startsWord(text, at) : endsWord(text, at + characters.length)) return true;
    }
    return false;
  };
  const containing = (texts: readonly string[], fragment: string, atMost: number) =>
    fragment === '' ? 0 : Math.min(texts.filter((text) => text.includes(fragment)).length, atMost);
  const holdingAll = (texts: readonly string[], trigrams: readonly string[], atMost: number) =>
    trigrams.length === 0 ? 0 : Math.min(texts.filter((text) => trigrams.every((trigram) => holds(text, trigram))).length, atMost);

  test('the same counts for thousands of fragments and parts drawn from awkward texts', () => {
    let state = 7;
    const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
    const words = ['ann', 'anna', 'joanna', 'smith', 'smithers', 'o\'neil', 'zoë', 'émile', 'müller', '100%', 'a_b', 'c\\d', '😀x', 'x', 'ab', '555', '0134', 'mple.or'];
    const texts = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(words)).join(pick([' ', '-', '.', '\n', '@', ''])),
    );
    const sampled = new SampledTexts(texts);
    let nonzero = 0;
    for (let i = 0; i < 3000; i++) {
      const text = pick(texts);
      const from = Math.floor(random() * text.length);
      const fragment = text.slice(from, from + 1 + Math.floor(random() * 8));
      const atMost = pick([0, 1, 5, 50, 1000]);
      assert.equal(sampled.containing(fragment, atMost), containing(texts, fragment, atMost), `containing ${JSON.stringify(fragment)}`);
      const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const at = Math.floor(random() * text.length);
        const kind = random();
        return kind < 0.3 ? ` ${text.slice(at, at + 2)}` : kind < 0.6 ? `${text.slice(at, at + 2)} ` : text.slice(at, at + 3);
      });
      const count = holdingAll(texts, parts, atMost);
      if (count > 0) nonzero++;
      assert.equal(sampled.holdingAll(parts, atMost), count, `holdingAll ${JSON.stringify(parts)}`);
    }
    assert.ok(nonzero > 1000, `${nonzero} of the part sets were held by some text`);
  });
});

describe('the search blocks holding every bit of a fragment, one bit a block', () => {
  test('the same blocks as a test of each block’s bits, for random blocks and bit sets, asked once and again', () => {
    let state = 11;
    const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const BITS = 512;
    for (const count of [0, 1, 31, 32, 33, 100]) {
      // Blocks from nearly empty to nearly full, as a store's are.
      const bits = Array.from({ length: count }, () => {
        const density = random();
        const block = Buffer.alloc(BITS / 8);
        for (let bit = 0; bit < BITS; bit++) if (random() < density) block[bit >> 3] = (block[bit >> 3] as number) | (0x80 >> (bit & 7));
        return block;
      });
      const kept = { version: '1', prefixes: bits.map((_, i) => String(i)), bits, byBit: new Map<number, Uint32Array>() };
      const hasBit = (block: Buffer, bit: number) => ((block[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0;
      let held = 0;
      for (let i = 0; i < 400; i++) {
        const asked = Array.from({ length: Math.floor(random() * 8) }, () => Math.floor(random() * BITS));
        const expected = bits.flatMap((block, index) => (asked.every((bit) => hasBit(block, bit)) ? [index] : []));
        for (let again = 0; again < 2; again++) {
          const words = blocksHoldingBits(kept, asked);
          assert.equal(words.length, Math.ceil(count / 32));
          const got = [...words].flatMap((word, w) => Array.from({ length: 32 }, (_, b) => b).filter((b) => ((word >>> b) & 1) === 1).map((b) => w * 32 + b));
          assert.deepEqual(got, expected, `blocks ${count}, bits ${JSON.stringify(asked)}`);
          assert.equal([...words].reduce((sum, word) => sum + bitCount(word), 0), expected.length, 'counted as many');
        }
        if (expected.length > 0 && asked.length > 0) held++;
      }
      if (count >= 32) assert.ok(held > 50, `${held} bit sets were held by some block`);
    }
  });
});

describe('the share of the list in search blocks whose sampled texts hold a fragment', () => {
  // Six sampled customers in three blocks (starting at `a`, `h` and `p`): two, three and one of them.
  const texts = ['ann smith', 'bob smith', 'hal jones', 'ida smithers', 'jo ann', 'pat jones'];
  const blocks = sampledBlocks(texts, texts, ['a', 'h', 'p'].map((prefix) => Buffer.from(prefix)));

  test('each block holding it counts its share once, however many of its texts hold it', () => {
    assert.equal(blocks.share('smith', 1), 2 / 6 + 3 / 6);
    assert.equal(blocks.share('jones', 1), 3 / 6 + 1 / 6);
    assert.equal(blocks.share('ann', 1), 2 / 6 + 3 / 6);
    assert.equal(blocks.share('pat', 1), 1 / 6);
    assert.equal(blocks.share('s jon', 1), 0);
    assert.equal(blocks.share('zed', 1), 0);
    assert.equal(blocks.share('', 1), 0);
    // No fragment spans two texts, nor two blocks.
    assert.equal(blocks.share(`smith${SAMPLE_SEPARATOR}hal`, 1), 0);
    assert.equal(blocks.share('smithhal', 1), 0);
  });

  test('the count stops once past the share asked for', () => {
    assert.ok(blocks.share('smith', 0.3) > 0.3);
    assert.equal(blocks.share('jones', 0.9), 4 / 6);
  });
});

describe('trigram counts remembered on SQLite', () => {
  let db: TestDatabase;
  let store: Store;
  const person = (i: number, name: string) => ({ customer_id: `p-${i}`, display_name: name, workers: ['rep@example.com'] });
  const pkOf = async (customerId: string) =>
    Number((await sql<{ pk: number }>`select pk from customers where customer_id = ${customerId}`.execute(store.db)).rows[0]?.pk);
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db);
    await seed(store, Array.from({ length: 200 }, (_, i) => person(i, i % 10 === 0 ? `Ann Smith ${i}` : `Bob Jones ${i}`)));
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a trigram no customer had is counted again: a customer written since is found', async () => {
    assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: 'qzxw' }], 1500), []);
    await seed(store, [person(1000, 'Qzxw Lee')]);
    assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: 'qzxw' }], 1500), [await pkOf('p-1000')]);
  });

  test('a remembered count that has grown chooses the plan, never the answer', async () => {
    // `smith` is counted (20 customers) and remembered; then 2,000 more Smiths arrive.
    assert.equal((await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 1500))?.length, 20);
    await seed(store, Array.from({ length: 2000 }, (_, i) => person(2000 + i, `Cy Smith ${i}`)));
    assert.equal(await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 1500), undefined);
    assert.equal((await customersContaining(store, [{ column: 'search_text', text: 'smith' }], 4000))?.length, 2020);
    // And one that has shrunk: the Joneses are pruned away, the remembered count still says 180.
    await seed(store, [person(1000, 'Qzxw Lee')], { prune: true });
    assert.deepEqual(await customersContaining(store, [{ column: 'search_text', text: 'jones' }], 1500), []);
  });
});

describe('trigram counts stored on SQLite (migration 20261207T1500)', () => {
  let db: TestDatabase;
  let store: Store;
  const person = (i: number, name: string, worker = 'rep@example.com') => ({
    customer_id: `s-${i}`,
    display_name: name,
    channels: [{ type: 'email' as const, value: `${name.toLowerCase().replace(/ /g, '.')}@example.com` }],
    workers: [worker],
  });
  const stored = async () =>
    (await sql<{ term: string; doc: number }>`select term, doc from search_trigram_counts order by term`.execute(store.db)).rows;
  const indexed = async () =>
    (await sql<{ term: string; doc: number }>`select term, doc from customer_search_text_terms order by term`.execute(store.db)).rows;
  const madeAt = async () => Number((await sql<{ customers: number }>`select customers from search_trigram_counts_made`.execute(store.db)).rows[0]?.customers);
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db);
    await seed(store, Array.from({ length: 200 }, (_, i) => person(i, i % 10 === 0 ? `Ann Smith ${i}` : `Bob Jones ${i}`, i % 2 ? 'a@example.com' : 'b@example.com')));
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a first import stores the index\'s counts; a small import leaves them behind, one that writes a fifth of the store counts again', async () => {
    assert.deepEqual(await stored(), await indexed());
    assert.equal(await madeAt(), 200);
    // 10 customers into 200: under a fifth. Their trigrams (`qzx`) are not stored; the others' counts lag.
    await seed(store, Array.from({ length: 10 }, (_, i) => person(1000 + i, `Qzxw Lee ${i}`)));
    assert.equal((await stored()).some((t) => t.term === 'qzx'), false);
    assert.notDeepEqual(await stored(), await indexed());
    assert.equal(await madeAt(), 200);
    // 60 more into 210: at least a fifth of the 270 after it.
    await seed(store, Array.from({ length: 60 }, (_, i) => person(2000 + i, `Qzxw Ng ${i}`)));
    assert.deepEqual(await stored(), await indexed());
    assert.equal(await madeAt(), 270);
  });

  test('a search takes a stored count above 64 as it is, and counts on the index one stored at 64 or under, so a zero is the index\'s own', async () => {
    // Every real count here is at most 270: "held widely" (more than 65,536) only by the stored counts.
    const smith = { column: 'search_text' as const, text: 'smith' };
    assert.equal(heldWidely(store, smith), false);
    await sql`update search_trigram_counts set doc = 1000000`.execute(store.db);
    forgetTrigramCounts(store);
    assert.equal(heldWidely(store, smith), true);
    // Stored at 64 or under (here none, as though every holder were gone), a trigram is counted on the index:
    // a zero ends a search, so only the index's own is believed.
    await sql`update search_trigram_counts set doc = 0`.execute(store.db);
    forgetTrigramCounts(store);
    assert.equal(heldWidely(store, smith), false);
    assert.equal((await customersContaining(store, [smith], 1500))?.length, 20);
  });

  test('every character of a fragment is in an asked trigram, unless the only trigrams holding it are stored as held too widely', async () => {
    // `ann smith 1`: its first three trigrams the rarest, the rest held widely, the last (`h 1`) by a million;
    // counted when the store held a million customers (so that an eighth of it is 125,000).
    const counts: Record<string, number> = { ann: 100, 'nn ': 100, 'n s': 100, ' sm': 70_000, smi: 70_000, mit: 80_000, ith: 70_000, 'th ': 90_000, 'h 1': 1_000_000 };
    await sql`delete from search_trigram_counts`.execute(store.db);
    for (const [term, doc] of Object.entries(counts)) await sql`insert into search_trigram_counts (term, doc) values (${term}, ${doc})`.execute(store.db);
    await sql`update search_trigram_counts_made set customers = 1000000`.execute(store.db);
    forgetTrigramCounts(store);
    const query = listOrderQuery(store, [{ column: 'search_text', text: 'ann smith 1' }]);
    assert.ok(query !== 'nobody' && query !== 'common' && query.fts !== undefined);
    const asked = [...query.fts.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    // The three rarest, then the rarest holding each character left: ` sm` (m), `smi` (i), `ith` (t, h), `th `
    // (the space); nothing for the last character, held only by `h 1`.
    assert.deepEqual(asked.sort(), ['ann', 'nn ', 'n s', ' sm', 'smi', 'ith', 'th '].sort());
    // Counted when the store held 400,000: each of those is held by more than an eighth of it, and tells too few apart.
    await sql`update search_trigram_counts_made set customers = 400000`.execute(store.db);
    forgetTrigramCounts(store);
    const wider = listOrderQuery(store, [{ column: 'search_text', text: 'ann smith 1' }]);
    assert.deepEqual(wider, { fts: '"ann" AND "nn " AND "n s"', fewerThan: 101 });
    const search = searchTerms('ann smith 1', 'US');
    for (const scope of [{ kind: 'worker', worker: 'b@example.com' }, { kind: 'all' }] as Scope[]) {
      assert.deepEqual(await indexedSearchPage(store, scope, search, undefined, 30), await scanSearchPage(store, scope, search, undefined, 30));
    }
  });

  test('counts that lag behind the store (wrong on purpose) choose plans, never answers: every page is the scan\'s', async () => {
    const queries = ['smith', 'ann smith 1', 'jones', 'bob.jones', 'qzxw', 'qzxw ng 5', 'mith 1', 'xample.c', 'zzqx', 'nes 19', 'lee 3'];
    const scopes: Scope[] = [{ kind: 'worker', worker: 'a@example.com' }, { kind: 'worker', worker: 'rep@example.com' }, { kind: 'all' }];
    // Every trigram held by a million, by 65 (just above the counted pass), or by a few hundred; and a
    // trigram no customer holds (`zzq`) stored as held by 500.
    for (const doc of [1_000_000, 65, 300]) {
      await sql`update search_trigram_counts set doc = ${doc}`.execute(store.db);
      await sql`insert or replace into search_trigram_counts (term, doc) values ('zzq', 500)`.execute(store.db);
      forgetTrigramCounts(store);
      for (const query of queries) {
        const search = searchTerms(query, 'US');
        for (const scope of scopes) {
          for (const limit of [1, 7, 30]) {
            let after: Cursor | undefined;
            for (let page = 0; page < 4; page++) {
              const expected = await scanSearchPage(store, scope, search, after, limit);
              const got = await indexedSearchPage(store, scope, search, after, limit);
              assert.deepEqual(got, expected, `${query} ${JSON.stringify(scope)} ${limit} page ${page} (stored ${doc})`);
              const last = got.at(-1);
              if (got.length < limit || !last) break;
              after = { rank: last.rank, sortKey: last.sort_key, customerId: last.customer_id };
            }
          }
        }
      }
    }
  });
});

describe('how common a short fragment may be and still be streamed (streamBoundFor)', () => {
  test('400,000 entries and 32 terms up to 1,000,000 customers, the entries in proportion past it', () => {
    for (const customers of [0, 10_000, 1_000_000]) assert.deepEqual(streamBoundFor(customers), { entries: 400_000, terms: 32 });
    assert.deepEqual(streamBoundFor(2_500_000), { entries: 1_000_000, terms: 32 });
    assert.deepEqual(streamBoundFor(10_000_000), { entries: 4_000_000, terms: 32 });
  });
});

describe('one- and two-character fragments on SQLite (migration 20261203T0100)', () => {
  let db: TestDatabase;
  let store: Store;
  const random = seededRandom(20261203);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Awkward characters, some rare: a fragment of them is found only through the index's terms.
  const LETTERS = [..."aeinorst", 'ø', 'é', "'", '%', '_', '\\', '😀', 'q', 'z', ' '];
  const word = () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(LETTERS)).join('');
  const person = (i: number) => ({
    customer_id: `s-${i}`,
    // Very short names too (one character: its only occurrence is at the end of the text).
    display_name: i % 7 === 0 ? pick(LETTERS).trim() || 'x' : `${word()} ${word()}`.trim() || 'y',
    ...(i % 3 === 0 ? { channels: [{ type: 'email' as const, value: `${word().replace(/[^a-z]/g, '') || 'm'}${i}@ex.org` }] } : {}),
    workers: ['rep@example.com'],
  });
  /**
   * The customers whose text, as the index stores it, holds the fragment as the index stores it (final
   * sigma is sigma there: see asStored): what the index names. It includes every customer whose text
   * holds the fragment itself (`instr`), which is checked too: the rows are what the search re-checks.
   */
  const containing = async (text: string) => {
    const rows = (await sql<{ pk: number; search_text: string }>`select pk, search_text from customers order by pk`.execute(store.db)).rows;
    const named = rows.filter((r) => asStored(r.search_text).includes(asStored(text))).map((r) => Number(r.pk));
    const exact = (await sql<{ pk: number }>`select pk from customers where instr(search_text, ${text}) > 0`.execute(store.db)).rows;
    for (const { pk } of exact) assert.ok(named.includes(Number(pk)), `${JSON.stringify(text)}: ${pk}`);
    return named;
  };
  const found = async (text: string, cap: number) => (await customersContaining(store, [{ column: 'search_text', text }], cap))?.sort((a, b) => a - b);
  const fragments = async () => {
    const texts = (await sql<{ search_text: string }>`select search_text from customers`.execute(store.db)).rows.map((r) => r.search_text);
    const all = new Set<string>();
    for (const text of texts) {
      const chars = [...text];
      for (let i = 0; i < chars.length; i++) {
        all.add(chars[i] as string);
        if (i + 1 < chars.length) all.add(`${chars[i]}${chars[i + 1]}`);
      }
    }
    // And some no customer holds.
    for (const miss of ['ü', 'zz', 'q😀', '\\\\']) all.add(miss);
    return [...all].filter((f) => !f.includes('\n'));
  };
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db);
    // A bulk import indexes its new customers at its end (search-index.ts, catchUpSearchIndex).
    // Final sigma: the tokenizer stores it as σ (see asStored), so `ς` names the customers with σ too.
    const greek = [
      { customer_id: 'g-1', display_name: 'Ὀδυσσεύς', workers: ['rep@example.com'] },
      { customer_id: 'g-2', display_name: 'Σίσυφος Ας', workers: ['rep@example.com'] },
      { customer_id: 'g-3', display_name: 'Σ', workers: ['rep@example.com'] },
    ];
    await seed(store, [...Array.from({ length: 400 }, (_, i) => person(i)), ...greek]);
  });

  test('every character our folding keeps is stored by the tokenizer as asStored says', () => {
    const memory = new Database(':memory:');
    try {
      memory.exec("create virtual table t using fts5(x, tokenize='trigram', detail='none'); create virtual table v using fts5vocab(t, 'row')");
      const kept: string[] = [];
      for (let cp = 0x20; cp <= 0x10ffff; cp++) {
        if (cp >= 0xd800 && cp <= 0xdfff) continue;
        const c = String.fromCodePoint(cp);
        if (fold(`a${c}a`) === `a${c}a`) kept.push(c);
      }
      const insert = memory.prepare('insert into t(rowid, x) values (?, ?)');
      memory.transaction(() => kept.forEach((c, i) => insert.run(i + 1, `${c}\n\n`)))();
      const terms = new Set(memory.prepare('select term from v').pluck().all() as string[]);
      const differ = kept.filter((c) => !terms.has(`${asStored(c)}\n\n`)).map((c) => `U+${(c.codePointAt(0) as number).toString(16)}`);
      assert.deepEqual(differ, []);
      assert.ok(kept.length > 100_000, `${kept.length} characters`);
    } finally {
      memory.close();
    }
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('every fragment names exactly the customers containing it; a common one is "more than the cap"', async () => {
    let checked = 0;
    for (const fragment of await fragments()) {
      const expected = await containing(fragment);
      assert.deepEqual(await found(fragment, 100_000), expected, JSON.stringify(fragment));
      // With a small cap: exactly them when they are few, "more" (undefined) otherwise, never a wrong list.
      const capped = await found(fragment, 10);
      if (capped !== undefined) assert.deepEqual(capped, expected, JSON.stringify(fragment));
      if (expected.length > 10) assert.equal(capped, undefined, JSON.stringify(fragment));
      checked++;
    }
    assert.ok(checked > 100, `${checked} fragments`);
  });

  test('after updates (re-import with renames, prune) and single inserts, still exactly them; the index checks against its content', async () => {
    // Renames go through the update trigger, the pruned through the delete trigger; a single insert
    // (as routing's auto-create does) through the insert trigger.
    const changed = Array.from({ length: 400 }, (_, i) => person(i % 3 === 0 ? i + 1000 : i)).filter((_, i) => i % 5 !== 0);
    await seed(store, changed, { prune: true });
    await sql`insert into customers (customer_id, display_name, sort_key, channels, links, search_text, phone_digits)
      values ('lone', 'Noa', 'noa', '[]', '[]', 'noa', '')`.execute(store.db);
    assert.deepEqual(await found('oa', 100), await containing('oa'));
    assert.ok((await containing('oa')).length >= 1);
    for (const fragment of await fragments()) assert.deepEqual(await found(fragment, 100_000), await containing(fragment), JSON.stringify(fragment));
    const driver = store.driver;
    if (driver.kind === 'sqlite') {
      for (const table of ['customer_search_text', 'customer_search_digits']) {
        driver.database.prepare(`insert into ${table}(${table}, rank) values ('integrity-check', 1)`).run();
      }
    }
  });
});

describe('upgrading a SQLite store to migrations 20261203T0100 and 20261203T1900', () => {
  test('the customers already stored are found by one- and two-character fragments, and the index checks', async () => {
    const db = await createTestDatabase('sqlite');
    const store = openStore(testConfig(db));
    try {
      const migrator = new Migrator({
        db: store.db,
        provider: { getMigrations: async () => migrations(store.dialect) },
        disableTransactions: true,
      });
      const before = await migrator.migrateTo('20261202T1700-search-covering-indexes');
      assert.equal(before.error, undefined);
      for (const [id, name, text] of [['a', 'Noa', 'noa'], ['b', 'Øyvind Lee', 'oyvind lee\nø@ex.org'], ['c', 'Bo', 'bo']]) {
        await sql`insert into customers (customer_id, display_name, sort_key, channels, links, search_text, phone_digits)
          values (${id}, ${name}, ${text.split('\n')[0]}, '[]', '[]', ${text}, '')`.execute(store.db);
      }
      assert.deepEqual(await migrateToLatest(store), ['20261203T0100-search-text-ends', '20261203T1900-search-list-order', '20261204T2000-search-digits-merged', '20261205T0100-search-blocks', '20261206T0100-deferred-indexes', '20261206T0300-sqlite-one-list-index', '20261206T0500-search-blocks-cut', '20261206T0700-phone-windows', '20261206T0900-sqlite-phone-windows', '20261206T1300-search-blocks-version', '20261206T1500-sqlite-text-windows', '20261206T1700-search-blocks-characters', '20261206T1900-sqlite-digits-list-order', '20261207T0500-pg-search-list-buckets', '20261207T1000-pg-book-digits-index', '20261207T1400-sqlite-list-pos-places', '20261207T1500-sqlite-trigram-counts']);
      const ids = async (text: string) => {
        const pks = (await customersContaining(store, [{ column: 'search_text', text }], 100)) ?? [];
        if (pks.length === 0) return [];
        return (await sql<{ customer_id: string }>`select customer_id from customers where pk in (${sql.join(pks)}) order by customer_id`.execute(store.db)).rows.map(
          (r) => r.customer_id,
        );
      };
      assert.deepEqual(await ids('oa'), ['a']);
      assert.deepEqual(await ids('o'), ['a', 'b', 'c']);
      assert.deepEqual(await ids('ø'), ['b']);
      assert.deepEqual(await ids('bo'), ['c']);
      assert.deepEqual(await ids('e'), ['b']);
      const driver = store.driver;
      if (driver.kind === 'sqlite') driver.database.prepare("insert into customer_search_text(customer_search_text, rank) values ('integrity-check', 1)").run();
      // And back down through both: the index of migration 20261202T0100 again.
      const down = await migrator.migrateTo('20261202T1700-search-covering-indexes');
      assert.equal(down.error, undefined);
      if (driver.kind === 'sqlite') driver.database.prepare("insert into customer_search_text(customer_search_text, rank) values ('integrity-check', 1)").run();
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
