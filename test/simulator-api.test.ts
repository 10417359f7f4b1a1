/**
 * The simulator's endpoints over HTTP, on both stores: a callback sent on the browser's behalf
 * arrives signed exactly as Twilio signs (the service's own signature check accepts it), a
 * tampered target is refused by the target, another integration service can be set up (its token
 * never comes back), read-only tokens may drive the simulator but not re-point it, and bad input
 * is a 400 naming every field.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import twilio from 'twilio';
import { adminCall, createAdminToken } from './helpers/admin-token.js';
import { loadSenders, loadTemplates } from './helpers/settings.js';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const OTHER_TOKEN = 'other-service-auth-token-0123456789';

/** A stand-in for another integration service: checks signatures with its own token, records what it got. */
async function startOtherService(): Promise<{ url: string; seen: Array<{ url: string; body: string; valid: boolean }>; close(): Promise<void> }> {
  const seen: Array<{ url: string; body: string; valid: boolean }> = [];
  let origin = '';
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const params = Object.fromEntries(new URLSearchParams(body));
      const valid = twilio.validateRequest(OTHER_TOKEN, String(req.headers['x-twilio-signature'] ?? ''), `${origin}${req.url}`, params);
      seen.push({ url: req.url ?? '', body, valid });
      if (!valid) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ objects: { customers: [{ customer_id: 'x1', display_name: 'Elsewhere' }] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/other`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

for (const kind of storeKinds()) {
  describe(`simulator API on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    let admin: string;
    let viewer: string;
    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, [
        {
          customer_id: 'c-1',
          display_name: 'Ada Lovelace',
          workers: [ALICE],
          channels: [{ type: 'sms', value: '+14155550123' }],
        },
      ]);
      await loadSenders(service.store, [{ channel_type: 'sms', address: '+15005550006' }]);
      await loadTemplates(service.store, [{ display_name: 'Openers', templates: [{ content: 'Hi {{customer.first_name}}', whatsAppApproved: true }] }]);
      admin = await createAdminToken(service.store, 'sim-admin');
      viewer = await createAdminToken(service.store, 'sim-viewer', true);
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    const send = (token: string | undefined, body: unknown) => adminCall(service.url, token, 'POST', '/simulator/callback', body);

    test('a CRM callback goes out signed, is accepted by the service, and comes back as it went on the wire', async () => {
      const res = await send(viewer, { callback: 'crm', params: { Location: 'GetCustomersList', Worker: ALICE, PageSize: '30' } });
      assert.equal(res.status, 200, res.text);
      const ex = res.json;
      assert.equal(ex.target, 'self');
      assert.equal(ex.request.method, 'POST');
      assert.equal(ex.request.url, `${service.config.publicUrl}/callbacks/crm`);
      assert.equal(ex.request.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(ex.request.body, 'Location=GetCustomersList&Worker=alice%40example.com&PageSize=30');
      const expected = twilio.getExpectedTwilioSignature(
        'test-auth-token-0123456789abcdef',
        `${service.config.publicUrl}/callbacks/crm`,
        { Location: 'GetCustomersList', Worker: ALICE, PageSize: '30' },
      );
      assert.equal(ex.request.headers['x-twilio-signature'], expected);
      assert.equal(ex.response.status, 200);
      assert.deepEqual(JSON.parse(ex.response.body).objects.customers.map((c: { customer_id: string }) => c.customer_id), ['c-1']);
      assert.equal(ex.response.size_bytes, Buffer.byteLength(ex.response.body));
      assert.equal(ex.response.truncated, false);
      assert.match(ex.response.headers['content-type'], /application\/json/);
      assert.ok(ex.duration_ms > 0 && ex.duration_ms < ex.budget_ms, String(ex.duration_ms));
      assert.equal(ex.budget_ms, 6000);
      assert.equal(ex.size_limit_bytes, 65536);
    });

    test('outgoing and templates callbacks: the sender address chosen, the templates filled in', async () => {
      const proxy = await send(admin, {
        callback: 'outgoing',
        params: { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'c-1', ChannelType: 'sms', ChannelValue: '+14155550123' },
      });
      assert.equal(proxy.status, 200, proxy.text);
      assert.equal(proxy.json.request.url, `${service.config.publicUrl}/callbacks/outgoing-conversation`);
      assert.deepEqual(JSON.parse(proxy.json.response.body), { proxy_address: '+15005550006' });
      const refused = await send(admin, {
        callback: 'outgoing',
        params: { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'c-1', ChannelType: 'whatsapp', ChannelValue: 'whatsapp:+14155550123' },
      });
      assert.equal(refused.status, 200, 'the simulator answers; the service refused');
      assert.equal(refused.json.response.status, 403);
      assert.equal(JSON.parse(refused.json.response.body).error.code, 'NO_SENDER_ADDRESS');

      const templates = await send(viewer, {
        callback: 'templates',
        params: { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: 'c-1' },
      });
      assert.equal(templates.json.response.status, 200);
      assert.deepEqual(JSON.parse(templates.json.response.body), [
        { display_name: 'Openers', templates: [{ content: 'Hi Ada', whatsAppApproved: true }] },
      ]);
    });

    test('the service still checks what the simulator sends: an unknown Location is its 422', async () => {
      const res = await send(admin, { callback: 'crm', params: { Location: 'Nope', Worker: ALICE } });
      assert.equal(res.status, 200);
      assert.equal(res.json.response.status, 422);
    });

    test('only admin tokens, and bad input is a 400 naming the field', async () => {
      assert.equal((await send(undefined, { callback: 'crm', params: {} })).status, 401);
      assert.equal((await send('fis_not-a-token', { callback: 'crm', params: {} })).status, 401);
      // A Twilio signature is no credential here.
      const signed = await adminCall(service.url, undefined, 'POST', '/simulator/callback', { callback: 'crm', params: {} }, { 'x-twilio-signature': 'abc' });
      assert.equal(signed.status, 401);
      const bad = await send(admin, { callback: 'billing', params: { Location: 1 } });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.json.error.code, 'INVALID_FIELDS');
      const fields = bad.json.error.problems.map((p: { field?: string }) => p.field);
      assert.ok(fields.includes('callback'), JSON.stringify(bad.json));
      assert.ok(fields.some((f: string) => f?.startsWith('params')), JSON.stringify(bad.json));
      const tooMany = await send(admin, { callback: 'crm', params: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`F${i}`, 'x'])) });
      assert.equal(tooMany.status, 400);
    });

    test('another integration service: set by a write token, used by any token, its token never shown', async () => {
      const other = await startOtherService();
      try {
        const target = { base_url: other.url, auth_token: OTHER_TOKEN, paths: { crm: '/crm' } };
        const denied = await adminCall(service.url, viewer, 'PUT', '/simulator/target', target);
        assert.equal(denied.status, 403);
        assert.equal(denied.json.error.code, 'READ_ONLY_TOKEN');

        const set = await adminCall(service.url, admin, 'PUT', '/simulator/target', target);
        assert.equal(set.status, 200, set.text);
        assert.equal(set.json.mode, 'remote');
        assert.equal(set.json.base_url, other.url);
        assert.deepEqual(set.json.paths, { crm: '/crm', outgoing: '/callbacks/outgoing-conversation', templates: '/callbacks/templates' });
        assert.equal(set.json.updated_by, 'sim-admin');
        assert.doesNotMatch(set.text, new RegExp(OTHER_TOKEN));
        const shown = await adminCall(service.url, viewer, 'GET', '/simulator/target');
        assert.equal(shown.json.mode, 'remote');
        assert.equal(shown.json.auth_token_hint, `…${OTHER_TOKEN.slice(-4)}`);
        assert.doesNotMatch(shown.text, new RegExp(OTHER_TOKEN));

        const res = await send(viewer, { callback: 'crm', params: { Location: 'GetCustomersList', Worker: ALICE, PageSize: '30' } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.target, 'remote');
        assert.equal(res.json.request.url, `${other.url}/crm`);
        assert.equal(res.json.response.status, 200);
        assert.equal(other.seen.length, 1);
        assert.equal(other.seen[0]?.valid, true, 'signed with the other service’s token, for its URL');

        const audit = await adminCall(service.url, admin, 'GET', '/audit?action=simulator.target.set');
        assert.equal(audit.status, 200, audit.text);
        assert.equal(audit.json.entries[0]?.token, 'sim-admin');
        assert.doesNotMatch(audit.text, new RegExp(OTHER_TOKEN));

        assert.equal((await adminCall(service.url, viewer, 'DELETE', '/simulator/target')).status, 403);
        assert.equal((await adminCall(service.url, admin, 'DELETE', '/simulator/target')).status, 204);
        const back = await adminCall(service.url, viewer, 'GET', '/simulator/target');
        assert.equal(back.json.mode, 'self');
        assert.equal(back.json.base_url, service.config.publicUrl);
        assert.equal(back.json.signed, true);
      } finally {
        await other.close();
      }
    });

    test("the target's token is stored sealed; under another key it is reported and not used until set again", async () => {
      const other = await startOtherService();
      const stored = async () => (await service.store.db.selectFrom('simulator_target').select('auth_token').executeTakeFirstOrThrow()).auth_token;
      const list = { callback: 'crm', params: { Location: 'GetCustomersList', Worker: ALICE } };
      let elsewhere: TestService | undefined;
      try {
        const target = { base_url: other.url, auth_token: OTHER_TOKEN };
        assert.equal((await adminCall(service.url, admin, 'PUT', '/simulator/target', target)).status, 200);
        assert.match(await stored(), /^sealed:v1:/);
        assert.ok(!(await stored()).includes(OTHER_TOKEN.slice(0, 8)), 'the store never holds the token in clear');

        // Another instance whose key differs (PAGE_TOKEN_SECRET changed): the target is shown with why, and refused.
        elsewhere = await startService(db, { PAGE_TOKEN_SECRET: 'a-different-page-token-secret-0123' });
        const shown = await adminCall(elsewhere.url, viewer, 'GET', '/simulator/target');
        assert.equal(shown.status, 200, shown.text);
        assert.equal(shown.json.mode, 'remote');
        assert.equal(shown.json.signed, false);
        assert.equal(shown.json.auth_token_hint, undefined);
        assert.match(shown.json.problem, /another key.*PAGE_TOKEN_SECRET/);
        const refused = await adminCall(elsewhere.url, viewer, 'POST', '/simulator/callback', list);
        assert.equal(refused.status, 409, refused.text);
        assert.equal(refused.json.error.code, 'CONFLICT');
        assert.equal(other.seen.length, 0, 'nothing was sent unsigned');
        // Set again there: sealed under its key, and used.
        assert.equal((await adminCall(elsewhere.url, admin, 'PUT', '/simulator/target', target)).status, 200);
        const sent = await adminCall(elsewhere.url, viewer, 'POST', '/simulator/callback', list);
        assert.equal(sent.json.response?.status, 200, sent.text);
        assert.equal(other.seen.at(-1)?.valid, true);

        // A token stored in clear before sealing existed is still read (and sealed on its next write).
        await service.store.db.updateTable('simulator_target').set({ auth_token: OTHER_TOKEN }).execute();
        const legacy = await adminCall(service.url, viewer, 'GET', '/simulator/target');
        assert.equal(legacy.json.auth_token_hint, `…${OTHER_TOKEN.slice(-4)}`);
        assert.equal((await send(viewer, list)).json.response?.status, 200);
        assert.equal(other.seen.at(-1)?.valid, true);
      } finally {
        await elsewhere?.close();
        await adminCall(service.url, admin, 'DELETE', '/simulator/target');
        await other.close();
      }
    });

    test('a target that does not answer is reported with the reason, not as an error of the simulator', async () => {
      const other = await startOtherService();
      await other.close();
      await adminCall(service.url, admin, 'PUT', '/simulator/target', { base_url: other.url, auth_token: OTHER_TOKEN });
      try {
        const res = await send(admin, { callback: 'crm', params: { Location: 'GetCustomersList', Worker: ALICE } });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.json.response, undefined);
        assert.match(res.json.error.message, /ECONNREFUSED/);
      } finally {
        await adminCall(service.url, admin, 'DELETE', '/simulator/target');
      }
    });

    test('a bad target is a 400 naming every field, and nothing changes', async () => {
      const res = await adminCall(service.url, admin, 'PUT', '/simulator/target', {
        base_url: 'ftp://x.example.com/?a=1',
        auth_token: '',
        paths: { crm: 'callbacks/crm', templates: '/t#frag' },
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, 'INVALID_FIELDS');
      const fields = res.json.error.problems.map((p: { field?: string }) => p.field).sort();
      assert.deepEqual(fields, ['auth_token', 'base_url', 'paths.crm', 'paths.templates']);
      assert.equal((await adminCall(service.url, admin, 'GET', '/simulator/target')).json.mode, 'self');
    });
  });
}
