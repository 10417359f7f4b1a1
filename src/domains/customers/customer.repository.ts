/**
 * Reads of customers for the CRM callback. Every query is keyset-paged over
 * (rank, sort_key, customer_id) and reads one worker's book through the
 * primary key of `customer_owners` (or every customer through the list-order
 * index: `customers_sort` on PostgreSQL, `customers_search_scan` on SQLite),
 * so a list page costs one page of rows.
 *
 * These are the service's hot paths: each query is a typed statement
 * (platform/db/precompiled.ts), compiled once per store; what it takes and
 * what it returns are declared once, here, and checked by the compiler.
 *
 * # Search without reading the book
 *
 * A search answer is ordered by (rank, sort_key, customer_id), where rank is
 * 0 for the whole customer_id or a name starting with the query, 1 for a name
 * with a word starting with it, 2 for any other match. A page is read one rank
 * at a time, each rank in list order, continuing from the cursor's rank, and
 * each rank stops as soon as it has what the page still needs. Within a rank,
 * rows come out in (sort_key, customer_id) order, so concatenating the ranks
 * is the order a full sort of every match would give, and no other match needs
 * to be read to rank a page correctly.
 *
 * - Rank 0 is a range of the list order: names in [query, successor(query)),
 *   read in order through the same index as a list page (LIMIT: one page),
 *   plus the one customer whose id is the query.
 * - Ranks 1 and 2 are "contains" predicates. On SQLite the text index's
 *   rowids are list-order labels (migration 20261203T1900), and the digits
 *   index's too (migration 20261206T1900), so FTS5 names the customers
 *   holding the fragment in list order (for a query with three to six digits,
 *   both indexes at once, their answers merged in label order; seven or more
 *   name a few customers through their windows: the first way below): the
 *   rank is read from that answer, from the
 *   cursor's label on, checking scope, predicate and rank on each row, and
 *   stops when the page is full (STREAM). Cost: the index rows up to the
 *   page's last match, at most STREAM_BUDGET (a fragment many customers hold
 *   but few of them in this book); past that, the ways below continue from
 *   where it stopped. A fragment the remembered trigram counts put under the
 *   budget is read to its end without one (a stale count costs time only).
 *   A one- or two-character fragment is streamed only after a first window
 *   (below) did not fill the page, and only when its terms are few (listing
 *   them costs as much as they are common); at once when its terms are
 *   listed already (remembered until the index changes). So is a longer one
 *   whose every trigram is common, searched in a rep's book: a first window
 *   of the book usually fills the page, where a stream reads every rep's
 *   matches to find the book's.
 *   Otherwise (PostgreSQL, SQLite's numbers of seven digits or more), found one of two ways:
 *   - rare fragment: the store's substring index (FTS5 trigram on SQLite,
 *     pg_trgm GIN on PostgreSQL) names the customers containing it, read up
 *     to CANDIDATE_CAP of them; the exact predicate and the rank are checked
 *     on those rows and the page taken in list order. Cost: at most
 *     CANDIDATE_CAP rows. (The index may also call a fragment common when
 *     finding its customers would cost more than that: on PostgreSQL, where
 *     each candidate is a table fetch, see platform/db/search-index.ts.)
 *   - common fragment (more than CANDIDATE_CAP customers contain it) or a
 *     fragment no index can find (no trigram for pg_trgm): the book is read
 *     in list order in windows
 *     (SCAN_WINDOW rows, then four times larger), checking the predicate,
 *     until the page is full, from indexes only (rank 1 needs just the sort
 *     key; rank 2 reads customers_search_scan on SQLite). Matches of a common
 *     fragment can come in runs far apart in list order (the Smiths of a book
 *     sorted by first name), so after the first window an indexable fragment
 *     gets a second chance: up to CANDIDATE_CAP_LARGE rows from the index.
 *   When rank 2's fragment is rare (first way), ranks 1 and 2 are both taken
 *   from its candidates in one statement (ranksOneAndTwo): a name with a word
 *   starting with the query holds the query, so no rank-1 row is missed.
 *   Which way is chosen by asking the index for CANDIDATE_CAP + 1 rows: the
 *   estimate is exact below the cap and costs at most the cap. A one- or
 *   two-character fragment on SQLite is found through the index's terms that
 *   start with it (search-index.ts), whose listing costs as much as the
 *   fragment is common: it is asked for only after a first window did not
 *   fill the page (a common one fills it), as a second chance. Bound: at most
 *   CANDIDATE_CAP_LARGE candidate rows plus one window; beyond that (a
 *   fragment in more than 25,000 customers, or a rare one- or two-character
 *   one) the windows continue until the page is full, which for a fragment
 *   common in the store but rare in one rep's book may read that book.
 *   On PostgreSQL, with every customer visible, a query's digits that hundreds
 *   or a few thousand numbers hold are found one stretch of the list at a time
 *   (candidatesInListBuckets: the trigram indexes are keyed by the first letter
 *   of the name too), rank 2 after rank 1 rather than both from the same
 *   candidates, and each stretch's rows come after the last's, until the page
 *   is full.
 *   On PostgreSQL (no second chances: each candidate is a table fetch) a text
 *   fragment of two characters or more read in list order reads only the
 *   ranges of the list whose search blocks hold all its pairs of characters
 *   (platform/db/search-blocks.ts), each to its end or until the page is full:
 *   blocks are contiguous in list order, so the rows come out in list order.
 *
 * Every query keeps the exact predicates of the plain scan (`scanSearchPage`,
 * kept as the tests' oracle): the index only decides which rows are looked at,
 * never whether a row matches or how it ranks.
 */
import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Store } from '../../platform/db/connect.js';
import type { ReaderTask } from '../../platform/db/reader-threads.js';
import { type IntegerList, type StatementKit, readStatement, statementsAreRoundTrips } from '../../platform/db/precompiled.js';
import {
  type Fragment,
  answersUpTo,
  blocksHolding,
  blocksWorthAsking,
  cheapToAsk,
  type Candidates,
  type Place,
  type Shown,
  type ShownTo,
  candidatesContaining,
  candidatesInListBuckets,
  listStretches,
  heldWidely,
  indexable,
  keepsSearchBlocks,
  listOrderQuery,
  shortListingKnown,
  streamsInListOrder,
  textWindowFinds,
  warmSearchIndex,
} from '../../platform/db/search-index.js';
import { narrowable } from '../../platform/db/search-blocks.js';
import type { StoredCustomer } from './customer.row.js';
import type { Cursor } from './page-token.js';
import { escapeLike, successor } from '../../kernel/text.js';

/** Whose customers a request may see. */
export type Scope = { readonly kind: 'worker'; readonly worker: string } | { readonly kind: 'all' };
type ScopeKind = Scope['kind'];

/** A parsed `Query`. */
export interface SearchTerms {
  /** The query as typed (trimmed): matched against the whole customer_id. */
  readonly raw: string;
  /** `fold(query)`: matched against names and e-mail addresses. */
  readonly folded: string;
  /** The query's digits, when it looks like a phone number: matched against phone digits. */
  readonly digits: string | undefined;
}

/** A row of a list or search page. */
export interface ListRow {
  customer_id: string;
  display_name: string;
  avatar: string | null;
  sort_key: string;
  rank: number;
}

