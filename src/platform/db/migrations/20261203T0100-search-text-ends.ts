import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * SQLite: one- and two-character fragments through the text index.
 *
 * The trigram index of `search_text` could not find a fragment shorter than
 * three characters, so a rare one (`ø`, `oa` in a book with no Joan) was found
 * by reading the whole book in list order. Every occurrence of a short
 * fragment is the start of some trigram, except at the very end of the text;
 * so the index now holds each customer's text followed by two newlines (which
 * no search_text holds at its end: lines are joined by one, and no query holds
 * one), and the customers containing `oa` are exactly those holding a trigram
 * that starts with `oa`: the index's terms in [`oa`, `ob`), listed by the
 * `fts5vocab` table `customer_search_text_terms` (search-index.ts).
 *
 * The index's external content is a view adding the two newlines, so that
 * `rebuild` and `integrity-check` see what the triggers index. Rebuilding the
 * text index takes about 10 s per million customers. PostgreSQL: nothing
 * (pg_trgm keeps its own rules).
 */
export const searchTextEnds = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db);
    await sql`drop table customer_search_text`.execute(db);
    await sql
      .raw(
        "create view customer_search_text_content as select pk, search_text || char(10, 10) as search_text from customers where search_text <> ''",
      )
      .execute(db);
    await createTextIndex(db, 'customer_search_text_content');
    await sql.raw("create virtual table customer_search_text_terms using fts5vocab(customer_search_text, 'row')").execute(db);
    await createTriggers(db, SQLITE_SEARCH_INDEXES);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await dropTriggers(db);
    await sql`drop table customer_search_text_terms`.execute(db);
    await sql`drop table customer_search_text`.execute(db);
    await sql`drop view customer_search_text_content`.execute(db);
    await createTextIndex(db, 'customers');
    await createTriggers(db, [
      { table: 'customer_search_text', column: 'search_text', value: (row) => `${row}.search_text` },
      ...SQLITE_SEARCH_INDEXES.filter((index) => index.column !== 'search_text'),
    ]);
  },
});

/** SQLite: each FTS5 index of `customers`, and the text it holds for a row (`new`, `old`, or a table alias). */
export interface SqliteSearchIndex {
  readonly table: string;
  readonly column: 'search_text' | 'phone_digits';
  readonly value: (row: string) => string;
}

export const SQLITE_SEARCH_INDEXES: readonly SqliteSearchIndex[] = [
  { table: 'customer_search_text', column: 'search_text', value: (row) => `${row}.search_text || char(10, 10)` },
  { table: 'customer_search_digits', column: 'phone_digits', value: (row) => `${row}.phone_digits` },
];

async function createTextIndex(db: Kysely<any>, content: string): Promise<void> {
  await sql
    .raw(
      `create virtual table customer_search_text using fts5(search_text, content='${content}', content_rowid='pk', ` +
        "tokenize='trigram', detail='none', columnsize=0)",
    )
    .execute(db);
  await sql`insert into customer_search_text(customer_search_text) values ('rebuild')`.execute(db);
}

const TRIGGERS = ['customers_search_insert', 'customers_search_delete', 'customers_search_update'];

async function dropTriggers(db: Kysely<any>): Promise<void> {
  for (const trigger of TRIGGERS) await sql.raw(`drop trigger ${trigger}`).execute(db);
}

/** The triggers of migration 20261202T0100, indexing what `indexes` say. Rows with nothing to index stay out. */
async function createTriggers(db: Kysely<any>, indexes: readonly SqliteSearchIndex[]): Promise<void> {
  const add = indexes
    .map(({ table, column, value }) => `insert into ${table}(rowid, ${column}) select new.pk, ${value('new')} where new.${column} <> '';`)
    .join(' ');
  const remove = indexes
    .map(
      ({ table, column, value }) =>
        `insert into ${table}(${table}, rowid, ${column}) select 'delete', old.pk, ${value('old')} where old.${column} <> '';`,
    )
    .join(' ');
  await sql
    .raw(
      'create trigger customers_search_insert after insert on customers ' +
        `when not exists (select 1 from search_index_deferred) begin ${add} end`,
    )
    .execute(db);
  await sql.raw(`create trigger customers_search_delete after delete on customers begin ${remove} end`).execute(db);
  await sql
    .raw(`create trigger customers_search_update after update of search_text, phone_digits on customers begin ${remove} ${add} end`)
    .execute(db);
}
