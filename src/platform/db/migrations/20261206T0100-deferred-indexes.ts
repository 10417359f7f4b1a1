import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { buildDeferredIndexes } from '../deferred-indexes.js';

/**
 * PostgreSQL: the indexes a first import dropped and has yet to build, each
 * with the statement that makes it (deferred-indexes.ts). Kept in a table, not
 * in the importer's memory, so that an import that dies between the drop and
 * its end leaves the statements for the next import, `fis migrate` or the
 * service's start to build. SQLite drops and builds them inside the import's
 * own transaction (search-index.ts): nothing to keep.
 */
export const deferredIndexes = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`create table deferred_indexes (name text primary key, definition text not null)`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await buildDeferredIndexes(db, dialect);
    await sql`drop table deferred_indexes`.execute(db);
  },
});
