/**
 * `fis import` next to a running service that writes the same store: the
 * routing callback creating customers for unknown senders (auto-create on).
 * An import takes the store's write lock before its first statement and waits
 * its turn for it (bounded, `--wait`), so it succeeds; the callbacks wait
 * their turn too. When the lock stays taken past the wait, the import says so
 * and changes nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { Store } from '../src/platform/db/connect.js';
import { runCli, type ServeProcess, serveProcess } from './helpers/cli.js';
import { FAKE_ACCOUNT_SID, FakeTwilio, sid } from './helpers/fake-twilio.js';
import { postForm } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, openTestStore, storeKinds, TEST_PG_URL, type TestDatabase } from './helpers/stores.js';

const TEAM = ['team.one@example.com', 'team.two@example.com'];
const TWILIO_NUMBER = '+15550000000';
const IMPORTS = 8;
const RECORDS = 50;

const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const customersOf = (file: number) =>
  Array.from({ length: RECORDS }, (_, i) => ({
    customer_id: `file-${file}-${i}`,
    display_name: `File ${file} Customer ${i}`,
    workers: [TEAM[i % TEAM.length]],
    channels: [{ type: 'sms', value: `+1555${String(file).padStart(2, '0')}${String(i).padStart(5, '0')}` }],
  }));

for (const kind of storeKinds()) {
  describe(`fis import while the service writes, on ${kind}`, () => {
    let db: TestDatabase;
    let fake: FakeTwilio;
    /** The service, in its own process (as in production): the imports and it share only the store. */
    let service: ServeProcess;
    /** The test's own view of the store, for counting. */
    let store: Store;
    let dir: string;

    before(async () => {
      db = await createTestDatabase(kind);
      store = await openTestStore(db);
      dir = mkdtempSync(path.join(tmpdir(), 'fis-import-concurrency-'));
      fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      service = await serveProcess({
        ...db.env,
        TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
        TWILIO_API_BASE_URL: fake.url,
        ROUTING_DEFAULT_WORKERS: TEAM.join(', '),
        ROUTING_AUTO_CREATE_CUSTOMERS: 'true',
        ROUTING_RETRY_AFTER_REPLY_MS: '0',
      });
    });
    after(async () => {
      await service?.stop();
      await store?.close();
      await fake?.close();
      rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    });

    const count = async (table: 'customers' | 'customer_owners' | 'customer_addresses') =>
      Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    test(`${IMPORTS} imports of ${RECORDS} records, all at once, while routing callbacks create customers: every import succeeds, every callback is answered`, async () => {
      const files = Array.from({ length: IMPORTS }, (_, f) => {
        const file = path.join(dir, `sync-${f}.ndjson`);
        writeFileSync(file, ndjson(customersOf(f)));
        return file;
      });

      // Routing traffic from unknown senders, four at a time, until the imports are done.
      let stop = false;
      let sent = 0;
      const answers: Array<{ status: number; body: string }> = [];
      const sender = async () => {
        while (!stop) {
          const address = `+1555301${String(sent++).padStart(4, '0')}`;
          const ch = fake.createConversation();
          fake.addCustomerParticipant(ch, address);
          const res = await postForm(service.url, '/callbacks/routing', {
            AccountSid: FAKE_ACCOUNT_SID,
            ConversationSid: ch,
            ConversationServiceSid: sid('IS'),
            State: 'active',
            'MessagingBinding.Address': address,
            'MessagingBinding.ProxyAddress': TWILIO_NUMBER,
          });
          answers.push({ status: res.status, body: res.text });
        }
      };
      const traffic = Array.from({ length: 4 }, sender);
      // The callbacks are writing before the first import starts.
      while (answers.length < 5) await new Promise((resolve) => setTimeout(resolve, 20));

      const imports = await Promise.all(files.map((file) => runCli(['import', '--wait', '120', file], db.env)));
      const routedDuringImports = answers.length;
      stop = true;
      await Promise.all(traffic);

      for (const res of imports) {
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, new RegExp(`imported ${RECORDS} customer\\(s\\).*${RECORDS} created, 0 updated`));
      }
      assert.ok(routedDuringImports > 5, `callbacks kept coming while the imports ran (${routedDuringImports})`);
      // Each callback waited its turn for the store too: answered, or (when the imports held the lock past
      // DATABASE_TIMEOUT_MS on this loaded machine) a clean 503 for Twilio to retry; never a 500.
      let created = 0;
      for (const a of answers) {
        assert.ok(a.status === 200 || a.status === 503, `status ${a.status}: ${a.body}`);
        if (a.status === 503) assert.match(a.body, /"code":"STORE_UNAVAILABLE"/);
        else if (/"customer_created":true/.test(a.body)) created++;
      }
      assert.ok(created > 0, 'callbacks created customers meanwhile');
      // Nothing lost, nothing half-written: every imported record is there, and every record (imported or
      // created by routing) has its owner and its address.
      const imported = await store.db.selectFrom('customers').select('pk').where('customer_id', 'like', 'file-%').execute();
      assert.equal(imported.length, IMPORTS * RECORDS);
      const total = await count('customers');
      assert.ok(total >= IMPORTS * RECORDS + created, `${total} customers`);
      assert.equal(await count('customer_owners'), total);
      assert.equal(await count('customer_addresses'), total);
    });

    test('a write lock held past --wait: the import fails with a clear message, nothing changed; then succeeds', async () => {
      const file = path.join(dir, 'late.ndjson');
      writeFileSync(file, ndjson(customersOf(90)));
      const before = await count('customers');
      const release = await holdWriteLock(db);
      let res;
      const started = performance.now();
      try {
        res = await runCli(['import', '--wait', '1', file], db.env);
      } finally {
        await release();
      }
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /the store is busy: another writer held its write lock for the 1 s this command waits; nothing was changed/);
      assert.ok(performance.now() - started < 30_000, 'gave up after its wait, not much later');
      assert.equal(await count('customers'), before);

      const again = await runCli(['import', '--wait', '1', file], db.env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await count('customers'), before + RECORDS);
    });
  });
}

/** Takes the store's write lock from outside the service, as another writer would; resolves to its release. */
async function holdWriteLock(db: TestDatabase): Promise<() => Promise<void>> {
  if (db.kind === 'sqlite') {
    const file = (db.env.DATABASE_URL as string).replace(/^sqlite:/, '');
    const conn = new SqliteDatabase(file);
    conn.exec('begin immediate');
    return async () => {
      conn.exec('rollback');
      conn.close();
    };
  }
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${db.env.DATABASE_SCHEMA}` });
  await client.connect();
  await client.query('begin');
  await client.query('lock table customers in share row exclusive mode');
  return async () => {
    await client.query('rollback');
    await client.end();
  };
}
