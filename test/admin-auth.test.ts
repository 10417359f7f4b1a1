/**
 * Admin API authentication over HTTP on both stores: tokens made by the real
 * `fis tokens` command, no/unknown/revoked tokens, read-only tokens on writes,
 * slowed-down failures, tokens never logged, and the callbacks and the admin
 * API each refusing the other's credential.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { FailureThrottle } from '../src/transports/http/admin/auth.js';
import { loggerOptions } from '../src/platform/logging.js';
import { adminCall, adminClient, makeToken } from './helpers/admin.js';
import { runCli } from './helpers/cli.js';
import { sign, startService, type TestService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const CUSTOMER = { customer_id: 'C1', display_name: 'Ann Lee', workers: ['alice@example.com'], channels: [{ type: 'sms' as const, value: '+14155550100' }] };

test('FailureThrottle: free failures, then doubling delays up to the cap, per address and window', () => {
  const throttle = new FailureThrottle({ freeFailures: 2, windowMs: 1000, baseDelayMs: 100, maxDelayMs: 350 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => throttle.fail('a', 0)), [0, 0, 100, 200, 350]);
  assert.equal(throttle.fail('b', 0), 0, 'another address has its own count');
  assert.equal(throttle.fail('a', 2000), 0, 'a new window starts afresh');
});

for (const kind of storeKinds()) {
  describe(`admin API authentication on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    const logs: string[] = [];
    let writer: string;
    let reader: string;

    before(async () => {
      db = await createTestDatabase(kind);
      const capture = new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      });
      service = await startService(db, {}, {
        logger: { ...(loggerOptions({ logLevel: 'info' }) as object), stream: capture },
        adminThrottle: { freeFailures: 3, windowMs: 60_000, baseDelayMs: 300, maxDelayMs: 1000 },
      });
      await seed(service.store, [CUSTOMER]);
      // Made by the real command line, against the same store.
      const created = await runCli(['tokens', 'create', 'integration'], db.env);
      assert.equal(created.code, 0, created.stderr);
      writer = created.stdout.trim().split('\n').at(-1) as string;
      assert.match(writer, /^fis_[A-Za-z0-9_-]{43}$/, 'the token alone on the last line');
      const ro = await runCli(['tokens', 'create', 'viewer', '--read-only'], db.env);
      assert.equal(ro.code, 0, ro.stderr);
      reader = ro.stdout.trim().split('\n').at(-1) as string;
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    test('a read-write token reads and writes', async () => {
      const api = adminClient(service, writer);
      assert.equal((await api.get('/customers/C1')).status, 200);
      const res = await api.patch('/customers/C1', { display_name: 'Ann Lee-Smith' });
      assert.equal(res.status, 200, res.text);
    });

    test('a read-only token reads, previews, and gets 403 on every write', async () => {
      const api = adminClient(service, reader);
      assert.equal((await api.get('/customers/C1')).status, 200);
      assert.equal((await api.get('/audit')).status, 200);
      const preview = await api.post('/templates/preview', { content: 'Hi {{customer.first_name}}', customer_id: 'C1', worker: 'alice@example.com' });
      assert.equal(preview.status, 200, preview.text);
      assert.deepEqual(preview.json, { content: 'Hi Ann' });
      const writes = [
        await api.post('/customers', { customer_id: 'C2', display_name: 'New' }),
        await api.put('/customers/C1', { display_name: 'X' }),
        await api.patch('/customers/C1', { display_name: 'X' }),
        await api.delete('/customers/C1'),
        await api.post('/workers', { identity: 'x@example.com' }),
        await api.put('/workers/alice@example.com/customers/C1'),
        await api.post('/senders', { channel_type: 'sms', address: '+14155550111' }),
        await api.call('POST', '/customers/import', { raw: '', contentType: 'application/x-ndjson' }),
      ];
      for (const res of writes) {
        assert.equal(res.status, 403, res.text);
        assert.equal(res.json.error.code, 'READ_ONLY_TOKEN');
      }
      assert.equal((await adminClient(service, writer).get('/customers/C1')).json.display_name, 'Ann Lee-Smith', 'nothing changed');
    });

    test('no token, a malformed header, an unknown token: 401 with WWW-Authenticate', async () => {
      const cases = [
        await adminCall(service, 'GET', '/customers'),
        await adminCall(service, 'GET', '/customers', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }),
        await adminCall(service, 'GET', '/customers', { headers: { authorization: writer } }),
      ];
      for (const res of cases) {
        assert.equal(res.status, 401, res.text);
        assert.equal(res.json.error.code, 'UNAUTHORIZED');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    });

    test('the admin API never accepts a Twilio signature', async () => {
      const url = `${service.url}/api/v1/customers`;
      const res = await adminCall(service, 'GET', '/customers', { headers: { 'x-twilio-signature': sign(url, {}) } });
      assert.equal(res.status, 401);
    });

    test('the callbacks never accept an admin token', async () => {
      const res = await service.post(
        '/callbacks/crm',
        { Location: 'GetCustomerDetailsByCustomerId', Worker: 'alice@example.com', CustomerId: 'C1' },
        { signature: false, headers: { authorization: `Bearer ${writer}` } },
      );
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, 'INVALID_SIGNATURE');
    });

    test('fis tokens list shows names and kinds, never tokens; a revoked token is refused at once', async () => {
      const temp = await makeToken(service, 'temporary');
      assert.equal((await adminCall(service, 'GET', '/customers', { token: temp })).status, 200);
      const listed = await runCli(['tokens', 'list'], db.env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^integration\tread-write\t/m);
      assert.match(listed.stdout, /^viewer\tread-only\t/m);
      assert.match(listed.stdout, /^temporary\tread-write\t\S+\t\S+Z\t-$/m, 'last use recorded');
      for (const t of [writer, reader, temp]) assert.ok(!listed.stdout.includes(t));

      const revoked = await runCli(['tokens', 'revoke', 'temporary'], db.env);
      assert.equal(revoked.code, 0, revoked.stderr);
      const res = await adminCall(service, 'GET', '/customers', { token: temp });
      assert.equal(res.status, 401);
      assert.match((await runCli(['tokens', 'list'], db.env)).stdout, /^temporary\tread-write\t.*\t\S+Z$/m);
      const again = await runCli(['tokens', 'revoke', 'temporary'], db.env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /no live token named "temporary"/);
    });

    test('fis tokens create refuses a taken name and a bad name, and prints no token then', async () => {
      const taken = await runCli(['tokens', 'create', 'integration'], db.env);
      assert.equal(taken.code, 1);
      assert.equal(taken.stdout, '');
      assert.match(taken.stderr, /already exists/);
      const bad = await runCli(['tokens', 'create', 'has space'], db.env);
      assert.equal(bad.code, 1);
      assert.equal(bad.stdout, '');
    });

    test('tokens never appear in the logs', () => {
      const text = logs.join('');
      assert.ok(text.length > 0, 'requests were logged');
      for (const t of [writer, reader]) assert.ok(!text.includes(t), 'token absent from logs');
      assert.ok(!text.includes(writer.slice(4, 20)));
    });

    // Last: it leaves this address slowed down.
    test('repeated failures from one address are slowed down', async () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const res = await adminCall(service, 'GET', '/customers', { token: `fis_wrong${i}` });
        assert.equal(res.status, 401);
        times.push(performance.now() - started);
      }
      // The earlier tests' failures count too: by now every failure is past the free allowance.
      assert.ok(times.at(-1)! >= 550, `the last failures wait (${times.map((t) => t.toFixed(0)).join(', ')} ms)`);
      assert.ok(times.at(-2)! >= 280);
      // A valid token is not slowed down.
      const started = performance.now();
      assert.equal((await adminCall(service, 'GET', '/customers/C1', { token: writer })).status, 200);
      assert.ok(performance.now() - started < 5000);
    });
  });
}
