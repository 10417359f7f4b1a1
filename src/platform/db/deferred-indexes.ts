/**
 * PostgreSQL: a first import (into a store with no customers) builds the
 * secondary indexes of the tables it fills, and the primary keys of owners and
 * addresses, once, at its end, rather than keeping them up row by row. At
 * 1,000,000 customers the insert of the customers took 46.6 s with them (the
 * three pg_trgm GIN indexes most of it) and 16.0 s without; building the seven
 * afterwards takes about 16 s, and the GIN indexes come out a quarter smaller.
 * (The keys: KEYS_BUILT_AFTERWARDS.)
 *
 * Dropping an index takes an access exclusive lock, which every reader of the
 * table waits for until the transaction ends: inside the import's transaction
 * that would stall every callback for the whole import. So the indexes are
 * dropped in a transaction of their own, committed before the import begins
 * (`deferIndexesOfFirstImport`): readers wait for it at most a few
 * milliseconds, then read the empty table, without those indexes, until the
 * import commits its rows and the rebuilt indexes at once
 * (`buildDeferredIndexes`, inside the import's transaction). Putting a primary
 * key back on its built index (`ADD CONSTRAINT … USING INDEX`) takes an access
 * exclusive lock too, held to the import's commit: readers of owners and
 * addresses wait for the end of the import's last statements (its prune and
 * count: a fraction of a second), not for its length.
 *
 * The statements that make the dropped indexes are kept in `deferred_indexes`
 * (migration 20261206T0100), committed with the drop: an import that fails
 * builds them again at once (on the still empty tables), and one that dies
 * leaves them to the next import, `fis migrate` or the service's start
 * (`restoreDeferredIndexes`), whichever comes first. Meanwhile every answer is
 * still right: no query needs these indexes to be correct, only to be fast,
 * and the store holds no customers but those routing created since.
 *
 * SQLite defers its indexes inside the import's own transaction
 * (search-index.ts, deferSearchIndex): its readers keep their snapshot, indexes
 * included, so nothing has to be committed first.
 */
import { type Kysely, sql } from 'kysely';
import type { Store } from './connect.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { StoreBusy } from './errors.js';
import type { Table } from './bulk.js';

/** The tables a first import fills. */
const FILLED: readonly Table[] = ['customers', 'customer_owners', 'customer_addresses'];

const isEmpty = async (db: Kysely<Database>) =>
  (await sql<{ empty: boolean }>`select not exists (select 1 from customers) as empty`.execute(db)).rows[0]?.empty === true;

/**
 * Tables whose primary key a first import also builds at its end: neither the import nor any
 * trigger looks rows up through them (the import looks ids up through `customers_customer_id_key`,
 * kept; `customers`' own key on `pk` is filled in order, cheap to keep up). At 1,000,000 customers
 * inserting the owners took 13.0 s with theirs and 6.7 s without, the addresses 14.1 s and 4.0 s;
 * built afterwards, 1.4 and 1.1 s.
 */
const KEYS_BUILT_AFTERWARDS: readonly Table[] = ['customer_owners', 'customer_addresses'];

/** Between the statements of one `deferred_indexes` definition: a key's index, then its constraint. */
const STATEMENTS = ';\n';

/**
 * Before an import: when the store has no customers, drops the secondary indexes of the tables the
 * import fills, and the primary keys of KEYS_BUILT_AFTERWARDS, keeping the statements that make them
 * in `deferred_indexes`, and commits. Waits at most `waitMs` for the tables' readers and writers to
 * let go. PostgreSQL only; on SQLite it does nothing.
 */
