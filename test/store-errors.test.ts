/**
 * What a store error means for a caller (src/platform/db/errors.ts): "the
 * database is not available now" is a 503 the client may retry; a bug or bad
 * data is a 500. The mapping table, then a real PostgreSQL database that
 * refuses connections (ALLOW_CONNECTIONS false, SQLSTATE 55000 at connect):
 * every callback answers 503 with a JSON error, /readyz 503, and the service
 * recovers by itself when the database is allowed again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { isStoreUnavailable, isUnavailableSqlState, StoreBusy, StoreUnreachable } from '../src/platform/db/errors.js';
import { type TestService, startService } from './helpers/service.js';
import { openTestStore, seed, storeKinds, TEST_PG_URL, type TestDatabase } from './helpers/stores.js';

/** An error as pg raises it for a server message. */
const pgError = (code: string, severity = 'ERROR') => Object.assign(new Error(`server said ${code}`), { code, severity });
const sqliteError = (code: string) => Object.assign(new Error(`sqlite said ${code}`), { code });

describe('store errors: unavailable (503) or not (500)', () => {
  const unavailable: Array<[string, string?]> = [
    ['08000'], // connection_exception
    ['08001'], // sqlclient_unable_to_establish_sqlconnection
    ['08003'], // connection_does_not_exist
    ['08006'], // connection_failure
    ['08P01'], // protocol_violation
    ['53000'], // insufficient_resources
    ['53100'], // disk_full
    ['53200'], // out_of_memory
    ['53300'], // too_many_connections
    ['53400'], // configuration_limit_exceeded
    ['57P01', 'FATAL'], // admin_shutdown
    ['57P02', 'FATAL'], // crash_shutdown
    ['57P03', 'FATAL'], // cannot_connect_now
    ['57P04', 'FATAL'], // database_dropped
    ['57P05', 'FATAL'], // idle_session_timeout
    ['57014'], // query_canceled (statement_timeout)
    ['55P03'], // lock_not_available (lock_timeout)
    ['40001'], // serialization_failure
    ['40P01'], // deadlock_detected
    ['25006'], // read_only_sql_transaction (a standby)
    ['58000'], // system_error
    ['58030'], // io_error
    ['55000', 'FATAL'], // database is not currently accepting connections
    ['3D000', 'FATAL'], // database does not exist (at connect)
    ['28P01', 'FATAL'], // password authentication failed
    ['XX000', 'PANIC'], // the server is going down
  ];
  const bugs: Array<[string, string?]> = [
    ['55000'], // object_not_in_prerequisite_state inside a session: a bug
    ['42P01'], // undefined_table: not migrated / a bug
    ['42601'], // syntax_error
    ['23505'], // unique_violation
    ['22021'], // character_not_in_repertoire (bad data)
    ['22P02'], // invalid_text_representation
    ['57000'], // operator_intervention (generic)
    ['XX000'], // internal_error
    ['XX001'], // data_corrupted
  ];
  for (const [code, severity] of unavailable) {
    test(`PostgreSQL ${code}${severity ? ` (${severity})` : ''}: 503`, () => {
      assert.equal(isUnavailableSqlState(code, severity), true);
      assert.equal(isStoreUnavailable(pgError(code, severity)), true);
    });
  }
  for (const [code, severity] of bugs) {
    test(`PostgreSQL ${code}${severity ? ` (${severity})` : ''}: 500`, () => {
      assert.equal(isUnavailableSqlState(code, severity), false);
      assert.equal(isStoreUnavailable(pgError(code, severity)), false);
    });
  }
  test('SQLite: busy, locked, cannot open, disk full and I/O errors are 503; constraint and misuse are 500', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_IOERR_WRITE']) {
      assert.equal(isStoreUnavailable(sqliteError(code)), true, code);
    }
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_MISUSE', 'SQLITE_CORRUPT', 'SQLITE_READONLY']) {
      assert.equal(isStoreUnavailable(sqliteError(code)), false, code);
    }
  });
  test('network errors, the pg client’s own connection errors, StoreBusy, and causes', () => {
    assert.equal(isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isStoreUnavailable(new Error('Connection terminated unexpectedly')), true);
    assert.equal(isStoreUnavailable(new Error('timeout exceeded when trying to connect')), true);
    assert.equal(isStoreUnavailable(new StoreBusy(1000)), true);
    // A pipelined reads' connection that could not be made (pg's own message for its timeout is "timeout expired").
    assert.equal(isStoreUnavailable(new StoreUnreachable({ cause: new Error('timeout expired') })), true);
    assert.equal(isStoreUnavailable(new Error('wrapped', { cause: pgError('57P01', 'FATAL') })), true);
    assert.equal(isStoreUnavailable(new Error('wrapped', { cause: pgError('23505') })), false);
    assert.equal(isStoreUnavailable(new TypeError('x is undefined')), false);
    assert.equal(isStoreUnavailable('not an error'), false);
    // A Node error code of SQLSTATE shape that is not one.
    assert.equal(isStoreUnavailable(Object.assign(new Error('busy'), { code: 'EBUSY' })), false);
  });
  test('StoreBusy says what happened and that nothing changed', () => {
    assert.match(new StoreBusy(60_000).message, /another writer held its write lock for the 60 s this command waits; nothing was changed/);
    assert.match(new StoreBusy(250).message, /for the 250 ms/);
  });
});

