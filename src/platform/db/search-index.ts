/**
 * The substring indexes of migration 20261202T0100: which customers' stored
 * text contains a fragment, found through the index, never by reading every
 * customer. The answer is a superset on SQLite (rows holding every trigram of
 * the fragment) and exact on PostgreSQL (it re-checks); callers always apply
 * the exact predicate to the rows themselves, so only speed depends on it.
 */
import { type Kysely, sql } from 'kysely';
import type { Store } from './connect.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { SQLITE_INDEXES } from './migrations/20261202T0100-search-index.js';
import { escapeLike } from '../../kernel/text.js';

/** The stored columns the indexes cover. */
export type IndexedColumn = 'search_text' | 'phone_digits';

export interface Fragment {
  readonly column: IndexedColumn;
  /** The literal text to find anywhere in the column. */
  readonly text: string;
}

const SQLITE_TABLE: Record<IndexedColumn, string> = {
  search_text: 'customer_search_text',
  phone_digits: 'customer_search_digits',
};

/**
 * SQLite, inside a bulk import's transaction: customers inserted from now on
 * are indexed by `catchUpSearchIndex`, in one statement per index, instead of
 * by the insert trigger one row at a time (about eight times cheaper here).
 * Updates and deletes stay with their triggers, which need the old text. New
 * customers get pks above every existing one, so "inserted since" is "pk above
 * the largest now". PostgreSQL maintains its indexes itself: nothing to do.
 */
export async function deferSearchIndex(trx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await sql`insert into search_index_deferred (since_pk) select coalesce(max(pk), 0) from customers`.execute(trx);
}

/** Indexes the customers inserted since `deferSearchIndex`, and lets the insert trigger index again. */
export async function catchUpSearchIndex(trx: Kysely<Database>, dialect: Dialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  for (const [table, column] of SQLITE_INDEXES) {
    await sql
      .raw(
        `insert into ${table}(rowid, ${column}) select pk, ${column} from customers ` +
          `where pk > (select max(since_pk) from search_index_deferred) and ${column} <> ''`,
      )
      .execute(trx);
  }
  await sql`delete from search_index_deferred`.execute(trx);
}

/** At most this many of a fragment's trigrams are asked for (the rest are checked on the rows). */
const MAX_TRIGRAMS = 8;

/** Whether the store's index can find `fragment` (otherwise the caller must read in list order). */
export function indexable(store: Store, fragment: Fragment): boolean {
  if (store.dialect === 'sqlite') return [...fragment.text].length >= 3;
  return pgTrgmExtracts(fragment.text);
}

/**
 * The pks of the customers whose column contains one of `fragments`, when
 * there are at most `cap` of them; undefined when there are more (the index
 * read stops there, so this costs at most `cap` index entries per fragment).
 */
export async function customersContaining(
  store: Store,
  fragments: readonly Fragment[],
  cap: number,
): Promise<number[] | undefined> {
  const found = new Set<number>();
  for (const fragment of fragments) {
    const pks = store.driver.kind === 'sqlite' ? sqliteFind(store.driver.reader, fragment, cap) : await pgFind(store, fragment, cap);
    for (const pk of pks) found.add(Number(pk));
    if (found.size > cap) return undefined;
  }
  return [...found];
}

type SqliteReader = Extract<Store['driver'], { kind: 'sqlite' }>['reader'];
interface SqliteStatements {
  find: ReturnType<SqliteReader['prepare']>;
  count: ReturnType<SqliteReader['prepare']>;
}
const sqliteStatements = new WeakMap<SqliteReader, Map<IndexedColumn, SqliteStatements>>();

/** A trigram in at most this many customers is "rare": worth driving a search with. */
const RARE_TRIGRAM = 4000;
/** A trigram in at most this many customers is found by the first, cheap pass of counting. */
const FEW = 64;
/** How many of the rarest trigrams a search asks for. */
const DRIVING_TRIGRAMS = 3;

