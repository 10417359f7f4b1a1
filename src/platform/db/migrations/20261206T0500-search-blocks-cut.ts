import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { cutSearchBlocks } from '../search-blocks.js';

/**
 * PostgreSQL: search blocks cut from the customers (search-blocks.ts), about every 256 customers in
 * list order (at most 2,048 blocks), instead of one per start of a sort key (its first three
 * characters). A fragment whose matches sit together inside a first name (`ohns`: the Johnsons of
 * every first name) was read from each first name's start: 8–9 ms p50 with every customer visible at
 * 1,000,000 customers. `customer_search_blocks_cut` keeps how many customers the last cut was for, so
 * that an import knows when to cut again. The upgrade reads every customer once (about 3 s at
 * 1,000,000). SQLite: nothing.
 */
export const searchBlocksCut = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`create table customer_search_blocks_cut (id smallint primary key check (id = 1), customers bigint not null)`.execute(db);
    await cutSearchBlocks(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`drop table customer_search_blocks_cut`.execute(db);
  },
});
