/**
 * SQLite's list-order labels (migration 20261203T1900): every customer has a label, labels order like
 * (sort_key, customer_id), and the text index holds each customer's text under its label, whichever
 * writer wrote it: a first import, a re-import with a few or with many new and renamed customers, single
 * inserts crowded into one gap until it runs out (the window around them relabelled), a store whose
 * labels leave no room at all (every customer relabelled), renames and deletes. After each, the index
 * checks against its content and the search equals the scan.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import type { Store } from '../src/platform/db/connect.js';
import { openStore } from '../src/platform/db/connect.js';
import { migrateToLatest, migrations } from '../src/platform/db/migrate.js';
import { LABEL_TOP } from '../src/platform/db/migrations/20261203T1900-search-list-order.js';
import { indexedSearchPage, type ListRow, scanSearchPage, type Scope } from '../src/domains/customers/customer.repository.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import { heldWidely, listOrderQuery, shortListingKnown } from '../src/platform/db/search-index.js';
import type { Cursor } from '../src/domains/customers/page-token.js';
import { fold } from '../src/kernel/text.js';
import { createTestDatabase, openTestStore, seed, testConfig, type TestDatabase } from './helpers/stores.js';

/** Two of three have a number; the numbers share their endings (`555 01xx`), so a phone query names many. */
const person = (i: number, name: string) => ({
  customer_id: `p-${String(i).padStart(4, '0')}`,
  display_name: name,
  workers: ['rep@example.com'],
  ...(i % 3 === 2 ? {} : { channels: [{ type: 'sms' as const, value: `+1212${String(5550100 + (i % 37)).padStart(7, '0')}` }] }),
});
const NAMES = ['Ann Smith', 'Bob Jones', 'Carla Johnson', 'Dana Smithers', 'Eve Ohnson', 'Zoë Lee'];

function database(store: Store) {
  const driver = store.driver;
  if (driver.kind !== 'sqlite') throw new Error('SQLite only');
  return driver.database;
}

/** Every customer labelled, labels strictly increasing in list order and inside (0, LABEL_TOP); the index checks. */
function assertLabelled(store: Store): number {
  const db = database(store);
  const labels = db.prepare('select list_pos from customers order by sort_key, customer_id').pluck().safeIntegers(true).all() as Array<bigint | null>;
  let previous = 0n;
  labels.forEach((label, i) => {
    assert.notEqual(label, null, `customer ${i} in list order has no label`);
    assert.ok((label as bigint) > previous, `label ${i} (${label}) is not above the one before (${previous})`);
    previous = label as bigint;
  });
  assert.ok(previous < BigInt(LABEL_TOP));
  db.prepare("insert into customer_search_text(customer_search_text, rank) values ('integrity-check', 1)").run();
  db.prepare("insert into customer_search_digits(customer_search_digits, rank) values ('integrity-check', 1)").run();
  return labels.length;
}

/** Every page of `query` (every customer visible unless a scope is given), by the index or by the scan. */
async function pages(store: Store, query: string, read: typeof indexedSearchPage, scope: Scope = { kind: 'all' }, size = 7, most = Infinity): Promise<ListRow[][]> {
  const terms = searchTerms(query, 'US');
  const out: ListRow[][] = [];
  let after: Cursor | undefined;
  while (out.length < most) {
    const page = await read(store, scope, terms, after, size);
    if (page.length === 0) break;
    out.push(page);
    const last = page[page.length - 1] as ListRow;
    after = { rank: Number(last.rank), sortKey: last.sort_key, customerId: last.customer_id };
  }
  return out;
}

/** Every page of each query, in each scope, as the scan pages them (each query matching some customer). */
async function assertAsTheScan(store: Store, queries: readonly string[], scopes: readonly Scope[], size: number): Promise<void> {
  for (const scope of scopes) {
    for (const query of queries) {
      const expected = await pages(store, query, scanSearchPage, scope, size);
      assert.ok(expected.length > 0, `${query}: some match`);
      assert.deepEqual(await pages(store, query, indexedSearchPage, scope, size), expected, `${scope.kind} ${query}`);
    }
  }
}

