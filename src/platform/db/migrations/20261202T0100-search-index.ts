import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Substring indexes for search (issue 11): `customers.search_text` (folded
 * name and e-mail addresses) and `customers.phone_digits`, so that a search
 * finds the customers containing a fragment without reading the book.
 *
 * - SQLite: FTS5 tables with the trigram tokenizer over `customers` (external
 *   content: the text is not stored twice), kept by triggers on `customers`, so
 *   every writer (import, prune, routing's auto-create) maintains them in its
 *   own transaction without knowing they exist. `detail=none` keeps only which
 *   rows hold each trigram (no positions): a search asks for rows holding all of
 *   the fragment's trigrams and checks the fragment itself on those rows.
 * - PostgreSQL: `pg_trgm` GIN indexes on the same columns (LIKE '%…%' uses
 *   them, and PostgreSQL re-checks every row it finds). PostgreSQL maintains
 *   them itself. `CREATE EXTENSION pg_trgm` needs the right privilege (see
 *   README "Search index"); without it the migration fails naming the fix.
 */
export const searchIndex = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect === 'sqlite') {
      for (const [table, column] of SQLITE_INDEXES) {
        await sql
          .raw(
            `create virtual table ${table} using fts5(${column}, content='customers', content_rowid='pk', ` +
              `tokenize='trigram', detail='none', columnsize=0)`,
          )
          .execute(db);
      }
      // While a bulk import runs, its new customers are indexed once at its end (see search-index.ts,
      // deferSearchIndex): one statement indexing many rows is several times cheaper than a trigger per row.
      await sql`create table search_index_deferred (since_pk integer not null)`.execute(db);
      await sql
        .raw(
          'create trigger customers_search_insert after insert on customers ' +
            `when not exists (select 1 from search_index_deferred) begin ${add('new')} end`,
        )
        .execute(db);
      await sql.raw(`create trigger customers_search_delete after delete on customers begin ${remove('old')} end`).execute(db);
      await sql
        .raw(
          'create trigger customers_search_update after update of search_text, phone_digits on customers ' +
            `begin ${remove('old')} ${add('new')} end`,
        )
        .execute(db);
      for (const [table] of SQLITE_INDEXES) await sql.raw(`insert into ${table}(${table}) values ('rebuild')`).execute(db);
      // A search whose fragment is too common for the trigram index reads every visible customer in
      // list order until its page is full; this index holds what that read needs, so it does not
      // fetch each customer's whole row (channels, links, details) from the table.
      await sql`create index customers_search_scan on customers (sort_key, customer_id, search_text, phone_digits)`.execute(db);
      return;
    }
    const schema = await ensurePgTrgm(db);
    const ops = sql.raw(`${quoteIdent(schema)}.gin_trgm_ops`);
    await sql`create index customers_search_text_trgm on customers using gin (search_text ${ops})`.execute(db);
    await sql`create index customers_phone_digits_trgm on customers using gin (phone_digits ${ops})`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect === 'sqlite') {
      for (const trigger of ['customers_search_insert', 'customers_search_delete', 'customers_search_update']) {
        await sql.raw(`drop trigger if exists ${trigger}`).execute(db);
      }
      for (const [table] of SQLITE_INDEXES) await sql.raw(`drop table if exists ${table}`).execute(db);
      await sql`drop table if exists search_index_deferred`.execute(db);
      await sql`drop index if exists customers_search_scan`.execute(db);
      return;
    }
    await sql`drop index if exists customers_search_text_trgm`.execute(db);
    await sql`drop index if exists customers_phone_digits_trgm`.execute(db);
  },
});

/** SQLite: the FTS5 table indexing each column of `customers`. */
export const SQLITE_INDEXES = [
  ['customer_search_text', 'search_text'],
  ['customer_search_digits', 'phone_digits'],
] as const;

// Rows with nothing to index (no phone numbers, for most) are left out of the index, and out of its deletes.
const add = (row: 'new') =>
  SQLITE_INDEXES.map(
    ([table, column]) =>
      `insert into ${table}(rowid, ${column}) select ${row}.pk, ${row}.${column} where ${row}.${column} <> '';`,
  ).join(' ');
const remove = (row: 'old') =>
  SQLITE_INDEXES.map(
    ([table, column]) =>
      `insert into ${table}(${table}, rowid, ${column}) select 'delete', ${row}.pk, ${row}.${column} where ${row}.${column} <> '';`,
  ).join(' ');

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The message when pg_trgm is missing and cannot be created here. */
export function pgTrgmFix(reason: string): string {
  return (
    `search needs the PostgreSQL extension pg_trgm, and ${reason}. ` +
    'Fix: connect to this database as a superuser (or, from PostgreSQL 13, any role with CREATE on the database, ' +
    'since pg_trgm is a trusted extension) and run `CREATE EXTENSION IF NOT EXISTS pg_trgm;`, then start the service ' +
    'again. The extension ships with PostgreSQL\'s contrib package (Debian/Ubuntu: postgresql-contrib).'
  );
}

/**
 * Installs pg_trgm (in `public`) unless it is there; returns the schema it lives in.
 * Several schemas of one database may migrate at once: a savepoint lets the
 * loser of a race find the winner's extension instead of failing.
 */
async function ensurePgTrgm(db: Kysely<any>): Promise<string> {
  const installed = async () =>
    (
      await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(
        db,
      )
    ).rows[0]?.schema;
  const found = await installed();
  if (found !== undefined) return found;
  await sql`savepoint fis_pg_trgm`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm with schema public`.execute(db);
    await sql`release savepoint fis_pg_trgm`.execute(db);
  } catch (err) {
    await sql`rollback to savepoint fis_pg_trgm`.execute(db);
    const code = (err as { code?: string }).code;
    const raced = await installed();
    if (raced !== undefined) return raced;
    if (code === '42501') throw new Error(pgTrgmFix('this role may not create it (insufficient privilege)'), { cause: err });
    if (code === '58P01' || code === '0A000') {
      throw new Error(pgTrgmFix('the server does not have it installed'), { cause: err });
    }
    throw err;
  }
  return (await installed()) ?? 'public';
}
