import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * PostgreSQL: a version of the search blocks (migration 20261205T0100), moved by every statement that
 * changes a block, in that statement's transaction, so that the service may keep the blocks in memory
 * and know, with one row read, whether they are still the store's (search-index.ts, `blocksHolding`).
 *
 * Asking the server which blocks hold a fragment's pairs read every block's bits: about 0.2–0.5 ms of
 * the server's time for each search that reads in list order (`ohns`, two letters), at 901 blocks.
 *
 * Statement triggers with transition tables: a statement that changed no row (a writer whose bits were
 * all set already: `bits | t.bits <> bits` updates nothing) leaves the version, so the service reloads the
 * blocks only when one did change. A cut (an import's) replaces every block: one move per statement.
 */
export const searchBlocksVersion = (dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    await sql`create table customer_search_blocks_version (id integer primary key check (id = 1), version bigint not null)`.execute(db);
    await sql`insert into customer_search_blocks_version (id, version) values (1, 1)`.execute(db);
    await sql`
      create function fis_search_blocks_changed() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from changed) then
          update customer_search_blocks_version set version = version + 1 where id = 1;
        end if;
        return null;
      end
      $$`.execute(db);
    await sql`
      create function fis_search_blocks_truncated() returns trigger language plpgsql as $$
      begin
        update customer_search_blocks_version set version = version + 1 where id = 1;
        return null;
      end
      $$`.execute(db);
    for (const [event, rows] of [['insert', 'new'], ['update', 'new'], ['delete', 'old']] as const) {
      await sql
        .raw(
          `create trigger customer_search_blocks_${event} after ${event} on customer_search_blocks ` +
            `referencing ${rows} table as changed for each statement execute function fis_search_blocks_changed()`,
        )
        .execute(db);
    }
    await sql`create trigger customer_search_blocks_truncate after truncate on customer_search_blocks
      for each statement execute function fis_search_blocks_truncated()`.execute(db);
  },
  async down(db: Kysely<any>) {
    if (dialect !== 'postgres') return;
    for (const event of ['insert', 'update', 'delete', 'truncate']) {
      await sql.raw(`drop trigger if exists customer_search_blocks_${event} on customer_search_blocks`).execute(db);
    }
    await sql`drop function if exists fis_search_blocks_changed()`.execute(db);
    await sql`drop function if exists fis_search_blocks_truncated()`.execute(db);
    await sql`drop table if exists customer_search_blocks_version`.execute(db);
  },
});