/** More customers than this containing a fragment make it "common": read in list order instead. */
export const CANDIDATE_CAP = 1500;
/** After a first window that did not fill the page: the index's answer is read up to this many… */
export const CANDIDATE_CAP_MEDIUM = 4000;
/** …and after longer windows, up to this many (see SECOND_CHANCES). */
export const CANDIDATE_CAP_LARGE = 25_000;
/** The first window of a read in list order; each next window is four times larger, up to SCAN_WINDOW_MAX. */
const SCAN_WINDOW = 1024;
const SCAN_WINDOW_MAX = 65_536;
/** The first window of a rep's book for a fragment held widely (heldWidely), before its stream. */
const WIDELY_HELD_WINDOW = 256;
/** The window of a read that has nothing to do between windows: it reads until the page is full. */
const TO_THE_END = 2 ** 31 - 1;

// ---- values the statements take ---------------------------------------------------------------

interface ScopeValues {
  worker?: string;
}
interface AfterValues {
  afterSortKey?: string;
  afterCustomerId?: string;
}
interface SearchValues {
  raw: string;
  prefix: string;
  wordPrefix: string;
  contains: string;
  digits?: string;
}

function scopeValues(scope: Scope): ScopeValues {
  return scope.kind === 'worker' ? { worker: scope.worker } : {};
}

function afterValues(after: Position | undefined): AfterValues {
  return after ? { afterSortKey: after.sortKey, afterCustomerId: after.customerId } : {};
}

function searchValues(search: SearchTerms): SearchValues {
  const escaped = escapeLike(search.folded);
  return {
    raw: search.raw,
    prefix: `${escaped}%`,
    wordPrefix: `% ${escaped}%`,
    contains: `%${escaped}%`,
    ...(search.digits === undefined ? {} : { digits: `%${search.digits}%` }),
  };
}

/** A place in list order. */
interface Position {
  sortKey: string;
  customerId: string;
}

// ---- query parts -------------------------------------------------------------------------------

/** The rows a scope may see, as `s`: a worker's book, or every customer. */
function source(kit: StatementKit, scope: ScopeKind, v: ScopeValues, by: 'book' | 'customer' = 'book') {
  if (scope === 'worker') {
    const owners = kit.db.selectFrom('customer_owners as s');
    if (by === 'book') return owners.where('s.worker', '=', v.worker as string);
    // Found by customer (pk or id), the worker is only checked: `|| ''` keeps SQLite, which has no
    // statistics, from reading the worker's whole book through the primary key (worker, …) instead
    // of the customer's row or two through (customer_pk, worker).
    return owners.where(sql<string>`s.worker || ''`, '=', v.worker as string);
  }
  // `customers` has every column the list and search read from `customer_owners`.
  return kit.db.selectFrom('customers as s') as unknown as ReturnType<typeof ownersOf>;
}
const ownersOf = (kit: StatementKit) => kit.db.selectFrom('customer_owners as s');

/** The customer's pk in `s`. */
const pkOf = (scope: ScopeKind) => (scope === 'worker' ? sql<number>`s.customer_pk` : sql<number>`s.pk`);

/** 0: id match or the name starts with the query; 1: a word of the name does; 2: any other match. */
function rankOf(kit: StatementKit, v: SearchValues): RawBuilder<number> {
  return sql<number>`(case when s.customer_id = ${v.raw} or s.sort_key like ${kit.pattern(v.prefix)} escape '\\' then 0 when s.sort_key like ${kit.pattern(v.wordPrefix)} escape '\\' then 1 else 2 end)`;
}

function matches(kit: StatementKit, v: SearchValues, withDigits: boolean): Expression<SqlBool> {
  const contains = sql<SqlBool>`s.search_text like ${kit.pattern(v.contains)} escape '\\'`;
  if (!withDigits) return sql<SqlBool>`(s.customer_id = ${v.raw} or ${contains})`;
  return sql<SqlBool>`(s.customer_id = ${v.raw} or ${contains} or s.phone_digits like ${kit.pattern(v.digits)})`;
}

const afterPosition = (v: AfterValues) =>
  sql<SqlBool>`(s.sort_key, s.customer_id) > (${v.afterSortKey}, ${v.afterCustomerId})`;

const LIST_COLUMNS = ['s.customer_id', 's.display_name', 's.avatar', 's.sort_key'] as const;

// ---- statements --------------------------------------------------------------------------------

type After = 'first' | 'after';
type Match = 'text' | 'digits';
const SCOPES: readonly ScopeKind[] = ['worker', 'all'];
const AFTERS: readonly After[] = ['first', 'after'];
const MATCHES: readonly Match[] = ['text', 'digits'];

/** One statement per scope. */
function byScope<S>(make: (scope: ScopeKind) => S): Record<ScopeKind, S> {
  return { worker: make('worker'), all: make('all') };
}

/** One statement per (scope, first page or after a cursor). */
function byScopeAfter<S>(make: (scope: ScopeKind, after: boolean) => S): Record<ScopeKind, Record<After, S>> {
  const table = {} as Record<ScopeKind, Record<After, S>>;
  for (const scope of SCOPES) {
    table[scope] = {} as Record<After, S>;
    for (const after of AFTERS) table[scope][after] = make(scope, after === 'after');
  }
  return table;
}

/** One statement per (scope, first page or after a cursor, with phone digits or not). */
function byScopeAfterMatch<S>(
  make: (scope: ScopeKind, after: boolean, withDigits: boolean) => S,
): Record<ScopeKind, Record<After, Record<Match, S>>> {
  return byScopeAfter((scope, after) => {
    const table = {} as Record<Match, S>;
    for (const match of MATCHES) table[match] = make(scope, after, match === 'digits');
    return table;
  });
}

interface PageValues extends ScopeValues, AfterValues {
  limit: number;
}

/** A list page: the book in list order. */
const LIST = byScopeAfter((scope, after) =>
  readStatement((kit, v: PageValues) => {
    let query = source(kit, scope, v).select([...LIST_COLUMNS, sql<number>`0`.as('rank')]);
    if (after) query = query.where(afterPosition(v));
    return query.orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.limit));
  }),
);

interface PrefixValues extends PageValues {
  low: string;
  high?: string;
  prefix: string;
  raw: string;
}

/**
 * Rank 0:
 * - by name: the names in [low, high) (every name starting with the folded query, byte-wise, which is
 *   how both stores compare sort keys), in list order, through the list's own index; `high` is left
 *   out only when the query has no successor (it ends with U+10FFFF, or is empty);
 * - by id: the customer whose customer_id is the query, when the scope sees it (`by_id` = 1).
 * Read as two statements (PREFIX, BY_ID), or as one where each is a round trip (RANK_ZERO: both, in
 * list order). rankZero drops the id's row when it is also a name's or before the cursor.
 */
const PREFIX = byScopeAfter((scope, after) => ({
  bounded: readStatement((kit, v: PrefixValues) => prefixQuery(kit, scope, after, true, v)),
  open: readStatement((kit, v: PrefixValues) => prefixQuery(kit, scope, after, false, v)),
}));

const BY_ID = byScope((scope) => readStatement((kit, v: ScopeValues & { raw: string }) => byIdQuery(kit, scope, v)));

const RANK_ZERO = byScopeAfter((scope, after) => ({
  bounded: rankZeroStatement(scope, after, true),
  open: rankZeroStatement(scope, after, false),
}));