async function assertSearchEqualsScan(store: Store): Promise<void> {
  // Three to six digits read the text and digits indexes together in label order (migration 20261206T1900);
  // `212 55` holds no trigram any text holds: the digits index alone.
  for (const query of ['smi', 'ohns', 'ohn', 'son', 'lee', 'mmm', 'a b', 'xyz', '555 0107', '5550111', '(212) 555-01', '0103', '99999', '555', '5550', '212 55', '0001']) {
    assert.deepEqual(await pages(store, query, indexedSearchPage), await pages(store, query, scanSearchPage), query);
  }
}

/**
 * What the text index is asked for `qz` (a listing of its terms) and `qzb` (a trigram's count), each asked
 * twice (the second from memory), then again after each write: a write must show at once.
 */
async function assertRememberedUntilWritten(store: Store): Promise<void> {
  const ids = async (query: string) => (await pages(store, query, indexedSearchPage)).flat().map((row) => row.customer_id);
  const asked = (text: string) => {
    const query = listOrderQuery(store, [{ column: 'search_text', text }]);
    return typeof query === 'string' ? query : query.fts;
  };
  for (let i = 0; i < 2; i++) assert.deepEqual([asked('qz'), asked('qzb')], ['nobody', 'nobody']);
  await insertOne(store, 'new-qz', 'Ann Aqzb');
  for (let i = 0; i < 2; i++) assert.deepEqual([asked('qz'), asked('qzb')], ['"qzb"', '"qzb"']);
  assert.deepEqual(await ids('qz'), ['new-qz']);
  assert.deepEqual(await ids('qzb'), ['new-qz']);
  await insertOne(store, 'new-qzx', 'Ann Qzx');
  assert.equal(asked('qz'), '"qzb" OR "qzx"');
  assert.deepEqual(await ids('qz'), ['new-qzx', 'new-qz']);
  await sql`delete from customers where customer_id in ('new-qz', 'new-qzx')`.execute(store.db);
  assert.equal(asked('qz'), 'nobody');
  assert.deepEqual(await ids('qz'), []);
}

const insertOne = (store: Store, id: string, name: string, digits = '') =>
  sql`insert into customers (customer_id, display_name, sort_key, channels, links, search_text, phone_digits)
    values (${id}, ${name}, ${fold(name)}, '[]', '[]', ${fold(name)}, ${digits})`.execute(store.db);

