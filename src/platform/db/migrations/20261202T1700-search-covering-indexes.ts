import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL, two things for search.
 *
 * A trigram index of names alone (`customers.sort_key`), for the "a word of
 * the name starts with the query" rank: asked for ` orea`, the index of
 * `search_text` can only offer word starts that every e-mail address has
 * (` or` of `.org`, ` ex` of `example`), so a fragment no name holds sent the
 * search into reading the whole book (200 ms for a 200,000-customer book).
 *
 * And the indexes a book is read through in list order also hold
 * what a search's list-order read checks (`search_text`, `phone_digits`) and
 * the customer's pk, so that read is an index-only scan.
 *
 * A search for a fragment too common for the trigram index reads the book in
 * list order, window after window (customer.repository.ts). Through the plain
 * indexes every row of a window was a fetch of a table page (the table is in
 * import order, not book order): 12 ms for 4,096 rows of a 200,000-customer
 * book at 1,000,000 customers; through these, 3.6 ms. SQLite needs nothing:
 * its `customer_owners` is stored in key order and `customers_search_scan`
 * (migration 20261202T0100) covers the read with every customer visible.
 *
 * The constraint and index keep their names and keys, so nothing that finds
 * a row through them changes; they only grow (at 1,000,000 customers,
 * 107 → 144 MB and 68 → 108 MB). Index-only scans need the visibility map,
 * which VACUUM sets (autovacuum does after large inserts; `fis import` runs
 * it after a PostgreSQL import).
 */
export const searchCoveringIndexes = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`alter table customer_owners drop constraint customer_owners_pk, add constraint customer_owners_pk primary key (worker, sort_key, customer_id) include (customer_pk, search_text, phone_digits)`.execute(db);
    await sql`drop index customers_sort`.execute(db);
    await sql`create index customers_sort on customers (sort_key, customer_id) include (pk, search_text, phone_digits)`.execute(db);
    const { rows } = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
    const schema = (rows[0] as { schema: string }).schema;
    await sql`create index customers_sort_key_trgm on customers using gin (sort_key ${sql.raw(`"${schema.replace(/"/g, '""')}".gin_trgm_ops`)})`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`drop index customers_sort_key_trgm`.execute(db);
    await sql`alter table customer_owners drop constraint customer_owners_pk, add constraint customer_owners_pk primary key (worker, sort_key, customer_id)`.execute(db);
    await sql`drop index customers_sort`.execute(db);
    await sql`create index customers_sort on customers (sort_key, customer_id)`.execute(db);
  },
});
