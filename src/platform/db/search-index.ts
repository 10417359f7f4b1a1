/**
 * The substring indexes of migrations 20261202T0100 and 20261203T0100: which
 * customers' stored text contains a fragment, found through the index, never
 * by reading every customer. The answer is a superset on SQLite (rows holding
 * every trigram of the fragment; for one or two characters, rows holding the
 * fragment as the index stores text: see asStored) and exact on PostgreSQL
 * (it re-checks); callers always apply the exact predicate to the rows
 * themselves, so only speed depends on it. SQLite's text and digits indexes are
 * keyed by list-order labels (migrations 20261203T1900, 20261206T1900), so they
 * also answer in list order (`listOrderQuery`, read by customer.repository.ts a
 * page at a time).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Store } from './connect.js';
import type { HotReads, ReadQuery } from './pipelined-reads.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { INDEX_ALL, LABEL_ALL, LABEL_GAP } from './migrations/20261203T1900-search-list-order.js';
import { digitsInOrder } from './migrations/20261206T1900-sqlite-digits-list-order.js';
import { escapeLike, successor } from '../../kernel/text.js';
import { type ImportSize, blockIndex, changedMuch, textBits } from './search-blocks.js';
import { COUNT_ALL } from './migrations/20261207T1500-sqlite-trigram-counts.js';
import {
  InsertedWindows,
  SQLITE_FIND,
  SQLITE_TEXT_FIND,
  WINDOWED,
  fillTextWindows,
  fillWindows,
  textWindowAsked,
  windowsAsked,
} from './phone-windows.js';
import { windowsConnection } from './migrations/20261206T0900-sqlite-phone-windows.js';

/**
 * The stored columns the indexes cover. `sort_key` (the folded name, which
 * `search_text` begins with) has an index of its own on PostgreSQL; SQLite
 * finds it through the index of `search_text` (a superset: rows are re-checked).
 */
export type IndexedColumn = 'search_text' | 'phone_digits' | 'sort_key';

export interface Fragment {
  readonly column: IndexedColumn;
  /** The literal text to find anywhere in the column. */
  readonly text: string;
}

const SQLITE_TABLE: Record<IndexedColumn, string> = {
  search_text: 'customer_search_text',
  phone_digits: 'customer_search_digits',
  sort_key: 'customer_search_text',
};

/**
 * SQLite, inside a bulk import's transaction: customers inserted from now on
 * are indexed by `catchUpSearchIndex`, in one statement per index, instead of
 * by the insert trigger one row at a time (about eight times cheaper here).
 * Updates and deletes stay with their triggers, which need the old text. New
 * customers get pks above every existing one, so "inserted since" is "pk above
 * the largest now". PostgreSQL maintains its indexes itself: nothing to do.
 *
 * An import into an empty store (a first import) also drops the secondary indexes of the tables it
 * fills, and `catchUpSearchIndex` builds them again from the rows: an index built at once is sorted
 * once, where one kept up row by row takes each key at a random place (at 1,000,000 customers the
 * insert of the customers took 14.7 s with them, 4.3 s without). Only into an empty store: there the
 * import only inserts, so no trigger and no read needs those indexes before they are back. The
 * service's readers keep reading the store as last committed, indexes and all (WAL; with no reader
 * open, the import may hold the file alone instead: first-import-alone.ts).
 *
 * Returns, on SQLite, what the writer gives the customers it inserts, for their windows (InsertedWindows).
 */
export async function deferSearchIndex(trx: Kysely<Database>, dialect: Dialect): Promise<InsertedWindows | undefined> {
  if (dialect !== 'sqlite') return undefined;
  const since = await sql<{ since: number }>`select coalesce(max(pk), 0) as since from customers`.execute(trx);
  const sincePk = Number(since.rows[0]?.since ?? 0);
  await sql`insert into search_index_deferred (since_pk) values (${sincePk})`.execute(trx);
  const windows = new InsertedWindows(windowsConnection(trx), sincePk);
  const empty = await sql<{ empty: number }>`select not exists (select 1 from customers) as empty`.execute(trx);
  if (!empty.rows[0]?.empty) return windows;
  const tables = sql.join(BUILT_AFTERWARDS.map((table) => sql.lit(table)));
  await sql`create temp table deferred_indexes as select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${tables})`.execute(trx);
  for (const { name } of await deferredIndexes(trx)) await sql`drop index ${sql.id(name)}`.execute(trx);
  return windows;
}

/** The tables a first import fills, whose secondary indexes it builds at its end (deferSearchIndex). */
const BUILT_AFTERWARDS = ['customers', 'customer_owners', 'customer_addresses'] as const;

/** The indexes deferSearchIndex dropped in this transaction, with the statements that make them. */
async function deferredIndexes(trx: Kysely<Database>): Promise<Array<{ name: string; sql: string }>> {
  const made = await sql<{ n: number }>`select count(*) as n from temp.sqlite_master where name = 'deferred_indexes'`.execute(trx);
  if (!made.rows[0]?.n) return [];
  return (await sql<{ name: string; sql: string }>`select name, sql from temp.deferred_indexes order by name`.execute(trx)).rows;
}

async function countOf(trx: Kysely<Database>, where: RawBuilder<unknown>): Promise<number> {
  return Number((await sql<{ n: number }>`select count(*) as n from customers where ${where}`.execute(trx)).rows[0]?.n ?? 0);
}

async function buildIndexes(trx: Kysely<Database>, indexes: ReadonlyArray<{ sql: string }>): Promise<void> {
  for (const index of indexes) await sql.raw(index.sql).execute(trx);
}

/**
 * The digits index written afresh after LABEL_ALL, in label order: the labels as LABEL_ALL gives them,
 * read in list order from customers_search_scan (which holds the digits) without a fetch of each row.
 */
const DIGITS_ALL = digitsInOrder(
  `select label, phone_digits from (select row_number() over (order by sort_key, customer_id) * ${LABEL_GAP} as label, phone_digits ` +
    "from customers order by sort_key, customer_id) where phone_digits <> ''",
);

/**
 * Labels (migration 20261203T1900) the customers inserted or renamed since `deferSearchIndex`, indexes
 * their text and digits under their labels, and lets the triggers index again. When at least half the
 * customers need a label (a first import), every customer is labelled afresh and both indexes rebuilt in
 * label order (about 7 s at 1,000,000 customers); otherwise the update trigger places each between its
 * neighbours (0.1 ms each at 1,000,000, a relabelled window around a crowded gap 1–2 ms).
 * The indexes a first import dropped are built again here: those of the labels once the labels are
 * written, the others before labelling (which reads the list order through them).
 */
export async function catchUpSearchIndex(trx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  const deferred = await deferredIndexes(trx);
  const ofLabels = deferred.filter((index) => /\blist_pos\b/.test(index.sql));
  await buildIndexes(trx, deferred.filter((index) => !ofLabels.includes(index)));
  const all = await countOf(trx, sql`true`);
  // After a first import no customer has a label yet (and none of list_pos's index to count them by).
  const unlabelled = deferred.length > 0 ? all : await countOf(trx, sql`list_pos is null`);
  const afresh = unlabelled > 0 && unlabelled * 2 >= all;
  if (afresh) {
    // Both indexes are keyed by label (migration 20261206T1900): every entry moves.
    if (unlabelled < all) {
      await sql`insert into customer_search_text(customer_search_text) values ('delete-all')`.execute(trx);
      await sql`insert into customer_search_digits(customer_search_digits) values ('delete-all')`.execute(trx);
    }
    for (const statement of LABEL_ALL) await sql.raw(statement).execute(trx);
  }
  await buildIndexes(trx, ofLabels);
  if (deferred.length > 0) await sql`drop table temp.deferred_indexes`.execute(trx);
  if (afresh) for (const statement of [...INDEX_ALL, ...DIGITS_ALL]) await sql.raw(statement).execute(trx);
  // The windows of the customers inserted since (their triggers were deferred too) that the writer did
  // not give InsertedWindows: none from an import, which moved since_pk past them.
  const since = await sql<{ since: number }>`select max(since_pk) as since from search_index_deferred`.execute(trx);
  const sincePk = Number(since.rows[0]?.since ?? 0);
  await fillWindows(windowsConnection(trx), sincePk);
  await fillTextWindows(windowsConnection(trx), sincePk);
  await sql`delete from search_index_deferred`.execute(trx);
  // The few left: the update trigger places each and indexes its text and digits under its label
  // (customer_id is only named, so that it fires).
  if (unlabelled > 0 && !afresh) await sql`update customers set customer_id = customer_id where list_pos is null`.execute(trx);
}

/**
 * After an import's writes (in its transaction): SQLite's stored trigram counts (migration 20261207T1500)
 * counted afresh from the index when the import changed the store much (changedMuch: a first import, a
 * fifth of the store written, or the store doubled or halved since they were counted). About 1 s at
 * 1,000,000 customers (a read of the whole index), so not after every small import: counts that lag behind
 * a few writes choose a plan a little less well, never an answer (see trigramCount).
 */
export async function countTrigramsIfDue(trx: Kysely<Database>, dialect: Dialect, size: ImportSize): Promise<void> {
  if (dialect !== 'sqlite') return;
  if (!size.first) {
    const made = (await sql<{ customers: number }>`select customers from search_trigram_counts_made where id = 1`.execute(trx)).rows[0];
    if (!changedMuch(size, made === undefined ? undefined : Number(made.customers))) return;
  }
  for (const statement of COUNT_ALL) await sql.raw(statement).execute(trx);
}

/**
 * At most this many of a fragment's trigrams are counted (spread over it; the rest are checked on the
 * rows)… A query is at most 200 characters; counting a trigram in the first pass reads at most FEW + 1
 * index entries.
 */
const COUNTED_TRIGRAMS = 32;
/** …and at most this many asked for when every one is held widely (each a row list merged). */
const MAX_TRIGRAMS = 8;

/** Whether the store's index can find `fragment` (otherwise the caller must read in list order). */
export function indexable(store: Store, fragment: Fragment): boolean {
  const length = [...fragment.text].length;
  // The text index holds a trigram starting at every character (migration 20261203T0100); the digits index does not.
  if (store.dialect === 'sqlite') return length >= 3 || (length > 0 && fragment.column !== 'phone_digits');
  return pgTrgmExtracts(fragment.text);
}

/**
 * Whether the store's indexes name the customers holding `fragments` in list order (SQLite's text and
 * digits indexes, whose rowids are list-order labels: migrations 20261203T1900, 20261206T1900): a text
 * fragment, and a query's digits beside it unless they are found through their windows (seven digits or
 * more name a few customers: asked for first, see sqliteFind).
 */
export function streamsInListOrder(store: Store, fragments: readonly Fragment[]): boolean {
  const [fragment, digits] = fragments;
  return (
    store.dialect === 'sqlite' &&
    fragment !== undefined &&
    fragment.column !== 'phone_digits' &&
    fragment.text.length > 0 &&
    (fragments.length === 1 ||
      (fragments.length === 2 && digits?.column === 'phone_digits' && indexable(store, digits) && !WINDOWED.test(digits.text)))
  );
}

/**
 * Whether the index may be asked for `fragment` before any read in list order: whether that costs
 * about what it finds. On SQLite a one- or two-character fragment is found through the index's terms
 * that start with it (`sqliteShortQuery`), and listing them reads their whole row lists: as dear as
 * the fragment is common, and a common one fills a page from the first list-order window anyway.
 * So it is asked only when that window did not (customer.repository.ts, second chances).
 */
export function cheapToAsk(store: Store, fragment: Fragment): boolean {
  return store.dialect !== 'sqlite' || [...fragment.text].length >= 3;
}

/**
 * Whether candidatesContaining may answer for a cap this large: PostgreSQL declines caps above PG_BUDGET
 * (each candidate is a table fetch, dearer than a row read in list order: see pgFind).
 */
export function answersUpTo(store: Store, cap: number): boolean {
  return store.dialect === 'sqlite' || cap <= PG_BUDGET;
}

/**
 * The customers whose column contains one of `fragments` (`pks`), when there are at most `cap` of them;
 * undefined when there are more (the index read stops there, so this costs at most `cap` index entries per
 * fragment), or when the store judges that finding them would cost more than a read of the book in list
 * order (PostgreSQL, see pgFind). On PostgreSQL, with where each stands in the list (`places`).
 */
export interface Candidates {
  readonly pks: number[];
  /**
   * PostgreSQL: each candidate's (sort_key, customer_id), read with the row the index named (pgFind
   * fetches it anyway), so that a page of many candidates is chosen without fetching them all again.
   */
  readonly places?: ReadonlyMap<number, Place>;
  /**
   * PostgreSQL, a stretch of the list (candidatesInListBuckets), or any find told whom the page is for
   * (candidatesContaining's `shownTo`): what a page shows of each candidate that holds the fragment, read with
   * its row, so that the page needs no statement more (every candidate is one the page's scope may show).
   */
  readonly shown?: ReadonlyMap<number, Shown>;
}

/** What a page shows of a customer besides its place: its display name and avatar. */
export interface Shown {
  readonly displayName: string;
  readonly avatar: string | null;
}

/** Where a customer stands in the list: its sort_key and customer_id. */
export type Place = readonly [sortKey: string, customerId: string];

/**
 * A query's digits in a rep's book are found through the book's index when the store's holders are expected to
 * be more than this many (pgFind): it costs about 0.5 ms more to start (GIN skips through the rep's long posting
 * list) and saves a table fetch of each holder outside the book (`6353`: 860 rows fetched, 3–5 ms, against the
 * 160 of the 200,000-customer book, 1.2).
 */