describe('SQLite: list-order labels under every writer', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db);
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a first import labels every customer in list order', async () => {
    await seed(store, Array.from({ length: 300 }, (_, i) => person(i, `${NAMES[i % NAMES.length]} ${i % 17}`)));
    assert.equal(assertLabelled(store), 300);
    await assertSearchEqualsScan(store);
  });

  test('a re-import with a few new and renamed customers places each; with many, every customer is labelled afresh', async () => {
    const few = Array.from({ length: 300 }, (_, i) => person(i, `${NAMES[i % NAMES.length]} ${i % 17}${i % 50 === 0 ? ' Mmm' : ''}`));
    await seed(store, [...few, person(900, 'Mmm Smith'), person(901, 'Aaa Ohnson')]);
    assert.equal(assertLabelled(store), 302);
    await assertSearchEqualsScan(store);
    const many = Array.from({ length: 700 }, (_, i) => person(i, `${NAMES[(i + 1) % NAMES.length]} ${i % 13}`));
    await seed(store, many, { prune: true });
    assert.equal(assertLabelled(store), 700);
    await assertSearchEqualsScan(store);
  });

  test('single inserts crowded into one gap relabel a window around it; at the start and the end too', async () => {
    // Each name sorts just after the one before and before every other: the gap halves each time.
    for (let i = 1; i <= 120; i++) await insertOne(store, `crowd-${i}`, `Carla Johnson 0${'0'.repeat(i)}`, i % 2 ? `1212555010${i % 10}` : '');
    for (let i = 1; i <= 70; i++) await insertOne(store, `first-${i}`, `!${String.fromCharCode(0x21 + 70 - i)}`);
    for (let i = 1; i <= 70; i++) await insertOne(store, `last-${i}`, `\u{10ffff}${'\u{10ffff}'.repeat(i)} smith`);
    assert.equal(assertLabelled(store), 960);
    await assertSearchEqualsScan(store);
  });

  test('when the labels leave no room anywhere, every customer is relabelled', async () => {
    const db = database(store);
    db.exec("insert into customer_search_text(customer_search_text) values ('delete-all')");
    db.exec("insert into customer_search_digits(customer_search_digits) values ('delete-all')");
    db.exec('update customers set list_pos = r.n from (select pk, row_number() over (order by sort_key, customer_id) as n from customers) r where customers.pk = r.pk');
    db.exec("insert into customer_search_text(rowid, search_text) select list_pos, search_text || char(10, 10) from customers order by list_pos");
    db.exec("insert into customer_search_digits(rowid, phone_digits) select list_pos, phone_digits from customers where phone_digits <> '' order by list_pos");
    assertLabelled(store);
    await insertOne(store, 'squeezed', 'Carla Johnson 00005');
    assert.equal(assertLabelled(store), 961);
    const spread = db.prepare('select max(list_pos) from customers').pluck().safeIntegers(true).get() as bigint;
    assert.ok(spread > 1_000_000n, `labels spread again (${spread})`);
    await assertSearchEqualsScan(store);
  });

  test('a short fragment\'s remembered terms, and a trigram no customer holds, are asked again once anything is written', async () => {
    await assertRememberedUntilWritten(store);
  });

  test('the same in a store in memory, whose one connection writes and reads', async () => {
    const memory = openStore(testConfig({ kind: 'sqlite', env: { DATABASE_URL: 'sqlite::memory:' }, drop: async () => {} }));
    try {
      await migrateToLatest(memory);
      await seed(memory, NAMES.map((name, i) => person(i, name)));
      await assertRememberedUntilWritten(memory);
    } finally {
      await memory.close();
    }
  });

  test('a short fragment whose terms are listed already is streamed at once, and gives the scan\'s pages', async () => {
    // `qy` is inside the names of a few customers at the end of the list, the rep's and others'.
    await seed(store, Array.from({ length: 40 }, (_, i) => ({ ...person(i, `Zz Aqy ${String(i).padStart(2, '0')}`), customer_id: `late-qy-${i}`, workers: [i % 2 ? 'rep@example.com' : 'other@example.com'] })));
    try {
      const fragment = { column: 'search_text' as const, text: 'qy' };
      for (const scope of [{ kind: 'all' }, { kind: 'worker', worker: 'rep@example.com' }] as const) {
        const scanned = await pages(store, 'qy', scanSearchPage, scope, 7);
        assert.equal(scanned.flat().length, scope.kind === 'all' ? 40 : 20);
        // Not listed: a first window (here: the whole small store) comes first.
        assert.equal(shortListingKnown(store, fragment), false);
        assert.deepEqual(await pages(store, 'qy', indexedSearchPage, scope, 7), scanned);
        // Listed (as a search whose first window fell short lists it): streamed at once, the same pages.
        assert.equal(typeof listOrderQuery(store, [fragment]), 'object');
        assert.equal(shortListingKnown(store, fragment), true);
        assert.deepEqual(await pages(store, 'qy', indexedSearchPage, scope, 7), scanned);
        // A write from another connection: the listing no longer counts.
        await insertOne(store, 'late-qy-more', 'Zz Aqy more');
        assert.equal(shortListingKnown(store, fragment), false);
        await sql`delete from customers where customer_id = 'late-qy-more'`.execute(store.db);
      }
    } finally {
      await sql`delete from customer_owners where customer_id like 'late-qy-%'`.execute(store.db);
      await sql`delete from customers where customer_id like 'late-qy-%'`.execute(store.db);
    }
  });

  test('renames move a customer in the list; deletes leave the index', async () => {
    const db = database(store);
    const rename = db.prepare('update customers set display_name = ?, sort_key = ?, search_text = ? where customer_id = ?');
    for (let i = 0; i < 60; i++) {
      const name = `${NAMES[(i * 7) % NAMES.length]} renamed ${i}`;
      rename.run(name, fold(name), fold(name), `p-${String(i * 3).padStart(4, '0')}`);
    }
    // A number changed, added, removed; and a number changed with the name in the same update.
    db.prepare("update customers set phone_digits = '12125550107' where customer_id in ('p-0001', 'p-0002')").run();
    db.prepare("update customers set phone_digits = '' where customer_id = 'p-0004'").run();
    db.prepare("update customers set phone_digits = '12125550111', display_name = 'Zed', sort_key = 'zed', search_text = 'zed' where customer_id = 'p-0007'").run();
    db.prepare("update customers set search_text = search_text || char(10) || 'ohns@example.org' where customer_id like 'crowd-%'").run();
    db.prepare("delete from customers where customer_id like 'first-%'").run();
    assert.equal(assertLabelled(store), 891);
    await assertSearchEqualsScan(store);
  });
});

