import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';
import { BLOCK_BITS, postgresSearchBlocks } from '../search-blocks.js';

/** Customers read per statement while the blocks are filled. */
const FILL_BATCH = 20_000;

/**
 * PostgreSQL: the search blocks (search-blocks.ts): for each start of a sort
 * key, the pairs of adjacent characters its customers' texts hold, so that a
 * read of a book in list order skips the blocks that cannot hold a fragment.
 * The upgrade reads every customer once and fills them: 2.8–3.7 s at
 * 1,000,000 customers here (30 blocks; their number is that of distinct
 * starts of names, not of customers). SQLite: nothing (its text index
 * answers in list order, migration 20261203T1900).
 */
export const searchBlocks = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`create table customer_search_blocks (prefix text collate "C" primary key, bits ${sql.raw(`bit(${BLOCK_BITS})`)} not null)`.execute(db);
    const blocks = postgresSearchBlocks();
    let after = -1;
    for (;;) {
      const { rows } = await sql<{ pk: number; sort_key: string; search_text: string }>`
        select pk, sort_key, search_text from customers where pk > ${after} order by pk limit ${FILL_BATCH}`.execute(db);
      for (const row of rows) blocks.note(row.sort_key, row.search_text);
      if (rows.length < FILL_BATCH) break;
      after = (rows.at(-1) as { pk: number }).pk;
    }
    await blocks.save(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`drop table customer_search_blocks`.execute(db);
  },
});