const ALICE = 'alice@example.com';

if (storeKinds().includes('postgres')) {
  describe('PostgreSQL database that refuses connections (ALLOW_CONNECTIONS false)', () => {
    // A throwaway database: ALLOW_CONNECTIONS is per database, and the shared `test` database must stay usable.
    const name = `fis_t_${randomBytes(5).toString('hex')}`;
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${name}`;
    const db: TestDatabase = { kind: 'postgres', env: { DATABASE_URL: url.toString(), DATABASE_SCHEMA: 'fis' }, drop: async () => {} };
    let admin: pg.Client;
    let service: TestService;

    before(async () => {
      admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const store = await openTestStore(db);
      await seed(store, [{ customer_id: '1', display_name: 'Ann', workers: [ALICE], channels: [{ type: 'sms', value: '+15551230001' }] }]);
      await store.close();
      service = await startService(db, { DATABASE_TIMEOUT_MS: '1500', TWILIO_SMS_NUMBER: '+15550000000' });
    });
    after(async () => {
      await service?.close();
      await admin.query(`alter database ${name} allow_connections true`).catch(() => undefined);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    });

    const callbacks: Array<[string, Record<string, string>]> = [
      ['/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE }],
      ['/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '1' }],
      ['/callbacks/outgoing-conversation', { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: '1', ChannelType: 'sms' }],
      ['/callbacks/templates', { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: '1' }],
    ];

    test('every callback answers 503 with a JSON error, /readyz 503; both recover when it is allowed again', async () => {
      assert.equal((await service.post(...(callbacks[0] as [string, Record<string, string>]))).status, 200);
      assert.equal((await service.get('/readyz')).status, 200);

      await admin.query(`alter database ${name} allow_connections false`);
      const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      assert.ok((killed.rowCount ?? 0) > 0, 'the service had sessions to terminate');

      for (let round = 0; round < 2; round++) {
        for (const [path, params] of callbacks) {
          const res = await service.post(path, params);
          assert.equal(res.status, 503, `${path} ${params.Location}: ${res.text}`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
          assert.equal(res.json.error.code, 'STORE_UNAVAILABLE');
        }
      }
      const ready = await service.get('/readyz');
      assert.equal(ready.status, 503);
      assert.equal(ready.json.status, 'unavailable');

      await admin.query(`alter database ${name} allow_connections true`);
      for (const [path, params] of callbacks) {
        const res = await service.post(path, params);
        assert.equal(res.status, 200, `${path} ${params.Location} after recovery: ${res.text}`);
      }
      assert.equal((await service.get('/readyz')).status, 200);
    });
  });
}