describe('SQLite: a fragment more customers hold than a stream reads, few of them in the book', () => {
  test('the stream stops at its budget and the search goes on in list order from there, as the scan', async () => {
    await inFreshStore(async (store) => {
      // 4,600 Zebras, three of them rep A's (the rest rep B's), and 600 of rep A's others: the first stream for A
      // reads its budget of 4,096 and finds two.
      const zebras = Array.from({ length: 4600 }, (_, i) => ({
        customer_id: `z-${String(i).padStart(5, '0')}`,
        display_name: `${i % 2 === 0 ? 'Ann' : 'Bob'} Zebra ${i}`,
        workers: [i % 1500 === 1499 ? 'a@example.com' : 'b@example.com'],
      }));
      const others = Array.from({ length: 600 }, (_, i) => ({ customer_id: `o-${i}`, display_name: `Carla Smith ${i}`, workers: ['a@example.com'] }));
      await seed(store, [...zebras, ...others]);
      const scopes = [{ kind: 'worker', worker: 'a@example.com' }, { kind: 'all' }] as const;
      await assertAsTheScan(store, ['zebr', 'ebra', 'eb', 'bra 2'], scopes, 5);
    });
  });
});

describe('SQLite: a fragment held widely, searched in a rep\'s book', () => {
  test('is read from the book\'s first rows, and where they do not hold it the stream goes on from there, as the scan', async () => {
    await inFreshStore(async (store) => {
      // 66,000 addresses at widely.example (each of its trigrams held by more than 65,536 customers), 200 of
      // them rep A's; rep A's 300 Aarons, first in its list, are at other.example.
      const wide = Array.from({ length: 66_000 }, (_, i) => ({
        customer_id: `w-${String(i).padStart(5, '0')}`,
        display_name: `${i % 2 === 0 ? 'Bea' : 'Cid'} Wide ${i}`,
        workers: [i % 330 === 7 ? 'a@example.com' : 'b@example.com'],
        channels: [{ type: 'email' as const, value: `w${i}@widely.example` }],
      }));
      const aarons = Array.from({ length: 300 }, (_, i) => ({
        customer_id: `a-${i}`,
        display_name: `Aaron First ${i}`,
        workers: ['a@example.com'],
        channels: [{ type: 'email' as const, value: `a${i}@other.example` }],
      }));
      await seed(store, [...wide, ...aarons]);
      assert.equal(heldWidely(store, { column: 'search_text', text: 'widely' }), true);
      assert.equal(heldWidely(store, { column: 'search_text', text: 'ample' }), true);
      assert.equal(heldWidely(store, { column: 'search_text', text: 'other' }), false);
      // `7@widely`: every trigram is held by more than RARE_TRIGRAM (4,000) customers, `7@w` by 6,600 and the
      // others by all 66,000: only `7@w` is asked for (the others' row lists would each be read whole).
      assert.deepEqual(listOrderQuery(store, [{ column: 'search_text', text: '7@widely' }]), { fts: '"7@w"', fewerThan: 6601 });
      const rep = { kind: 'worker', worker: 'a@example.com' } as const;
      // `ample`: the book's first rows fill each page; `widely`: none of its first 300 rows hold it.
      for (const query of ['ample', 'widely', 'ly.exa', 'wide 1', '7@widely']) {
        const expected = await pages(store, query, scanSearchPage, rep, 9);
        assert.ok(expected.length > 1, `${query}: more than a page`);
        assert.deepEqual(await pages(store, query, indexedSearchPage, rep, 9), expected, `rep ${query}`);
        assert.deepEqual(await pages(store, query, indexedSearchPage, { kind: 'all' }, 9, 3), await pages(store, query, scanSearchPage, { kind: 'all' }, 9, 3), `all ${query}`);
      }
    });
  });
});

