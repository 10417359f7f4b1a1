/**
 * SQLite reads run off the event loop (src/platform/db/reader-threads.ts): a
 * long one holds its own thread, not the process; what the task returns or
 * throws comes back; a thread that dies fails only its own tasks and is
 * replaced; the thread's store is read-only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import type { Store } from '../src/platform/db/connect.js';
import type { ReaderTask } from '../src/platform/db/reader-threads.js';
import { ReadTimeout, isStoreUnavailable } from '../src/platform/db/errors.js';
import { searchPage, searchPageHere, warmSearch } from '../src/domains/customers/customer.repository.js';
import { searchTerms } from '../src/domains/customers/customer.service.js';
import { createTestDatabase, openTestStore, seed, type TestDatabase } from './helpers/stores.js';

const TASKS = new URL('./helpers/reader-tasks.ts', import.meta.url).href;
const task = (name: string): ReaderTask => ({ module: TASKS, name });

describe('reader threads (SQLite)', () => {
  let db: TestDatabase;
  let store: Store;
  before(async () => {
    db = await createTestDatabase('sqlite');
    store = await openTestStore(db, { SQLITE_READ_THREADS: '1' });
    await seed(
      store,
      Array.from({ length: 300 }, (_, i) => ({ customer_id: `c-${i}`, display_name: `Ann Smith ${i}`, workers: ['rep@example.com'] })),
    );
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  test('a SQLite file store has them; a long task leaves the event loop free', async () => {
    const threads = store.readerThreads;
    assert.ok(threads);
    // Start the thread first, so that its start-up (loading modules) is not what is measured.
    await threads.run(task('customerCount'), []);
    let ticks = 0;
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 10);
    try {
      const running = threads.run<number>(task('busy'), [800]);
      assert.equal(threads.tasks, 1, 'one task out');
      const ranOn = await running;
      assert.notEqual(ranOn, threadId, 'ran on another thread');
      assert.equal(threads.tasks, 0);
    } finally {
      clearInterval(timer);
    }
    // 800 ms on the thread; a 10 ms timer here kept ticking (generous: 2 shared cores, tests two at a time).
    assert.ok(ticks >= 20, `${ticks} ticks`);
    assert.ok(longestGap < 400, `the event loop waited ${longestGap.toFixed(0)} ms`);
  });

  test('what a task returns or throws comes back; its store reads the file and may not write', async () => {
    const threads = store.readerThreads as NonNullable<Store['readerThreads']>;
    assert.equal(await threads.run<number>(task('customerCount'), []), 300);
    await assert.rejects(threads.run(task('fail'), []), (err: Error & { code?: string }) => err.message === 'no such thing' && err.code === 'E_TEST');
    await assert.rejects(threads.run(task('write'), []), /read-only/);
    await assert.rejects(threads.run(task('missing'), []), /exports no function missing/);
    assert.equal(await threads.run<number>(task('customerCount'), []), 300);
  });

  test('a thread that dies fails its own task; the next task gets a new thread', async () => {
    const threads = store.readerThreads as NonNullable<Store['readerThreads']>;
    await assert.rejects(threads.run(task('exitThread'), []), /reader thread exited \(code 3\)/);
    assert.equal(await threads.run<number>(task('customerCount'), []), 300);
  });

  test('a task past the store timeout fails as a 503; its thread is stopped and the task queued behind it still runs', async () => {
    const other = await openTestStore(db, { SQLITE_READ_THREADS: '1', DATABASE_TIMEOUT_MS: '600' });
    try {
      const threads = other.readerThreads as NonNullable<Store['readerThreads']>;
      // Started and ready first: a thread's start-up does not count against its tasks.
      assert.equal(await threads.run<number>(task('customerCount'), []), 300);
      const began = performance.now();
      const stuck = threads.run(task('busy'), [20_000]);
      const queued = threads.run<number>(task('customerCount'), []);
      await assert.rejects(stuck, (err: unknown) => err instanceof ReadTimeout && err.code === 'STORE_TIMEOUT' && isStoreUnavailable(err));
      assert.equal(await queued, 300);
      // Far less than the 20 s the stuck task would have held its thread (generous: 2 shared cores).
      const took = performance.now() - began;
      assert.ok(took < 10_000, `${took.toFixed(0)} ms`);
      assert.equal(await threads.run<number>(task('customerCount'), []), 300);
    } finally {
      await other.close();
    }
  });

  test('a search through the thread answers what the same search here does', async () => {
    for (const query of ['smith', 'ann 1', 'zz', '2']) {
      const search = searchTerms(query, 'US');
      for (const scope of [{ kind: 'worker' as const, worker: 'rep@example.com' }, { kind: 'all' as const }]) {
        assert.deepEqual(await searchPage(store, scope, search, undefined, 20), await searchPageHere(store, scope, search, undefined, 20), query);
      }
    }
    // A large write on the main thread tells the threads to forget their trigram counts (no answer depends on it).
    store.readerThreads?.forgetCounts();
    assert.equal((await searchPage(store, { kind: 'all' }, searchTerms('smith', 'US'), undefined, 500)).length, 300);
  });

  test('warmed, every thread is running before the first search; closed, the store runs no more tasks', async () => {
    const other = await openTestStore(db, { SQLITE_READ_THREADS: '2' });
    const threads = other.readerThreads as NonNullable<Store['readerThreads']>;
    assert.equal(threads.size, 2);
    assert.equal(threads.started, 0);
    await warmSearch(other);
    assert.equal(threads.started, 2);
    assert.equal(await threads.run<number>(task('customerCount'), []), 300);
    await other.close();
    await assert.rejects(threads.run(task('customerCount'), []), /closed/);
  });

  test('SQLITE_READ_THREADS=0 runs reads on the event loop', async () => {
    const other = await openTestStore(db, { SQLITE_READ_THREADS: '0' });
    try {
      assert.equal(other.readerThreads, undefined);
      await warmSearch(other);
      assert.equal((await searchPage(other, { kind: 'all' }, searchTerms('smith', 'US'), undefined, 5)).length, 5);
    } finally {
      await other.close();
    }
  });
});
