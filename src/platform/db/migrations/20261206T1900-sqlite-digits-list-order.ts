import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { TRIGGERS, createTriggers, dropTriggers } from './20261203T1900-search-list-order.js';
import { OPTIMIZE_DIGITS } from './20261204T2000-search-digits-merged.js';

/**
 * SQLite: the digits index in list order, as the text index is (migration 20261203T1900).
 *
 * The digits index named the customers whose numbers hold three to six digits in pk order, so a page of
 * a fragment thousands hold (`1234`: about 1,800 of 1,000,000 customers) cost either a read of the list
 * until 30 matches (one in 550 rows) or every candidate's row, ranked: 12–17 ms a page. Its rowid is now
 * the customer's label: FTS5 answers in label order, and a search reads its text and digits indexes
 * together, merged in label order, from a cursor's label until the page is full (customer.repository.ts,
 * STREAM).
 *
 * The triggers are migration 20261203T1900's, moving digits entries wherever they move text entries
 * (createTriggers('label')); a bulk import writes the digits of the customers it labels at its end
 * (search-index.ts, catchUpSearchIndex). The upgrade writes the index again, in label order. PostgreSQL:
 * nothing.
 */
export const sqliteDigitsListOrder = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, TRIGGERS);
    await sql`drop table customer_search_digits`.execute(db);
    await sql
      .raw(
        "create view customer_search_digits_content as select list_pos, phone_digits from customers where phone_digits <> '' and list_pos is not null",
      )
      .execute(db);
    await createDigitsIndex(db, 'customer_search_digits_content', 'list_pos');
    // Read whole and sorted (NOT INDEXED): through customers_list_pos each row would be a read of its own.
    await fillDigits(
      db,
      "select list_pos, phone_digits from customers not indexed where phone_digits <> '' and list_pos is not null order by list_pos",
    );
    for (const statement of createTriggers('label')) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, TRIGGERS);
    await sql`drop table customer_search_digits`.execute(db);
    await sql`drop view customer_search_digits_content`.execute(db);
    await createDigitsIndex(db, 'customers', 'pk');
    await fillDigits(db, "select pk, phone_digits from customers where phone_digits <> '' order by pk");
    for (const statement of createTriggers('pk')) await sql.raw(statement).execute(db);
  },
});

async function createDigitsIndex(db: Kysely<any>, content: string, rowid: string): Promise<void> {
  await sql
    .raw(
      `create virtual table customer_search_digits using fts5(phone_digits, content='${content}', content_rowid='${rowid}', ` +
        "tokenize='trigram', detail='full', columnsize=0)",
    )
    .execute(db);
}

/** Every row of `rows` (rowid, digits, in rowid order) into the empty digits index, merged into one segment. */
async function fillDigits(db: Kysely<any>, rows: string): Promise<void> {
  for (const statement of digitsInOrder(rows)) await sql.raw(statement).execute(db);
}

/**
 * The statements writing `rows` (rowid, digits, in rowid order: FTS5 flushes its buffer whenever a
 * rowid is not above the one before) into the digits index, without merging segments on the way, then
 * merged into one (migration 20261204T2000).
 */
export function digitsInOrder(rows: string): string[] {
  return [
    "insert into customer_search_digits(customer_search_digits, rank) values ('automerge', 0)",
    `insert into customer_search_digits(rowid, phone_digits) ${rows}`,
    OPTIMIZE_DIGITS,
    "insert into customer_search_digits(customer_search_digits, rank) values ('automerge', 4)",
  ];
}