/**
 * FTS5 with detail=none answers `"abc" AND "bcd"` by merging the trigrams'
 * whole row lists, so a fragment's common trigrams (`exa` of `@example`, in
 * every row) would cost a read of the whole list. So each trigram is first
 * counted up to RARE_TRIGRAM (a bounded read), and the search asks only for
 * the rarest few; a trigram no customer has ends it at once. When every
 * trigram is common, the fragment is asked for whole, and the read stops at
 * `cap + 1` rows (quickly, when the fragment is as common as its trigrams).
 */
function sqliteFind(reader: SqliteReader, fragment: Fragment, cap: number): number[] {
  let byColumn = sqliteStatements.get(reader);
  if (!byColumn) sqliteStatements.set(reader, (byColumn = new Map()));
  let statements = byColumn.get(fragment.column);
  if (!statements) {
    const table = SQLITE_TABLE[fragment.column];
    statements = {
      find: reader.prepare(`select rowid from ${table} where ${table} match ? limit ?`).pluck(true),
      count: reader
        .prepare(`select count(*) from (select 1 from ${table} where ${table} match ? limit ?)`)
        .pluck(true),
    };
    byColumn.set(fragment.column, statements);
  }
  // The digits index keeps positions (migration 20261202T0600): the fragment as a phrase of its
  // consecutive trigrams names exactly the rows that contain it.
  if (fragment.column === 'phone_digits') return statements.find.all([quote(fragment.text), cap + 1]) as number[];
  // Counted in two passes: first up to FEW (a trigram no customer has ends the search, and a few
  // rare ones drive it, before any long row list is read), then, if every trigram has more, up to
  // RARE_TRIGRAM.
  const counted: Array<{ trigram: string; count: number }> = [];
  for (const trigram of trigramsOf(fragment.text)) {
    const count = statements.count.get([quote(trigram), FEW + 1]) as number;
    if (count === 0) return [];
    counted.push({ trigram, count });
  }
  // After the first pass a count of FEW + 1 only says "more than FEW": such a trigram may be in every
  // row, so when some are rarer, only those drive the search.
  const few = counted.filter((t) => t.count <= FEW);
  if (few.length === 0) {
    for (const t of counted) t.count = statements.count.get([quote(t.trigram), RARE_TRIGRAM + 1]) as number;
  }
  const rare = (few.length > 0 ? few : counted.filter((t) => t.count <= RARE_TRIGRAM)).sort((a, b) => a.count - b.count);
  const asked = rare.length > 0 ? rare.slice(0, DRIVING_TRIGRAMS) : counted;
  return statements.find.all([asked.map((t) => quote(t.trigram)).join(' AND '), cap + 1]) as number[];
}

const quote = (trigram: string) => `"${trigram.replace(/"/g, '""')}"`;

/** The fragment's distinct trigrams, at most MAX_TRIGRAMS of them spread over it. */
function trigramsOf(text: string): string[] {
  const chars = [...text];
  const all = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) all.add(chars.slice(i, i + 3).join(''));
  const trigrams = [...all];
  if (trigrams.length <= MAX_TRIGRAMS) return trigrams;
  const step = (trigrams.length - 1) / (MAX_TRIGRAMS - 1);
  return Array.from({ length: MAX_TRIGRAMS }, (_, i) => trigrams[Math.round(i * step)] as string);
}

/** An FTS5 query for rows holding all of the fragment's trigrams (up to MAX_TRIGRAMS of them). */
export function trigramQuery(text: string): string {
  return trigramsOf(text).map(quote).join(' AND ');
}

async function pgFind(store: Store, fragment: Fragment, cap: number): Promise<number[]> {
  if (store.driver.kind !== 'postgres') throw new Error('unreachable');
  const result = await store.driver.pool.query<[number]>({
    name: `fis:contains:${fragment.column}`,
    // The column is one of two names, never input.
    text: `select pk from customers where ${fragment.column} like $1 escape '\\' limit $2`,
    values: [`%${escapeLike(fragment.text)}%`, cap + 1],
    rowMode: 'array',
  });
  return result.rows.map((row) => row[0]);
}

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
