/**
 * Looks at a test store from outside the process under test: its write lock, its file, a client of
 * its PostgreSQL schema.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../../src/platform/db/connect.js';
import { PipelinedReads } from '../../src/platform/db/pipelined-reads.js';
import type { CliProcess } from './cli.js';
import { TEST_PG_URL, type TestDatabase } from './stores.js';

/**
 * Waits until `cli` (an import) holds the store's write lock, its transaction open; fails if it ends
 * first or has not taken it within two minutes.
 */
export async function untilWriteLockTaken(db: TestDatabase, cli: CliProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await writeLockTaken(db))) {
    assert.ok(!cli.done(), `the import ended before it took the lock: ${cli.stderr()}`);
    assert.ok(Date.now() < deadline, 'the import never took the write lock');
    await sleep(20);
  }
}

/** True while another connection holds the store's write lock (on PostgreSQL: the import's lock on customers). */
export async function writeLockTaken(db: TestDatabase): Promise<boolean> {
  if (db.kind === 'sqlite') {
    const conn = new SqliteDatabase(sqliteFile(db), { timeout: 0 });
    try {
      conn.exec('begin immediate');
      conn.exec('rollback');
      return false;
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
      throw err;
    } finally {
      conn.close();
    }
  }
  const client = await pgClient(db);
  try {
    const res = await client.query(
      `select 1 from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = 'customers' and l.mode = 'ShareRowExclusiveLock' and l.granted`,
      [db.env.DATABASE_SCHEMA],
    );
    return (res.rowCount ?? 0) > 0;
  } finally {
    await client.end();
  }
}

export const sqliteFile = (db: TestDatabase) => (db.env.DATABASE_URL as string).replace(/^sqlite:/, '');

export async function pgClient(db: TestDatabase): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${db.env.DATABASE_SCHEMA}` });
  await client.connect();
  return client;
}

/** The statements `fn` sends to a PostgreSQL store's server: through its pool and its pipelined hot reads. */
export async function statementsOf(store: Store, fn: () => Promise<unknown>): Promise<string[]> {
  const asked: string[] = [];
  const driver = store.driver as Extract<Store['driver'], { kind: 'postgres' }>;
  // Without pipelined reads (a pool of one), the hot reads go through the pool itself: counted there once.
  const senders = (driver.reads instanceof PipelinedReads ? [driver.pool, driver.reads] : [driver.pool]) as unknown as Array<{
    query: (...args: unknown[]) => unknown;
  }>;
  const originals = senders.map((sender) => sender.query);
  senders.forEach((sender, i) => {
    const query = (originals[i] as (...args: unknown[]) => unknown).bind(sender);
    sender.query = (...args: unknown[]) => {
      asked.push(JSON.stringify(args[0]));
      return query(...args);
    };
  });
  try {
    await fn();
  } finally {
    senders.forEach((sender, i) => {
      sender.query = originals[i] as (...args: unknown[]) => unknown;
    });
  }
  return asked;
}
