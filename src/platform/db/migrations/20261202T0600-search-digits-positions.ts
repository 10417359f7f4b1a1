import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * SQLite: the phone-digits index keeps the positions of its trigrams
 * (`detail=full`), so that a digits fragment is found as a phrase of
 * consecutive trigrams: exactly the customers whose numbers contain it.
 *
 * With `detail=none` a fragment could only be asked for as "every one of its
 * trigrams somewhere", and phone numbers share their trigrams: `2000086` named
 * every number holding `200`, `000`, `008` and `086` anywhere, thousands of
 * customers at 1,000,000, which sent a phone search into reading the rep's book
 * (20 ms at the median). Measured on the bench's 1,000,000 customers: building
 * the index takes the same time (2.4 s), it grows from 11 to 29 MB, and the
 * phrase names the 798 customers of `2000086` in 2.8 ms.
 *
 * The text index keeps `detail=none`: a phrase of common trigrams there reads
 * their positions (40 ms for `1234@example`), more than the rarest-trigram
 * plan of search-index.ts costs. PostgreSQL: nothing to do (pg_trgm re-checks).
 */
export const searchDigitsPositions = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await recreate(db, 'full');
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await recreate(db, 'none');
  },
});

/** Drops and recreates the digits index with the given detail, and fills it from `customers` (triggers refer to it by name). */
async function recreate(db: Kysely<any>, detail: 'full' | 'none'): Promise<void> {
  await sql`drop table customer_search_digits`.execute(db);
  await sql
    .raw(
      "create virtual table customer_search_digits using fts5(phone_digits, content='customers', content_rowid='pk', " +
        `tokenize='trigram', detail='${detail}', columnsize=0)`,
    )
    .execute(db);
  await sql`insert into customer_search_digits(customer_search_digits) values ('rebuild')`.execute(db);
}