const BOOK_FINDS_FROM = 150;

/** The Candidates holding one of `fragments`, at most `cap` of them, or undefined (see Candidates). */
export async function candidatesContaining(
  store: Store,
  fragments: readonly Fragment[],
  cap: number,
  /** PostgreSQL: the rows of the page the caller fills, when a read in list order is its other way (see fetchesWorthIt). */
  page?: number,
  /** PostgreSQL: that read goes only through the search blocks that can hold the fragment (see rowsInBlocksHolding). */
  readsBlocks = false,
  /**
   * PostgreSQL: whom the page is for. When every fragment's plan fetches its parts or a number's windows, each
   * holder comes with what a page shows of it, and in a rep's book only the book's holders come back (see
   * pgFind), so the page needs no statement more; the plans are the store's (its sampled counts bound a book's).
   */
  shownTo?: ShownTo,
): Promise<Candidates | undefined> {
  if (store.driver.kind === 'sqlite') {
    const found = new Set<number>();
    for (const fragment of fragments) {
      const pks = sqliteFind(store.driver.reader, fragment, cap);
      if (pks === undefined) return undefined;
      for (const pk of pks) found.add(Number(pk));
      if (found.size > cap) return undefined;
    }
    return { pks: [...found] };
  }
  // PostgreSQL: every fragment's plan first, so that one judged common without a fetch (a query's digits,
  // `555`) spares the others' fetches (its text, about 3 ms for `555` at 1,000,000 customers).
  const plans = await Promise.all(fragments.map((fragment) => pgPlan(store, fragment, cap, page, readsBlocks, shownTo)));
  if (plans.includes('common')) return undefined;
  // Each fetch at once, on a connection of its own: a search waits for the longer of them, not their sum
  // (a query's digits and its text: about 1,000 and 300 rows for four digits at 1,000,000 customers). A
  // fetch that finds its fragment common no longer spares the other's; the plans above catch most of those.
  // Each holder with what the page shows, when every find can give it (a plan of the whole fragment cannot).
  const shows = shownTo !== undefined && plans.every((plan) => plan !== 'common' && plan.way !== 'whole');
  const finds = await Promise.all((plans as PgPlan[]).map((plan) => pgFind(store, plan, cap, shows ? shownTo : undefined)));
  const places = new Map<number, Place>();
  const shown = new Map<number, Shown>();
  for (const found of finds) {
    if (found === undefined) return undefined;
    for (const [pk, place, its] of found) {
      places.set(Number(pk), place);
      if (its !== undefined) shown.set(Number(pk), its);
    }
    if (places.size > cap) return undefined;
  }
  return { pks: [...places.keys()], places, ...(shows ? { shown } : {}) };
}

type SqliteReader = Extract<Store['driver'], { kind: 'sqlite' }>['reader'];
interface SqliteStatements {
  find: ReturnType<SqliteReader['prepare']>;
  count: ReturnType<SqliteReader['prepare']>;
  /** The text index's terms in a range (listTerms), prepared when first needed. */
  terms?: ReturnType<SqliteReader['prepare']>;
}

/**
 * A value made once per read connection and kept as long as the connection is (a prepared statement, a
 * cache of what it read): `perReader(make)` is the getter.
 */
function perReader<T>(make: (reader: SqliteReader) => T): (reader: SqliteReader) => T {
  const made = new WeakMap<SqliteReader, T>();
  return (reader) => {
    let value = made.get(reader);
    if (value === undefined) made.set(reader, (value = make(reader)));
    return value;
  };
}
const statementsByColumn = perReader(() => new Map<IndexedColumn, SqliteStatements>());

/** A trigram in at most this many customers is "rare": worth driving a search with. */
const RARE_TRIGRAM = 4000;
/** A trigram in at most this many customers is found by the first, cheap pass of counting. */
const FEW = 64;
/** How many of the rarest trigrams a search asks for. */
const DRIVING_TRIGRAMS = 3;
/**
 * Trigram counts are remembered per read connection for COUNT_TTL_MS, the COUNT_CACHE_SIZE most
 * recent. Counting was more than half of a search's index work (0.8 of 1.4 ms per name fragment in
 * a 50,000-customer book at 1,000,000 customers: up to 8 trigrams, each counted to 4,001), and
 * reps search the same names' trigrams over and over. A count only chooses which trigrams drive
 * the search (rows are always checked for the whole fragment), so a stale one costs speed, never
 * an answer; the one count that decides an answer, zero, stands only while nothing is written
 * (storeVersion, see trigramCount). A count above
 * RARE_TRIGRAM is remembered for LARGE_COUNT_TTL_MS: counting up to WIDELY_HELD reads up to that many
 * index entries (about 4.5 ms here), and such a count moves only after thousands of writes.
 */
const COUNT_TTL_MS = 60_000;
const LARGE_COUNT_TTL_MS = 600_000;
const COUNT_CACHE_SIZE = 50_000;
interface KnownCount {
  /** What `count(*) … limit` gave: the count, or `limit` when there are at least that many. */
  readonly count: number;
  readonly limit: number;
  readonly at: number;
  /** A zero's storeVersion: it stands only as long as nothing is written. */
  readonly version?: string;
}
const countCache = perReader(() => new Map<string, KnownCount>());

/** What a store's index is asked for a fragment: an FTS5 query, nobody (no customer holds it), or too common to ask. */
type IndexQuery = {
  readonly fts: string;
  /** At most about this many customers answer it (the rarest asked trigram's remembered count): it chooses plans, never answers. */
  readonly fewerThan: number;
} | 'nobody' | 'common';

function statementsFor(reader: SqliteReader, column: IndexedColumn): SqliteStatements {
  const byColumn = statementsByColumn(reader);
  let statements = byColumn.get(column);
  if (!statements) {
    const table = SQLITE_TABLE[column];
    statements = {
      // Both indexes' rowids are list-order labels (migrations 20261203T1900, 20261206T1900).
      find: reader
        .prepare(`select c.pk from (select rowid as label from ${table} where ${table} match ? limit (? + 0)) f join customers c on c.list_pos = f.label`)
        .pluck(true),
      count: reader
        .prepare(`select count(*) from (select 1 from ${table} where ${table} match ? limit (? + 0))`)
        .pluck(true),
    };
    byColumn.set(column, statements);
  }
  return statements;
}

function sqliteFind(reader: SqliteReader, fragment: Fragment, cap: number): number[] | undefined {
  if (fragment.column === 'phone_digits' && WINDOWED.test(fragment.text)) {
    const found = windowsStatement(reader).all([...windowsAsked(fragment.text), fragment.text, cap + 1]) as number[];
    return found.length > cap ? undefined : found;
  }
  const win = foundThroughWindow(fragment);
  if (win !== undefined) {
    // Holders of the window that lack the rest of the fragment are read too: up to WINDOW_FETCH_FACTOR times the cap.
    const fetch = WINDOW_FETCH_FACTOR * cap + 1;
    const rows = textWindowsStatement(reader).all([fragment.text, win, fetch]) as Array<[number, number]>;
    if (rows.length >= fetch) return undefined;
    const found = rows.filter((row) => row[1] === 1).map((row) => row[0]);
    return found.length > cap ? undefined : found;
  }
  const statements = statementsFor(reader, fragment.column);
  const query = sqliteQuery(reader, statements, fragment, { entries: SHORT_TERMS_FACTOR * cap, terms: Infinity });
  if (query === 'nobody') return [];
  if (query === 'common') return undefined;
  return statements.find.all([query.fts, cap + 1]) as number[];
}

/** SQLite: the text window that names every customer holding a search_text fragment (phone-windows.ts), if it holds one. */
function foundThroughWindow(fragment: Fragment): number | undefined {
  return fragment.column === 'search_text' ? textWindowAsked(fragment.text) : undefined;
}

/**
 * Whether SQLite finds the customers holding `fragment` through a text window (five digits: about as
 * many customers as hold them), rather than by streaming its trigrams' row lists in list order: the
 * caller asks candidatesContaining first, and streams only when they are more than its cap.
 */
export function textWindowFinds(store: Store, fragment: Fragment): boolean {
  return store.dialect === 'sqlite' && foundThroughWindow(fragment) !== undefined;
}

/** A text window's holders read at most this many times the cap (the rest of the fragment is checked on each). */
const WINDOW_FETCH_FACTOR = 4;

/** SQLite: the customers holding a text window, each with whether it holds the whole fragment (phone-windows.ts). */
const textWindowsStatement = perReader((reader) => reader.prepare(SQLITE_TEXT_FIND).raw(true));

/** SQLite: the customers holding digits of seven or more, through their windows (phone-windows.ts). */
const windowsStatement = perReader((reader) => reader.prepare(SQLITE_FIND).pluck(true));

/**
 * A one- or two-character fragment is streamed when its terms name at most `entries` customers (with
 * repeats) and are at most `terms` (FTS5 merges an OR of terms one row list each). A stream reads its
 * terms' row lists from a label on and stops at the page, so what `entries` bounds is the listing
 * (every row list read once, about 45 ns an entry here), which is remembered until the store changes.
 * At 100,000, fragments a tenth of the customers hold (`oe`: Chloé, Zoë; `ce`: Alice) were left to
 * the read in list order, which reads every name before their first match (150,000 rows, 50 ms, for
 * `oe` with everyone visible at 1,000,000); at 400,000 they are streamed (0.3 ms once listed), and a
 * listing costs at most about 20 ms, once, where the first window of the read in list order did not
 * fill the page (BENCHMARKS.md, issue 11, fourteenth round).
 */
const STREAM_BOUND: ShortBound = { entries: 400_000, terms: 32 };
/** The store size STREAM_BOUND was measured at. */
const STREAM_BOUND_AT = 1_000_000;

/**
 * STREAM_BOUND, its entries grown in proportion past STREAM_BOUND_AT customers (by the largest pk: a
 * store that deleted many counts them still, and lists a little more). The read in list order that a
 * fragment past the bound gets instead costs in proportion to the store: at 10,000,000 customers `ee`
 * (in about 4% of the names, none of the first ones in list order) read until its page was full in
 * 1.6 s, every time, against a listing of its terms once, remembered until the store changes
 * (BENCHMARKS.md, issue 11, twentieth round).
 */
function streamBound(reader: SqliteReader, cache = currentTermsCache(reader)): ShortBound {
  cache.customers ??= Number((customersStatement(reader).get([]) as { n: number }).n);
  return streamBoundFor(cache.customers);
}

/** A stream's bound (streamBound), worked out only for a short fragment: sqliteQuery's other ones need none. */
const STREAMED = 'streamed';

/** streamBound for a store of `customers` (its largest pk). */
export function streamBoundFor(customers: number): ShortBound {
  if (customers <= STREAM_BOUND_AT) return STREAM_BOUND;
  return { entries: Math.round((STREAM_BOUND.entries * customers) / STREAM_BOUND_AT), terms: STREAM_BOUND.terms };
}

const customersStatement = perReader((reader) => reader.prepare('select coalesce(max(pk), 0) as n from customers'));

/**
 * Whether a one- or two-character fragment's terms are already listed on this connection (since the
 * index last changed) and few enough to stream: then streaming it costs no listing, and the first
 * list-order window that would otherwise come first (to spare that listing when the window fills the
 * page) is skipped. Reps type the same few letters over and over. Only chooses the plan: a listing
 * that is gone by the time the stream asks for it is listed again, a common one goes by windows.
 */
export function shortListingKnown(store: Store, fragment: Fragment): boolean {
  if (store.driver.kind !== 'sqlite' || fragment.column === 'phone_digits') return false;
  const reader = store.driver.reader;
  const cache = currentTermsCache(reader);
  const known = cache.listings.get(asStored(fragment.text));
  return known !== undefined && known.listed !== 'common' && !beyond(known.listed, streamBound(reader, cache));
}

/** A text fragment each of whose trigrams more customers than this hold is held widely (heldWidely). */
const WIDELY_HELD = 65_536;

/**
 * Whether every trigram of a text fragment of three characters or more is held by more than
 * WIDELY_HELD customers (as sqliteQuery counted them: up to there, then remembered): then a rep's
 * book likely holds a page of its matches among its first rows in list order (`mple.or`, in every
 * address: the first 30), where a stream through the index reads every rep's matches to find the
 * book's (about 15 index entries, three probes each, for each of a 200,000-customer book's at
 * 1,000,000 customers).
 */
export function heldWidely(store: Store, fragment: Fragment): boolean {
  if (store.driver.kind !== 'sqlite' || fragment.column === 'phone_digits' || [...fragment.text].length < 3) return false;
  const reader = store.driver.reader;
  // sqliteQuery asks for a few trigrams spread over the fragment only when it counted every one past WIDELY_HELD.
  const query = sqliteQuery(reader, statementsFor(reader, fragment.column), fragment, STREAMED);
  return query !== 'nobody' && query !== 'common' && query.fewerThan === Infinity;
}

/** What a stream in list order asks SQLite's indexes for (at least one of the two), or nobody, or too common to ask. */
export type ListOrderQuery =
  | {
      /** The text index's FTS5 query (none: no customer's text holds the fragment)… */
      readonly fts?: string;
      /** …and the digits index's, for a query with digits. */
      readonly digitsFts?: string;
      /** At most about this many customers answer it: it chooses plans, never answers. */
      readonly fewerThan: number;
    }
  | 'nobody'
  | 'common';

/**
 * The FTS5 queries naming, in list order, every customer whose text holds the first of `fragments`, and
 * whose numbers hold the second when there is one (streamsInListOrder: SQLite's indexes are keyed by
 * list-order labels); `nobody` when no customer can hold them; `common` for a one- or two-character text
 * fragment whose terms are too many to list cheaply.
 */
