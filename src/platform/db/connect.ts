/**
 * The one place that chooses a dialect: `openStore` turns the configured store
 * URL into a Kysely instance over better-sqlite3 or pg, with the dialect's
 * write transactions (write.ts) and multi-row statements (bulk.ts). Code above
 * src/platform/db never asks which dialect it has.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type SqliteDialectConfig, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { SQLITE_DEFAULTS, type StoreUrl } from '../config.js';
import type { StoreOptions } from './store-options.js';
import { type ReaderThreads, readerThreads } from './reader-threads.js';
import { type BulkStatements, postgresBulk, sqliteBulk } from './bulk.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { EXCLUSIVE_SLICE_MS, ImmediateSqliteDialect, lockTablesForWrite, withLockWait, type WriteOptions } from './write.js';
import { OneSchemaPostgresDialect } from './pg-introspection.js';
import { isSqliteBusy, StoreHeldAlone } from './errors.js';
import { type HotReads, PipelinedReads, poolReads } from './pipelined-reads.js';

export type { StoreOptions } from './store-options.js';

/**
 * The driver under Kysely, for the CRM callback's hot reads (precompiled.ts),
 * where Kysely's per-call work is a measurable share of the cost. Nothing
 * else uses it: writes go through `Store.write` and `Store.bulk`.
 */
export type Driver =
  | {
      readonly kind: 'sqlite';
      /** The connection Kysely uses: every write and transaction. */
      readonly database: SqliteDatabase.Database;
      /**
       * A second connection to the same file for the hot reads: it reads the last committed
       * state (WAL), never a transaction the writer has open, and never waits for the writer.
       * The same connection as `database` for an in-memory store. Opened at its first use: a
       * store that only writes (`fis import`) keeps one connection to the file (first-import-alone.ts).
       */
      readonly reader: SqliteDatabase.Database;
    }
  | {
      readonly kind: 'postgres';
      readonly pool: pg.Pool;
      /** Where the hot reads go: pipelined connections of their own (pipelined-reads.ts), or the pool. */
      readonly reads: HotReads;
    };

export type WriteTransaction = Transaction<Database>;

export interface Store {
  readonly db: Kysely<Database>;
  /** Which store this is, for reports (`/readyz`); code outside src/platform/db never branches on it. */
  readonly dialect: Dialect;
  /** For precompiled.ts only (see Driver). */
  readonly driver: Driver;
  /** Multi-row statements in this store's dialect, for writers of many rows. */
  readonly bulk: BulkStatements;
  /**
   * Runs `fn` in a transaction that holds the write lock (see write.ts): commits
   * what it did and returns its result, or rolls back and rethrows. Waits at most
   * `options.waitMs` for the lock, then throws StoreBusy with nothing changed.
   */
  write<T>(fn: (trx: WriteTransaction) => Promise<T>, options?: WriteOptions): Promise<T>;
  /**
   * Runs `fn` with a connection that has no statement timeout, for work that
   * takes as long as the data is large (migrations that build indexes, VACUUM).
   * PostgreSQL: a connection of its own, closed afterwards; the service's pool
   * keeps its timeouts. SQLite: the store itself (its timeout only bounds
   * waiting for the write lock).
   */
  maintenance<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T>;
  /** PostgreSQL schema the tables live in (`main` on SQLite). */
  readonly schema: string;
  /**
   * Where the long reads run off the event loop (a SQLite file with SQLITE_READ_THREADS > 0); undefined
   * when they run here (PostgreSQL answers asynchronously anyway, and an in-memory store has no file to share).
   */
  readonly readerThreads: ReaderThreads | undefined;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openStore(options: StoreOptions): Store {
  return options.store.kind === 'sqlite' ? openSqlite(options.store.file, options) : openPostgres(options.store, options);
}

function openSqlite(file: string, options: StoreOptions): Store {
  const { cacheMb, mmapMb, readThreads } = options.sqlite ?? SQLITE_DEFAULTS;
  const sortThreads = options.sqlite?.sortThreads ?? 0;
  const openReader = () => {
    const reader = new SqliteDatabase(file, { readonly: true, timeout: options.databaseTimeoutMs });
    // cache_size in KiB when negative; both values are whole numbers from the configuration.
    reader.pragma(`cache_size = ${-cacheMb * 1024}`);
    // SQLITE_MMAP_MB > 0: pages read through a memory map rather than a read() each (3–8% more list
    // pages a second at 1M customers all visible, nothing measurable on details or searches). The
    // mapped pages count in the process's RSS (515 MB peak against 254 without: BENCHMARKS.md).
    reader.pragma(`mmap_size = ${mmapMb * 1024 * 1024}`);
    return reader;
  };
  let database: SqliteDatabase.Database;
  let reader: SqliteDatabase.Database | undefined;
  if (options.readOnly) {
    database = reader = openReader();
  } else {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    database = new SqliteDatabase(file, { timeout: options.databaseTimeoutMs });
    // WAL: readers never block the writer (an import) and always see a whole transaction.
    useWal(database, options.openWaitMs ?? options.databaseTimeoutMs, options.databaseTimeoutMs);
    database.pragma('synchronous = NORMAL');
    database.pragma(`cache_size = ${-cacheMb * 1024}`);
    if (sortThreads > 0) database.pragma(`threads = ${sortThreads}`);
    if (file === ':memory:') reader = database;
  }
  const threads = file !== ':memory:' && !options.readOnly && readThreads > 0 ? readerThreads(options, readThreads, options.databaseTimeoutMs) : undefined;
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }, database, options.databaseTimeoutMs),
  });
  return {
    db,
    dialect: 'sqlite',
    driver: {
      kind: 'sqlite',
      database,
      get reader() {
        return (reader ??= openReader());
      },
    },
    bulk: sqliteBulk,
    // Every transaction on this store begins IMMEDIATE: `lock` has nothing to add.
    write: (fn, { waitMs = options.databaseTimeoutMs } = {}) =>
      options.readOnly
        ? Promise.reject(new Error('this store is read-only'))
        : withLockWait(waitMs, () => db.transaction().execute(fn)),
    maintenance: (fn) => fn(db),
    schema: 'main',
    readerThreads: threads,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await threads?.close();
      if (reader !== undefined && reader !== database) reader.close();
      await db.destroy();
    },
  };
}

