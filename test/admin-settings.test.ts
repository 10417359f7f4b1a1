/**
 * The admin API's reps, templates and sender addresses over HTTP on both
 * stores: CRUD with the file loaders' validation, order, ETags and races,
 * previews identical to the templates callback, and every change seen at once
 * by the signed callbacks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminClient, makeToken } from './helpers/admin.js';
import { startService, type TestService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';
import { loadTemplates } from './helpers/settings.js';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CUSTOMERS = [
  { customer_id: 'C1', display_name: 'Ann Lee', workers: [ALICE], channels: [{ type: 'sms' as const, value: '+14155550100' }, { type: 'email' as const, value: 'ann@example.org' }] },
  { customer_id: 'C2', display_name: 'Ben Ray', workers: [ALICE, BOB] },
  { customer_id: 'C3', display_name: 'Cy Do', workers: [ALICE] },
];

for (const kind of storeKinds()) {
  describe(`admin API reps, templates and senders on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    let api: ReturnType<typeof adminClient>;
    const templatesCallback = (worker: string, customerId: string) =>
      service.post('/callbacks/templates', { Location: 'GetTemplatesByCustomerId', Worker: worker, CustomerId: customerId, ConversationSid: 'CH00000000000000000000000000000000' });
    const proxyAddress = (worker: string, customerId: string) =>
      service.post('/callbacks/outgoing-conversation', { Location: 'GetProxyAddress', Worker: worker, CustomerId: customerId, ChannelType: 'sms', ChannelValue: '+14155550100' });

    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, CUSTOMERS);
      // Loaded from a file first: the API then edits what the file loaded.
      await loadTemplates(service.store, [{ display_name: 'Openers', templates: [{ content: 'Hello {{customer.first_name}}' }] }]);
      api = adminClient(service, await makeToken(service, 'ops'));
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    describe('workers', () => {
      test('create, read, list, conflict, bad fields', async () => {
        const created = await api.post('/workers', { identity: ALICE, display_name: 'Alice A.', avatar: 'https://img.example.com/a.png' });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.headers.get('location'), `/api/v1/workers/${encodeURIComponent(ALICE)}`);
        assert.deepEqual(created.json, { identity: ALICE, display_name: 'Alice A.', avatar: 'https://img.example.com/a.png', state: 'active', available: true });
        const got = await api.get(`/workers/${ALICE}`);
        assert.equal(got.headers.get('etag'), created.headers.get('etag'));
        assert.equal((await api.post('/workers', { identity: ALICE })).status, 409);
        const bad = await api.post('/workers', { identity: ' padded ', avatar: 'javascript:x', extra: 1 });
        assert.equal(bad.status, 400);
        assert.deepEqual(bad.json.error.problems.map((p: { field: string }) => p.field).sort(), ['avatar', 'extra', 'identity']);
        assert.equal((await api.post('/workers', { identity: BOB })).status, 201);
        const list = await api.get('/workers?limit=1');
        assert.deepEqual(list.json.workers.map((w: { identity: string }) => w.identity), [ALICE]);
        const next = await api.get(`/workers?limit=1&after=${encodeURIComponent(list.json.next_after)}`);
        assert.deepEqual(next.json.workers.map((w: { identity: string }) => w.identity), [BOB]);
        assert.equal((await api.get('/workers/nobody@example.com')).status, 404);
      });

      test('display name changes reach the templates callback at once; If-Match races', async () => {
        const tag = (await api.get(`/workers/${ALICE}`)).headers.get('etag') as string;
        const [a, b] = await Promise.all([
          api.patch(`/workers/${ALICE}`, { display_name: 'Alice One' }, { headers: { 'if-match': tag } }),
          api.put(`/workers/${ALICE}`, { display_name: 'Alice Two' }, { headers: { 'if-match': tag } }),
        ]);
        assert.deepEqual([a.status, b.status].sort(), [200, 412]);
        const res = await api.patch(`/workers/${ALICE}`, { avatar: null, display_name: 'Alicia Keys' });
        assert.deepEqual(res.json, { identity: ALICE, display_name: 'Alicia Keys', state: 'active', available: true });
        await api.post(`/template-categories`, { display_name: 'Signed', templates: [{ content: 'From {{worker.first_name}}' }] });
        const callback = await templatesCallback(ALICE, 'C1');
        assert.ok(JSON.stringify(callback.json).includes('From Alicia'), callback.text);
        const mismatch = await api.put(`/workers/${ALICE}`, { identity: BOB });
        assert.equal(mismatch.status, 400);
      });

      test('assign and unassign customers; the CRM callback follows', async () => {
        const details = (worker: string, id: string) => service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: worker, CustomerId: id });
        assert.equal((await details(BOB, 'C3')).status, 404);
        const assigned = await api.put(`/workers/${BOB}/customers/C3`);
        assert.equal(assigned.status, 200, assigned.text);
        assert.deepEqual(assigned.json.workers, [ALICE, BOB]);
        assert.equal((await api.put(`/workers/${BOB}/customers/C3`)).status, 200, 'idempotent');
        assert.equal((await details(BOB, 'C3')).status, 200);
        const unassigned = await api.delete(`/workers/${BOB}/customers/C3`);
        assert.deepEqual(unassigned.json.workers, [ALICE]);
        assert.equal((await details(BOB, 'C3')).status, 404);
        assert.equal((await api.put(`/workers/ghost@example.com/customers/C3`)).status, 404, 'unknown rep');
        assert.equal((await api.put(`/workers/${BOB}/customers/nope`)).status, 404, 'unknown customer');
      });

      test('delete: 409 while the rep owns customers; ?unassign=true takes them off; then 404', async () => {
        const refused = await api.delete(`/workers/${BOB}`);
        assert.equal(refused.status, 409);
        assert.equal((await api.get(`/workers/${BOB}`)).status, 200);
        assert.equal((await api.delete(`/workers/${BOB}?unassign=true`)).status, 204);
        assert.equal((await api.get(`/workers/${BOB}`)).status, 404);
        assert.deepEqual((await api.get('/customers/C2')).json.workers, [ALICE]);
        assert.equal((await api.get(`/customers?owner=${BOB}`)).json.customers.length, 0);
      });
    });

    describe('templates', () => {
      test('the file’s categories are listed with ids; create a category and templates; bad content names the field', async () => {
        const list = await api.get('/template-categories');
        assert.equal(list.status, 200);
        assert.equal(list.json.categories[0].display_name, 'Openers');
        assert.match(list.json.categories[0].templates[0].id, /^[0-9a-f-]{36}$/);
        const bad = await api.post('/template-categories', { display_name: '', templates: [{ content: 'Hi {{customer.frist_name}}' }] });
        assert.equal(bad.status, 400);
        const problems = bad.json.error.problems.map((p: { field: string; message: string }) => `${p.field}: ${p.message}`);
        assert.ok(problems.some((p: string) => p.startsWith('display_name')), problems.join('\n'));
        assert.ok(problems.some((p: string) => p.startsWith('templates[0].content') && p.includes('did you mean {{customer.first_name}}')), problems.join('\n'));
        const dup = await api.post('/template-categories', { display_name: 'Openers', templates: [{ content: 'x' }] });
        assert.equal(dup.status, 409);
      });

      test('edit a template and the preview, and the callback, change; preview equals the callback', async () => {
        const category = (await api.get('/template-categories')).json.categories[0];
        const template = category.templates[0];
        const preview = () => api.get(`/templates/${template.id}/preview?customer_id=C1&worker=${ALICE}`);
        assert.deepEqual((await preview()).json, { content: 'Hello Ann' });
        const tag = (await api.get(`/templates/${template.id}`)).headers.get('etag') as string;
        const edited = await api.patch(`/templates/${template.id}`, { content: 'Hi {{customer.first_name}}, it is {{worker.display_name}}' }, { headers: { 'if-match': tag } });
        assert.equal(edited.status, 200, edited.text);
        assert.deepEqual((await preview()).json, { content: 'Hi Ann, it is Alicia Keys' });
        assert.equal((await api.patch(`/templates/${template.id}`, { whatsAppApproved: true }, { headers: { 'if-match': tag } })).status, 412);
        // The whole preview is exactly the templates callback's answer.
        const all = await api.get(`/templates/preview?customer_id=C1&worker=${ALICE}`);
        const callback = await templatesCallback(ALICE, 'C1');
        assert.equal(callback.status, 200);
        assert.deepEqual(all.json.categories, callback.json);
        // A draft, before saving it; a placeholder with no value for this customer is null.
        const draft = await api.post('/templates/preview', { content: 'Mail: {{customer.email}}', customer_id: 'C1', worker: ALICE });
        assert.deepEqual(draft.json, { content: 'Mail: ann@example.org' });
        const hole = await api.post('/templates/preview', { content: 'Mail: {{customer.email}}', customer_id: 'C2', worker: ALICE });
        assert.deepEqual(hole.json, { content: null });
        const broken = await api.post('/templates/preview', { content: '{{nope}}', customer_id: 'C1', worker: ALICE });
        assert.equal(broken.status, 400);
        assert.equal((await api.post('/templates/preview', { content: 'x', customer_id: 'C2', worker: 'stranger@example.com' })).status, 404, 'as the callback: not this rep’s customer');
      });

      test('order: categories and templates; a stale list tag is a 412; an order that omits one is a 409', async () => {
        const list = await api.get('/template-categories');
        const [openers, signed] = list.json.categories;
        const added = await api.post(`/template-categories/${openers.id}/templates`, { content: 'Second', position: 0 });
        assert.equal(added.status, 201, added.text);
        assert.equal(added.json.category_id, openers.id);
        const cat = await api.get(`/template-categories/${openers.id}`);
        assert.deepEqual(cat.json.templates.map((t: { content: string }) => t.content)[0], 'Second');
        const reversed = [...cat.json.templates].reverse().map((t: { id: string }) => t.id);
        const ordered = await api.put(`/template-categories/${openers.id}/templates/order`, { ids: reversed }, { headers: { 'if-match': cat.headers.get('etag') as string } });
        assert.equal(ordered.status, 200, ordered.text);
        assert.deepEqual(ordered.json.templates.map((t: { id: string }) => t.id), reversed);

        const stale = await api.put('/template-categories/order', { ids: [signed.id, openers.id] }, { headers: { 'if-match': list.headers.get('etag') as string } });
        assert.equal(stale.status, 412);
        const fresh = await api.get('/template-categories');
        const moved = await api.put('/template-categories/order', { ids: [signed.id, openers.id] }, { headers: { 'if-match': fresh.headers.get('etag') as string } });
        assert.equal(moved.status, 200, moved.text);
        const callback = await templatesCallback(ALICE, 'C1');
        assert.deepEqual(callback.json.map((c: { display_name: string }) => c.display_name), ['Signed', 'Openers']);
        const partial = await api.put('/template-categories/order', { ids: [signed.id] });
        assert.equal(partial.status, 409);
        assert.match(partial.json.error.message, /^The order does not match the current categories: must list every category; missing /);
        const renamed = await api.patch(`/template-categories/${signed.id}`, { display_name: 'Sign-offs', position: 1 });
        assert.equal(renamed.status, 200, renamed.text);
        assert.deepEqual((await api.get('/template-categories')).json.categories.map((c: { display_name: string }) => c.display_name), ['Openers', 'Sign-offs']);
      });

      test('move and delete templates; a category’s last template cannot go (409); delete the category', async () => {
        const [openers, signoffs] = (await api.get('/template-categories')).json.categories;
        const only = signoffs.templates[0];
        assert.equal((await api.delete(`/templates/${only.id}`)).status, 409);
        const moved = await api.put(`/templates/${openers.templates[0].id}`, { content: 'Moved', category_id: signoffs.id });
        assert.equal(moved.status, 200, moved.text);
        assert.equal(moved.json.category_id, signoffs.id);
        assert.equal((await api.put(`/templates/${moved.json.id}`, { content: 'x', category_id: 'nope' })).status, 400);
        assert.equal((await api.delete(`/templates/${only.id}`)).status, 204);
        assert.equal((await api.get(`/templates/${only.id}`)).status, 404);
        assert.equal((await api.delete(`/template-categories/${signoffs.id}`)).status, 204);
        assert.equal((await api.get(`/template-categories/${signoffs.id}`)).status, 404);
        const audit = await api.get('/audit?action=template.delete');
        assert.equal(audit.json.entries[0].resource_id, only.id);
      });
    });

    describe('senders', () => {
      test('create, conflict, bad fields, read; GetProxyAddress follows at once', async () => {
        const none = await proxyAddress(ALICE, 'C1');
        assert.equal(none.status, 403, 'no sender yet');
        const created = await api.post('/senders', { channel_type: 'sms', address: '(415) 555-0111' });
        assert.equal(created.status, 201, created.text);
        assert.deepEqual(created.json, { channel_type: 'sms', address: '+14155550111' });
        assert.equal((await proxyAddress(ALICE, 'C1')).json.proxy_address, '+14155550111');
        assert.equal((await api.post('/senders', { channel_type: 'sms', address: '+14155550111' })).status, 409);
        const bad = await api.post('/senders', { channel_type: 'fax', address: 'nope', countries: ['UK'] });
        assert.equal(bad.status, 400);
        const fields = bad.json.error.problems.map((p: { field: string }) => p.field);
        assert.ok(fields.includes('channel_type') && fields.includes('countries[0]'), JSON.stringify(bad.json));
        assert.equal((await api.get('/senders/+14155550111')).status, 200);
        assert.equal((await api.get('/senders/+19999999999')).status, 404);
      });

      test('own numbers, order, update with If-Match, delete', async () => {
        const own = await api.post('/senders', { channel_type: 'sms', address: '+14155550122', worker: ALICE, position: 0 });
        assert.equal(own.status, 201);
        assert.equal((await proxyAddress(ALICE, 'C1')).json.proxy_address, '+14155550122', "the rep's own number first");
        const list = await api.get('/senders');
        assert.deepEqual(list.json.senders.map((s: { address: string }) => s.address), ['+14155550122', '+14155550111']);
        const reordered = await api.put('/senders/order', { addresses: ['+14155550111', '+14155550122'] }, { headers: { 'if-match': list.headers.get('etag') as string } });
        assert.equal(reordered.status, 200, reordered.text);
        const partial = await api.put('/senders/order', { addresses: ['+14155550111', '+14155550111', '+19995550000'] });
        assert.equal(partial.status, 409);
        assert.deepEqual(
          partial.json.error.problems.map((p: { field: string; message: string }) => `${p.field}: ${p.message}`),
          ['addresses: lists a sender address more than once', 'addresses: names no sender address: +19995550000', 'addresses: must list every sender address; missing +14155550122'],
        );
        const tag = (await api.get('/senders/+14155550122')).headers.get('etag') as string;
        const updated = await api.patch('/senders/+14155550122', { worker: null, countries: ['CA'] }, { headers: { 'if-match': tag } });
        assert.equal(updated.status, 200, updated.text);
        assert.deepEqual(updated.json, { channel_type: 'sms', address: '+14155550122', countries: ['CA'] });
        assert.equal((await api.put('/senders/+14155550122', { countries: ['US'] }, { headers: { 'if-match': tag } })).status, 412);
        assert.equal((await api.put('/senders/+14155550122', { address: '+14155550133' })).status, 400, 'the address cannot change');
        assert.equal((await api.delete('/senders/+14155550111')).status, 204);
        assert.equal((await api.delete('/senders/+14155550111')).status, 404);
        assert.equal((await proxyAddress(ALICE, 'C1')).status, 403, 'the CA-only number does not serve a US customer');
      });
    });
  });
}