function prefixQuery(kit: StatementKit, scope: ScopeKind, after: boolean, bounded: boolean, v: PrefixValues) {
  let query = source(kit, scope, v)
    .select([...LIST_COLUMNS, sql<number>`0`.as('rank'), sql<number>`0`.as('by_id')])
    .where('s.sort_key', '>=', v.low);
  // A bounded range needs no check: it is exactly the names starting with the query (successor()). The
  // LIKE's guessed share (0.5%) made PostgreSQL's plans read the whole range and sort it: after a cursor,
  // `y`'s second page 150–300 ms at 1,000,000 customers (33,398 rows) instead of under 1; on a first page
  // at 10,000 customers, every prefix range (`car`: 329 rows and 252 table pages, 0.25–0.28 ms; `a` 0.41–0.43
  // ms; against 0.03–0.04 for the first 31 in list order; at 1,000,000 the range's own size made it read in
  // order anyway). An open range (a query with no successor) is checked. `|| ''`: the range is what finds the
  // rows (in list order, through the list's index); the LIKE only checks them. Without it PostgreSQL's generic
  // plan read the names' trigram index and sorted every match: 160 ms instead of 2 ms with every customer visible.
  if (!bounded) query = query.where(sql<SqlBool>`(s.sort_key || '') like ${kit.pattern(v.prefix)} escape '\\'`);
  if (bounded) query = query.where('s.sort_key', '<', v.high as string);
  if (after) query = query.where(afterPosition(v));
  return query.orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.limit));
}

function byIdQuery(kit: StatementKit, scope: ScopeKind, v: ScopeValues & { raw: string }) {
  let query = source(kit, scope, v, 'customer')
    .select([...LIST_COLUMNS, sql<number>`0`.as('rank'), sql<number>`1`.as('by_id')])
    .where('s.customer_id', '=', v.raw);
  if (scope === 'worker') query = query.where(pkOf(scope), '=', customerPkOf(kit, v.raw));
  return query;
}

function rankZeroStatement(scope: ScopeKind, after: boolean, bounded: boolean) {
  return readStatement((kit, v: PrefixValues) =>
    // Each part a subquery of its own: SQLite takes no ORDER BY or LIMIT on a member of a compound select.
    kit.db
      .selectFrom(prefixQuery(kit, scope, after, bounded, v).as('n'))
      .selectAll()
      .unionAll(kit.db.selectFrom(byIdQuery(kit, scope, v).as('i')).selectAll())
      .orderBy('sort_key')
      .orderBy('customer_id'),
  );
}

/**
 * Through customers' unique customer_id and the (customer_pk, worker) index: one row.
 * On customer_id alone, the primary key (worker, sort_key, …) would scan the worker's whole book.
 */
function customerPkOf(kit: StatementKit, customerId: string) {
  return kit.db.selectFrom('customers as k').select('k.pk').where('k.customer_id', '=', customerId);
}

interface RankValues extends PageValues, SearchValues {
  rank: number;
}

interface AmongValues extends RankValues {
  /** The customers the index named. */
  pks: IntegerList;
  /** Rows of ranks `rank` to `lastRank`… */
  lastRank: number;
  /** …after this rank's row at the position (when there is a cursor). */
  afterRank?: number;
}

/** Rows of ranks `rank` to `lastRank` among the customers the index named (`pks`), by rank, then in list order. */
const RANK_AMONG = byScopeAfterMatch((scope, after, withDigits) =>
  readStatement((kit, v: AmongValues) => {
    const rank = rankOf(kit, v);
    let query = source(kit, scope, v, 'customer')
      .select([...LIST_COLUMNS, rank.as('rank')])
      .where(kit.inIntegers(pkOf(scope), v.pks))
      .where(matches(kit, v, withDigits))
      .where(sql<SqlBool>`${rank} between ${v.rank} and ${v.lastRank}`);
    if (after) {
      query = query.where(sql<SqlBool>`(${rank}, s.sort_key, s.customer_id) > (${v.afterRank}, ${v.afterSortKey}, ${v.afterCustomerId})`);
    }
    return query.orderBy('rank').orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.limit));
  }),
);

interface WindowValues extends ScopeValues, AfterValues {
  window: number;
}
interface UntilValues {
  /** Only sort keys below this one (the end of a range of search blocks). */
  until?: string;
}

/**
 * Rows of one rank among the next `window` rows of the book in list order: a
 * read of the book bounded by the window, for fragments too common (or too
 * short) for the index to be the cheaper way.
 */
function rankScan(scope: ScopeKind, after: boolean, withDigits: boolean, until: boolean) {
  return readStatement((kit, v: RankValues & WindowValues & UntilValues) => {
    // Only what the predicates need, so that with every customer visible the window is read from
    // the index customers_search_scan alone (migration 20261202T0100), not row by row from the table.
    let window = source(kit, scope, v).select([
      's.customer_id',
      's.sort_key',
      's.search_text',
      's.phone_digits',
      pkOf(scope).as('pk'),
    ]);
    if (after) window = window.where(afterPosition(v));
    if (until) window = window.where('s.sort_key', '<', v.until as string);
    const rows = window.orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.window));
    const rank = rankOf(kit, v);
    return kit.db
      .selectFrom(rows.as('s'))
      .innerJoin('customers as c', 'c.pk', 's.pk')
      .select(['s.customer_id', 'c.display_name', 'c.avatar', 's.sort_key', rank.as('rank')])
      .where(matches(kit, v, withDigits))
      .where(sql<SqlBool>`${rank} = ${v.rank}`)
      .orderBy('s.sort_key')
      .orderBy('s.customer_id')
      .limit(kit.rows(v.limit));
  });
}
const RANK_SCAN = byScopeAfterMatch((scope, after, withDigits) => rankScan(scope, after, withDigits, false));
/** RANK_SCAN after a position and before the sort key `until` (a range of search blocks: search-blocks.ts). */
const RANK_SCAN_UNTIL = byScope((scope) => rankScan(scope, true, false, true));

/**
 * Rank 1 among the next `window` rows of the book: the rank depends only on
 * the sort key and the id, so the window is read from the list-order index
 * alone (covering: no customer row is read but the page's), which makes a
 * long read in list order several times cheaper than RANK_SCAN's.
 */
function wordScan(scope: ScopeKind, after: boolean, until: boolean) {
  return readStatement((kit, v: RankValues & WindowValues & UntilValues) => {
    let window = source(kit, scope, v).select(['s.customer_id', 's.sort_key', pkOf(scope).as('pk')]);
    if (after) window = window.where(afterPosition(v));
    if (until) window = window.where('s.sort_key', '<', v.until as string);
    const rows = window.orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.window));
    return kit.db
      .selectFrom(rows.as('w'))
      .innerJoin('customers as c', 'c.pk', 'w.pk')
      .select(['w.customer_id', 'c.display_name', 'c.avatar', 'w.sort_key', sql<number>`1`.as('rank')])
      .where(sql<SqlBool>`w.sort_key like ${kit.pattern(v.wordPrefix)} escape '\\'`)
      .where(sql<SqlBool>`not (w.customer_id = ${v.raw} or w.sort_key like ${kit.pattern(v.prefix)} escape '\\')`)
      .orderBy('w.sort_key')
      .orderBy('w.customer_id')
      .limit(kit.rows(v.limit));
  });
}
const WORD_SCAN = byScopeAfter((scope, after) => wordScan(scope, after, false));
/** WORD_SCAN after a position and before the sort key `until`. */
const WORD_SCAN_UNTIL = byScope((scope) => wordScan(scope, true, true));