/** A fresh SQLite store, migrated to the latest, closed and dropped after `fn`. */
async function inFreshStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const db = await createTestDatabase('sqlite');
  const store = await openTestStore(db);
  try {
    await fn(store);
  } finally {
    await store.close();
    await db.drop();
  }
}

/** A fresh SQLite store migrated up to `migration` (and a migrator to move it on or back), dropped after `fn`. */
async function atMigration(migration: string, fn: (store: Store, migrator: Migrator) => Promise<void>): Promise<void> {
  const db = await createTestDatabase('sqlite');
  const store = openStore(testConfig(db));
  try {
    const migrator = new Migrator({ db: store.db, provider: { getMigrations: async () => migrations(store.dialect) }, disableTransactions: true });
    assert.equal((await migrator.migrateTo(migration)).error, undefined);
    await fn(store, migrator);
  } finally {
    await store.close();
    await db.drop();
  }
}

describe('upgrading a SQLite store to migration 20261203T1900', () => {
  test('the customers already stored are labelled in list order and found; and back down', async () => {
    await atMigration('20261203T0100-search-text-ends', async (store, migrator) => {
      for (let i = 0; i < 50; i++) await insertOne(store, `u-${i}`, `${NAMES[i % NAMES.length]} ${50 - i}`);
      assert.deepEqual(await migrateToLatest(store), ['20261203T1900-search-list-order', '20261204T2000-search-digits-merged', '20261205T0100-search-blocks', '20261206T0100-deferred-indexes', '20261206T0300-sqlite-one-list-index', '20261206T0500-search-blocks-cut', '20261206T0700-phone-windows', '20261206T0900-sqlite-phone-windows', '20261206T1300-search-blocks-version', '20261206T1500-sqlite-text-windows', '20261206T1700-search-blocks-characters', '20261206T1900-sqlite-digits-list-order', '20261207T0500-pg-search-list-buckets', '20261207T1000-pg-book-digits-index', '20261207T1400-sqlite-list-pos-places', '20261207T1500-sqlite-trigram-counts']);
      assert.equal(assertLabelled(store), 50);
      await assertSearchEqualsScan(store);
      assert.equal((await migrator.migrateTo('20261203T0100-search-text-ends')).error, undefined);
      database(store).prepare("insert into customer_search_text(customer_search_text, rank) values ('integrity-check', 1)").run();
      await insertOne(store, 'after-down', 'Ann Smith 99');
      database(store).prepare("insert into customer_search_text(customer_search_text, rank) values ('integrity-check', 1)").run();
    });
  });
});