export async function deferIndexesOfFirstImport(store: Store, waitMs?: number): Promise<void> {
  if (store.dialect !== 'postgres') return;
  // No lock at all for a store that holds customers (every import but the first).
  if (!(await isEmpty(store.db))) return;
  await store.write(
    async (trx) => {
      if (!(await isEmpty(trx))) return;
      const tables = sql.join(FILLED.map((table) => sql.lit(table)));
      const keyed = sql.join(KEYS_BUILT_AFTERWARDS.map((table) => sql.lit(table)));
      const kept = await sql<{ name: string; tbl: string; is_key: boolean }>`
        with found as (
          select ic.relname as name, t.relname as tbl, false as is_key, pg_get_indexdef(i.indexrelid) as definition
            from pg_index i
            join pg_class ic on ic.oid = i.indexrelid
            join pg_class t on t.oid = i.indrelid
           where t.relnamespace = current_schema()::regnamespace and t.relname in (${tables})
             and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
          union all
          select c.conname, t.relname, true,
                 pg_get_indexdef(c.conindid) || ${STATEMENTS} ||
                 format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I', t.relname, c.conname, ic.relname)
            from pg_constraint c
            join pg_class t on t.oid = c.conrelid
            join pg_class ic on ic.oid = c.conindid
           where t.relnamespace = current_schema()::regnamespace and t.relname in (${keyed}) and c.contype = 'p'
        ),
        kept as (
          insert into deferred_indexes (name, definition) select name, definition from found
          on conflict (name) do nothing
          returning name
        )
        select found.name, found.tbl, found.is_key from found join kept using (name)`.execute(trx);
      for (const { name, tbl, is_key } of kept.rows) {
        if (is_key) await sql`alter table ${sql.id(tbl)} drop constraint ${sql.id(name)}`.execute(trx);
        else await sql`drop index ${sql.id(name)}`.execute(trx);
      }
    },
    { lock: FILLED, waitMs, exclusive: true },
  );
}

/**
 * Builds every index listed in `deferred_indexes` that is missing and empties the list, in the
 * caller's transaction (the import's, on a connection without a statement timeout: see
 * `WriteOptions.longRunning`). Returns how many were listed. PostgreSQL only.
 */
export async function buildDeferredIndexes(db: Kysely<any>, dialect: Dialect): Promise<number> {
  if (dialect !== 'postgres') return 0;
  const listed = (await sql<{ name: string; definition: string }>`select name, definition from deferred_indexes order by name`.execute(db)).rows;
  for (const { name, definition } of listed) {
    const [index, constraint] = definition.split(STATEMENTS) as [string, string | undefined];
    // Another process may have built it meanwhile (`fis migrate` during an import that then failed).
    await sql.raw(index.replace(/^CREATE (UNIQUE )?INDEX /, (start) => `${start}IF NOT EXISTS `)).execute(db);
    if (constraint === undefined) continue;
    const made = await sql`select 1 from pg_constraint where conname = ${name} and connamespace = current_schema()::regnamespace`.execute(db);
    if (made.rows.length === 0) await sql.raw(constraint).execute(db);
  }
  if (listed.length > 0) await sql`delete from deferred_indexes`.execute(db);
  return listed.length;
}

/** How long `restoreDeferredIndexes` waits for the tables; past it an import holds them, and builds the indexes at its end. */
const RESTORE_WAIT_MS = 1000;

/**
 * Builds the indexes a failed or killed first import left listed, in a transaction of its own,
 * unless another writer (an import, which builds them at its end) holds the tables past
 * RESTORE_WAIT_MS. Returns how many were built. PostgreSQL only. Called by a failed import,
 * `migrateToLatest` and the service's start.
 */
export async function restoreDeferredIndexes(store: Store): Promise<number> {
  if (store.dialect !== 'postgres') return 0;
  const listed = await sql<{ n: number }>`select count(*)::int as n from deferred_indexes`.execute(store.db);
  if (!listed.rows[0]?.n) return 0;
  try {
    return await store.write((trx) => buildDeferredIndexes(trx, store.dialect), { lock: FILLED, waitMs: RESTORE_WAIT_MS, longRunning: true });
  } catch (err) {
    if (err instanceof StoreBusy) return 0;
    throw err;
  }
}