export function listOrderQuery(store: Store, fragments: readonly Fragment[]): ListOrderQuery {
  if (store.driver.kind !== 'sqlite' || !streamsInListOrder(store, fragments)) throw new Error('only SQLite\'s indexes are in list order');
  const reader = store.driver.reader;
  const [fragment, digits] = fragments as [Fragment, Fragment | undefined];
  const text = sqliteQuery(reader, statementsFor(reader, fragment.column), fragment, STREAMED);
  if (text === 'common') return text;
  if (digits === undefined) return text;
  // The digits index keeps positions: the digits as a phrase name exactly their holders, uncounted.
  const digitsFts = quote(digits.text);
  return text === 'nobody' ? { digitsFts, fewerThan: Infinity } : { ...text, digitsFts, fewerThan: Infinity };
}

/**
 * FTS5 with detail=none answers `"abc" AND "bcd"` by merging the trigrams'
 * whole row lists (about 7 ns an entry here), so a fragment's common trigrams
 * (`exa` of `@example`, in every row) would cost a read of the whole list
 * (`1234@example` asked with all its trigrams: 28 ms at 1,000,000 customers).
 * So each trigram is first counted (a bounded read), and the search asks only
 * for the rarest few; a trigram no customer has ends it at once. When every
 * trigram is held widely, the fragment is asked for with a few spread over it
 * (the read stops when the caller has what it needs: quickly, when the
 * fragment is as common as its trigrams). A short fragment is asked for
 * through its terms (sqliteShortQuery).
 */
function sqliteQuery(
  reader: SqliteReader,
  statements: SqliteStatements,
  fragment: Fragment,
  shortBound: ShortBound | typeof STREAMED,
): IndexQuery {
  // The digits index keeps positions (migration 20261202T0600): the fragment as a phrase of its
  // consecutive trigrams names exactly the rows that contain it.
  if (fragment.column === 'phone_digits') return { fts: quote(fragment.text), fewerThan: Infinity };
  if ([...fragment.text].length < 3) {
    return sqliteShortQuery(reader, statements, fragment.text, shortBound === STREAMED ? streamBound(reader) : shortBound);
  }
  // Counted in passes: first up to FEW (a trigram no customer has ends the search, and a few rare ones
  // drive it, before any long row list is read), then, if every trigram has more, up to RARE_TRIGRAM, and
  // then, if fewer than DRIVING_TRIGRAMS are that rare, the others up to WIDELY_HELD.
  const countOf = (trigram: string, limit: number) => trigramCount(reader, statements, fragment.column, trigram, limit);
  const counted: Array<{ trigram: string; count: number }> = [];
  for (const trigram of trigramsOf(fragment.text, COUNTED_TRIGRAMS)) {
    const count = countOf(trigram, FEW + 1);
    if (count === 0) return 'nobody';
    counted.push({ trigram, count });
  }
  // After the first pass a count of FEW + 1 only says "more than FEW": such a trigram may be in every
  // row, so when some are rarer, only those drive the search.
  let driving = counted.filter((t) => t.count <= FEW);
  if (driving.length === 0) {
    for (const t of counted) t.count = countOf(t.trigram, RARE_TRIGRAM + 1);
    driving = counted.filter((t) => t.count <= RARE_TRIGRAM);
    // Each of these names thousands of customers, and the customers holding every asked trigram are each
    // read and checked on their row (about 1 µs each): `123` and `234` of `1234@example` name 302 where
    // 102 hold the fragment. A third list merged costs about 7 ns an entry (10,000 for `34@`: 0.07 ms) and
    // leaves the 102. So trigrams held by up to WIDELY_HELD customers fill the asked ones.
    if (driving.length < DRIVING_TRIGRAMS) {
      const others = counted.filter((t) => t.count > RARE_TRIGRAM);
      for (const t of others) t.count = countOf(t.trigram, WIDELY_HELD + 1);
      driving = [...driving, ...others.filter((t) => t.count <= WIDELY_HELD)];
    }
  }
  driving.sort((a, b) => a.count - b.count);
  const asked = driving.length > 0 ? driving.slice(0, DRIVING_TRIGRAMS) : spread(counted, MAX_TRIGRAMS);
  // A word start (rank 1's fragment, ` jose.`): only its first trigram, with the space, is held where a word
  // starts; the others are held wherever those characters are, by customers who may have no such word
  // (every José's address, `josé.…`), and a stream read past its budget among those, then the book after
  // them to its end (160–220 ms at 1,000,000 customers). So it is always asked, however common.
  const start = counted[0];
  if (fragment.text.startsWith(' ') && start !== undefined && !asked.includes(start)) asked.push(start);
  // Its last trigram too, when it drives: the rarest ones may all be parts of one word, held together
  // (`car`, `arm`, `rme` of `carmen.sm`: every Carmen's address), where its end (`.sm`) tells which of
  // them hold it (a stream read the Carmen Schmidts and Silvas before the first Smith: 15 ms, now 1–3).
  const end = counted.at(-1);
  if (end !== undefined && driving.includes(end) && !asked.includes(end)) asked.push(end);
  // And every character in an asked trigram, where a stored count says the trigram holding it is not held
  // too widely (COVERED_UP_TO, COVERED_SHARE): `jos`, `ose` and `e.s`, the rarest of `jose.si`, name every José S…'s
  // address, so a stream read the Santoses and Schmidts before the first Silva (4,096 index entries and
  // their rows, 2.8 ms at 1,000,000 customers), where `.si` (66,417 customers) tells which hold the `i`.
  if (driving.length > 0 && (asked[0] as { count: number }).count > FEW) cover(reader, fragment, counted, asked);
  // Asked trigrams that drive the search were counted below their limit: the rarest bounds the answer. When
  // every one is held widely, its count says only "at least that many".
  const fewerThan = driving.length > 0 ? (asked[0] as { count: number }).count + 1 : Infinity;
  return { fts: asked.map((t) => quote(t.trigram)).join(' AND '), fewerThan };
}

/** The stored count of a trigram of the text index, as the index stores it (asStored)… */
const storedCountStatement = perReader((reader) => reader.prepare('select doc from search_trigram_counts where term = ?').pluck(true));
/** …and how many customers the store held when they were counted. */
const storedCustomersStatement = perReader((reader) =>
  reader.prepare('select coalesce(max(customers), 0) from search_trigram_counts_made').pluck(true),
);

/**
 * A trigram asked only to hold a character no asked one holds (cover) is held, by its stored count, by at
 * most this many customers and at most this share of the store's: FTS5 merges its whole row list (about
 * 7 ns an entry), and a trigram most customers hold tells few of them apart (`@wi` … of `7@widely` where
 * every address is `@widely…`), where one a few hold saves reading the rows of those that lack it (about
 * 0.7 µs each).
 */
const COVERED_UP_TO = 4 * 65_536;
const COVERED_SHARE = 1 / 8;

/**
 * Adds to `asked` (in place) the rarest trigram holding each character of the fragment that no asked trigram
 * holds, when its stored count (migration 20261207T1500) is low enough (COVERED_UP_TO, COVERED_SHARE). The
 * counted trigrams' stored counts are those trigramCount just remembered (uncapped: `counted` has them capped
 * at each pass's limit), so this reads no count again.
 */
function cover(
  reader: SqliteReader,
  { column, text }: Fragment,
  counted: ReadonlyArray<{ trigram: string; count: number }>,
  asked: Array<{ trigram: string; count: number }>,
): void {
  const most = Math.min(COVERED_UP_TO, (storedCustomersStatement(reader).get([]) as number) * COVERED_SHARE);
  const counts = countCache(reader);
  const storedOf = (trigram: string) => {
    const known = counts.get(countKey(column, trigram));
    return known?.limit === STORED ? known.count : undefined;
  };
  const chars = [...text];
  // Where each trigram starts (a query is up to 200 characters).
  const starts = new Map<string, number[]>();
  for (let i = 0; i + 3 <= chars.length; i++) {
    const trigram = chars.slice(i, i + 3).join('');
    starts.set(trigram, [...(starts.get(trigram) ?? []), i]);
  }
  const candidates = counted
    .map((t) => ({ t, held: storedOf(t.trigram), at: starts.get(t.trigram) ?? [] }))
    .filter((c): c is { t: { trigram: string; count: number }; held: number; at: number[] } => c.held !== undefined && c.held <= most);
  const covered = new Array<boolean>(chars.length).fill(false);
  const mark = (trigram: string) => {
    for (const i of starts.get(trigram) ?? []) covered[i] = covered[i + 1] = covered[i + 2] = true;
  };
  for (const t of asked) mark(t.trigram);
  for (let i = 0; i < chars.length; i++) {
    if (covered[i]) continue;
    let best: (typeof candidates)[number] | undefined;
    for (const c of candidates) if (c.at.some((at) => at <= i && i < at + 3) && (best === undefined || c.held < best.held)) best = c;
    if (best === undefined) continue;
    asked.push(best.t);
    mark(best.t.trigram);
  }
}

/** A remembered count's `limit` when it was read from the stored counts (never capped). */
const STORED = Infinity;

/** Where countCache keeps a trigram's count (the text index serves search_text and sort_key alike, counted apart). */
const countKey = (column: IndexedColumn, trigram: string) => `${column}\u0000${trigram}`;

/** The trigram's count as stored by the last import that changed much (migration 20261207T1500), if it was stored. */
function storedCount(reader: SqliteReader, trigram: string): number | undefined {
  return storedCountStatement(reader).get([asStored(trigram)]) as number | undefined;
}

/**
 * How many customers hold `trigram` in `column`'s index, counted up to `limit` (a read of at most that
 * many index entries) unless stored, remembered for COUNT_TTL_MS.
 */
function trigramCount(reader: SqliteReader, statements: SqliteStatements, column: IndexedColumn, trigram: string, limit: number): number {
  const counts = countCache(reader);
  const key = countKey(column, trigram);
  const known = counts.get(key);
  const now = Date.now();
  // Zero ends a search with no rows, so it stands only while nothing is written: a customer written since
  // may hold the trigram. Rank 1's fragment (a word starting with the query) holds one in most searches.
  const version = known?.count === 0 ? storeVersion(reader) : undefined;
  if (known?.count === 0 && known.version === version) return 0;
  // A count known exactly (below its limit), or known to reach this limit, stands for a while.
  const ttl = known && known.count > RARE_TRIGRAM ? LARGE_COUNT_TTL_MS : COUNT_TTL_MS;
  if (known && known.count > 0 && now - known.at < ttl && (known.count < known.limit || known.limit >= limit)) return Math.min(known.count, limit);
  // A count stored by the last import that changed much (migration 20261207T1500), when it is above FEW:
  // a lookup, where counting reads up to `limit` of the trigram's index entries. It may lag behind the
  // writes since, which costs a plan, never an answer; a trigram it says FEW customers or fewer hold (or
  // none: a trigram new since) is counted on the index, so a zero is always the index's own.
  if (column !== 'phone_digits') {
    const stored = storedCount(reader, trigram);
    if (stored !== undefined && stored > FEW) {
      remember(counts, key, { count: stored, limit: STORED, at: now });
      return Math.min(stored, limit);
    }
  }
  // Read before counting: a write between the two makes the zero stale at once, never kept past it.
  const before = version ?? storeVersion(reader);
  const count = statements.count.get([quote(trigram), limit]) as number;
  remember(counts, key, count > 0 ? { count, limit, at: now } : { count, limit, at: now, version: before });
  return count;
}

/** `value` under `key` as the most recent of `map`'s entries, the oldest forgotten past `most` entries. */
function remember<T>(map: Map<string, T>, key: string, value: T, most = COUNT_CACHE_SIZE): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > most) map.delete(map.keys().next().value as string);
}

/** A short fragment whose terms name more than this many times the cap of customers (with repeats) is common. */
const SHORT_TERMS_FACTOR = 4;
/** Above every term: the range's end for a fragment with no successor (it ends with U+10FFFF). */
const LAST_TERM = String.fromCodePoint(0x10ffff).repeat(4);

/**
 * A fragment of one or two characters (migration 20261203T0100): the text index holds a trigram
 * starting at each character of every customer's text, so the customers containing it are exactly
 * those holding one of the index's terms that start with it, listed by the `fts5vocab` table in term
 * order with how many customers hold each. When the terms name more than `bound.entries` customers
 * (with repeats), or are more than `bound.terms`, the fragment is common, and listing stops there
 * (each term's count is a read of its whole row list).
 */
function sqliteShortQuery(
  reader: SqliteReader,
  statements: SqliteStatements,
  text: string,
  bound: ShortBound,
): IndexQuery {
  const listed = listTerms(reader, statements, asStored(text), bound.entries);
  if (listed === 'common' || beyond(listed, bound)) return 'common';
  if (listed.terms.length === 0) return 'nobody';
  return { fts: listed.terms.map(quote).join(' OR '), fewerThan: listed.entries + 1 };
}

/** How many customers (with repeats) and terms a short fragment's listing may name to be asked for. */
export interface ShortBound {
  readonly entries: number;
  readonly terms: number;
}

/** Whether a listing names more customers or terms than `bound` allows. */
const beyond = (listed: ListedTerms, bound: ShortBound): boolean => listed.terms.length > bound.terms || listed.entries > bound.entries;