interface StreamValues extends RankValues {
  /** The FTS5 query naming every customer whose text holds the fragment (a superset; rows are checked)… */
  fts?: string;
  /** …and the one naming every customer whose numbers hold the query's digits (both indexes are in label order). */
  digitsFts?: string;
  /** The label to read from (SQLite's labels order like the list: migration 20261203T1900). */
  fromLabel: number;
  /** At most this many of the index's customers are read. */
  budget: number;
}

/**
 * SQLite: the matches of one rank in list order, read from the text index, whose rowids are list-order
 * labels (migration 20261203T1900): the index's customers from `fromLabel` on, in label order, up to
 * `budget` of them, each checked for scope, the exact predicate and the rank, until the page is full.
 * With phone digits, the text and digits indexes (labels too: migration 20261206T1900) are read together,
 * merged in label order.
 */
const STREAM = byScopeAfter((scope, after) =>
  bySources((sources) =>
  readStatement((kit, v: StreamValues & AfterValues) => {
    const withDigits = sources !== 'text';
    const named = streamedLabels(v, sources);
    const rank = rankOf(kit, v);
    // A rep's rows are read from their book (customer_owners holds every column used here), reached
    // from the label through the index customers_list_pos alone (it holds each label's place in the list,
    // migration 20261207T1400), then through the book's primary key, (worker, sort_key, customer_id). A
    // stream's labels come in list order, so both probes walk their indexes forward, on pages the last
    // probe read or their neighbours: a customer of another book (most of those a stream names: about 8
    // for each match in a 200,000-customer book) costs two probes on cached pages. Through the customer's
    // pk instead, each probe of the owners was a page of its own (0.44 → 0.21 ms a page here at
    // 1,000,000). CROSS JOIN keeps this order (SQLite joins left to right), which its planner, without
    // statistics, did not choose for the worker's join.
    const rows =
      scope === 'worker'
        ? kit.db
            .selectFrom(named.as('f'))
            .crossJoin('customers as c')
            .where(sql<SqlBool>`c.list_pos = f.label`)
            .crossJoin('customer_owners as s')
            .where('s.worker', '=', v.worker as string)
            .whereRef('s.sort_key', '=', 'c.sort_key')
            .whereRef('s.customer_id', '=', 'c.customer_id')
        : kit.db.selectFrom(named.as('f')).crossJoin('customers as s').where(sql<SqlBool>`s.list_pos = f.label`);
    let query = (rows as unknown as ReturnType<typeof ownersOf>)
      .select([...LIST_COLUMNS, rank.as('rank')])
      .where(matches(kit, v, withDigits))
      .where(sql<SqlBool>`${rank} = ${v.rank}`);
    if (after) query = query.where(afterPosition(v));
    return query.orderBy(sql`f.label`).limit(kit.rows(v.limit));
  }),
  ),
);

/** Which indexes a stream reads: the text index, the digits index, or both merged in label order. */
type Sources = 'text' | 'digits' | 'both';

/** One statement per set of indexes a stream reads. */
function bySources<S>(make: (sources: Sources) => S): Record<Sources, S> {
  return { text: make('text'), digits: make('digits'), both: make('both') };
}

/**
 * The labels a stream reads: the index's customers from `fromLabel` on, in label order, at most `budget`
 * (`+ 0`: bound as an expression, as StatementKit.rows does, or SQLite would prepare the statement again on every run).
 * With digits, the union of both indexes' labels: SQLite merges the two answers, each in label order
 * (MERGE (UNION)), so the read still stops at the page.
 */
function streamedLabels(v: Pick<StreamValues, 'fts' | 'digitsFts' | 'fromLabel' | 'budget'>, sources: Sources) {
  const text = sql`select rowid as label from customer_search_text where customer_search_text match ${v.fts} and rowid >= ${v.fromLabel}`;
  const digits = sql`select rowid as label from customer_search_digits where customer_search_digits match ${v.digitsFts} and rowid >= ${v.fromLabel}`;
  const labels = sources === 'both' ? sql`${text} union ${digits} order by 1` : sql`${sources === 'text' ? text : digits} order by rowid`;
  return sql<{ label: number }>`(${labels} limit (${v.budget} + 0))`;
}

/** The last label of STREAM's read and how many it read: whether the budget ended it before the index did. */
const STREAM_END = bySources((sources) =>
  readStatement((kit, v: Pick<StreamValues, 'fts' | 'digitsFts' | 'fromLabel' | 'budget'>) =>
    kit.db
      .selectFrom(streamedLabels(v, sources).as('f'))
      .select([sql<number>`max(f.label)`.as('last'), sql<number>`count(*)`.as('read')]),
  ),
);

/** SQLite: the label of the first customer after a position in list order (none: the list ends there). */
const LABEL_AFTER = readStatement((kit, v: AfterValues) =>
  kit.db
    .selectFrom('customers as s')
    .select(sql<number>`s.list_pos`.as('label'))
    .where(afterPosition(v))
    .orderBy('s.sort_key')
    .orderBy('s.customer_id')
    .limit(kit.rows(1)),
);

/** SQLite: the customer a label names (where a stream's read ended). */
const AT_LABEL = readStatement((kit, v: { label: number }) =>
  kit.db
    .selectFrom('customers as s')
    .select(['s.sort_key', 's.customer_id'])
    .where(sql<SqlBool>`s.list_pos = ${v.label}`),
);

/** The last row of a window: where the next window starts (none when the book ended inside it). */
const WINDOW_END = byScopeAfter((scope, after) =>
  readStatement((kit, v: WindowValues) => {
    let query = source(kit, scope, v).select(['s.sort_key', 's.customer_id']);
    if (after) query = query.where(afterPosition(v));
    return query
      .orderBy('s.sort_key')
      .orderBy('s.customer_id')
      .limit(kit.rows(1))
      .offset(sql<number>`${v.window} - 1`);
  }),
);

/** The test oracle: every visible match, ranked and sorted in one query (reads the whole book). */
const SCAN_SEARCH = byScopeAfterMatch((scope, after, withDigits) =>
  readStatement((kit, v: PageValues & SearchValues & { afterRank?: number }) => {
    const rank = rankOf(kit, v);
    let query = source(kit, scope, v)
      .select([...LIST_COLUMNS, rank.as('rank')])
      .where(matches(kit, v, withDigits));
    if (after) {
      query = query.where(
        sql<SqlBool>`(${rank}, s.sort_key, s.customer_id) > (${v.afterRank}, ${v.afterSortKey}, ${v.afterCustomerId})`,
      );
    }
    return query.orderBy('rank').orderBy('s.sort_key').orderBy('s.customer_id').limit(kit.rows(v.limit));
  }),
);

interface PositionValues extends ScopeValues, Partial<SearchValues> {
  customerId: string;
}

