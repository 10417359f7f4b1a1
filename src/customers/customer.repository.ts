/**
 * Reads of customers for the CRM callback. Every query is keyset-paged over
 * (rank, sort_key, customer_id) and reads one worker's book through the
 * primary key of `customer_owners`, so its cost grows with the page size and
 * the worker's book, never with the whole store.
 */
import { type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { CustomerOwnersTable, CustomerRow, Database } from '../db/database.js';
import type { Cursor } from './page-token.js';
import { escapeLike } from './text.js';

/** Whose customers a request may see. */
export type Scope = { readonly kind: 'worker'; readonly worker: string } | { readonly kind: 'all' };

/** A parsed `Query`. */
export interface SearchTerms {
  /** The query as typed (trimmed): matched against the whole customer_id. */
  readonly raw: string;
  /** `fold(query)`: matched against names and e-mail addresses. */
  readonly folded: string;
  /** The query's digits, when it looks like a phone number: matched against phone digits. */
  readonly digits: string | undefined;
}

export interface ListRow {
  customer_id: string;
  display_name: string;
  avatar: string | null;
  sort_key: string;
  rank: number;
}

type Db = Kysely<Database>;
type Source = SelectQueryBuilder<Database & { s: CustomerOwnersTable }, 's', object>;

/** The rows a scope may see, as `s`: a worker's book, or every customer. */
function source(db: Db, scope: Scope): Source {
  if (scope.kind === 'worker') return db.selectFrom('customer_owners as s').where('s.worker', '=', scope.worker);
  // `customers` has every column the list and search read from `customer_owners`.
  return db.selectFrom('customers as s') as unknown as Source;
}

/** 0: id match or the name starts with the query; 1: a word of the name does; 2: any other match. */
function rankOf(search: SearchTerms): RawBuilder<number> {
  const prefix = `${escapeLike(search.folded)}%`;
  return sql<number>`(case when s.customer_id = ${search.raw} or s.sort_key like ${prefix} escape '\\' then 0 when s.sort_key like ${`% ${prefix}`} escape '\\' then 1 else 2 end)`;
}

function matches(search: SearchTerms): Expression<SqlBool> {
  const contains = `%${escapeLike(search.folded)}%`;
  if (search.digits === undefined) {
    return sql<SqlBool>`(s.customer_id = ${search.raw} or s.search_text like ${contains} escape '\\')`;
  }
  return sql<SqlBool>`(s.customer_id = ${search.raw} or s.search_text like ${contains} escape '\\' or s.phone_digits like ${`%${search.digits}%`})`;
}

/** One page in list order (by sort_key, customer_id), after `after` when given. */
export async function listPage(db: Db, scope: Scope, after: Cursor | undefined, limit: number): Promise<ListRow[]> {
  let query = source(db, scope).select([
    's.customer_id',
    's.display_name',
    's.avatar',
    's.sort_key',
    sql<number>`0`.as('rank'),
  ]);
  if (after) {
    query = query.where(sql<SqlBool>`(s.sort_key, s.customer_id) > (${after.sortKey}, ${after.customerId})`);
  }
  return query.orderBy('s.sort_key').orderBy('s.customer_id').limit(limit).execute();
}

/** One page of search results, best matches first (by rank, sort_key, customer_id). */
export async function searchPage(
  db: Db,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  const rank = rankOf(search);
  let query = source(db, scope)
    .select(['s.customer_id', 's.display_name', 's.avatar', 's.sort_key', rank.as('rank')])
    .where(matches(search));
  if (after) {
    query = query.where(
      sql<SqlBool>`(${rank}, s.sort_key, s.customer_id) > (${after.rank}, ${after.sortKey}, ${after.customerId})`,
    );
  }
  return query.orderBy('rank').orderBy('s.sort_key').orderBy('s.customer_id').limit(limit).execute();
}

/**
 * Where `customerId` stands in the scope's list (or in the search, when given):
 * the cursor an `Anchor` continues from, or undefined when it is not there.
 */
export async function findPosition(
  db: Db,
  scope: Scope,
  customerId: string,
  search: SearchTerms | undefined,
): Promise<Cursor | undefined> {
  let query = source(db, scope)
    .select(['s.customer_id', 's.sort_key', (search ? rankOf(search) : sql<number>`0`).as('rank')])
    .where('s.customer_id', '=', customerId);
  if (scope.kind === 'worker') {
    // Found through customers' unique customer_id and the (customer_pk, worker) index: one row.
    // On customer_id alone, the primary key (worker, sort_key, …) would scan the worker's whole book.
    query = query.where('s.customer_pk', '=', (eb) =>
      eb.selectFrom('customers as k').select('k.pk').where('k.customer_id', '=', customerId),
    );
  }
  if (search) query = query.where(matches(search));
  const row = (await query.executeTakeFirst()) as { customer_id: string; sort_key: string; rank: number } | undefined;
  return row && { rank: Number(row.rank), sortKey: row.sort_key, customerId: row.customer_id };
}

/** The customer, when it exists and the scope may see it. */
export async function findVisibleCustomer(db: Db, scope: Scope, customerId: string): Promise<CustomerRow | undefined> {
  let query = db.selectFrom('customers as c').selectAll('c').where('c.customer_id', '=', customerId);
  if (scope.kind === 'worker') {
    const worker = scope.worker;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('customer_owners as o')
          .select(sql`1`.as('one'))
          .whereRef('o.customer_pk', '=', 'c.pk')
          .where('o.worker', '=', worker),
      ),
    );
  }
  return query.executeTakeFirst();
}
