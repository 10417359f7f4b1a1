/**
 * PostgreSQL's hot reads on pipelined connections (pipelined-reads.ts), against a real server: every
 * statement gets its own answer, a failing statement fails alone, a lane whose connection is lost is
 * replaced, the statements of one turn of the event loop go out in one write per lane, and the store holds
 * no more connections than DATABASE_POOL_SIZE.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PipelinedReads } from '../src/platform/db/pipelined-reads.js';
import { readLanes } from '../src/platform/db/connect.js';
import { isStoreUnavailable } from '../src/platform/db/errors.js';
import { listPage } from '../src/domains/customers/customer.repository.js';
import { createTestDatabase, openTestStore, seed, storeKinds, TEST_PG_URL, type TestDatabase } from './helpers/stores.js';

const APPLICATION = `fis-pipelined-${process.pid}`;

test('readLanes: two, one of a pool of two or three, none of a pool of one', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 10, 100].map(readLanes), [0, 1, 1, 2, 2, 2, 2]);
});

if (storeKinds().includes('postgres')) {
  describe('pipelined reads on PostgreSQL', () => {
    let reads: PipelinedReads;
    const errors: Error[] = [];
    const open = (lanes: number, statementTimeout = 2000, application = APPLICATION) =>
      new PipelinedReads(
        { connectionString: TEST_PG_URL, application_name: application, statement_timeout: statementTimeout, connectionTimeoutMillis: 2000 },
        lanes,
        (err) => errors.push(err),
      );
    /** The server processes of the connections named `application`. */
    const ours = async (application: string) => {
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      try {
        return (await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [application])).rows.map((r) => r.pid);
      } finally {
        await admin.end();
      }
    };

    before(() => {
      reads = open(2);
    });
    after(async () => {
      await reads.close();
    });

    test('many statements at once, named and unnamed, each get their own answer', async () => {
      const asked = Array.from({ length: 200 }, (_, i) => i);
      const answers = await Promise.all(
        asked.map((i) =>
          reads.query<{ n: number; t: string }>(
            i % 2 === 0
              ? { name: 'fis-test:echo', text: 'select $1::int as n, $2::text as t', values: [i, `text ${i}`] }
              : { text: 'select $1::int as n, $2::text as t', values: [i, `text ${i}`] },
          ),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.rows),
        asked.map((i) => [{ n: i, t: `text ${i}` }]),
      );
      const arrays = await reads.query<[number, string]>({ text: 'select 7, $1::text', values: ['x'], rowMode: 'array' });
      assert.deepEqual(arrays.rows, [[7, 'x']]);
    });

    test('a statement that fails fails alone: the ones sent with it, before and after, are answered', async () => {
      const results = await Promise.allSettled([
        reads.query({ text: 'select 1 as n' }),
        reads.query({ text: 'select 1 / (select 0) as n' }),
        reads.query({ text: 'select 3 as n' }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.equal(((results[1] as PromiseRejectedResult).reason as { code?: string }).code, '22012');
      assert.deepEqual((await reads.query({ text: 'select 4 as n' })).rows, [{ n: 4 }]);
    });

    test('a statement past statement_timeout fails alone; the lane answers the next ones', async () => {
      const short = open(1, 200);
      try {
        const results = await Promise.allSettled([
          short.query({ text: 'select pg_sleep(2)' }),
          short.query({ text: 'select 2 as n' }),
        ]);
        assert.equal(results[0]?.status, 'rejected');
        assert.equal(((results[0] as PromiseRejectedResult).reason as { code?: string }).code, '57014');
        assert.deepEqual((results[1] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows, [{ n: 2 }]);
      } finally {
        await short.close();
      }
    });

    test('a lane whose server process is terminated: its statements fail as "unavailable", and the next ones get a new connection', async () => {
      // A name of its own: its one connection is the only one so named.
      const application = `${APPLICATION}-terminated`;
      const one = open(1, 2000, application);
      try {
        await one.query({ text: 'select 1' });
        const before = await ours(application);
        assert.equal(before.length, 1, 'one lane, one connection');
        const settle = (sent: Promise<unknown>) =>
          sent.then(
            () => undefined,
            (err: unknown) => err,
          );
        // Two statements on the lane: the one running, and one written behind it.
        const inFlight = settle(one.query({ text: 'select pg_sleep(1)' }));
        const behind = settle(one.query({ text: 'select 6 as n' }));
        const admin = new pg.Client({ connectionString: TEST_PG_URL });
        await admin.connect();
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [application]);
        await admin.end();
        for (const failed of [await inFlight, await behind]) {
          assert.ok(failed instanceof Error, 'each statement in flight failed');
          assert.ok(isStoreUnavailable(failed), `unavailable: ${String(failed)}`);
        }
        let answered: unknown;
        for (let i = 0; i < 5 && answered === undefined; i++) {
          answered = await one.query<{ n: number }>({ text: 'select 5 as n' }).then(
            (r) => r.rows,
            () => undefined,
          );
        }
        assert.deepEqual(answered, [{ n: 5 }]);
        const after = await ours(application);
        assert.equal(after.length, 1, 'the lane holds one connection again');
        assert.notEqual(after[0], before[0], 'a new server process');
      } finally {
        await one.close();
      }
    });

    test('the statements of one turn of the event loop go out in one write per lane', async () => {
      const one = open(1);
      try {
        await one.query({ text: 'select 1' });
        let writes = 0;
        const original = { writev: Socket.prototype._writev, write: Socket.prototype._write };
        // Only writes to the server (the test runner writes its report to a socket too).
        const pgPort = Number(new URL(TEST_PG_URL).port || 5432);
        Socket.prototype._writev = function (this: Socket, ...args: Parameters<NonNullable<Socket['_writev']>>) {
          if (this.remotePort === pgPort) writes++;
          return (original.writev as NonNullable<Socket['_writev']>).apply(this, args);
        };
        Socket.prototype._write = function (this: Socket, ...args: Parameters<Socket['_write']>) {
          if (this.remotePort === pgPort) writes++;
          return original.write.apply(this, args);
        };
        let answers: Array<{ rows: unknown[] }>;
        try {
          answers = await Promise.all(Array.from({ length: 10 }, (_, i) => one.query({ text: 'select $1::int as n', values: [i] })));
        } finally {
          Socket.prototype._writev = original.writev;
          Socket.prototype._write = original.write;
        }
        assert.equal(writes, 1, 'ten statements, one write');
        assert.deepEqual(
          answers.map((a) => a.rows),
          Array.from({ length: 10 }, (_, i) => [{ n: i }]),
        );
      } finally {
        await one.close();
      }
    });

    test('close ends every lane; a statement after it is refused', async () => {
      const two = open(2);
      await Promise.all([two.query({ text: 'select 1' }), two.query({ text: 'select 2' })]);
      await two.close();
      await assert.rejects(two.query({ text: 'select 1' }), /closed/);
    });
  });

  describe('a PostgreSQL store holds at most DATABASE_POOL_SIZE connections, pipelined reads included', () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase('postgres');
      const store = await openTestStore(db);
      await seed(store, [{ customer_id: '1', display_name: 'Ann', workers: ['alice@example.com'] }]);
      await store.close();
    });
    after(async () => {
      await db.drop();
    });

    test("the hot reads plan each statement once, generically; the pool and a pool of one keep the server's choice", async () => {
      const mode = async (reads: { query<R>(q: { text: string }): Promise<{ rows: R[] }> }) =>
        (await reads.query<{ plan_cache_mode: string }>({ text: 'show plan_cache_mode' })).rows[0]?.plan_cache_mode;
      const store = await openTestStore(db, { DATABASE_POOL_SIZE: '4' });
      const alone = await openTestStore(db, { DATABASE_POOL_SIZE: '1' });
      try {
        assert.ok(store.driver.kind === 'postgres' && alone.driver.kind === 'postgres');
        assert.equal(await mode(store.driver.reads), 'force_generic_plan');
        assert.equal(await mode(store.driver.pool), 'auto');
        assert.equal(await mode(alone.driver.reads), 'auto');
      } finally {
        await store.close();
        await alone.close();
      }
    });

    for (const size of [1, 4]) {
      test(`DATABASE_POOL_SIZE=${size}: reads and writes at once stay within it`, async () => {
        const application = `${APPLICATION}-size-${size}`;
        const url = new URL(db.env.DATABASE_URL as string);
        url.searchParams.set('application_name', application);
        const store = await openTestStore(db, { DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: String(size) });
        try {
          const most = { seen: 0 };
          const admin = new pg.Client({ connectionString: TEST_PG_URL });
          await admin.connect();
          const count = async () => {
            const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [application]);
            most.seen = Math.max(most.seen, rows[0]?.n ?? 0);
          };
          const work = Array.from({ length: 40 }, (_, i) =>
            i % 4 === 0
              ? store.write(async (trx) => {
                  await trx.selectFrom('customers').select('customer_id').execute();
                  await count();
                })
              : listPage(store, { kind: 'worker', worker: 'alice@example.com' }, undefined, 30).then((rows) => assert.equal(rows.length, 1)),
          );
          await Promise.all(work);
          await count();
          await admin.end();
          assert.ok(most.seen >= 1 && most.seen <= size, `${most.seen} connections for DATABASE_POOL_SIZE=${size}`);
        } finally {
          await store.close();
        }
      });
    }
  });
}
