import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL: the trigram indexes of texts and phone digits keyed by where each customer stands in the list
 * too, so that a search finds the customers holding a fragment one stretch of the list at a time.
 *
 * Four digits (the last four of a number) are in about 1,000 of 1,000,000 customers' numbers, spread over
 * the whole table: the index named them all, and a search fetched every one of them from the table to
 * learn where it stands in the list, though a page shows 30 (about 1,000 table pages, 9 ms from the OS's
 * cache and 40–90 ms from this machine's disk); and the same digits in ids and addresses, about 300 more.
 * Each index now has a second key per customer, `fis_list_bucket(sort_key)`: the first letter of the
 * customer's sort key (a folded name: `a` to `z` are buckets 1 to 26; what sorts before `a` is bucket 0,
 * the rest of ASCII 27, and the code points past it four buckets of 16,384), so buckets follow list order
 * (a sort key's first character decides its bucket, and list order compares sort keys by their first
 * character first). Few buckets, so that few of them are empty: GIN looks every asked key up, an empty one
 * too (98 of them cost 3.6 ms here). GIN intersects a bucket's posting list with the fragment's trigrams',
 * so a search asks for the digits in the first buckets of the list and fetches only those holders (about 60
 * for the first page), then the next buckets while its page is not full (search-index.ts,
 * `candidatesInListBuckets`).
 *
 * The same indexes answer a search that names no bucket as the plain trigram indexes did. A SQL function
 * the planner inlines, in the index and in the query alike (so the two match): a build costs about what
 * the plain index's did (the digits' 3.7 against 3.6 s at 1,000,000 customers here). The upgrade builds both
 * indexes again. SQLite: nothing (its indexes are in list order already: migrations 20261203T1900, 20261206T1900).
 */
export const pgSearchListBuckets = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`
      create function fis_list_bucket(sort_key text) returns integer[]
      language sql immutable parallel safe as $$
        select array[case
          when ascii(sort_key) < 97 then 0
          when ascii(sort_key) < 123 then ascii(sort_key) - 96
          when ascii(sort_key) < 128 then 27
          else 28 + least(3, (ascii(sort_key) - 128) >> 14) end]
      $$`.execute(db);
    const ops = await trgmOps(db);
    for (const [index, column] of INDEXES) {
      await sql`drop index ${sql.id(index)}`.execute(db);
      await sql`create index ${sql.id(index)} on customers using gin (fis_list_bucket(sort_key), ${sql.id(column)} ${ops})`.execute(db);
    }
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    const ops = await trgmOps(db);
    for (const [index, column] of INDEXES) {
      await sql`drop index ${sql.id(index)}`.execute(db);
      await sql`create index ${sql.id(index)} on customers using gin (${sql.id(column)} ${ops})`.execute(db);
    }
    await sql`drop function fis_list_bucket(text)`.execute(db);
  },
});

/** The trigram indexes keyed by list bucket (migration 20261202T0100's), and their columns. */
const INDEXES = [
  ['customers_search_text_trgm', 'search_text'],
  ['customers_phone_digits_trgm', 'phone_digits'],
] as const;

/** pg_trgm's GIN operator class, in the schema the extension lives in. */
export async function trgmOps(db: Kysely<any>) {
  const { rows } = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  const schema = (rows[0] as { schema: string }).schema;
  return sql.raw(`"${schema.replace(/"/g, '""')}".gin_trgm_ops`);
}
