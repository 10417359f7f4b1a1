/**
 * The admin API's customers over HTTP on both stores: every route and error
 * class, ETags and If-Match races, merge patches, bulk import atomicity,
 * streamed export, the CRM callback's search, the audit trail, and writes that
 * a signed CRM callback sees at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { generateCustomers } from '../src/application/files/seed.js';
import { exportCustomers } from '../src/application/files/export.service.js';
import { adminClient, makeToken } from './helpers/admin.js';
import { walk } from './helpers/crm.js';
import { startService, type TestService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const ndjson = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function exportAll(service: TestService): Promise<string> {
  let out = '';
  for await (const r of exportCustomers(service.store)) out += `${JSON.stringify(r)}\n`;
  return out;
}

for (const kind of storeKinds()) {
  describe(`admin API customers on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    let api: ReturnType<typeof adminClient>;
    const sample = [...generateCustomers({ customers: 120, workers: 3, seed: 7 })];

    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, sample);
      api = adminClient(service, await makeToken(service, 'crm-sync'));
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    test('create: 201 with Location and ETag; GET gives the same record and ETag; If-None-Match gives 304', async () => {
      const body = { customer_id: 'N1', display_name: '  Zoë  Quinn ', workers: [BOB, ALICE], channels: [{ type: 'sms', value: '(415) 555-0199' }] };
      const res = await api.post('/customers', body);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get('location'), '/api/v1/customers/N1');
      const etag = res.headers.get('etag');
      assert.match(etag ?? '', /^"[\w-]+"$/);
      // Normalised as the import normalises: trimmed name, E.164 number, owners in identity order.
      assert.deepEqual(res.json, { customer_id: 'N1', display_name: 'Zoë  Quinn', workers: [ALICE, BOB], channels: [{ type: 'sms', value: '+14155550199' }] });
      const got = await api.get('/customers/N1');
      assert.equal(got.status, 200);
      assert.deepEqual(got.json, res.json);
      assert.equal(got.headers.get('etag'), etag);
      const notModified = await api.get('/customers/N1', { headers: { 'if-none-match': etag as string } });
      assert.equal(notModified.status, 304);
    });

    test('a conflicting create is a 409 and changes nothing', async () => {
      const res = await api.post('/customers', { customer_id: 'N1', display_name: 'Someone Else' });
      assert.equal(res.status, 409);
      assert.equal(res.json.error.code, 'CONFLICT');
      assert.equal((await api.get('/customers/N1')).json.display_name, 'Zoë  Quinn');
    });

    test('a bad body is a 400 naming every bad field, structural and semantic, in the import’s problem shape', async () => {
      const res = await api.post('/customers', {
        customer_id: 'N2',
        display_name: 42,
        colour: 'red',
        channels: [{ type: 'sms', value: 'not a number' }, { type: 'fax', value: '1' }],
        links: [{ type: 'Site', value: 'javascript:alert(1)' }],
        avatar: 'ftp://example.com/a.png',
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, 'INVALID_FIELDS');
      const fields = res.json.error.problems.map((p: { field: string }) => p.field).sort();
      for (const f of ['display_name', 'colour', 'channels[0].value', 'channels[1].type', 'links[0].value', 'avatar']) {
        assert.ok(fields.includes(f), `${f} named in ${JSON.stringify(fields)}`);
      }
      for (const p of res.json.error.problems) assert.equal(p.position, 'body');
      assert.equal((await api.get('/customers/N2')).status, 404, 'nothing written');
    });

    test('malformed JSON is a 400, an unsupported type a 415, a body over a megabyte a 413: never a 5xx', async () => {
      const bad = await api.call('POST', '/customers', { raw: '{"customer_id": "x",', contentType: 'application/json' });
      assert.equal(bad.status, 400);
      const text = await api.call('POST', '/customers', { raw: 'customer_id=x', contentType: 'application/x-www-form-urlencoded' });
      assert.equal(text.status, 415);
      assert.equal(text.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
      const huge = await api.post('/customers', { customer_id: 'big', display_name: 'Big', details: { title: 't', content: 'x'.repeat(1_100_000) } });
      assert.equal(huge.status, 413);
      assert.equal(huge.json.error.code, 'BODY_TOO_LARGE');
      const array = await api.post('/customers', [1, 2]);
      assert.equal(array.status, 400);
      const badQuery = await api.get('/customers?page_size=0');
      assert.equal(badQuery.status, 400);
      assert.equal(badQuery.json.error.problems[0].position, 'query');
      const badToken = await api.get('/customers?page_token=v1.abc.def');
      assert.equal(badToken.status, 400);
      assert.equal(badToken.json.error.code, 'INVALID_PAGE_TOKEN');
    });

    test('PUT replaces a customer; a missing one is a 404; another id in the body is a 400', async () => {
      const res = await api.put('/customers/N1', { display_name: 'Zoe Quinn', workers: [ALICE] });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json, { customer_id: 'N1', display_name: 'Zoe Quinn', workers: [ALICE] });
      assert.equal((await api.put('/customers/nobody', { display_name: 'X' })).status, 404);
      const mismatch = await api.put('/customers/N1', { customer_id: 'N9', display_name: 'X' });
      assert.equal(mismatch.status, 400);
      assert.equal(mismatch.json.error.problems[0].field, 'customer_id');
    });

    test('PATCH is a JSON Merge Patch (RFC 7396), as merge-patch+json or json; null removes a field', async () => {
      const first = await api.patch('/customers/N1', { avatar: 'https://img.example.com/z.png', details: { title: 'VIP', content: 'Since 2020' } });
      assert.equal(first.status, 200, first.text);
      const second = await api.patch('/customers/N1', { avatar: null, details: { content: 'Since 2021' } }, { contentType: 'application/json' });
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(second.json, { customer_id: 'N1', display_name: 'Zoe Quinn', workers: [ALICE], details: { title: 'VIP', content: 'Since 2021' } });
      const invalid = await api.patch('/customers/N1', { display_name: '' });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.json.error.problems[0].field, 'display_name');
      assert.equal((await api.patch('/customers/nobody', { display_name: 'X' })).status, 404);
    });

    test('If-Match: a stale tag is a 412; of two writers racing with the same tag exactly one wins', async () => {
      const read = await api.get('/customers/N1');
      const etag = read.headers.get('etag') as string;
      const [a, b] = await Promise.all([
        api.patch('/customers/N1', { display_name: 'Writer A' }, { headers: { 'if-match': etag } }),
        api.patch('/customers/N1', { display_name: 'Writer B' }, { headers: { 'if-match': etag } }),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [200, 412], `${a.text} ${b.text}`);
      const winner = a.status === 200 ? a : b;
      const loser = a.status === 200 ? b : a;
      assert.equal(loser.json.error.code, 'PRECONDITION_FAILED');
      assert.equal((await api.get('/customers/N1')).json.display_name, winner.json.display_name);
      // The stale tag stays stale, for PUT and DELETE too; the current one and * pass.
      assert.equal((await api.put('/customers/N1', { display_name: 'Late' }, { headers: { 'if-match': etag } })).status, 412);
      assert.equal((await api.delete('/customers/N1', { headers: { 'if-match': etag } })).status, 412);
      assert.equal((await api.put('/customers/N1', { display_name: 'Fresh', workers: [ALICE] }, { headers: { 'if-match': winner.headers.get('etag') as string } })).status, 200);
      assert.equal((await api.patch('/customers/N1', { display_name: 'Star' }, { headers: { 'if-match': '*' } })).status, 200);
      assert.equal((await api.patch('/customers/absent', { display_name: 'X' }, { headers: { 'if-match': '*' } })).status, 412);
    });

    test('DELETE: 204, then 404', async () => {
      assert.equal((await api.post('/customers', { customer_id: 'D1', display_name: 'Doomed' })).status, 201);
      assert.equal((await api.delete('/customers/D1')).status, 204);
      assert.equal((await api.get('/customers/D1')).status, 404);
      assert.equal((await api.delete('/customers/D1')).status, 404);
    });

    test('list: the CRM callback’s search and order for an owner, every customer once across pages', async () => {
      for (const q of ['ohns', 'jose', '201', 'C00000']) {
        const viaApi: string[] = [];
        let token: string | undefined;
        do {
          const res = await api.get(`/customers?owner=${encodeURIComponent(ALICE.replace('alice', 'alice'))}&q=${encodeURIComponent(q)}&page_size=7${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
          assert.equal(res.status, 200, res.text);
          viaApi.push(...res.json.customers.map((c: CustomerRecord) => c.customer_id));
          token = res.json.next_page_token;
        } while (token);
        const viaCallback = await walk(service, { worker: ALICE, pageSize: 7, by: 'token', query: q });
        assert.deepEqual(viaApi, viaCallback, `query ${q}`);
      }
      const all: string[] = [];
      let token: string | undefined;
      do {
        const res = await api.get(`/customers?page_size=50${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
        all.push(...res.json.customers.map((c: CustomerRecord) => c.customer_id));
        token = res.json.next_page_token;
      } while (token);
      const total = (await exportAll(service)).trim().split('\n').length;
      assert.equal(all.length, total);
      assert.equal(new Set(all).size, total);
      const first = (await api.get('/customers?page_size=1')).json.customers[0];
      assert.ok(Array.isArray(first.workers), 'list items are whole records');
    });

    test('an API write shows up at once in signed CRM callbacks, for both reps', async () => {
      const id = sample.find((c) => c.workers.length === 1 && c.workers[0] !== BOB)?.customer_id as string;
      const owner = (await api.get(`/customers/${id}`)).json.workers[0];
      const details = (worker: string) => service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: worker, CustomerId: id });
      assert.equal((await details(owner)).status, 200);
      assert.equal((await details(BOB)).status, 404);

      const res = await api.patch(`/customers/${id}`, { workers: [BOB], display_name: 'Moved Customer' });
      assert.equal(res.status, 200, res.text);
      const forBob = await details(BOB);
      assert.equal(forBob.status, 200);
      assert.equal(forBob.json.objects.customer.display_name, 'Moved Customer');
      assert.equal((await details(owner)).status, 404, 'the former owner no longer sees it');
      const bobsList = await walk(service, { worker: BOB, pageSize: 200, by: 'token', query: 'Moved' });
      assert.deepEqual(bobsList, [id]);
    });

    test('bulk import: NDJSON upserts; one bad line rejects the whole body, every problem by line; prune', async () => {
      const before = await exportAll(service);
      const good = sample.slice(0, 3).map((c) => ({ ...c, display_name: `${c.display_name} Imported` }));
      const bad = await api.call('POST', '/customers/import', {
        contentType: 'application/x-ndjson',
        raw: [JSON.stringify(good[0]), '{"customer_id": ', JSON.stringify({ customer_id: 'x2', display_name: 'P', channels: [{ type: 'sms', value: 'nope' }] }), JSON.stringify(good[1])].join('\n'),
      });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.json.error.code, 'IMPORT_REJECTED');
      assert.deepEqual(
        bad.json.error.problems.map((p: { position: string; field?: string }) => [p.position, p.field]),
        [['line 2', undefined], ['line 3', 'channels[0].value']],
      );
      assert.equal(await exportAll(service), before, 'the store is exactly as it was');

      const ok = await api.call('POST', '/customers/import', { contentType: 'application/x-ndjson', raw: ndjson(good) });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.json, { records: 3, created: 0, updated: 3, pruned: 0 });
      assert.equal((await api.get(`/customers/${good[0]?.customer_id}`)).json.display_name, good[0]?.display_name);

      const wrongType = await api.call('POST', '/customers/import', { contentType: 'application/json', body: good });
      assert.equal(wrongType.status, 415);
    });

    test('export streams every customer as the import’s NDJSON; export then import is the identity', async () => {
      const res = await api.get('/customers/export');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
      assert.equal(res.text, await exportAll(service));
      const other = await createTestDatabase(kind);
      const copy = await startService(other);
      try {
        const copyApi = adminClient(copy, await makeToken(copy, 'copy'));
        const imported = await copyApi.call('POST', '/customers/import', { contentType: 'application/x-ndjson', raw: res.text });
        assert.equal(imported.status, 200, imported.text);
        assert.equal((await copyApi.get('/customers/export')).text, res.text);
        const pruned = await copyApi.call('POST', '/customers/import?prune=true', { contentType: 'application/x-ndjson', raw: res.text.split('\n').slice(0, 10).join('\n') });
        assert.equal(pruned.status, 200, pruned.text);
        assert.equal(pruned.json.pruned, res.text.trim().split('\n').length - 10);
        assert.equal((await copyApi.get('/customers/export')).text.trim().split('\n').length, 10);
      } finally {
        await copy.close();
        await other.drop();
      }
    });

    test('the audit trail records every write: when, which token, which fields, never phone numbers', async () => {
      const phone = '+14155550177';
      const created = await api.post('/customers', { customer_id: 'A1', display_name: 'Audited', channels: [{ type: 'sms', value: phone }] });
      assert.equal(created.status, 201);
      await api.patch('/customers/A1', { channels: [{ type: 'sms', value: '+14155550178' }] });
      const res = await api.get('/audit?resource_id=A1');
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.json.entries.map((e: { action: string; token: string; fields: string[] }) => [e.action, e.token, e.fields]),
        [
          ['customer.update', 'crm-sync', ['channels']],
          ['customer.create', 'crm-sync', ['channels', 'customer_id', 'display_name', 'workers']],
        ],
      );
      assert.ok(!Number.isNaN(Date.parse(res.json.entries[0].at)));
      const everything = await api.get('/audit?limit=500');
      assert.ok(!everything.text.includes('4155550177') && !everything.text.includes('4155550178'), 'no phone number in the audit trail');
      const imports = everything.json.entries.filter((e: { action: string }) => e.action === 'customers.import');
      assert.deepEqual(imports[0].summary, { records: 3, created: 0, updated: 3, pruned: 0 });
      // Paging: newest first, by `before`.
      const page1 = await api.get('/audit?limit=2');
      const page2 = await api.get(`/audit?limit=2&before=${page1.json.next_before}`);
      assert.equal(page1.json.entries.length, 2);
      assert.ok(page2.json.entries[0].id < page1.json.entries[1].id);
    });

    // Found by test/properties-admin.test.ts: ?before=99999999999999999999 reached PostgreSQL's bigint (a 500 there).
    test('an audit `before` beyond any id is a 400 naming it; the largest safe integer still pages', async () => {
      for (const before of ['99999999999999999999', '9007199254740992', '1e300']) {
        const res = await api.get(`/audit?before=${before}`);
        assert.equal(res.status, 400, `${before}: ${res.text}`);
        assert.equal(res.json.error.code, 'INVALID_FIELDS');
        assert.deepEqual(res.json.error.problems.map((p: { position: string; field: string }) => [p.position, p.field]), [['query', 'before']]);
      }
      const all = await api.get(`/audit?before=${Number.MAX_SAFE_INTEGER}&limit=500`);
      assert.equal(all.status, 200, all.text);
      assert.ok(all.json.entries.length > 0);
    });
  });
}

for (const kind of storeKinds().slice(0, 1)) {
  describe(`admin API URLs (${kind})`, () => {
    let db: TestDatabase;
    let service: TestService;
    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    test('a 255-character customer_id is addressable; a malformed URL is a 400 in the service’s shape', async () => {
      const api = adminClient(service, await makeToken(service, 'urls'));
      const id = `${'é'.repeat(100)}${'x'.repeat(155)}`;
      const created = await api.post('/customers', { customer_id: id, display_name: 'Long Id' });
      assert.equal(created.status, 201, created.text);
      const got = await api.get(`/customers/${encodeURIComponent(id)}`);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.json.customer_id, id);
      const bad = await api.get('/customers/%ZZ');
      assert.equal(bad.status, 400);
      assert.equal(bad.json.error.code, 'BAD_REQUEST');
    });
  });
}
