import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * SQLite: how many customers hold each of the text index's trigrams, stored (`search_trigram_counts`), with
 * the store's size when they were counted (`search_trigram_counts_made`).
 *
 * A search counts its fragment's trigrams to choose which drive it (search-index.ts, sqliteQuery): a bounded
 * read of each trigram's row list, up to 65,537 entries (about 2 ms for a trigram that many customers hold,
 * at 1,000,000), remembered by each read connection for a while. Reps seldom type the same query twice, so
 * most searches met a trigram no search had counted yet: at 1,000,000 customers a first search of an
 * address typed from its start took 4.9 ms on average where the same search again took 0.6. The counts are
 * now read from this table (a lookup of a few µs, however many customers hold the trigram); a trigram it
 * says 64 customers or fewer hold, or does not hold, is still counted on the index (a read of at most 65
 * entries), so a trigram no customer holds any more still ends a search at once.
 *
 * Written from the index's own counts (`fts5vocab`) by this upgrade and by an import that changed much
 * (search-index.ts, countTrigramsIfDue): about 1 s at 1,000,000 customers, a read of the whole index. Writes
 * between those (routing's customers, the admin API's, smaller imports) leave the counts behind: a count
 * only chooses how a search reads the index (every row is checked for the whole fragment), so a stale one
 * costs time, never an answer. PostgreSQL: nothing (it samples its counts: search-index.ts, trigramCounts).
 */
export const sqliteTrigramCounts = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`create table search_trigram_counts (term text primary key, doc integer not null) without rowid`.execute(db);
    await sql`create table search_trigram_counts_made (id integer primary key check (id = 1), customers integer not null)`.execute(db);
    for (const statement of COUNT_ALL) await sql.raw(statement).execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'sqlite') return;
    await sql`drop table search_trigram_counts_made`.execute(db);
    await sql`drop table search_trigram_counts`.execute(db);
  },
});

/** The statements that count every trigram of the text index afresh (the upgrade, and an import that changed much). */
export const COUNT_ALL = [
  'delete from search_trigram_counts',
  'insert into search_trigram_counts (term, doc) select term, doc from customer_search_text_terms',
  'insert or replace into search_trigram_counts_made (id, customers) values (1, (select count(*) from customers))',
] as const;
