/**
 * Reads of customers for the CRM callback. Every query is keyset-paged over
 * (rank, sort_key, customer_id) and reads one worker's book through the
 * primary key of `customer_owners`, so its cost grows with the page size and
 * the worker's book, never with the whole store.
 *
 * These are the service's hot paths: each query is compiled once per shape
 * (see db/precompiled.ts), so the builders below receive placeholders, and
 * whatever changes a query's clauses is spelled out in its shape key.
 */
import { type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import type { Store } from '../../platform/db/connect.js';
import type { CustomerOwnersTable, Database } from '../../platform/db/database.js';
import { readPrecompiled } from '../../platform/db/precompiled.js';
import type { StoredCustomer } from './customer.row.js';
import type { Cursor } from './page-token.js';
import { escapeLike } from '../../kernel/text.js';

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

/** A row of a list or search page: [customer_id, display_name, avatar, sort_key, rank]. */
export type ListRow = [customerId: string, displayName: string, avatar: string | null, sortKey: string, rank: number];

type Db = Kysely<Database>;
type Source = SelectQueryBuilder<Database & { s: CustomerOwnersTable }, 's', object>;

/** The values a query binds, by name (the placeholders the builders use). */
interface Values {
  worker?: string;
  customerId?: string;
  limit?: number;
  afterRank?: number;
  afterSortKey?: string;
  afterCustomerId?: string;
  raw?: string;
  prefix?: string;
  wordPrefix?: string;
  contains?: string;
  digits?: string;
}

/** The rows a scope may see, as `s`: a worker's book, or every customer. */
function source(db: Db, scope: Scope['kind'], v: Values): Source {
  if (scope === 'worker') return db.selectFrom('customer_owners as s').where('s.worker', '=', v.worker as string);
  // `customers` has every column the list and search read from `customer_owners`.
  return db.selectFrom('customers as s') as unknown as Source;
}

function scopeValues(scope: Scope): Values {
  return scope.kind === 'worker' ? { worker: scope.worker } : {};
}

function searchValues(search: SearchTerms): Values {
  const escaped = escapeLike(search.folded);
  return {
    raw: search.raw,
    prefix: `${escaped}%`,
    wordPrefix: `% ${escaped}%`,
    contains: `%${escaped}%`,
    ...(search.digits === undefined ? {} : { digits: `%${search.digits}%` }),
  };
}

function afterValues(after: Cursor | undefined): Values {
  return after ? { afterRank: after.rank, afterSortKey: after.sortKey, afterCustomerId: after.customerId } : {};
}

/** 0: id match or the name starts with the query; 1: a word of the name does; 2: any other match. */
function rankOf(v: Values): RawBuilder<number> {
  return sql<number>`(case when s.customer_id = ${v.raw} or s.sort_key like ${v.prefix} escape '\\' then 0 when s.sort_key like ${v.wordPrefix} escape '\\' then 1 else 2 end)`;
}

function matches(v: Values, withDigits: boolean): Expression<SqlBool> {
  if (!withDigits) {
    return sql<SqlBool>`(s.customer_id = ${v.raw} or s.search_text like ${v.contains} escape '\\')`;
  }
  return sql<SqlBool>`(s.customer_id = ${v.raw} or s.search_text like ${v.contains} escape '\\' or s.phone_digits like ${v.digits})`;
}

/** One page in list order (by sort_key, customer_id), after `after` when given. */
export async function listPage(store: Store, scope: Scope, after: Cursor | undefined, limit: number): Promise<ListRow[]> {
  const db = store.db;
  const values: Values = { ...scopeValues(scope), ...afterValues(after), limit };
  return readPrecompiled(store, `list:${scope.kind}:${after ? 'after' : 'first'}`, values, (v) => {
    let query = source(db, scope.kind, v).select([
      's.customer_id',
      's.display_name',
      's.avatar',
      's.sort_key',
      sql<number>`0`.as('rank'),
    ]);
    if (after) {
      query = query.where(sql<SqlBool>`(s.sort_key, s.customer_id) > (${v.afterSortKey}, ${v.afterCustomerId})`);
    }
    return query
      .orderBy('s.sort_key')
      .orderBy('s.customer_id')
      .limit(v.limit as number);
  });
}

/** One page of search results, best matches first (by rank, sort_key, customer_id). */
export async function searchPage(
  store: Store,
  scope: Scope,
  search: SearchTerms,
  after: Cursor | undefined,
  limit: number,
): Promise<ListRow[]> {
  const withDigits = search.digits !== undefined;
  const values: Values = { ...scopeValues(scope), ...searchValues(search), ...afterValues(after), limit };
  const shape = `search:${scope.kind}:${after ? 'after' : 'first'}:${withDigits ? 'digits' : 'text'}`;
  const db = store.db;
  return readPrecompiled(store, shape, values, (v) => {
    const rank = rankOf(v);
    let query = source(db, scope.kind, v)
      .select(['s.customer_id', 's.display_name', 's.avatar', 's.sort_key', rank.as('rank')])
      .where(matches(v, withDigits));
    if (after) {
      query = query.where(
        sql<SqlBool>`(${rank}, s.sort_key, s.customer_id) > (${v.afterRank}, ${v.afterSortKey}, ${v.afterCustomerId})`,
      );
    }
    return query
      .orderBy('rank')
      .orderBy('s.sort_key')
      .orderBy('s.customer_id')
      .limit(v.limit as number);
  });
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
  const withDigits = search?.digits !== undefined;
  const values: Values = { ...scopeValues(scope), ...(search ? searchValues(search) : {}), customerId };
  const shape = `position:${scope.kind}:${search ? (withDigits ? 'digits' : 'text') : 'list'}`;
  const db = store.db;
  const [row] = await readPrecompiled<Values, [customerId: string, sortKey: string, rank: number]>(store, shape, values, (v) => {
    let query = source(db, scope.kind, v)
      .select(['s.customer_id', 's.sort_key', (search ? rankOf(v) : sql<number>`0`).as('rank')])
      .where('s.customer_id', '=', v.customerId as string);
    if (scope.kind === 'worker') {
      // Found through customers' unique customer_id and the (customer_pk, worker) index: one row.
      // On customer_id alone, the primary key (worker, sort_key, …) would scan the worker's whole book.
      query = query.where('s.customer_pk', '=', (eb) =>
        eb.selectFrom('customers as k').select('k.pk').where('k.customer_id', '=', v.customerId as string),
      );
    }
    if (search) query = query.where(matches(v, withDigits));
    return query;
  });
  return row && { rank: Number(row[2]), sortKey: row[1], customerId: row[0] };
}

/** The customer, when it exists and the scope may see it. */
export async function findVisibleCustomer(store: Store, scope: Scope, customerId: string): Promise<StoredCustomer | undefined> {
  const db = store.db;
  const values: Values = { ...scopeValues(scope), customerId };
  type Row = [string, string, string | null, string, string, string | null];
  const [row] = await readPrecompiled<Values, Row>(store, `customer:${scope.kind}`, values, (v) => {
    let query = db
      .selectFrom('customers as c')
      .select(['c.customer_id', 'c.display_name', 'c.avatar', 'c.channels', 'c.links', 'c.details'])
      .where('c.customer_id', '=', v.customerId as string);
    if (scope.kind === 'worker') {
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
  });
  if (!row) return undefined;
  const [customer_id, display_name, avatar, channels, links, details] = row;
  return { customer_id, display_name, avatar, channels, links, details };
}