interface ListedTerms {
  readonly terms: readonly string[];
  /** How many customers they name, with repeats. */
  readonly entries: number;
}
interface TermsCache {
  /** The storeVersion when the listings were made. */
  version: string;
  readonly listings: Map<string, { listed: ListedTerms | 'common'; bound: number }>;
  /** The store's largest pk at that version, once asked (streamBound). */
  customers?: number;
}
/** Listings of terms remembered per read connection while nothing is written (TERMS_CACHE_SIZE most recent). */
const termsCaches = new WeakMap<SqliteReader, TermsCache>();
const TERMS_CACHE_SIZE = 10_000;

/**
 * The index's terms that start with `stored`, with how many customers they name, or `common` past
 * `bound` customers. Listing reads each term's whole row list (2 ms for `ee`'s 33,000 customers at
 * 1,000,000), and reps type the same few letters over and over, so a listing is remembered for as
 * long as nothing is written (storeVersion): unlike a count, a listing decides answers, so it is never
 * used once the index may have changed.
 */
function listTerms(reader: SqliteReader, statements: SqliteStatements, stored: string, bound: number): ListedTerms | 'common' {
  const { listings } = currentTermsCache(reader);
  const known = listings.get(stored);
  // A listing stopped at a smaller bound says only "more than that".
  if (known && (known.listed !== 'common' || known.bound >= bound)) return known.listed;
  statements.terms ??= reader.prepare('select term, doc from customer_search_text_terms where term >= ? and term < ?');
  const terms: string[] = [];
  let entries = 0;
  let listed: ListedTerms | 'common' | undefined;
  for (const row of statements.terms.iterate([stored, successor(stored) ?? LAST_TERM]) as IterableIterator<{ term: string; doc: number }>) {
    if (!row.term.startsWith(stored)) continue;
    terms.push(row.term);
    entries += row.doc;
    if (entries > bound) {
      listed = 'common';
      break;
    }
  }
  listed ??= { terms, entries };
  remember(listings, stored, { listed, bound }, TERMS_CACHE_SIZE);
  return listed;
}

/** What this read connection remembers of the terms, forgotten first if anything was written since. */
function currentTermsCache(reader: SqliteReader): TermsCache {
  const version = storeVersion(reader);
  let cache = termsCaches.get(reader);
  if (!cache || cache.version !== version) termsCaches.set(reader, (cache = { version, listings: new Map() }));
  return cache;
}

const versionStatement = perReader((reader) => reader.prepare('select data_version, total_changes() as changes from pragma_data_version'));

/**
 * Changes whenever anything is written to the store: `pragma data_version` moves when another connection
 * commits, `total_changes()` when this one writes (an in-memory store reads through its only connection,
 * whose own commits leave data_version as it was). About 3 µs.
 */
function storeVersion(reader: SqliteReader): string {
  const { data_version: data, changes } = versionStatement(reader).get([]) as { data_version: number; changes: number };
  return `${data}:${changes}`;
}

/**
 * The characters FTS5's trigram tokenizer stores as others, among those our folding keeps: its case
 * folding maps final sigma to sigma, and SQLite reads U+FFFE and U+FFFF as U+FFFD. A query of three
 * characters or more goes through the same tokenizer and agrees with it; a short one is looked up among
 * the stored terms, so it is mapped the same way first (the rows are then checked for the fragment
 * itself). test/search-index.test.ts checks every character against the tokenizer.
 */
const STORED_AS: Readonly<Record<string, string>> = { '\u03c2': '\u03c3', '\ufffe': '\ufffd', '\uffff': '\ufffd' };
const STORED_PATTERN = new RegExp(`[${Object.keys(STORED_AS).join('')}]`, 'gu');
export const asStored = (text: string): string => text.replace(STORED_PATTERN, (c) => STORED_AS[c] as string);

const quote = (trigram: string) => `"${trigram.replace(/"/g, '""')}"`;

/** The fragment's distinct trigrams, at most `most` of them spread over it. */
function trigramsOf(text: string, most: number): string[] {
  const chars = [...text];
  const all = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) all.add(chars.slice(i, i + 3).join(''));
  return spread([...all], most);
}

/** At most `most` of `items`, spread evenly from the first to the last. */
function spread<T>(items: readonly T[], most: number): T[] {
  if (items.length <= most) return [...items];
  const step = (items.length - 1) / (most - 1);
  return Array.from({ length: most }, (_, i) => items[Math.round(i * step)] as T);
}

/** How pgFind asks for a fragment: through the phone windows, by the whole pattern (no counts yet), or by chosen parts. */
type PgPlan =
  | { readonly way: 'number'; readonly digits: string; readonly budget: number }
  | { readonly way: 'whole'; readonly fragment: Fragment }
  | {
      readonly way: 'parts';
      readonly fragment: Fragment;
      readonly chosen: readonly Probe[];
      readonly fetch: number;
      /** Only the customers in these list buckets (the indexes' first key: candidatesInListBuckets). */
      readonly buckets?: readonly number[];
      /** About how many rows GIN names for the parts in the store (pgPlan's estimate). */
      readonly expected?: number;
    };
type PartsPlan = Extract<PgPlan, { way: 'parts' }>;

/**
 * PostgreSQL. pg_trgm asks GIN for every trigram of a LIKE pattern and reads
 * each one's whole posting list, and every row GIN names is then fetched from
 * the table and re-checked (3–50 µs a row here). So the common trigrams of
 * a rare fragment (`exa`, `xam`, `amp` … of `7234@example`, in every customer)
 * cost more than the answer (55 ms for 102 rows at 1,000,000 customers), and a
 * fragment whose trigrams each name many customers costs a fetch of every row
 * holding all of them (33,000 rows, 230 ms, for `% orea%`, none of which
 * matched). PostgreSQL keeps no per-trigram counts, so the service samples
 * them (`trigramCounts`), and:
 * - asks GIN only for parts of the fragment whose posting lists are cheap to
 *   read (`probes`), rarest first, at most MAX_PROBES of them (`%723%` and
 *   `%234%`: 302 rows, 1.2 ms), and checks the whole fragment on the rows with
 *   `strpos`, which no index answers;
 * - does not ask at all when no part is cheap, or when the parts' counts say
 *   the rows holding them all are more than it will fetch; when that is so
 *   only because overlapping parts of letters are taken as dependent, it
 *   asks with a smaller fetch (the cap), since they often are not;
 * - fetches at most FETCH_FACTOR × `cap` + 1 rows, however many GIN names:
 *   when they run out before the answer is known, the fragment counts as
 *   common (undefined), so a wrong estimate costs at most that many fetches;
 * - declines caps above PG_BUDGET (a search's second chances): each row is a
 *   table fetch (5 µs from shared buffers, about 50 µs from the OS cache when
 *   the table is larger than shared_buffers), dearer than reading the book in
 *   list order from the covering index (about 1 µs a row).
 * Counts only choose the plan: rows are always checked for the whole fragment. With `shownTo` each holder
 * comes with what a page shows of it, and for a rep only the book's holders come back.
 */
async function pgFind(store: Store, plan: PgPlan, cap: number, shownTo?: ShownTo): Promise<Found[] | undefined> {
  if (store.driver.kind !== 'postgres') throw new Error('unreachable');
  if (plan.way === 'number') return pgFindNumber(store, plan.digits, cap, plan.budget, shownTo);
  // The column is one of three names, never input.
  const column = plan.fragment.column;
  if (plan.way === 'whole') {
    const result = await store.driver.reads.query<[number, string, string]>({
      text: `select pk, sort_key, customer_id from customers where ${column} like $1 escape '\\' limit $2`,
      values: [`%${escapeLike(plan.fragment.text)}%`, cap + 1],
      rowMode: 'array',
    });
    return result.rows.map(([pk, sortKey, customerId]) => [pk, [sortKey, customerId]]);
  }
  const { chosen, fetch, buckets } = plan;
  const shows = shownTo !== undefined;
  const likes = chosen.map((_, i) => `${column} like $${i + 1} escape '\\'`).join(' and ');
  const holds = `strpos(${column}, $${chosen.length + 1}) > 0`;
  if (typeof shownTo === 'object') {
    const rep = `$${chosen.length + 3}`;
    const values = [...chosen.map((probe) => probe.pattern), plan.fragment.text, fetch, shownTo.book];
    // A query's digits many numbers hold: only the book's holders, through its own index (migration
    // 20261207T1000), whose first key is the rep.
    if (column === 'phone_digits' && (plan.expected ?? 0) > BOOK_FINDS_FROM) {
      const result = await store.driver.reads.query<FoundRow>(
        named({
          text: placesOfHolders(
            `select customer_pk as pk, ${holds} as holds, sort_key, customer_id, display_name, avatar from customer_owners ` +
              `where fis_worker_key(worker) && fis_worker_key(${rep}) and ${likes} limit $${chosen.length + 2}`,
            true,
          ),
          values,
          rowMode: 'array',
        }),
      );
      return holders(result.rows, fetch, cap);
    }
    // Otherwise the store's holders, as without a book (the fetch's limit and the cap count them all), each
    // checked for the book on the server: only the book's come back.
    const result = await store.driver.reads.query<BookRow>(
      named({
        text: placesOfHolders(
          `select pk, ${holds} as holds, sort_key, customer_id, display_name, avatar from customers where ${likes} limit $${chosen.length + 2}`,
          true,
          inBook(rep),
        ),
        values,
        rowMode: 'array',
      }),
    );
    return booksHolders(result.rows, fetch, cap);
  }
  // The list buckets are the trigram indexes' first key (migration 20261207T0500): GIN intersects them with the parts.
  const inBuckets = buckets === undefined ? '' : ` and fis_list_bucket(sort_key) && $${chosen.length + 3}::integer[]`;
  const shown = shows ? ', display_name, avatar' : '';
  const result = await store.driver.reads.query<FoundRow>(
    named({
      text: placesOfHolders(`select pk, ${holds} as holds, sort_key, customer_id${shown} from customers where ${likes}${inBuckets} limit $${chosen.length + 2}`, shows),
      values: [...chosen.map((probe) => probe.pattern), plan.fragment.text, fetch, ...(buckets === undefined ? [] : [buckets])],
      rowMode: 'array',
    }),
  );
  return holders(result.rows, fetch, cap);
}

/** Names of the finds' statements, one per text: a column, one to MAX_PROBES parts, and whom the holders are shown to. */
const findNames = new Map<string, string>();

/**
 * A find's statement, named after its text. A find's text depends only on its shape (the column, how many parts,
 * whom its holders are shown to), never on what is searched, so its texts are a few dozen: named, each is parsed
 * once per connection, and PostgreSQL may plan it once (after five runs, when the generic plan's estimate is no
 * worse than the custom plans'). Planning an unnamed find anew cost the server 0.04–0.13 ms a statement at
 * 1,000,000 customers, as much as running it for most finds, and the generic plans ran as fast as the custom ones
 * (BENCHMARKS.md, twenty-seventh round; test/search-generic-plans.test.ts holds every named statement's generic
 * plan to the rows its custom plan reads).
 */
function named(query: ReadQuery): ReadQuery {
  let name = findNames.get(query.text);
  if (name === undefined) findNames.set(query.text, (name = `fis:find-${findNames.size}`));
  return { ...query, name };
}

/**
 * A find's row: pk, whether it holds the whole fragment, and its place in the list when it does (and,
 * when asked, its display name and avatar).
 */
type FoundRow = [number, boolean, string | null, string | null, (string | null)?, (string | null)?];

/** A holder a find named: its pk, its place in the list, and (when asked) what a page shows of it. */
type Found = [pk: number, place: Place, shown?: Shown];

/**
 * A find's rows as FoundRow, from `found` (pk, holds, sort_key, customer_id, and display_name and avatar
 * when `shows`): the rest only for holders (the rows that only hold every part can be thousands: not
 * sent), the fragment checked once a row. With `inBook` (a rep's book: BookRow), the rest only for the
 * book's holders, and whether each holder is the book's: the fetch and the cap count every holder, but
 * the book's are about a fifth of them in the largest books (300 holders of `8778` in the bench's
 * 1,000,000 customers, 60 of them in a 200,000-customer book), and parsing the others' texts was the
 * service's largest cost after the collector under load. The check runs once a holder (`offset 0` keeps
 * the planner from copying it into each column that reads it).
 */
const placesOfHolders = (found: string, shows = false, inBook?: string) => {
  const sent = inBook === undefined ? 'holds' : 'mine';
  const columns =
    `select pk, holds, case when ${sent} then sort_key end, case when ${sent} then customer_id end` +
    `${shows ? `, case when ${sent} then display_name end, case when ${sent} then avatar end` : ''}`;
  if (inBook === undefined) return `${columns} from (${found}) f`;
  return `${columns}, mine from (select f.*, case when holds then ${inBook} else false end as mine from (${found}) f offset 0) f`;
};

