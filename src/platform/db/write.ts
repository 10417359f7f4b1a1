/**
 * Write transactions: how each store takes its write lock, and how long a
 * writer waits for it. `Store.write` (connect.ts) is the one way to open a
 * transaction that writes; repositories take the transaction it gives them.
 *
 * - SQLite: every transaction begins IMMEDIATE, taking the file's one write
 *   lock before its first statement. A deferred BEGIN would read first and
 *   then fail to upgrade to writing, at once and whatever the busy timeout
 *   (SQLITE_BUSY: "database is locked"), whenever another process (the
 *   service routing conversations, a second import) had written meanwhile.
 *   The lock is polled without blocking the event loop (busy timeout 0 for the
 *   attempt, short pauses between attempts) until the wait runs out.
 * - PostgreSQL: readers never wait (MVCC); writers that replace a whole table
 *   (an import, a settings load) serialise on `lock table … in share row
 *   exclusive mode`, taken in slices of a bounded `lock_timeout` under a
 *   savepoint, so the wait can be longer than one statement's timeout.
 *
 * Either way a writer that does not get the lock in time gets StoreBusy, and
 * nothing was changed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import type { Table } from './bulk.js';
import type { Database } from './database.js';
import { isLockTimeout, isSqliteBusy, StoreBusy } from './errors.js';

export interface WriteOptions {
  /**
   * Tables whose writers this transaction must exclude for its whole length
   * (it replaces their contents); readers are never excluded. On SQLite every
   * write transaction excludes every other writer anyway.
   */
  readonly lock?: readonly Table[];
  /**
   * PostgreSQL: take `lock` in access exclusive mode, which readers wait for too (to drop indexes:
   * deferred-indexes.ts). Keep such a transaction short: it is attempted in slices of
   * EXCLUSIVE_SLICE_MS, so a reader queued behind an attempt waits at most that long for it.
   */
  readonly exclusive?: boolean;
  /**
   * PostgreSQL: run on a connection of its own without the request timeouts (`Store.maintenance`):
   * an import, whose statements take as long as the data is large (an index built at 1,000,000
   * customers: 8 s) and which should not hold one of the service's connections for its whole length.
   */
  readonly longRunning?: boolean;
  /** How long to wait for the write lock before giving up with StoreBusy (default: the store's DATABASE_TIMEOUT_MS). */
  readonly waitMs?: number;
}

/** The wait of the write transaction being opened on this async path (SQLite's driver reads it at BEGIN). */
const lockWait = new AsyncLocalStorage<number>();

/** Runs `open` (which begins a transaction) with `waitMs` as the bound on its wait for the write lock. */
export function withLockWait<T>(waitMs: number, open: () => Promise<T>): Promise<T> {
  return lockWait.run(waitMs, open);
}

/**
 * Pauses between attempts at SQLite's write lock: SQLite's own busy handler's
 * schedule (sqliteDefaultBusyCallback), so that a waiting transaction and the
 * other connections' busy waits get the lock about as often as each other.
 */
const PAUSES = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100];
const pauses = (attempt: number) => PAUSES[Math.min(attempt, PAUSES.length - 1)] as number;

/** A Kysely SQLite dialect whose transactions begin IMMEDIATE, waiting (bounded, without blocking) for the write lock. */
export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly driverConfig: SqliteDialectConfig,
    private readonly database: SqliteDatabase.Database,
    private readonly busyTimeoutMs: number,
  ) {
    super(driverConfig);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.driverConfig, this.database, this.busyTimeoutMs);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly database: SqliteDatabase.Database,
    private readonly busyTimeoutMs: number,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const waitMs = lockWait.getStore() ?? this.busyTimeoutMs;
    const deadline = performance.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      // No busy wait inside SQLite (it would block the event loop): fail at once, and pause here instead.
      this.database.pragma('busy_timeout = 0');
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        return;
      } catch (err) {
        if (!isSqliteBusy(err)) throw err;
        if (performance.now() >= deadline) throw new StoreBusy(waitMs, { cause: err });
      } finally {
        this.database.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      }
      await sleep(Math.ceil(Math.min(pauses(attempt), Math.max(1, deadline - performance.now()))));
    }
  }
}

/** The slices of an exclusive lock's wait (WriteOptions.exclusive). */
export const EXCLUSIVE_SLICE_MS = 100;

/**
 * PostgreSQL: takes `lock table … in share row exclusive mode` (`access
 * exclusive` when `exclusive`) on `tables` within `waitMs`, in slices no longer
 * than `sliceMs` (each slice one statement, so it stays inside the statement
 * and client timeouts).
 */
export async function lockTablesForWrite(
  trx: Transaction<Database>,
  tables: readonly Table[],
  waitMs: number,
  sliceMs: number,
  exclusive = false,
): Promise<void> {
  if (tables.length === 0) return;
  const deadline = performance.now() + waitMs;
  const mode = exclusive ? 'access exclusive' : 'share row exclusive';
  const statement = sql.raw(`lock table ${tables.join(', ')} in ${mode} mode`);
  for (;;) {
    const slice = Math.max(1, Math.floor(Math.min(sliceMs, deadline - performance.now())));
    await sql`savepoint fis_write_lock`.execute(trx);
    try {
      await sql.raw(`set local lock_timeout = ${slice}`).execute(trx);
      await statement.execute(trx);
      await sql`release savepoint fis_write_lock`.execute(trx);
      // SET LOCAL outlives the released savepoint: back to no lock timeout for the rest.
      await sql`set local lock_timeout = 0`.execute(trx);
      return;
    } catch (err) {
      if (!isLockTimeout(err)) throw err;
      await sql`rollback to savepoint fis_write_lock`.execute(trx);
      if (performance.now() >= deadline - 1) throw new StoreBusy(waitMs, { cause: err });
    }
  }
}
