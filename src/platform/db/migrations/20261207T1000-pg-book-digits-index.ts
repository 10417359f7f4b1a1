import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { trgmOps } from './20261207T0500-pg-search-list-buckets.js';

/**
 * PostgreSQL: a trigram index of the digits of each rep's book, on `customer_owners` (a row per customer and
 * rep, with the customer's texts and digits), keyed by the rep too, so that a search in a book finds the book's
 * holders of a query's digits without fetching every holder in the store.
 *
 * Four digits are in about 1,000 of 1,000,000 customers' numbers; in a rep's book of 200,000 about 170 of
 * them. A search in the book fetched all of them from `customers` (each a table page: 3–5 ms here) and sent
 * their keys back to learn which are the book's and to rank them (a statement of 1,000 lookups: 1.7 ms), for a
 * page of 30. The index has a first key per row, `fis_worker_key(worker)` (the rep, as a one-element array:
 * GIN keeps each key once, with the list of its rows), which GIN intersects with the digits' trigrams: a book's
 * posting list is long (200,000 entries), but GIN skips through it to the rare trigrams' entries (about 70
 * index pages read for `6353` in the 200,000-customer book), and only the book's holders are fetched, each with
 * what a page shows of it. The rep itself, not a hash of it: exact, and the same on every server version (a
 * built-in hash such as `hashtext` may change between major versions, which would leave the index's keys
 * unlike the queries' after an upgrade; keyed by the hash it built in 2.2 s against 2.8, and read as many pages).
 *
 * Texts are not indexed so: a query's text is held by fewer customers (300 for four digits), fetched from the
 * store's index and checked for the book on the server (search-index.ts, pgFind), and a texts' index keyed so
 * took 6.1 s more to build at 1,000,000 customers (58 MB), a fifth more time for a first import.
 *
 * A SQL function the planner inlines, in the index and in the query alike (so the two match), as
 * fis_list_bucket (migration 20261207T0500). Built in 2.8 s at 1,000,000 customers here (39 MB); a first
 * import builds it at its end with the others (deferred-indexes.ts). SQLite: nothing (its book searches read
 * the index in list order: customer.repository.ts).
 */
export const pgBookDigitsIndex = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`
      create function fis_worker_key(worker text) returns text[]
      language sql immutable parallel safe as $$ select array[worker] $$`.execute(db);
    await sql`create index customer_owners_phone_digits_trgm on customer_owners using gin (fis_worker_key(worker), phone_digits ${await trgmOps(db)})`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`drop index customer_owners_phone_digits_trgm`.execute(db);
    await sql`drop function fis_worker_key(text)`.execute(db);
  },
});
