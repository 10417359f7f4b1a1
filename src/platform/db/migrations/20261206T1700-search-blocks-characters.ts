import { type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import { cutSearchBlocks } from '../search-blocks.js';

/**
 * PostgreSQL: the search blocks keep each character of their customers' texts too, beside the pairs
 * (search-blocks.ts), so that a one-character fragment reads only the blocks holding it: `-`, `%` or an
 * emoji that no customer has was a read of the whole list (about 0.3 s at 1,000,000 customers with
 * every customer visible), since pg_trgm finds nothing for it. The blocks are cut again, so that every
 * block holds its characters' bits (about 3 s per 1,000,000 customers here).
 *
 * Instances of an earlier version that write customers after this migration and before they stop add
 * no character bits: a one-character search may miss such a customer until the next cut (a large
 * import, or this migration run again by hand). Stop them, or restart every instance together.
 * SQLite: nothing.
 */
export const searchBlocksCharacters = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await cutSearchBlocks(db);
  },
  async down() {},
});