/**
 * Puts the file in WAL mode (it stays so), waiting up to `waitMs` for it: a first import may be writing
 * it without the log, holding the file alone until it commits (first-import-alone.ts). Past the wait,
 * StoreHeldAlone says so rather than SQLite's "database is locked". SQLite answers busy at once, without
 * its busy handler, where waiting could deadlock (this connection reads the header, then needs the file
 * alone): hence the loop. It blocks the thread, as the open of a store does anyway.
 */
function useWal(database: SqliteDatabase.Database, waitMs: number, busyTimeoutMs: number): void {
  const deadline = performance.now() + waitMs;
  for (;;) {
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(deadline - performance.now()))}`);
    try {
      database.pragma('journal_mode = WAL');
      break;
    } catch (err) {
      if (!isSqliteBusy(err) || performance.now() >= deadline) {
        database.close();
        throw isSqliteBusy(err) ? new StoreHeldAlone(waitMs, { cause: err }) : err;
      }
    }
    Atomics.wait(OPEN_PAUSE, 0, 0, Math.min(OPEN_PAUSE_MS, Math.max(1, deadline - performance.now())));
  }
  database.pragma(`busy_timeout = ${busyTimeoutMs}`);
}

/** For useWal's pauses between attempts (a blocking sleep: the open is synchronous). */
const OPEN_PAUSE = new Int32Array(new SharedArrayBuffer(4));
const OPEN_PAUSE_MS = 20;

/** How many compiled SQLite statements to keep (the hot paths use a handful; imports vary IN-list sizes). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query afresh, and compiling SQL is a large share of a
 * small query's cost on better-sqlite3. Statements are reusable (Kysely runs
 * each one to completion synchronously), so keep the most recently used ones
 * by SQL text; SQLite re-prepares a cached statement itself after a schema change.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        // Most recently used last: the first key is the one to evict.
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

/**
 * How many of DATABASE_POOL_SIZE's connections carry the hot reads, pipelined (pipelined-reads.ts): two,
 * or one of a pool of two or three; none of a pool of one, whose connection then carries everything. Fewer
 * lanes put more statements in each write: under the bench's load at 1,000,000 customers (PostgreSQL, every
 * customer visible) 2 lanes answered 4,624 list pages a second, 4 lanes 3,978, 8 lanes 4,354, the pool
 * alone 2,439 (BENCHMARKS.md); more than two also let one slow statement hold up fewer others behind it,
 * but cost more than that saved here.
 */
export function readLanes(poolSize: number): number {
  return poolSize < 2 ? 0 : Math.min(MAX_READ_LANES, Math.floor(poolSize / 2));
}
const MAX_READ_LANES = 2;

/**
 * How the pipelined connections plan their statements: each once, generically. Every hot read is a named
 * statement of a fixed shape (precompiled.ts, and the finds of search-index.ts), whose plan does not depend
 * on the values searched, so planning it again for each run's values only costs: PostgreSQL's own choice
 * (after five runs, a generic plan when its estimate is no worse than the custom plans') kept re-planning the
 * list page everyone sees and the e-mail-common rank read at every run (0.02–0.04 and 0.11–0.19 ms of the server's time
 * each, at 1,000,000 customers, for plans no faster than the generic ones), while a book's rank 0 it planned
 * for each run's values took 0.38 ms against the generic plan's 0.02 (BENCHMARKS.md, twenty-seventh round).
 * test/search-generic-plans.test.ts holds every hot statement's generic plan to the rows its custom plan
 * reads. A pool of one connection keeps PostgreSQL's choice (it carries everything).
 */
const HOT_READS_PLANS = 'force_generic_plan';

function openPostgres(store: Extract<StoreUrl, { kind: 'postgres' }>, options: StoreOptions): Store {
  const timeout = options.databaseTimeoutMs;
  const connection = {
    connectionString: store.url,
    // Fail fast when the server is gone instead of queueing past the app's callback budget.
    connectionTimeoutMillis: timeout,
    statement_timeout: timeout,
    query_timeout: timeout + 500,
    idle_in_transaction_session_timeout: Math.max(timeout * 20, 60_000),
    keepAlive: true,
    options: `-c search_path=${store.schema},public`,
    application_name: 'frontline-integration-service',
  };
  // DATABASE_POOL_SIZE bounds both: the hot reads' pipelined connections, and the pool for the rest.
  const lanes = readLanes(options.databasePoolSize);
  const pool = new pg.Pool({ ...connection, max: Math.max(1, options.databasePoolSize - lanes) });
  // The hot reads' statements are all named and few (see HOT_READS_PLANS); the pool plans as the server likes.
  const laneConnection = { ...connection, options: `${connection.options} -c plan_cache_mode=${HOT_READS_PLANS}` };
  const pipelined = lanes === 0 ? undefined : new PipelinedReads(laneConnection, lanes, (err) => options.onIdleError?.(err));
  const reads = pipelined ?? poolReads(pool);
  // A pooled connection that dies while idle (server restart, terminated backend) emits
  // 'error' on the pool; without a listener that would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  // pg-pool removes its listener while a client is checked out, so a connection that dies between
  // two queries would emit an unhandled 'error' and crash the process. The query in flight still
  // fails (and becomes a 503); the dead client is discarded on release.
  pool.on('connect', (client) => client.on('error', (err) => options.onIdleError?.(err)));
  const db = new Kysely<Database>({ dialect: new OneSchemaPostgresDialect({ pool }, store.schema) });
  return {
    db,
    dialect: 'postgres',
    driver: { kind: 'postgres', pool, reads },
    bulk: postgresBulk,
    write(fn, { lock = [], waitMs = timeout, exclusive = false, longRunning = false } = {}) {
      const run = (on: Kysely<Database>) =>
        on.transaction().execute(async (trx) => {
          // Each slice of the wait is one statement: well inside statement_timeout and the client's query_timeout.
          const slice = exclusive ? EXCLUSIVE_SLICE_MS : Math.max(1, Math.floor(timeout / 2));
          await lockTablesForWrite(trx, lock, waitMs, slice, exclusive);
          return fn(trx);
        });
      return longRunning ? maintenance(run) : run(db);
    },
    maintenance,
    schema: store.schema,
    readerThreads: undefined,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await pipelined?.close();
      await db.destroy();
    },
  };

  /** Store.maintenance: a pool of one connection without a statement timeout, closed after `fn`. */
  async function maintenance<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const own = new pg.Pool({
      connectionString: store.url,
      max: 1,
      connectionTimeoutMillis: timeout,
      keepAlive: true,
      options: `-c search_path=${store.schema},public -c statement_timeout=0`,
      application_name: 'frontline-integration-service (maintenance)',
    });
    own.on('error', (err) => options.onIdleError?.(err));
    const ownDb = new Kysely<Database>({ dialect: new OneSchemaPostgresDialect({ pool: own }, store.schema) });
    try {
      return await fn(ownDb);
    } finally {
      await ownDb.destroy();
    }
  }
}