/** pgFind's plan for `fragment`, or common: finding its customers would cost more than a read in list order. */
async function pgPlan(
  store: Store,
  fragment: Fragment,
  cap: number,
  page: number | undefined,
  readsBlocks: boolean,
  shownTo?: ShownTo,
): Promise<PgPlan | 'common'> {
  // A larger cap is a search's second chance (customer.repository.ts): here it would fetch the same rows
  // within the same budget, which the first asking already found too many.
  if (!answersUpTo(store, cap)) return 'common';
  // Rows GIN names hold every part but not always the whole fragment (`005` and `051`: 8,778 rows,
  // 798 with `2000051`), so more are fetched than the cap of answers.
  const budget = FETCH_FACTOR * cap + 1;
  if (fragment.column === 'phone_digits' && WINDOWED.test(fragment.text)) return { way: 'number', digits: fragment.text, budget };
  const counts = await trigramCounts(store);
  if (counts === undefined) return { way: 'whole', fragment };
  const column = fragment.column;
  const rows = Math.max(counts.rows, 1);
  const chosen = cheapParts(counts, fragment);
  if (chosen.length === 0) return 'common';
  // A small store: past a few hundred holders of a text, a read in list order fills the page for less
  // (fetchesWorthIt). Not for a query's digits: their read in list order has no search blocks to skip by.
  if (page !== undefined && column !== 'phone_digits') {
    const worth = fetchesWorthIt(rows, page);
    // Every holder holds each part, so the rarest part's count bounds them: past `worth`, the sampled texts
    // are counted (at 10,000 customers the sample is the whole table, and a rare fragment's count reads it all).
    const rarest = (chosen[0] as { count: number }).count;
    if (worth < cap && rarest > worth && counts.containing(column, fragment.text, worth) > worth) return 'common';
  }
  // A query's digits: the sampled numbers holding them decide, before any fetch. Parts of digits overlap
  // without being independent (`123` and `234` put about 140 customers at `1234`, which 1,796 hold), and a fetch
  // that finds them common costs as much as the read in list order it ends in (DIGITS_COMMON_MARGIN). In a rep's
  // book, past BOOK_FINDS_FROM holders, the book's own index finds them and the fetch and the cap count only the
  // book's (pgFind): about the store's times the book's share of the store. Four digits that also start a number
  // (`1717`: the country code and an area code) are in about 1,700 numbers of the bench's 1,000,000 and 340 of its
  // 200,000-customer books: judged by the store's count they were common, and the book was read in list order to
  // fill a page (5–49 ms here, for one last-four search in 15) where the book's index finds them in about 3.
  const share = typeof shownTo === 'object' && column === 'phone_digits' ? counts.bookShare(shownTo.book) : 1;
  const commonFrom = (cap * DIGITS_COMMON_MARGIN) / share;
  const sampledHolders = column === 'phone_digits' ? counts.containing(column, fragment.text, commonFrom) : undefined;
  if (sampledHolders !== undefined && sampledHolders > commonFrom) return 'common';
  let fetch = budget;
  const estimated = expectedRows(chosen, rows, true);
  // Overlapping parts of digits, taken as independent, say few where the digits' holders hold them all.
  const expected = Math.max(estimated, sampledHolders ?? 0);
  if (estimated > budget - 1) {
    // Parts of letters are not always dependent: many names start with `ch` and many hold `chm`, yet
    // none starts with `chmi`. If they were independent the rows would be few: a smaller fetch finds
    // out, where showing that no word starts with it in list order reads the whole book.
    if (expectedRows(chosen, rows, false) > cap) return 'common';
    // Often they are dependent (`ohn` and `hns` are in the same 33,000 Johnsons): the sampled rows
    // holding the whole fragment say so without the fetch (which cost 19 ms of a 27 ms search for `ohns`).
    if (counts.containing(column, fragment.text, cap * COMMON_MARGIN) > cap * COMMON_MARGIN) return 'common';
    fetch = cap + 1;
  }
  // The rows GIN names (every row holding each chosen part as pg_trgm indexes it) are each fetched and
  // checked, and the fetch's limit counts only those whose every part's pattern holds. So when the
  // sampled rows say they are more than the fetch, it fills, or, when the patterns fail on many of
  // them, reads them all to keep few: a word start's part (`% no%` of ` noah.`, the word-start rank of an
  // address typed from its start) is named by every text with a word starting `no`, the first word
  // included, and its pattern, with its space, fails on every Noah whose first word it is (20,000 rows
  // read at 1,000,000 customers, 110–190 ms, for 1,100 kept and no holder). Common, unfetched: read in list
  // order instead (through the search blocks that can hold it, for a query without a number's digits).
  // Counting them reads the sampled texts (0.2–0.7 ms here), so only when the parts' own counts, each of
  // which bounds them, leave it in doubt.
  const most = Math.min(...chosen.map((probe) => probe.count));
  let named: number | undefined;
  const namedRows = () => (named ??= counts.holdingAll(column, chosen.map((probe) => probe.key), fetch * COMMON_MARGIN));
  if (most > fetch * COMMON_MARGIN && namedRows() > fetch * COMMON_MARGIN) return 'common';
  if (page !== undefined && readsBlocks) {
    const read = rowsInBlocksHolding(store, fragment.text, rows);
    if (read < FETCH_PER_READ * Math.min(most, fetch) && read < FETCH_PER_READ * Math.min(namedRows(), fetch)) return 'common';
  }
  return { way: 'parts', fragment, chosen, fetch, expected };
}

/**
 * A customer's list bucket, as `fis_list_bucket(sort_key)` gives it (migration 20261207T0500), from the
 * code point of the sort key's first character (0 for an empty key): 0 before `a`, `a` to `z` 1 to 26, the
 * rest of ASCII 27, and past it four buckets of 16,384 code points, the last holding the rest. Buckets
 * never decrease along the list (sort keys compare byte-wise, and UTF-8 keeps code points' order), so the
 * customers of a bucket come after those of every lower one.
 */
export function listBucket(sortKey: string): number {
  const first = sortKey.codePointAt(0) ?? 0;
  if (first < 97) return 0;
  if (first < 123) return first - 96;
  return first < 128 ? 27 : 28 + Math.min(3, (first - 128) >> 14);
}
const LAST_BUCKET = 31;

/**
 * A query's digits held by more customers than this many pages' worth are found one stretch of the list
 * at a time (candidatesInListBuckets)…
 */
const BUCKETS_FROM = 4;
/**
 * …unless more than this many hold them: the first bucket alone (a letter's names, 3–7% of the list) would
 * then be more fetches than the read in list order costs (a row in it for every holder in a hundred).
 */
const BUCKETS_UP_TO = 6000;
/** The first stretch is expected to hold this many pages' worth of the holders (if every customer is visible)… */
const FIRST_STRETCH_PAGES = 2;
/** …and at most this share of the list (about one letter's names)… */
const FIRST_STRETCH_MAX = 0.05;
/** …and each next one this many times as many (the sampled count is rough, and the page may need more)… */
const STRETCH_GROWTH = 4;
/**
 * …until a stretch would be more than this share of the list: GIN reads the whole posting list of each
 * asked bucket (about 15 ns an entry here: 1 ms for a letter's 66,000 customers at 1,000,000), so the rest
 * of the holders is then fetched at once, as without buckets; and a store whose first stretch is that large
 * (names in one script past ASCII, one bucket) finds them all at once from the start.
 */
const MAX_STRETCH_SHARE = 0.25;

/** The buckets from `first` on whose sampled shares make up at least `share` of the list (one at least). */
function stretch(shares: readonly number[], first: number, share: number): { buckets: number[]; share: number } {
  const buckets: number[] = [];
  let taken = 0;
  for (let bucket = first; bucket <= LAST_BUCKET && (buckets.length === 0 || taken < share); bucket++) {
    buckets.push(bucket);
    taken += shares[bucket] ?? 0;
  }
  return { buckets, share: taken };
}

/** How candidatesInListBuckets finds a query's holders: its digits, the sampled counts, and the first stretch. */
export interface ListStretches {
  readonly counts: TrigramCounts;
  readonly shares: readonly number[];
  readonly digits: Fragment;
  /** The first stretch's share of the list, from the bucket `first` on. */
  readonly share: number;
  readonly first: number;
}

/**
 * PostgreSQL: how a search's rank 2 finds the holders of `fragments` (a query's digits among them) one
 * stretch of the list at a time from `from` (a sort key) on (candidatesInListBuckets), or undefined when it
 * finds them all at once: when the sampled numbers put more holders there than BUCKETS_FROM pages' worth
 * and at most BUCKETS_UP_TO, the first stretch from `from` is at most MAX_STRETCH_SHARE of the list, and the
 * store's encoding makes a bucket the first character's code point (UTF-8).
 */
export async function listStretches(store: Store, fragments: readonly Fragment[], page: number, from: string | undefined): Promise<ListStretches | undefined> {
  if (store.driver.kind !== 'postgres') return undefined;
  const digits = fragments.find((fragment) => fragment.column === 'phone_digits');
  if (digits === undefined || WINDOWED.test(digits.text)) return undefined;
  const counts = await trigramCounts(store);
  const shares = counts?.bucketShares;
  if (counts === undefined || shares === undefined) return undefined;
  const holders = counts.containing('phone_digits', digits.text, BUCKETS_UP_TO);
  if (holders <= BUCKETS_FROM * page || holders > BUCKETS_UP_TO) return undefined;
  // The sampled count is rough (about 10 sampled holders for four digits at 1,000,000): a first stretch of
  // a letter or so, whatever it says.
  const share = Math.min((FIRST_STRETCH_PAGES * page) / holders, FIRST_STRETCH_MAX);
  const first = from === undefined ? 0 : listBucket(from);
  if (stretch(shares, first, share).share > MAX_STRETCH_SHARE) return undefined;
  return { counts, shares, digits, share, first };
}

/**
 * PostgreSQL: the customers holding one of `fragments`, a query's digits among them, one stretch of the
 * list at a time as `stretches` (listStretches) begin, each stretch's Candidates (with what a page shows of
 * them) complete for its buckets and after every earlier stretch's in list order; 'common' when a
 * stretch's holders are more than `cap` (the search reads on in list order).
 *
 * The digits' holders are spread over the table: fetching them all to learn where each stands in the list
 * (about 1,000 table pages for four digits at 1,000,000 customers, and 300 ids and addresses) cost the
 * search 10–90 ms for a page of 30. GIN names the holders of each bucket (migration 20261207T0500), so a
 * stretch fetches only its own: the first about FIRST_STRETCH_PAGES pages' worth, by the buckets' sampled
 * shares of the list, each next one STRETCH_GROWTH times larger, until the caller's page is full or a
 * stretch would pass MAX_STRETCH_SHARE (the rest then at once, its holders of earlier buckets left out).
 * The query's text is asked for the same way, stretch by stretch, when pgPlan would fetch it (its index is
 * keyed by bucket too); when pgPlan finds it common, so is the search's rank.
 */
export async function* candidatesInListBuckets(
  store: Store,
  fragments: readonly Fragment[],
  cap: number,
  page: number,
  stretches: ListStretches,
): AsyncGenerator<Required<Candidates> | 'common'> {
  const { counts, shares, digits } = stretches;
  const chosen = cheapParts(counts, digits);
  const fetch = FETCH_FACTOR * cap + 1;
  const plans = await Promise.all(
    fragments.map((fragment) => (fragment === digits ? ({ way: 'parts', fragment, chosen, fetch } as const) : pgPlan(store, fragment, cap, page, false))),
  );
  // Every plan names parts (the counts are sampled: listStretches), so each can name buckets too.
  const parts = plans.filter((plan): plan is PartsPlan => plan !== 'common' && plan.way === 'parts');
  if (chosen.length === 0 || parts.length < plans.length) {
    yield 'common';
    return;
  }
  let share = stretches.share;
  for (let first = stretches.first; first <= LAST_BUCKET; share *= STRETCH_GROWTH) {
    const next = stretch(shares, first, share);
    // Past MAX_STRETCH_SHARE: every holder, and those of the buckets before this one left out.
    const rest = next.share > MAX_STRETCH_SHARE;
    // The text's and the digits' holders at once (see candidatesContaining).
    const finds = await Promise.all(parts.map((plan) => pgFind(store, rest ? plan : { ...plan, buckets: next.buckets }, cap, 'everyone')));
    const found: Found[] = [];
    for (const holders of finds) {
      if (holders === undefined) {
        yield 'common';
        return;
      }
      found.push(...holders);
    }
    const last = rest ? LAST_BUCKET : (next.buckets.at(-1) as number);
    const places = new Map<number, Place>();
    const shown = new Map<number, Shown>();
    for (const [pk, place, its] of found) {
      const bucket = listBucket(place[0]);
      if (bucket < first || bucket > last) continue;
      places.set(Number(pk), place);
      shown.set(Number(pk), its as Shown);
    }
    if (places.size > cap) {
      yield 'common';
      return;
    }
    yield { pks: [...places.keys()], places, shown };
    first = last + 1;
  }
}

/**
 * The parts of `fragment` pgFind asks GIN for: the rarest first, while their posting lists stay cheap to
 * read in all, at most MAX_PROBES; a part in most rows narrows nothing. None: no part is cheap.
 */
function cheapParts(counts: TrigramCounts, fragment: Fragment): Array<Probe & { count: number }> {
  const { column } = fragment;
  const rows = Math.max(counts.rows, 1);
  const chosen: Array<Probe & { count: number }> = [];
  let read = 0;
  const candidates = probes(fragment.text)
    .map((probe) => ({ ...probe, count: counts.estimate(column, probe.key), entries: probe.read.reduce((sum, key) => sum + counts.estimate(column, key), 0) }))
    .filter((probe) => probe.count <= rows * PROBE_SHARE_MAX)
    .sort((a, b) => a.count - b.count);
  for (const probe of candidates) {
    if (chosen.length === MAX_PROBES) break;
    if (read + probe.entries > READ_MAX) continue;
    chosen.push(probe);
    read += probe.entries;
  }
  return chosen;
}

/**
 * About how many rows a read in list order through the search blocks that can hold `text` reads at most:
 * the rows of those blocks (`rows` customers in all). It is the fragment's other way when it costs less than
 * fetching the rows GIN names, a table fetch each (FETCH_PER_READ reads from the covering index). Holders
 * that sit together in list order are where it wins: the address `jose.si…` of each José Silva and José
 * Simón, about 2,000 at 1,000,000 customers, in a few blocks (the list is in name order), fetched one by one
 * in 15 ms (each row a table page: about 60 µs more where it comes from disk), read there in 1.3 ms; and the
 * word start ` jose.si`, which no name holds, GIN names in the same 2,000 rows, where only a few blocks hold
 * its pairs. Judged on the blocks as last read (no statement); none read yet: every row.
 */