/** Where a customer stands in the list (`list`) or in a search: its sort key and rank. */
const POSITION = byScope((scope) => {
  const make = (kind: 'list' | 'text' | 'digits') =>
    readStatement((kit, v: PositionValues) => {
      const search = v as SearchValues;
      let query = source(kit, scope, v, 'customer')
        .select(['s.customer_id', 's.sort_key', (kind === 'list' ? sql<number>`0` : rankOf(kit, search)).as('rank')])
        .where('s.customer_id', '=', v.customerId);
      if (scope === 'worker') query = query.where(pkOf(scope), '=', customerPkOf(kit, v.customerId));
      if (kind !== 'list') query = query.where(matches(kit, search, kind === 'digits'));
      return query;
    });
  return { list: make('list'), text: make('text'), digits: make('digits') };
});

const CUSTOMER = byScope((scope) =>
    readStatement((kit, v: ScopeValues & { customerId: string }) => {
      let query = kit.db
        .selectFrom('customers as c')
        .select(['c.customer_id', 'c.display_name', 'c.avatar', 'c.channels', 'c.links', 'c.details'])
        .where('c.customer_id', '=', v.customerId);
      if (scope === 'worker') {
        query = query.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('customer_owners as o')
              .select(sql`1`.as('one'))
              .whereRef('o.customer_pk', '=', 'c.pk')
              .where('o.worker', '=', v.worker as string),
          ),
        );
      }
      return query;
    }),
);

// ---- reads -------------------------------------------------------------------------------------

/** One page in list order (by sort_key, customer_id), after `after` when given. */
export async function listPage(store: Store, scope: Scope, after: Cursor | undefined, limit: number): Promise<ListRow[]> {
  return LIST[scope.kind][after ? 'after' : 'first'].all(store, { ...scopeValues(scope), ...afterValues(after), limit });
}

/** `searchPageHere`, as a task for the store's reader threads. */
const SEARCH_PAGE: ReaderTask = { module: import.meta.url, name: 'searchPageHere' };

/**
 * One page of search results, best matches first (by rank, sort_key, customer_id); see the top of this
 * file. Run off the event loop when the store has reader threads (a SQLite file: its reads are
 * synchronous, and a search may read thousands of rows while other requests wait).
 */
export async function searchPage(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  if (store.readerThreads) return store.readerThreads.run<ListRow[]>(SEARCH_PAGE, [scope, search, after, limit]);
  return searchPageHere(store, scope, search, after, limit);
}

/**
 * Starts the store's reader threads and loads the search on them, so that the first searches after a
 * start do not wait for that (about 0.4 s here); on PostgreSQL, samples the trigram counts and reads the
 * search blocks (warmSearchIndex: about 0.5 s at 1,000,000 customers, which the first search waited for).
 */
export async function warmSearch(store: Store): Promise<void> {
  await warmSearchIndex(store);
  const threads = store.readerThreads;
  if (!threads) return;
  // At once: a thread with a task out is busy, so each of these starts a thread of its own.
  const nothing: SearchTerms = { raw: '', folded: '', digits: undefined };
  await Promise.all(Array.from({ length: threads.size }, () => threads.run(SEARCH_PAGE, [{ kind: 'all' }, nothing, undefined, 0])));
}

/** searchPage, on this thread. A book of at most SMALL_BOOK customers is read whole (bounded, and cheaper than the index). */
export async function searchPageHere(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  if (scope.kind === 'worker' && (await bookIsSmall(store, scope.worker))) {
    return scanSearchPage(store, scope, search, after, limit);
  }
  return indexedSearchPage(store, scope, search, after, limit);
}

/** How long a book's size class is remembered; the choice changes a search's cost, never its answer. */
const BOOK_SIZE_TTL_MS = 10_000;
/** Reps whose book size class is remembered, per store (the oldest are forgotten first). */
const BOOK_SIZE_ENTRIES = 20_000;
const bookSizes = new WeakMap<Store, Map<string, { small: boolean; until: number }>>();

/**
 * Whether the rep's book has at most SMALL_BOOK customers, remembered for a few seconds: the probe is
 * a read of up to SMALL_BOOK index entries on every search otherwise. Both plans return the same pages
 * (test/search-equivalence.test.ts), so a book that grew or shrank since is only searched the other
 * way for at most BOOK_SIZE_TTL_MS.
 */
async function bookIsSmall(store: Store, worker: string): Promise<boolean> {
  let sizes = bookSizes.get(store);
  if (!sizes) bookSizes.set(store, (sizes = new Map()));
  const now = Date.now();
  const known = sizes.get(worker);
  if (known && known.until > now) return known.small;
  const small = await bookIsAtMost(store, worker, SMALL_BOOK);
  sizes.delete(worker);
  if (sizes.size >= BOOK_SIZE_ENTRIES) sizes.delete(sizes.keys().next().value as string);
  sizes.set(worker, { small, until: now + BOOK_SIZE_TTL_MS });
  return small;
}

/** The search through the index, whatever the book's size (searchPage's plan for large books; tested against the scan). */
export async function indexedSearchPage(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  // Reads the search shares with others must be sent after this (see blocksHolding).
  const began = performance.now();
  const rows: ListRow[] = [];
  let commonText = false;
  for (let rank = Math.max(after?.rank ?? 0, 0); rank <= 2 && rows.length < limit; rank++) {
    const from = after && after.rank === rank ? after : undefined;
    const need = limit - rows.length;
    if (rank === 1) {
      const both = await ranksOneAndTwo(store, scope, search, from, need);
      if (both !== 'common' && both !== 'not here') {
        for (const row of both) rows.push(row);
        break;
      }
      commonText = both === 'common';
    }
    const found =
      rank === 0
        ? await rankZero(store, scope, search, from, need)
        : await rankContains(store, scope, search, rank, from, need, began, commonText);
    for (const row of found) rows.push(row);
  }
  return rows;
}

/** Whether the index is asked for `fragments` before any read in list order (it can find them, cheaply). */
function askedFirst(store: Store, fragments: readonly Fragment[]): boolean {
  return fragments.every((f) => indexable(store, f) && cheapToAsk(store, f));
}

/** The fragments rank 2 looks for: the folded query in names and e-mails, and its digits in numbers. */
function containsFragments(search: SearchTerms): Fragment[] {
  return [
    { column: 'search_text', text: search.folded },
    ...(search.digits === undefined ? [] : [{ column: 'phone_digits' as const, text: search.digits }]),
  ];
}

/**
 * Ranks 1 and 2 at once, from rank 2's candidates, when the index names few customers holding the
 * query: a name with a word starting with it holds it too (sort_key is the start of search_text), so
 * those candidates hold both ranks' rows, and one statement ranks them. 'common' when the index found
 * too many; 'not here' when rank 2 is read another way (a stream in list order, or a fragment the index
 * cannot find): the ranks are then read one after the other.
 */
async function ranksOneAndTwo(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  from: Position | undefined,
  limit: number,
): Promise<ListRow[] | 'common' | 'not here'> {
  if (search.folded === '') return [];
  const fragments = containsFragments(search);
  // A fragment found through a text window (five digits) is asked for first, like any on PostgreSQL.
  if (streamsInListOrder(store, fragments) && !fragments.some((f) => textWindowFinds(store, f))) return 'not here';
  if (!askedFirst(store, fragments)) return 'not here';
  // Rank 2's candidates one stretch of the list at a time hold only that stretch's rank-1 rows.
  if (scope.kind === 'all' && (await listStretches(store, fragments, limit, from?.sortKey)) !== undefined) return 'not here';
  const candidates = await candidatesContaining(store, fragments, CANDIDATE_CAP, limit, readsBlocks(store, search), shownTo(scope));
  if (candidates === undefined) return 'common';
  const values: RankValues = { ...scopeValues(scope), ...searchValues(search), limit, rank: 1 };
  return rankAmong(store, scope, values, search, candidates, from, limit, 2);
}