describe('upgrading a SQLite store to migration 20261206T1900 (the digits index by label)', () => {
  test('the numbers already stored are indexed under their labels and found; and back down', async () => {
    await atMigration('20261206T1700-search-blocks-characters', async (store, migrator) => {
      for (let i = 0; i < 60; i++) await insertOne(store, `u-${i}`, `${NAMES[i % NAMES.length]} ${60 - i}`, i % 4 === 3 ? '' : `1212555${String(100 + i).padStart(4, '0')}`);
      assert.deepEqual(await migrateToLatest(store), ['20261206T1900-sqlite-digits-list-order', '20261207T0500-pg-search-list-buckets', '20261207T1000-pg-book-digits-index', '20261207T1400-sqlite-list-pos-places', '20261207T1500-sqlite-trigram-counts']);
      // assertLabelled checks both indexes against their content: the digits index's is (list_pos, phone_digits).
      assert.equal(assertLabelled(store), 60);
      const labels = database(store).prepare("select rowid from customer_search_digits where customer_search_digits match '\"555\"'").pluck().all();
      assert.deepEqual(labels, database(store).prepare("select list_pos from customers where phone_digits <> '' order by list_pos").pluck().all());
      await assertSearchEqualsScan(store);
      await insertOne(store, 'after-up', 'Ann Smith 99', '12125550999');
      assert.equal(assertLabelled(store), 61);
      assert.equal((await migrator.migrateTo('20261206T1700-search-blocks-characters')).error, undefined);
      database(store).prepare("insert into customer_search_digits(customer_search_digits, rank) values ('integrity-check', 1)").run();
      await insertOne(store, 'after-down', 'Bob Jones 99', '12125550998');
      database(store).prepare("insert into customer_search_digits(customer_search_digits, rank) values ('integrity-check', 1)").run();
      const pks = database(store).prepare("select rowid from customer_search_digits where customer_search_digits match '\"5550998\"'").pluck().all();
      assert.deepEqual(pks, database(store).prepare("select pk from customers where customer_id = 'after-down'").pluck().all());
    });
  });
});

/** The digits index's segments (its `_idx` table names each segment's leaf pages). */
const digitsSegments = (store: Store) =>
  database(store).prepare('select count(distinct segid) from customer_search_digits_idx').pluck().get() as number;

describe('SQLite: the digits index is merged into one segment (migration 20261204T2000)', () => {
  test('by a bulk import that writes most of it, and by the upgrade; phone searches still equal the scan', async () => {
    await atMigration('20261203T1900-search-list-order', async (store) => {
      // One transaction each: FTS5 writes a segment per transaction (and merges them four at a time).
      for (let i = 0; i < 3; i++) await insertOne(store, `u-${i}`, `${NAMES[i]} ${i}`, `1212555010${i}`);
      assert.ok(digitsSegments(store) >= 3, `${digitsSegments(store)} segments`);
      assert.deepEqual(await migrateToLatest(store), ['20261204T2000-search-digits-merged', '20261205T0100-search-blocks', '20261206T0100-deferred-indexes', '20261206T0300-sqlite-one-list-index', '20261206T0500-search-blocks-cut', '20261206T0700-phone-windows', '20261206T0900-sqlite-phone-windows', '20261206T1300-search-blocks-version', '20261206T1500-sqlite-text-windows', '20261206T1700-search-blocks-characters', '20261206T1900-sqlite-digits-list-order', '20261207T0500-pg-search-list-buckets', '20261207T1000-pg-book-digits-index', '20261207T1400-sqlite-list-pos-places', '20261207T1500-sqlite-trigram-counts']);
      assert.equal(digitsSegments(store), 1);
      assert.equal(assertLabelled(store), 3);
      await assertSearchEqualsScan(store);

      for (let i = 3; i < 6; i++) await insertOne(store, `u-${i}`, `${NAMES[i]} ${i}`, `1212555010${i}`);
      assert.equal(digitsSegments(store), 4);
      // A few customers more than the store holds: most of the index is new, and merged at the end.
      await seed(store, Array.from({ length: 40 }, (_, i) => person(100 + i, `${NAMES[i % NAMES.length]} ${i}`)));
      assert.equal(digitsSegments(store), 1);
      assert.equal(assertLabelled(store), 46);
      await assertSearchEqualsScan(store);
      // A few against many: left to FTS5's automerge.
      await seed(store, [person(200, 'Fay Few'), person(201, 'Gus Few')]);
      assert.equal(digitsSegments(store), 2);
      assert.equal(assertLabelled(store), 48);
      await assertSearchEqualsScan(store);
    });
  });
});

