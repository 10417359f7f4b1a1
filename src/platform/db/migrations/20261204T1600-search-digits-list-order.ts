import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { DIGITS_INDEX, dropTriggers, LIST_ORDER_TRIGGERS, listOrderTriggers, TEXT_INDEX } from './20261203T1900-search-list-order.js';

/**
 * SQLite: the phone-digits index in list order, as the text index is since
 * migration 20261203T1900.
 *
 * The digits index was keyed by pk, so a phone query's matches came in import
 * order: every customer holding the digits was read and ranked before the
 * first page could be cut (798 customers for a 7-digit ending in the bench's
 * 1,000,000, 5.4 ms at the median one at a time, 8% of list pages' throughput
 * under load). Its rowid is now the customer's list-order label, so a phone
 * query is read like a text one: the customers the two indexes name, merged
 * in label order, checked a row at a time until the page is full.
 *
 * The triggers keep both indexes under the labels: a relabelled window moves
 * both indexes' entries; a changed number is indexed again under its label.
 * The upgrade rebuilds the digits index in label order (3 s at 1,000,000).
 * PostgreSQL: nothing (GIN answers are not ordered).
 */
export const searchDigitsListOrder = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, LIST_ORDER_TRIGGERS);
    await sql`drop table customer_search_digits`.execute(db);
    await sql
      .raw(
        "create view customer_search_digits_content as select list_pos, phone_digits from customers where phone_digits <> '' and list_pos is not null",
      )
      .execute(db);
    await createDigitsIndex(db, 'customer_search_digits_content', 'list_pos');
    // Under the labels the customers have now (no longer LABEL_GAP apart once customers came and went), in label order.
    await sql
      .raw(
        "insert into customer_search_digits(rowid, phone_digits) select list_pos, phone_digits from customers where list_pos is not null and phone_digits <> '' order by list_pos",
      )
      .execute(db);
    await sql`insert into customer_search_digits(customer_search_digits) values ('optimize')`.execute(db);
    for (const statement of LABELLED_TRIGGERS) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db, LIST_ORDER_TRIGGERS);
    await sql`drop table customer_search_digits`.execute(db);
    await sql`drop view customer_search_digits_content`.execute(db);
    // As migration 20261202T0600 left it, filled from `customers` by pk.
    await createDigitsIndex(db, 'customers', 'pk');
    await sql`insert into customer_search_digits(customer_search_digits) values ('rebuild')`.execute(db);
    for (const statement of listOrderTriggers([TEXT_INDEX], { digitsByPk: true })) await sql.raw(statement).execute(db);
  },
});

/** Both indexes keyed by label. */
export const LABELLED = [TEXT_INDEX, DIGITS_INDEX] as const;
const LABELLED_TRIGGERS = listOrderTriggers(LABELLED, { digitsByPk: false });

/** The digits index keeps its trigrams' positions (migration 20261202T0600): a fragment is a phrase. */
async function createDigitsIndex(db: Kysely<any>, content: string, rowid: string): Promise<void> {
  await sql
    .raw(
      `create virtual table customer_search_digits using fts5(phone_digits, content='${content}', content_rowid='${rowid}', ` +
        "tokenize='trigram', detail='full', columnsize=0)",
    )
    .execute(db);
}