/** Rank 0: names in the query's prefix range, in list order, and the customer whose id is the query. */
async function rankZero(store: Store, scope: Scope, search: SearchTerms, from: Position | undefined, limit: number) {
  const high = successor(search.folded);
  const values: PrefixValues = {
    ...scopeValues(scope),
    ...afterValues(from),
    limit,
    low: search.folded,
    prefix: `${escapeLike(search.folded)}%`,
    raw: search.raw,
    ...(high === undefined ? {} : { high }),
  };
  const after = from ? 'after' : 'first';
  const bounds = high === undefined ? 'open' : 'bounded';
  // In list order when read as one statement; as two, the id's row (if kept) is put in its place below.
  const found = statementsAreRoundTrips(store)
    ? await RANK_ZERO[scope.kind][after][bounds].all(store, values)
    : [...(await PREFIX[scope.kind][after][bounds].all(store, values)), ...(await BY_ID[scope.kind].all(store, values))];
  const rows: ListRow[] = [];
  let byIdKept = false;
  for (const { by_id: byId, ...row } of found) {
    if (Number(byId) === 1) {
      // The id's customer: once (a name may have found it too), and only after the cursor.
      if (found.some((other) => Number(other.by_id) === 0 && other.customer_id === row.customer_id)) continue;
      if (from && compareListOrder(row.sort_key, row.customer_id, from.sortKey, from.customerId) <= 0) continue;
      byIdKept = true;
    }
    rows.push(row);
  }
  if (byIdKept) rows.sort((a, b) => compareListOrder(a.sort_key, a.customer_id, b.sort_key, b.customer_id));
  return rows.slice(0, limit);
}

/** Ranks 1 and 2: through the index for a rare fragment, in list-order windows otherwise. */
async function rankContains(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  rank: number,
  from: Position | undefined,
  limit: number,
  /** When the search began (performance.now()). */
  began: number,
  /** Rank 2's fragments were asked for already and found common (ranksOneAndTwo). */
  knownCommon = false,
): Promise<ListRow[]> {
  // An empty folded query is a prefix of every name: every match is rank 0.
  if (search.folded === '') return [];
  const withDigits = search.digits !== undefined;
  const values: RankValues = { ...scopeValues(scope), ...searchValues(search), limit, rank };
  const match: Match = withDigits ? 'digits' : 'text';

  const fragments: Fragment[] =
    rank === 1
      ? // A word of the name starts with the query: the name holds " query".
        [{ column: 'sort_key', text: ` ${search.folded}` }]
      : containsFragments(search);
  const useIndex = fragments.every((f) => indexable(store, f));
  const askFirst = askedFirst(store, fragments) && !(rank === 2 && knownCommon);
  const among = (candidates: Candidates, after: Position | undefined) => rankAmong(store, scope, values, search, candidates, after, limit);
  const rows: ListRow[] = [];
  let position = from;
  // SQLite, a text fragment: its matches in list order, from the index. A fragment of three characters or
  // more at once, unless it is widely held and the scope a rep's book; a shorter one only when a first
  // window did not fill the page (a common one does, and listing its terms costs as much as it is
  // common), unless its terms are listed already.
  const streams = streamsInListOrder(store, fragments);
  const fragment = fragments[0] as Fragment;
  const short = [...fragment.text].length < 3;
  let streamLater =
    streams && (short ? !shortListingKnown(store, fragment) : scope.kind === 'worker' && heldWidely(store, fragment));
  // Five digits in it (SQLite's text windows): its holders first, streamed only when they are many.
  if (streams && !knownCommon && textWindowFinds(store, fragment)) {
    const candidates = await candidatesContaining(store, fragments, CANDIDATE_CAP, limit);
    if (candidates !== undefined) return among(candidates, from);
  }
  // PostgreSQL, every customer visible: a query's digits many customers hold, found a stretch at a time.
  const stretches =
    askFirst && !streams && rank === 2 && scope.kind === 'all' ? await listStretches(store, fragments, limit, from?.sortKey) : undefined;
  if (streams && !streamLater) {
    const stream = await streamRank(store, scope, values, fragments, from, limit);
    if (stream !== 'common') {
      if (stream.end === undefined) return stream.rows;
      // More than STREAM_BUDGET customers hold it, and too few of them are this scope's: on in list order.
      for (const row of stream.rows) rows.push(row);
      position = stream.end;
    }
  } else if (stretches !== undefined) {
    // A query's digits many customers hold (PostgreSQL), every customer visible: their holders one stretch
    // of the list at a time, each stretch's after the last's, until the page is full. (A rep's book holds a
    // share of them, a fifth in the largest books, so a page needs a stretch of a quarter of the list or
    // more, which costs more than finding them all at once.)
    let common = false;
    for await (const candidates of candidatesInListBuckets(store, fragments, CANDIDATE_CAP, limit, stretches)) {
      if (candidates === 'common') {
        common = true;
        break;
      }
      for (const row of shownRank(search, candidates, from, limit - rows.length)) rows.push(row);
      if (rows.length >= limit) break;
    }
    if (!common) return rows;
    // On in list order, from the last row found (every match before it, after the cursor, is in rows).
    const last = rows.at(-1);
    if (last) position = { sortKey: last.sort_key, customerId: last.customer_id };
  } else if (askFirst && !streams) {
    const candidates = await candidatesContaining(store, fragments, CANDIDATE_CAP, limit, readsBlocks(store, search), shownTo(scope));
    if (candidates !== undefined) return among(candidates, from);
  }

  // Common (or not indexable): read the book in list order, window after window. Matches of a
  // common fragment can still be far apart in list order (the Smiths of a book sorted by first
  // name come in runs; a fragment common in the store can be rare in one book), so a fragment the
  // index can find is asked for again, with larger caps, once the windows have cost about as much
  // as reading that many candidates would (see SECOND_CHANCES): a read of the book in list order
  // wins when matches are dense, the index when they are few, and neither is paid much for long.
  // Once no second chance is left (PostgreSQL declines them all) and no stream is to start, nothing
  // happens between windows: the last read goes on until the page is full, in one statement, instead of
  // window after window, each a round trip and a second read of its last row (WINDOW_END).
  // PostgreSQL, a text fragment (one character or more): only the parts of the list whose search blocks
  // can hold it are read (search-blocks.ts), each to its end or until the page is full.
  const narrowing = fragment.text;
  if (readsBlocks(store, search) && narrowable(narrowing) && (await blocksWorthAsking(store, narrowing))) {
    const ranges = await blocksHolding(store, narrowing, MAX_RANGES, began);
    for (const range of ranges) {
      if (position && range.until !== undefined && byteOrder(range.until, position.sortKey) <= 0) continue;
      const start = position && byteOrder(position.sortKey, range.from) >= 0 ? position : { sortKey: range.from, customerId: '' };
      const rangeValues = { ...values, ...afterValues(start), window: TO_THE_END, limit: limit - rows.length };
      const found =
        range.until === undefined
          ? await (rank === 1 ? WORD_SCAN[scope.kind].after : RANK_SCAN[scope.kind].after.text).all(store, rangeValues)
          : await (rank === 1 ? WORD_SCAN_UNTIL : RANK_SCAN_UNTIL)[scope.kind].all(store, { ...rangeValues, until: range.until });
      for (const row of found) rows.push(row);
      if (rows.length >= limit) break;
    }
    return rows;
  }

  let read = 0;
  const chances = useIndex ? SECOND_CHANCES.filter((chance) => answersUpTo(store, chance.cap)) : [];
  // A widely held fragment's first window is small: a book holding it in most rows fills a page from it;
  // otherwise the stream takes over after a few rows read.
  const firstWindow = streamLater && !short ? WIDELY_HELD_WINDOW : SCAN_WINDOW;
  for (let window = firstWindow; rows.length < limit; window = Math.min(window * 4, SCAN_WINDOW_MAX)) {
    const last = chances.length === 0 && !streamLater;
    const windowValues = { ...values, ...afterValues(position), window: last ? TO_THE_END : window, limit: limit - rows.length };
    const scan =
      rank === 1
        ? WORD_SCAN[scope.kind][position ? 'after' : 'first']
        : RANK_SCAN[scope.kind][position ? 'after' : 'first'][match];
    for (const row of await scan.all(store, windowValues)) rows.push(row);
    if (rows.length >= limit || last) break;
    const end = await WINDOW_END[scope.kind][position ? 'after' : 'first'].first(store, windowValues);
    if (!end) break;
    position = { sortKey: end.sort_key, customerId: end.customer_id };
    read += window;
    if (streamLater) {
      streamLater = false;
      const stream = await streamRank(store, scope, values, fragments, position, limit - rows.length);
      if (stream !== 'common') {
        for (const row of stream.rows) rows.push(row);
        if (stream.end === undefined) return rows;
        position = stream.end;
      }
    }
    while (chances.length > 0 && read >= (chances[0] as SecondChance).afterRows) {
      const { cap } = chances.shift() as SecondChance;
      const candidates = await candidatesContaining(store, fragments, cap, limit - rows.length);
      if (candidates !== undefined) {
        for (const row of await among(candidates, position)) if (rows.length < limit) rows.push(row);
        return rows;
      }
    }
  }
  return rows;
}