describe('SQLite: a word start whose other trigrams are held by addresses', () => {
  test('asks for its first trigram, with the space, however common, and answers as the scan', async () => {
    await inFreshStore(async (store) => {
      // 100 Josés whose addresses start `jose.`, and 400 Joneses: ` jo` is the commonest of ` jose.`'s trigrams, so
      // the three rarest (`jos`, `ose`, `se.`, each held by every José's address) were asked alone, and the rank
      // of a word starting `jose.` read every José (and, past its stream's budget, the book after them).
      await seed(store, [
        ...Array.from({ length: 100 }, (_, i) => ({
          customer_id: `j-${i}`,
          display_name: `José García ${i}`,
          workers: ['a@example.com'],
          channels: [{ type: 'email' as const, value: `jose.garcia${i}@example.org` }],
        })),
        ...Array.from({ length: 400 }, (_, i) => ({
          customer_id: `n-${i}`,
          display_name: `Ana Jones ${i}`,
          workers: [i % 2 === 0 ? 'a@example.com' : 'b@example.com'],
          channels: [{ type: 'email' as const, value: `ana${i}@example.org` }],
        })),
      ]);
      assert.deepEqual(listOrderQuery(store, [{ column: 'sort_key', text: ' jose.' }]), { fts: '"jos" AND "ose" AND "se." AND " jo"', fewerThan: 101 });
      // A word start among the rarest is asked once.
      assert.deepEqual(listOrderQuery(store, [{ column: 'sort_key', text: ' garc' }]), { fts: '" ga" AND "gar" AND "arc"', fewerThan: 101 });
      await assertAsTheScan(store, ['jose.', 'jose', 'jones', 'garcia1'], [{ kind: 'all' }, { kind: 'worker', worker: 'a@example.com' }], 7);
    });
  });
});

describe('SQLite: a fragment whose rarest trigrams are all parts of one word', () => {
  test('asks for its last trigram too, and answers as the scan', async () => {
    await inFreshStore(async (store) => {
      // `carmen.sm`: `car`, `arm`, `rme` are each held by all 350 Carmens, `.sm` by the 650 Smiths; only the 50
      // Carmen Smiths hold all four. Asked alone, the three rarest named every Carmen.
      const person = (first: string, last: string, count: number, worker: string) =>
        Array.from({ length: count }, (_, i) => ({
          customer_id: `${first}-${last}-${i}`,
          display_name: `${first} ${last} ${i}`,
          workers: [worker],
          channels: [{ type: 'email' as const, value: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.org` }],
        }));
      await seed(store, [...person('Carmen', 'Smith', 50, 'a@example.com'), ...person('Carmen', 'Silva', 300, 'a@example.com'), ...person('Bob', 'Smith', 600, 'b@example.com')]);
      assert.deepEqual(listOrderQuery(store, [{ column: 'search_text', text: 'carmen.sm' }]), { fts: '"car" AND "arm" AND "rme" AND ".sm"', fewerThan: 351 });
      await assertAsTheScan(store, ['carmen.sm', 'carmen.s', 'n.smith1'], [{ kind: 'all' }, { kind: 'worker', worker: 'a@example.com' }], 7);
    });
  });
});
