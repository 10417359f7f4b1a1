import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * SQLite: one index of the list order instead of two. `customers_sort` (sort_key, customer_id) and the
 * covering `customers_search_scan` (sort_key, customer_id, search_text, phone_digits, migration
 * 20261202T0100) begin with the same columns, so every read in list order (a list page, a rank-0
 * prefix range, the labels' neighbours in the triggers) is served as well by the second: a page of 30
 * from a cursor took 69–75 µs through either at 1,000,000 customers (2,000 cursors, three times each,
 * alternating). Each writer kept both; a first import built both (1.2 s and 29 MB for the first at
 * 1,000,000 customers). BENCHMARKS.md, issue 11, thirteenth round.
 *
 * PostgreSQL keeps its `customers_sort`, the covering index its reads in list order use.
 */
export const sqliteOneListIndex = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`drop index if exists customers_sort`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`create index if not exists customers_sort on customers (sort_key, customer_id)`.execute(db);
  },
});