/** Whom a scope's pages are for, as candidatesContaining takes it (in a rep's book it finds only the book's customers). */
const shownTo = (scope: Scope): ShownTo => (scope.kind === 'worker' ? { book: scope.worker } : 'everyone');

/** Whether a rank's read in list order goes through the search blocks (PostgreSQL, a query without a number's digits). */
const readsBlocks = (store: Store, search: SearchTerms) => keepsSearchBlocks(store) && search.digits === undefined;

/** At most this many reads of search blocks' ranges per rank (more are merged with their neighbours). */
const MAX_RANGES = 32;

/** Sort keys compared as both stores compare them (byte-wise). */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The rows of ranks `values.rank` to `lastRank` among the customers the index named, by rank and in list
 * order after `after`. When the index said where each stands in the list (PostgreSQL) and they are more
 * than a page, they are put in that order here (rankOfPlace) and the first of them asked for, then the rest
 * if the page is not full: the statement fetches each row it is given, about 1.8 µs a row from the server's
 * buffers at 1,000,000 customers (`4321`: 900 candidates, 3.1 ms a page, every page). The statement still
 * checks predicate, rank and scope on every row it is given, so the order chosen here only decides which
 * rows are asked for first (a rep's book holds some of them, or none).
 */
async function rankAmong(
  store: Store,
  scope: Scope,
  values: RankValues,
  search: SearchTerms,
  candidates: Candidates,
  after: Position | undefined,
  limit: number,
  lastRank = values.rank,
): Promise<ListRow[]> {
  if (candidates.pks.length === 0) return [];
  // Found with what the page shows (PostgreSQL: every holder the scope may see, see candidatesContaining): ranked here, no statement.
  if (candidates.places !== undefined && candidates.shown !== undefined) {
    return shownRank(search, { pks: candidates.pks, places: candidates.places, shown: candidates.shown }, after, limit, values.rank, lastRank);
  }
  const match: Match = values.digits === undefined ? 'text' : 'digits';
  const statement = RANK_AMONG[scope.kind][after ? 'after' : 'first'][match];
  const amongValues = (pks: number[], most: number): AmongValues => ({ ...values, ...afterValues(after), limit: most, pks, lastRank, afterRank: values.rank });
  const { places } = candidates;
  if (places === undefined || candidates.pks.length <= limit) return statement.all(store, amongValues(candidates.pks, limit));
  const ordered = inRankOrder(search, candidates.pks, places, values.rank, lastRank, after).map(({ pk }) => pk);
  const rows: ListRow[] = [];
  // Every visible: a page's worth is the page (the rest is asked for only if the statement ranked a row
  // otherwise than rankOfPlace). A rep's book holds a share of them: a few pages' worth first, then all the
  // rest, so that a small share costs one round trip more than asking for them all at once, never more rows.
  const first = scope.kind === 'all' ? limit : AMONG_FIRST_ASK * limit;
  for (const pks of [ordered.slice(0, first), ordered.slice(first)]) {
    if (rows.length >= limit || pks.length === 0) break;
    for (const row of await statement.all(store, amongValues(pks, limit - rows.length))) rows.push(row);
  }
  return rows;
}

/**
 * The first `limit` rows of ranks `rank` to `lastRank` after `after` (in rank `rank`) among candidates that
 * hold the query and came with what a page shows of them (Candidates.shown: a stretch of the list with every
 * customer visible, or a rep's book), without a statement: each holds the fragment it was found for (checked
 * on the server, as rankAmong's statement checks it), is one the scope shows, and its place says its rank
 * (rankOfPlace, the statement's rankOf).
 */
function shownRank(
  search: SearchTerms,
  candidates: Required<Candidates>,
  after: Position | undefined,
  limit: number,
  rank = 2,
  lastRank = rank,
): ListRow[] {
  const { places, shown } = candidates;
  return inRankOrder(search, candidates.pks, places, rank, lastRank, after)
    .slice(0, limit)
    .map(({ pk, rank: its }) => {
      const [sortKey, customerId] = places.get(pk) as Place;
      const { displayName, avatar } = shown.get(pk) as Shown;
      return { customer_id: customerId, display_name: displayName, avatar, sort_key: sortKey, rank: its };
    });
}

/** A rep's book holds a share of the candidates: its first ask is this many pages' worth of them, then the rest. */
const AMONG_FIRST_ASK = 8;

/**
 * The candidates of ranks `rank` to `lastRank` after `after` (in rank `rank`), in the order of a search's
 * answer: by the rank rankOf gives, then list order.
 */
function inRankOrder(
  search: SearchTerms,
  pks: readonly number[],
  places: ReadonlyMap<number, Place>,
  rank: number,
  lastRank: number,
  after: Position | undefined,
): Array<{ pk: number; rank: number }> {
  // Keys as bytes once each (list order compares them byte-wise): a sort compares each many times.
  const afterKey = after && { sortKey: Buffer.from(after.sortKey), customerId: Buffer.from(after.customerId) };
  const ranked: Array<{ pk: number; rank: number; sortKey: Buffer; customerId: Buffer }> = [];
  for (const pk of pks) {
    const place = places.get(pk);
    if (place === undefined) throw new Error(`no place for candidate ${pk}`);
    const its = rankOfPlace(search, place);
    if (its < rank || its > lastRank) continue;
    const key = { pk, rank: its, sortKey: Buffer.from(place[0]), customerId: Buffer.from(place[1]) };
    if (afterKey && its === rank && (Buffer.compare(key.sortKey, afterKey.sortKey) || Buffer.compare(key.customerId, afterKey.customerId)) <= 0) continue;
    ranked.push(key);
  }
  ranked.sort((a, b) => a.rank - b.rank || Buffer.compare(a.sortKey, b.sortKey) || Buffer.compare(a.customerId, b.customerId));
  return ranked.map(({ pk, rank: its }) => ({ pk, rank: its }));
}

/**
 * rankOf, worked out from a customer's place in the list: 0 for the whole customer_id or a name that
 * starts with the query, 1 for a name with a word that does (`like 'q%'` and `like '% q%'`, the query's
 * LIKE characters escaped, are a prefix and a substring), 2 otherwise.
 */
function rankOfPlace(search: SearchTerms, [sortKey, customerId]: Place): number {
  if (customerId === search.raw || sortKey.startsWith(search.folded)) return 0;
  return sortKey.includes(` ${search.folded}`) ? 1 : 2;
}

/** Customers of the index a stream reads at most before the search goes on in list-order windows. */
const STREAM_BUDGET = 4096;

/**
 * One rank's matches in list order from SQLite's text index, and its digits index for a query with
 * digits (STREAM), from the position `from` on. `end` is where the read stopped when the budget ran out
 * before the page was full or the indexes' customers ended: the caller goes on from there.
 */
async function streamRank(
  store: Store,
  scope: Scope,
  values: RankValues,
  fragments: readonly Fragment[],
  from: Position | undefined,
  limit: number,
): Promise<{ rows: ListRow[]; end?: Position } | 'common'> {
  const query = listOrderQuery(store, fragments);
  if (query === 'common') return query;
  if (query === 'nobody') return { rows: [] };
  let fromLabel = 0;
  if (from) {
    const next = await LABEL_AFTER.first(store, afterValues(from));
    if (!next) return { rows: [] };
    fromLabel = next.label;
  }
  // When the remembered counts say fewer customers hold it than the budget, it is read without one: its
  // end is then the index's, known without reading it twice (a second read to learn whether the budget
  // ended a stream doubled the cost of a rare fragment's search). A stale count costs time, never rows.
  const bounded = query.fewerThan > STREAM_BUDGET;
  const budget = bounded ? STREAM_BUDGET : Number.MAX_SAFE_INTEGER;
  const streamValues = { ...values, ...afterValues(from), limit, fts: query.fts, digitsFts: query.digitsFts, fromLabel, budget };
  const sources: Sources = query.fts === undefined ? 'digits' : query.digitsFts === undefined ? 'text' : 'both';
  const rows = await STREAM[scope.kind][from ? 'after' : 'first'][sources].all(store, streamValues);
  if (rows.length >= limit || !bounded) return { rows };
  const end = await STREAM_END[sources].first(store, streamValues);
  if (!end || end.read < STREAM_BUDGET) return { rows };
  const at = await AT_LABEL.first(store, { label: end.last });
  if (!at) throw new Error(`no customer holds the label ${end.last} the text index named`);
  return { rows, end: { sortKey: at.sort_key, customerId: at.customer_id } };
}

interface SecondChance {
  /** Rows read in list order before the index is asked again… */
  readonly afterRows: number;
  /** …for at most this many customers. */
  readonly cap: number;
}

/**
 * When a common fragment's windows have not filled the page, the index is asked again. Measured at
 * 1,000,000 customers (SQLite): a row of a window costs about 0.35 µs, a candidate from the index
 * about 0.85 µs (its owner row and predicates included). For matches spread evenly, filling a page
 * of 30 from a fragment in C customers reads about 30,000,000 / C rows of the book, so the index is
 * the cheaper way below C ≈ 3,600, and long windows above; 4,000 candidates after the first
 * window, then 25,000 after 21,504 rows, keeps either way within about twice the better one's cost
 * for evenly spread matches, and bounds the worst case (a fragment common in the store but rare
 * in this book) to 25,000 candidates unless it is in more customers than that.
 */
const SECOND_CHANCES: readonly SecondChance[] = [
  { afterRows: SCAN_WINDOW, cap: CANDIDATE_CAP_MEDIUM },
  { afterRows: SCAN_WINDOW * (1 + 4 + 16), cap: CANDIDATE_CAP_LARGE },
];

/** List order: sort keys byte-wise (as both stores compare them), then customer ids byte-wise. */
export function compareListOrder(sortKeyA: string, idA: string, sortKeyB: string, idB: string): number {
  return byteOrder(sortKeyA, sortKeyB) || byteOrder(idA, idB);
}

/**
 * The plain scan: every visible match ranked and sorted by the store, reading
 * the whole book. The indexed search is tested against it, and the service uses
 * it for small books (at most SMALL_BOOK customers), where reading the book is
 * cheaper than asking a store-wide index (measured: at 1,000,000 customers, a
 * 100-customer book searched through the index answered 14× slower).
 */
/** A rep's book this small is searched by the plain scan: its cost is bounded by SMALL_BOOK rows. */
export const SMALL_BOOK = 2000;

/**
 * Whether the rep owns at most `cap` customers: asks for the (cap + 1)th entry of the book's index range,
 * so the store skips at most `cap` entries and hands back one row at most, whatever the book's size.
 */
export async function bookIsAtMost(store: Store, worker: string, cap: number): Promise<boolean> {
  return (await BOOK_BEYOND.first(store, { worker, cap })) === undefined;
}

const BOOK_BEYOND = readStatement((kit, v: { worker: string; cap: number }) =>
  kit.db
    .selectFrom('customer_owners as s')
    .select('s.customer_pk')
    .where('s.worker', '=', v.worker)
    .orderBy('s.worker')
    .limit(kit.rows(1))
    .offset(kit.rows(v.cap)),
);

export async function scanSearchPage(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  const values = {
    ...scopeValues(scope),
    ...searchValues(search),
    ...(after ? { afterRank: after.rank, ...afterValues(after) } : {}),
    limit,
  };
  return SCAN_SEARCH[scope.kind][after ? 'after' : 'first'][search.digits === undefined ? 'text' : 'digits'].all(store, values);
}

/**
 * Where `customerId` stands in the scope's list (or in the search, when given):
 * the cursor an `Anchor` continues from, or undefined when it is not there.
 */
export async function findPosition(
  store: Store,
  scope: Scope,
  customerId: string,
  search: SearchTerms | undefined,
): Promise<Cursor | undefined> {
  const kind = search ? (search.digits === undefined ? 'text' : 'digits') : 'list';
  const values: PositionValues = { ...scopeValues(scope), ...(search ? searchValues(search) : {}), customerId };
  const row = await POSITION[scope.kind][kind].first(store, values);
  return row && { rank: Number(row.rank), sortKey: row.sort_key, customerId: row.customer_id };
}

/** The customer, when it exists and the scope may see it. */
export async function findVisibleCustomer(store: Store, scope: Scope, customerId: string): Promise<StoredCustomer | undefined> {
  return CUSTOMER[scope.kind].first(store, { ...scopeValues(scope), customerId });
}