function rowsInBlocksHolding(store: Store, text: string, rows: number): number {
  const kept = keptBlocks.get(store)?.kept;
  if (kept === undefined || kept.bits.length === 0) return rows;
  let holding = 0;
  for (const word of blocksHoldingBits(kept, textBits(text))) holding += bitCount(word);
  return (holding / kept.bits.length) * rows;
}

/**
 * The holders among a find's rows (pk and place), or undefined (common) when the rows filled the fetch
 * (more were there) or the holders are more than the cap.
 */
function holders(rows: readonly FoundRow[], fetch: number, cap: number): Found[] | undefined {
  if (rows.length >= fetch) return undefined;
  const found: Found[] = [];
  for (const [pk, holds, sortKey, customerId, displayName, avatar] of rows) {
    if (!holds) continue;
    const place: Place = [sortKey as string, customerId as string];
    found.push(displayName === undefined ? [pk, place] : [pk, place, { displayName: displayName as string, avatar: avatar ?? null }]);
  }
  return found.length > cap ? undefined : found;
}

/** Whom a find's holders are shown to: everyone (every customer visible), or a rep (only the book's holders come back). */
export type ShownTo = 'everyone' | { readonly book: string };

/** A find's row in a rep's book: FoundRow with what a page shows (the book's holders only), then whether it is the book's holder. */
type BookRow = [...Required<FoundRow>, boolean];

/**
 * Whether the holder `f.pk` is in the rep's book (`rep`: the parameter naming the rep): one probe of the
 * owners' (customer_pk, worker) index per holder. A scalar subquery, not `exists`: PostgreSQL may answer an
 * `exists` with a hashed subplan built from the rep's whole book, which a generic plan of a named statement
 * chose (its estimate of a book: 133 rows) and which read all 200,002 rows of the bench's largest book for
 * every search of a number's digits in it (123 ms against 0.14; the bench's run of 15:55: 15 searches a
 * second). A subquery's row is never hashed.
 */
const inBook = (rep: string) =>
  `coalesce((select true from customer_owners o where o.customer_pk = f.pk and o.worker = ${rep} limit 1), false)`;

