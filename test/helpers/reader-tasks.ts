/** Tasks for test/reader-threads.test.ts, run on a store's reader thread as `fn(store, ...args)`. */
import { threadId } from 'node:worker_threads';
import { sql } from 'kysely';
import type { Store } from '../../src/platform/db/connect.js';

/** Holds its thread for `ms` (as a long synchronous SQLite read does), then says which thread it ran on. */
export async function busy(_store: Store, ms: number): Promise<number> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
  return threadId;
}

export async function customerCount(store: Store): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from customers`.execute(store.db);
  return Number(rows[0]?.n);
}

export async function fail(_store: Store): Promise<never> {
  throw Object.assign(new Error('no such thing'), { code: 'E_TEST' });
}

export async function write(store: Store): Promise<void> {
  await store.write(async (trx) => {
    await sql`delete from customers`.execute(trx);
  });
}

export async function exitThread(): Promise<never> {
  process.exit(3);
}