/** The rep's holders among a find's rows: the fetch and the cap count every holder, as without a book (see holders). */
function booksHolders(rows: readonly BookRow[], fetch: number, cap: number): Found[] | undefined {
  if (rows.length >= fetch || rows.reduce((count, row) => count + (row[1] ? 1 : 0), 0) > cap) return undefined;
  const mine = rows.filter((row) => row[6]).map((row) => row.slice(0, 6) as FoundRow);
  return holders(mine, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
}

/**
 * The customers whose numbers hold `digits` (seven or more), through the index of six-digit windows at
 * even offsets (migration 20261206T0700): the digits hold the window starting at their first digit or
 * the one at their second, whichever sits at an even offset of the number, so asking for either names
 * every holder (and a few that hold only a window), each checked for the whole digits. At most `budget`
 * rows are fetched; more: common (a number many customers share), as for any fragment.
 */
async function pgFindNumber(store: Store, digits: string, cap: number, budget: number, shownTo?: ShownTo): Promise<Found[] | undefined> {
  if (store.driver.kind !== 'postgres') throw new Error('unreachable');
  const found = 'select pk, strpos(phone_digits, $3) > 0 as holds, sort_key, customer_id';
  const where = 'from customers where fis_phone_windows(phone_digits) && array[$1, $2]::integer[] limit $4';
  const values = [...windowsAsked(digits), digits, budget];
  if (typeof shownTo === 'object') {
    const result = await store.driver.reads.query<BookRow>({
      name: 'fis:phone-windows-book',
      text: placesOfHolders(`${found}, display_name, avatar ${where}`, true, inBook('$5')),
      values: [...values, shownTo.book],
      rowMode: 'array',
    });
    return booksHolders(result.rows, budget, cap);
  }
  const shows = shownTo !== undefined;
  const result = await store.driver.reads.query<FoundRow>({
    name: shows ? 'fis:phone-windows-shown' : 'fis:phone-windows-places',
    text: placesOfHolders(`${found}${shows ? ', display_name, avatar' : ''} ${where}`, shows),
    values,
    rowMode: 'array',
  });
  return holders(result.rows, budget, cap);
}

/**
 * Rows holding every chosen part, estimated. Parts apart in the fragment are
 * taken as independent. Overlapping parts of letters (`ohn`, `hns`) come from
 * a vocabulary of names and words, so they are taken as fully dependent (the
 * rarer one's count) when `lettersDependent`; overlapping parts of digits only
 * (`125`, `258`, of ids and numbers) as independent, which they nearly are.
 */
function expectedRows(
  chosen: ReadonlyArray<{ readonly at: number; readonly key: string; readonly count: number }>,
  rows: number,
  lettersDependent: boolean,
): number {
  const byPosition = [...chosen].sort((a, b) => a.at - b.at);
  let expected = rows;
  let group: { end: number; count: number; independent: boolean } | undefined;
  const close = () => {
    if (group) expected = (expected * group.count) / rows;
  };
  for (const part of byPosition) {
    const independent = !lettersDependent || /^[0-9]{3}$/.test(part.key);
    if (group && part.at < group.end && !(independent && group.independent)) {
      group.count = Math.min(group.count, part.count);
      group.end = Math.max(group.end, part.at + 3);
      group.independent = false;
      continue;
    }
    close();
    group = { end: part.at + 3, count: part.count, independent };
  }
  close();
  return expected;
}

/**
 * The most holders of a fragment worth fetching to fill a page of `page` rows in a store of `rows`
 * customers. A fetch costs about FETCH_PER_READ rows read in list order (pgFind); a read in list order
 * fills the page after about page × rows / holders rows when the holders are spread over the list (and
 * skips the search blocks that hold none when they are not); so past sqrt(page × rows / FETCH_PER_READ)
 * holders the read costs less. For the app's page (31 rows asked): 249 at 10,000 customers (`joh`, about
 * 400 holders there, 5–9 ms a page fetched), 2,490 at 1,000,000, above every cap (no change there). A
 * rep's book is read in list order alone, which costs less still.
 */
function fetchesWorthIt(rows: number, page: number): number {
  return Math.sqrt((page * rows) / FETCH_PER_READ);
}
/** A candidate's fetch from the table against a row read in list order from the covering index (5 µs and 1 µs). */
const FETCH_PER_READ = 5;

/** Caps above this are declined (see pgFind)… */
const PG_BUDGET = 1500;
/** …and at most this many times the cap of rows are fetched to check a fragment (1–50 µs each). */
const FETCH_FACTOR = 4;
/** The chosen parts' posting lists hold at most this many entries in all (about 8 ns each to read)… */
const READ_MAX = 1_500_000;
/** …and no part is in more than this share of the rows. */
const PROBE_SHARE_MAX = 0.5;
/** At most this many parts are asked for. */
const MAX_PROBES = 4;
/**
 * A fragment the sampled rows put above this many times the cap is not asked for. A sample of 10,000
 * rows counts in steps of rows / 10,000 (100 customers at 1,000,000): twice the cap is 30 sampled rows
 * where 15 are expected, which chance alone gives about once in 5,000 fragments (then the search reads
 * in list order: slower, never wrong).
 */
const COMMON_MARGIN = 2;
/**
 * A query's digits the sampled numbers put above the cap are not asked for: their holders are as many as
 * the cap, or about, and their fetch (about 1.8 µs a row here) then costs as much as the read in list
 * order it ends in (`1234`, 1,796 holders at 1,000,000 customers: the fetch 3.4 ms, then the read 4.4).
 * Numbers are spread over the table as the sample's pages are not sorted by them.
 */
const DIGITS_COMMON_MARGIN = 1;

export interface Probe {
  /** Where the part starts in the fragment (its three characters). */
  readonly at: number;
  /** A LIKE pattern every row containing the fragment matches, from which pg_trgm extracts `read`. */
  readonly pattern: string;
  /** The trigram whose count says how many rows the pattern leaves. */
  readonly key: string;
  /** The trigrams GIN reads for the pattern. */
  readonly read: readonly string[];
}

/** pg_trgm's word separators that no locale counts as a letter or digit. */
const SEPARATOR = /[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/;
const WORD = /^[a-z0-9]+$/;

/**
 * Parts of a fragment that pg_trgm turns into known trigrams, whatever the
 * database's locale (ASCII letters and digits only; stored text is folded to
 * lower case): every three letters or digits in a row (`%abc%`: the trigram
 * `abc`), every word start, a separator followed by two of them (`%.ex%`:
 * pg_trgm pads the word, and reads `  e` and ` ex`), and every word end, two
 * of them followed by a separator (`%n1@%`: it reads `n1 `). A word's end is
 * often the rarest part of an address: `n1@example` (the address of the
 * customer numbered 1, `…johnson1@example.org`) has no other part that is not
 * in every address, so without it the search read the whole list in order
 * (680 ms at 1,000,000 customers); `n1 ` is in one.
 */
export function probes(text: string): Probe[] {
  const found = new Map<string, Probe>();
  for (let i = 0; i + 3 <= text.length; i++) {
    const triple = text.slice(i, i + 3);
    if (WORD.test(triple)) found.set(triple, { at: i, pattern: `%${triple}%`, key: triple, read: [triple] });
    const start = triple.slice(1);
    if (SEPARATOR.test(triple[0] as string) && WORD.test(start)) {
      const key = ` ${start}`;
      found.set(key, { at: i, pattern: `%${escapeLike(triple)}%`, key, read: [`  ${start[0]}`, key] });
    }
    const end = triple.slice(0, 2);
    if (WORD.test(end) && SEPARATOR.test(triple[2] as string)) {
      const key = `${end} `;
      found.set(key, { at: i, pattern: `%${escapeLike(triple)}%`, key, read: [key] });
    }
  }
  return [...found.values()];
}

/** Customers sampled for the trigram counts (the estimate's unit at 1,000,000 customers: 100). */
const SAMPLE_ROWS = 10_000;
/** How long counts are used before they are sampled again (in the background; the old ones serve meanwhile). */
const COUNTS_TTL_MS = 5 * 60_000;
/** After a failed sample, how long to search without counts before trying again. */
const COUNTS_RETRY_MS = 60_000;

export interface TrigramCounts {
  /** About how many customers the table holds. */
  readonly rows: number;
  /** About how many customers hold `trigram` in `column` (0 when the sample has none). */
  estimate(column: IndexedColumn, trigram: string): number;
  /**
   * About how many customers hold the whole `fragment` in `column`, counted in the sampled rows (exact
   * when the sample is the whole table), or more than `atLeast` once that is certain: the count stops there.
   */
  containing(column: IndexedColumn, fragment: string, atLeast: number): number;
  /**
   * About how many customers hold every one of `trigrams` as pg_trgm indexes them (`abc`: those three
   * characters; ` ab`: a word starting with `ab`), so how many rows GIN names for them, counted in the
   * sampled rows (see SampledTexts.holdingAll); the count stops once it passes `atLeast`.
   */
  holdingAll(column: IndexedColumn, trigrams: readonly string[], atLeast: number): number;
  /**
   * About what share of the customers (0–1) sit in search blocks (search-blocks.ts) where a sampled
   * customer's text holds `fragment`: near 1 when it is everywhere, small when its holders sit together.
   * The count stops once it passes `atMost`.
   */
  blockShare(fragment: string, atMost: number): number;
  /**
   * Each list bucket's share of the sampled customers (listBucket; LAST_BUCKET + 1 of them, summing to 1),
   * or undefined when buckets are not code points here (a database not in UTF-8) or nothing was sampled.
   */
  readonly bucketShares: readonly number[] | undefined;
  /**
   * About what share of the customers (at most 1) `worker`'s book holds, from the server's statistics of the
   * owners' reps (ANALYZE's most common values; a rep not among them, at most the least common of those): 1
   * when they say nothing (never analyzed, or no rep common enough to be listed).
   */
  bookShare(worker: string): number;
}

interface CountsState {
  counts: TrigramCounts | undefined;
  /** When the counts are due to be sampled again. */
  until: number;
  sampling: Promise<void> | undefined;
}
const countsByStore = new WeakMap<Store, CountsState>();

/**
 * Sampled per-trigram customer counts of a PostgreSQL store, sampled once on
 * first use (about 0.4 s at 1,000,000 customers; concurrent first searches
 * share it) and again every COUNTS_TTL_MS in the background. Undefined while
 * none could be taken: the search then asks GIN for the whole fragment.
 */
export async function trigramCounts(store: Store): Promise<TrigramCounts | undefined> {
  let state = countsByStore.get(store);
  if (!state) countsByStore.set(store, (state = { counts: undefined, until: 0, sampling: undefined }));
  if (Date.now() >= state.until && state.sampling === undefined) {
    const current = state;
    current.sampling = sampleTrigrams(store).then(
      (counts) => {
        current.counts = counts;
        current.until = Date.now() + COUNTS_TTL_MS;
      },
      () => {
        current.until = Date.now() + COUNTS_RETRY_MS;
      },
    ).finally(() => {
      current.sampling = undefined;
    });
  }
  if (state.counts === undefined && state.sampling !== undefined) await state.sampling;
  return state.counts;
}

/**
 * PostgreSQL: samples the trigram counts and reads the search blocks, which the first search after a
 * start would otherwise wait for (about 0.4 s and 20 ms at 1,000,000 customers). SQLite: nothing (its
 * counts are per reader connection, counted as searches meet them).
 */
export async function warmSearchIndex(store: Store): Promise<void> {
  if (store.driver.kind !== 'postgres') return;
  await trigramCounts(store);
  await currentBlocks(store);
}

/** The next search samples the counts again (after a large import). */
export function forgetTrigramCounts(store: Store): void {
  const state = countsByStore.get(store);
  if (state) state.until = 0;
  if (store.driver.kind === 'sqlite') countCache(store.driver.reader).clear();
  // Searches may run on reader threads, each remembering counts of its own.
  store.readerThreads?.forgetCounts();
}

/**
 * Counts trigrams (`show_trgm`, as GIN indexes them) in a sample of about
 * SAMPLE_ROWS customers (`tablesample system`: whole table pages), the whole
 * table when it is smaller, and scales them to the table's size.
 */
async function sampleTrigrams(store: Store): Promise<TrigramCounts> {
  if (store.driver.kind !== 'postgres') throw new Error('unreachable');
  const pool = store.driver.pool;
  const size = await pool.query<{ rows: number; utf8: boolean }>(
    `select reltuples::float8 as rows, current_setting('server_encoding') = 'UTF8' as utf8 from pg_class where oid = to_regclass('customers')`,
  );
  const utf8 = size.rows[0]?.utf8 === true;
  let estimated = size.rows[0]?.rows ?? -1;
  // reltuples is -1 before the table's first VACUUM or ANALYZE: count once instead (a sample's counts
  // scaled to a wrong size would call every fragment rare).
  if (estimated < 0) estimated = (await pool.query<{ rows: number }>('select count(*)::float8 as rows from customers')).rows[0]?.rows ?? 0;
  const percent = estimated > SAMPLE_ROWS ? Math.min(100, (100 * SAMPLE_ROWS) / estimated) : 100;
  // The rows themselves, for whole fragments: another sample of the same size (`system` draws pages
  // anew), read at the same time as the counts.
  const rowTexts = pool.query<[string, string, string]>({
    text: 'select search_text, phone_digits, sort_key from customers tablesample system ($1) limit $2',
    values: [percent, SAMPLE_ROWS * 4],
    rowMode: 'array',
  });
  // Handled below; until then a failure must not go unhandled.
  rowTexts.catch(() => undefined);
  const books = bookShares(store);
  books.catch(() => undefined);
  const result = await pool.query<[string, string, number, number]>({
    text:
      `with sample as (select search_text, phone_digits, sort_key from customers tablesample system ($1) limit $2), ` +
      `rows as (select count(*)::int as n from sample) ` +
      `select 'search_text', t, count(*)::int, (select n from rows) from sample, unnest(show_trgm(search_text)) t group by t ` +
      `union all select 'phone_digits', t, count(*)::int, (select n from rows) from sample, unnest(show_trgm(phone_digits)) t group by t ` +
      `union all select 'sort_key', t, count(*)::int, (select n from rows) from sample, unnest(show_trgm(sort_key)) t group by t ` +
      `union all select '', '', 0, (select n from rows)`,
    values: [percent, SAMPLE_ROWS * 4],
    rowMode: 'array',
  });
  const sampled = result.rows[0]?.[3] ?? 0;
  // The limit only guards against a size far out of date: a whole-table sample is the table.
  const total = percent < 100 ? Math.max(estimated, sampled) : sampled;
  const scale = sampled === 0 ? 0 : total / sampled;
  const maps: Record<IndexedColumn, Map<string, number>> = { search_text: new Map(), phone_digits: new Map(), sort_key: new Map() };
  for (const [column, trigram, count] of result.rows) {
    if (column === 'search_text' || column === 'phone_digits' || column === 'sort_key') maps[column].set(trigram, count);
  }
  const texts = await rowTexts;
  const textScale = texts.rows.length === 0 ? 0 : percent < 100 ? total / texts.rows.length : 1;
  const sampledTexts: Record<IndexedColumn, SampledTexts> = {
    search_text: new SampledTexts(texts.rows.map((row) => row[0])),
    phone_digits: new SampledTexts(texts.rows.map((row) => row[1])),
    sort_key: new SampledTexts(texts.rows.map((row) => row[2])),
  };
  const bookShare = await books;
  const bounds = (await pool.query<[string]>({ text: 'select prefix from customer_search_blocks order by prefix', rowMode: 'array' })).rows;
  const blocks = sampledBlocks(
    texts.rows.map((row) => row[0]),
    texts.rows.map((row) => row[2]),
    bounds.map(([prefix]) => Buffer.from(prefix)),
  );
  return {
    rows: total,
    estimate: (column, trigram) => (maps[column].get(trigram) ?? 0) * scale,
    containing: (column, fragment, atLeast) =>
      textScale === 0 ? 0 : sampledTexts[column].containing(fragment, Math.floor(atLeast / textScale) + 1) * textScale,
    holdingAll: (column, trigrams, atLeast) =>
      textScale === 0 ? 0 : sampledTexts[column].holdingAll(trigrams, Math.floor(atLeast / textScale) + 1) * textScale,
    blockShare: (fragment, atMost) => blocks.share(fragment, atMost),
    bucketShares: utf8 ? bucketShares(texts.rows.map((row) => row[2])) : undefined,
    bookShare: (worker) => Math.min(1, (bookShare.freqs.get(worker) ?? bookShare.unlisted) * (bookShare.owners / Math.max(total, 1))),
  };
}

/**
 * The reps' shares of the owners' rows as ANALYZE last sampled them (`pg_stats`' most common values of
 * `customer_owners.worker`), the share any rep not listed has at most (the least listed: the list holds the
 * sample's most frequent reps, in order), and how many owners' rows there are. Without a list every book
 * counts as the whole store (share 1, owners' rows taken as the customers').
 */
async function bookShares(store: Store): Promise<{ freqs: Map<string, number>; unlisted: number; owners: number }> {
  if (store.driver.kind !== 'postgres') throw new Error('unreachable');
  const { rows } = await store.driver.pool.query<{ workers: string[] | null; freqs: number[] | null; owners: number }>(
    `select s.most_common_vals::text::text[] as workers, s.most_common_freqs::float8[] as freqs, c.reltuples::float8 as owners ` +
      `from pg_class c join pg_namespace n on n.oid = c.relnamespace ` +
      `left join pg_stats s on s.schemaname = n.nspname and s.tablename = 'customer_owners' and s.attname = 'worker' ` +
      `where c.oid = to_regclass('customer_owners')`,
  );
  const row = rows[0];
  const workers = row?.workers ?? [];
  const freqs = row?.freqs ?? [];
  if (row === undefined || workers.length === 0 || workers.length !== freqs.length || !(row.owners > 0)) {
    return { freqs: new Map(), unlisted: Number.POSITIVE_INFINITY, owners: 1 };
  }
  return { freqs: new Map(workers.map((worker, i) => [worker, freqs[i] as number])), unlisted: Math.min(...freqs), owners: row.owners };
}

/** Each list bucket's share of `sortKeys` (see TrigramCounts.bucketShares). */
function bucketShares(sortKeys: readonly string[]): number[] | undefined {
  if (sortKeys.length === 0) return undefined;
  const shares = new Array<number>(LAST_BUCKET + 1).fill(0);
  for (const sortKey of sortKeys) shares[listBucket(sortKey)] += 1 / sortKeys.length;
  return shares;
}

/** A fragment whose sampled holders' blocks hold more than this share of the customers is read without asking the blocks. */
const BLOCKS_WORTH_ASKING = 0.5;

/**
 * Whether asking the search blocks where `fragment` can be (a statement) is likely to skip much of a
 * read in list order: judged by the sampled customers (trigramCounts), so it only chooses the plan.
 * A fragment in every block (`mple.or` of every address) is read at once; one whose holders sit
 * together (`av`, the Xaviers) or that the sample does not hold, by blocks.
 */
export async function blocksWorthAsking(store: Store, fragment: string): Promise<boolean> {
  const counts = await trigramCounts(store);
  return counts === undefined || counts.blockShare(fragment, BLOCKS_WORTH_ASKING) <= BLOCKS_WORTH_ASKING;
}

/** Sampled texts the block shares are judged by (a plan's rough guide; each search may read them all: ~60 µs). */
const BLOCK_SAMPLE = 2000;

/**
 * The sampled texts grouped by search block (the blocks starting at `bounds`, sorted; none: one block),
 * each block's share of the sample (see share).
 */
export function sampledBlocks(allTexts: readonly string[], allSortKeys: readonly string[], bounds: readonly Buffer[]) {
  const step = Math.max(1, Math.floor(allTexts.length / BLOCK_SAMPLE));
  const texts = allTexts.filter((_, i) => i % step === 0);
  const sortKeys = allSortKeys.filter((_, i) => i % step === 0);
  const byBlock = new Map<number, string[]>();
  sortKeys.forEach((sortKey, i) => {
    const block = bounds.length === 0 ? 0 : blockIndex(bounds, Buffer.from(sortKey));
    const group = byBlock.get(block);
    if (group) group.push(texts[i] as string);
    else byBlock.set(block, [texts[i] as string]);
  });
  // Each block's texts as one (joined by the separator, which no fragment holds), largest block first, so that
  // a fragment in most blocks passes `atMost` after few of them; a rare one is found through the kept lists.
  const groups = [...byBlock.values()].sort((x, y) => y.length - x.length);
  const sampled = new SampledTexts(groups.map((group) => group.join(SAMPLE_SEPARATOR)));
  const shares = groups.map((group) => group.length / Math.max(texts.length, 1));
  return {
    share(fragment: string, atMost: number): number {
      let share = 0;
      sampled.forEachHolder(fragment, (block) => {
        share += shares[block] as number;
        return share > atMost ? -1 : block + 1;
      });
      return share;
    },
  };
}

/**
 * Between two sampled texts: PostgreSQL's text never holds NUL, so no fragment spans two of them (a line
 * break would not do: search_text puts one between the name and each address).
 */
export const SAMPLE_SEPARATOR = '\u0000';

/** Sampled texts, each after a separator and the last one followed by one. */
const sampledLines = (texts: readonly string[]): string => `${SAMPLE_SEPARATOR}${texts.join(SAMPLE_SEPARATOR)}${SAMPLE_SEPARATOR}`;

/** Entries of the lists SampledTexts keeps for one column, at most (about 4 MB); past it, lists are made and not kept. */
const KEPT_ENTRIES = 1_000_000;

/**
 * One column's sampled texts, and which of them hold each piece of text a plan asked about (`abc`, or `ab` at a
 * word's start), kept as long as the sample: a piece's texts are found once, by a read of every sampled text,
 * and each later count that needs them is an intersection of sorted lists. A plan counts texts holding a
 * fragment (`containing`) or every part it would ask GIN for (`holdingAll`); each count used to read every
 * sampled text (0.1–0.3 ms a count at 1,000,000 customers: a quarter of the service's time for an address
 * typed from its start, `noah.mu`, whose `noa` is in 300 of the 10,000 sampled texts). The pieces are three
 * characters and fewer, so what is kept is bounded by the texts' own (KEPT_ENTRIES). sampledBlocks keeps one
 * for the blocks, each block's sampled texts as one text.
 */
export class SampledTexts {
  /** The texts, each after a separator, the last one followed by one (a fragment never spans two). */
  private readonly lines: string;
  /** Where each text starts in `lines`, and one more past the end. */
  private readonly starts: Int32Array;
  private readonly lists = new Map<string, Int32Array>();
  private kept = 0;

  constructor(private readonly texts: readonly string[]) {
    this.lines = sampledLines(texts);
    this.starts = new Int32Array(texts.length + 1);
    let at = 1;
    texts.forEach((text, i) => {
      this.starts[i] = at;
      at += text.length + SAMPLE_SEPARATOR.length;
    });
    this.starts[texts.length] = at;
  }

  /** How many of the texts contain `fragment`, counted up to `atMost`. */
  containing(fragment: string, atMost: number): number {
    let count = 0;
    if (atMost <= 0) return count;
    this.forEachHolder(fragment, (text) => (++count < atMost ? text + 1 : -1));
    return count;
  }

  /**
   * Calls `each` with the texts (their indexes, ascending) containing `fragment`: after each, from the text it
   * returns on, or no further when it returns -1 (see forEachCommon).
   */
  forEachHolder(fragment: string, each: (text: number) => number): void {
    if (fragment === '' || fragment.includes(SAMPLE_SEPARATOR)) return;
    if (fragment.length <= PIECE) {
      forEachCommon([this.holding(fragment, 'anywhere')], each);
      return;
    }
    // Every text holding it holds its first, middle and last three characters: those are checked for the whole.
    const pieces = [0, (fragment.length - PIECE) >> 1, fragment.length - PIECE].map((at) => this.holding(fragment.slice(at, at + PIECE), 'anywhere'));
    forEachCommon(pieces, (text) => ((this.texts[text] as string).includes(fragment) ? each(text) : text + 1));
  }

  /**
   * How many of the texts hold every one of `trigrams` as pg_trgm's GIN index names them, counted up to
   * `atMost`: `abc` when the text holds those characters, ` ab` when a word of it (a run of letters and
   * digits) starts with `ab`, `ab ` when one ends with it.
   */
  holdingAll(trigrams: readonly string[], atMost: number): number {
    // Each part's texts (a word start by what follows its spaces, a word end by what comes before them),
    // intersected; a part of spaces alone names none.
    if (trigrams.length === 0 || trigrams.some((trigram) => trigram.trim() === '')) return 0;
    const lists = trigrams.map((trigram) => this.holding(...part(trigram)));
    let count = 0;
    if (atMost > 0) forEachCommon(lists, (text) => (++count < atMost ? text + 1 : -1));
    return count;
  }

  /** The texts (their indexes, ascending) holding `characters` anywhere, or where a word starts or ends (`where`). */
  private holding(characters: string, where: PartAt): Int32Array {
    const key = `${where[0]}${characters}`;
    const known = this.lists.get(key);
    if (known !== undefined) return known;
    const found: number[] = [];
    if (!characters.includes(SAMPLE_SEPARATOR)) {
      const { lines, starts } = this;
      let text = 0;
      for (let at = lines.indexOf(characters); at >= 0; ) {
        // Not where a word starts (ends): on to the next place, in this text or the next (the separator starts a
        // word and ends one).
        if ((where === 'start' && !startsWord(lines, at)) || (where === 'end' && !endsWord(lines, at + characters.length))) {
          at = lines.indexOf(characters, at + 1);
          continue;
        }
        while ((starts[text + 1] as number) <= at) text++;
        found.push(text);
        at = lines.indexOf(characters, starts[text + 1] as number);
      }
    }
    const list = Int32Array.from(found);
    if (this.kept + list.length <= KEPT_ENTRIES) {
      this.lists.set(key, list);
      this.kept += list.length;
    }
    return list;
  }
}

/** The pieces SampledTexts keeps lists of: up to three characters. */
const PIECE = 3;

/**
 * Calls `each` with the entries every one of `lists` (each ascending) holds, ascending: after each, from the
 * entry it returns on (past the one given), or no further when it returns -1. The lists leapfrog: each is
 * searched (binary) from where it stood for the largest entry another holds.
 */
function forEachCommon(lists: readonly Int32Array[], each: (entry: number) => number): void {
  const sorted = [...lists].sort((a, b) => a.length - b.length);
  if (sorted.length === 0) return;
  const at = sorted.map(() => 0);
  let wanted = 0;
  for (;;) {
    let agreed = true;
    for (let i = 0; i < sorted.length; i++) {
      const list = sorted[i] as Int32Array;
      at[i] = lowerBound(list, wanted, at[i] as number);
      if (at[i] === list.length) return;
      const entry = list[at[i] as number] as number;
      if (entry !== wanted) {
        // Past it: every list is asked again for this larger entry.
        wanted = entry;
        agreed = i === 0;
        if (!agreed) break;
      }
    }
    if (!agreed) continue;
    const next = each(wanted);
    if (next < 0) return;
    wanted = Math.max(next, wanted + 1);
  }
}

/**
 * The first index at or after `from` of the ascending `list` whose entry is `entry` or more. Galloping: steps
 * from `from` double until one passes it, then a binary search between the last two. The lists of a piece most
 * texts hold (`mple.or`'s, in nearly every block) are walked nearly entry by entry, where a binary search over
 * the rest of the list cost each step log of its length (8% of the service's busy time for that search).
 */
function lowerBound(list: Int32Array, entry: number, from: number): number {
  if (from >= list.length || (list[from] as number) >= entry) return from;
  let low = from + 1;
  let step = 1;
  while (low < list.length && (list[low] as number) < entry) {
    from = low;
    step *= 2;
    low = from + step;
  }
  // list[from] < entry, and list[low] >= entry or low is past the end.
  low = from + 1;
  let high = Math.min(from + step, list.length);
  while (low < high) {
    const middle = (low + high) >> 1;
    if ((list[middle] as number) < entry) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** pg_trgm's word characters, as a UTF-8 database's locale mostly counts them (an estimate's rule only). */
const WORD_CHARACTER = /[\p{L}\p{N}]/u;

/** Whether a word of `text` starts at `at` (at its start, or after a character that is no letter or digit). */
const startsWord = (text: string, at: number) => at === 0 || !WORD_CHARACTER.test(text[at - 1] as string);
/** Whether a word of `text` ends before `at` (nothing, or no letter or digit, follows). */
const endsWord = (text: string, at: number) => at >= text.length || !WORD_CHARACTER.test(text[at] as string);

/** Where in a word a trigram's characters stand, as pg_trgm pads words: ` ab` at its start, `ab ` at its end. */
type PartAt = 'anywhere' | 'start' | 'end';

/** A trigram as SampledTexts.holding takes it: its characters, and where in a word they stand. */
const part = (trigram: string): [string, PartAt] =>
  trigram.startsWith(' ') ? [trigram.trimStart(), 'start'] : trigram.endsWith(' ') ? [trigram.trimEnd(), 'end'] : [trigram, 'anywhere'];

const ALNUM = /[a-z0-9]/;

/**
 * Whether pg_trgm finds at least one trigram in `%fragment%` (otherwise its
 * GIN index would read every entry). pg_trgm splits text into words of
 * alphanumeric characters, pads a word with two spaces before it and one after
 * when the pattern shows where it starts or ends, and needs three characters:
 * a word whose start is known always gives one, one whose end is known needs
 * two letters, one in the middle three. Judged on ASCII letters and digits
 * only, which every locale counts as alphanumeric, so a "yes" is always right.
 */
export function pgTrgmExtracts(fragment: string): boolean {
  const chars = [...fragment];
  let i = 0;
  while (i < chars.length) {
    if (!ALNUM.test(chars[i] as string)) {
      i++;
      continue;
    }
    const start = i;
    while (i < chars.length && ALNUM.test(chars[i] as string)) i++;
    const length = i - start;
    // Only a neighbour that is ASCII non-alphanumeric counts as a boundary (locale-independent).
    const startKnown = start > 0 && /[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(chars[start - 1] as string);
    const endKnown = i < chars.length && /[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(chars[i] as string);
    if (startKnown || (endKnown && length >= 2) || length >= 3) return true;
  }
  return false;
}

// ---- search blocks (PostgreSQL): where in list order a text fragment can be (search-blocks.ts)

/** The search blocks as the service keeps them: starts in list order, each block's bits. */
export interface KeptBlocks {
  /** customer_search_blocks_version when they were read (migration 20261206T1300). */
  readonly version: string;
  readonly prefixes: readonly string[];
  readonly bits: readonly Buffer[];
  /** For each bit asked about so far, the blocks holding it, one bit a block (blocksHoldingBits). */
  readonly byBit: Map<number, Uint32Array>;
}
interface BlocksState {
  kept?: KeptBlocks;
  reading?: Promise<KeptBlocks>;
  /** The last read of the version, and when it was sent (performance.now()): see currentBlocks. */
  version?: { readonly sentAt: number; readonly read: Promise<string> };
}
const keptBlocks = new WeakMap<Store, BlocksState>();

/** The version and every block, in one statement (one snapshot); bits as varbit_send gives them (a 4-byte length first). */
const ALL_BLOCKS =
  'select v.version::text, b.prefix, varbit_send(b.bits) from customer_search_blocks_version v ' +
  'left join customer_search_blocks b on true where v.id = 1 order by b.prefix';

/**
 * The store's blocks, read again only when their version moved (every writer of a block moves it in its
 * own transaction: migration 20261206T1300): one row read per search instead of the server checking
 * every block's bits (0.2–0.5 ms of its time at 901 blocks). Read again at most once at a time.
 *
 * The version is read once for everything that starts at `since` or later (performance.now()): a read
 * sent since then sees every write committed before, as a read of the caller's own would. So a search
 * that asks the blocks for two ranks, and searches that start while its read is on the way, share it.
 */
async function currentBlocks(store: Store, since = performance.now()): Promise<KeptBlocks> {
  if (store.driver.kind !== 'postgres') throw new Error('only PostgreSQL keeps search blocks');
  const pool = store.driver.pool;
  let state = keptBlocks.get(store);
  if (!state) keptBlocks.set(store, (state = {}));
  const version = await blocksVersion(store.driver.reads, state, since);
  if (state.kept?.version === version) return state.kept;
  const current = state;
  for (;;) {
    current.reading ??= (async () => {
      const all = await pool.query<[string, string | null, Buffer | null]>({ name: 'fis:search-blocks-all', text: ALL_BLOCKS, rowMode: 'array' });
      const prefixes: string[] = [];
      const bits: Buffer[] = [];
      for (const [, prefix, sent] of all.rows) {
        if (prefix === null || sent === null) continue;
        prefixes.push(prefix);
        bits.push(sent.subarray(4));
      }
      return { version: all.rows[0]?.[0] ?? version, prefixes, bits, byBit: new Map() };
    })().finally(() => {
      current.reading = undefined;
    });
    const read = await current.reading;
    if (!current.kept || BigInt(read.version) >= BigInt(current.kept.version)) current.kept = read;
    // A read already under way when this search read the version may hold older blocks: then once more (a
    // read that starts now sees at least the version this search saw).
    if (BigInt(read.version) >= BigInt(version)) return read;
  }
}

/** customer_search_blocks_version as a read sent at `since` or later gave it (see currentBlocks). */
function blocksVersion(reads: HotReads, state: BlocksState, since: number): Promise<string> {
  const last = state.version;
  if (last !== undefined && last.sentAt >= since) return last.read;
  const sentAt = performance.now();
  const read = reads
    .query<[string]>({ name: 'fis:search-blocks-version', text: 'select version::text from customer_search_blocks_version where id = 1', rowMode: 'array' })
    .then(({ rows }) => {
      const version = rows[0]?.[0];
      if (version === undefined) throw new Error('customer_search_blocks_version has no row (migration 20261206T1300)');
      return version;
    });
  const current = { sentAt, read };
  state.version = current;
  // A failed read is not shared with later callers: they read again.
  read.catch(() => {
    if (state.version === current) state.version = undefined;
  });
  return read;
}

const hasBit = (bits: Buffer, bit: number) => ((bits[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0;

/**
 * The blocks that hold every one of a fragment's bits (textBits), so can hold the fragment: block i is bit
 * i % 32 of word i >> 5. Each bit's blocks are found once per kept blocks (a read of that bit of every block)
 * and kept with them (at most BLOCK_BITS of them, 116 bytes each at 901 blocks); a search
 * then ANDs a word per 32 blocks for each of its bits, where it used to test every block's bits (5.9% of the
 * service's busy time searching inside names at 1,000,000 customers, and 2.8% more counting the same blocks).
 */
export function blocksHoldingBits(kept: KeptBlocks, bits: readonly number[]): Uint32Array {
  const holding = new Uint32Array((kept.bits.length + 31) >> 5);
  // No bits: every block (as a test of each one's bits would say).
  if (bits.length === 0) for (let block = 0; block < kept.bits.length; block++) holding[block >> 5] = (holding[block >> 5] as number) | (1 << (block & 31));
  bits.forEach((bit, i) => {
    let blocks = kept.byBit.get(bit);
    if (blocks === undefined) {
      blocks = new Uint32Array(holding.length);
      for (let block = 0; block < kept.bits.length; block++) {
        if (hasBit(kept.bits[block] as Buffer, bit)) blocks[block >> 5] = (blocks[block >> 5] as number) | (1 << (block & 31));
      }
      kept.byBit.set(bit, blocks);
    }
    if (i === 0) holding.set(blocks);
    else for (let word = 0; word < holding.length; word++) holding[word] = (holding[word] as number) & (blocks[word] as number);
  });
  return holding;
}

/** The set bits of a 32-bit word. */
export function bitCount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Whether the store keeps search blocks (PostgreSQL). */
export function keepsSearchBlocks(store: Store): boolean {
  return store.dialect === 'postgres';
}

/** Sort keys in [from, until) (until undefined: to the end of the list). */
export interface KeyRange {
  readonly from: string;
  readonly until: string | undefined;
}

/**
 * The ranges of list order in which a customer holding `fragment` can be:
 * the blocks whose bits hold all its pairs and characters, each from its own start to the next block's start (so a
 * range also covers any key written since between the two), neighbours merged. In list order, at most
 * `most` of them: beyond that, consecutive ranges are merged with what lies between them (a superset:
 * more rows read, never fewer), so that a read makes at most `most` statements.
 */
export async function blocksHolding(
  store: Store,
  fragment: string,
  most = Infinity,
  /** When the caller's search began (performance.now()): a version read sent since then is used (currentBlocks). */
  since = performance.now(),
): Promise<KeyRange[]> {
  const bits = textBits(fragment);
  if (bits.length === 0) throw new Error('an empty fragment has nothing to narrow by');
  const blocks = await currentBlocks(store, since);
  const holding: Array<[string, string | null]> = [];
  blocksHoldingBits(blocks, bits).forEach((word, w) => {
    // Its blocks in list order: the lowest set bit first.
    for (let rest = word; rest !== 0; rest &= rest - 1) {
      const i = w * 32 + 31 - Math.clz32(rest & -rest);
      holding.push([blocks.prefixes[i] as string, blocks.prefixes[i + 1] ?? null]);
    }
  });
  const ranges: Array<{ from: string; until: string | undefined }> = [];
  for (const [prefix, next] of holding) {
    const last = ranges.at(-1);
    if (last && last.until === prefix) last.until = next ?? undefined;
    else ranges.push({ from: prefix, until: next ?? undefined });
  }
  if (ranges.length <= most) return ranges;
  const each = Math.ceil(ranges.length / most);
  const merged: KeyRange[] = [];
  for (let i = 0; i < ranges.length; i += each) {
    const last = ranges[Math.min(i + each, ranges.length) - 1] as KeyRange;
    merged.push({ from: (ranges[i] as KeyRange).from, until: last.until });
  }
  return merged;
}
