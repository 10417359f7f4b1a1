/**
 * GetTemplatesByCustomerId over the wire, signed as Twilio signs, on both
 * stores: order, placeholders of every kind, whatsAppApproved, refusals, and
 * templates rejected when they are loaded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CustomerRecord } from '../src/domains/customers/customer.types.js';
import { ImportRejected } from '../src/application/files/import.service.js';
import { formatPath } from '../src/kernel/problems.js';
import { loadTemplates, loadWorkers } from './helpers/settings.js';
import { type TestService, startService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com'; // in the workers file, with a display name
const GHOST = 'ghost@example.com'; // not in the workers file
const BOB = 'bob@example.com';

const FULL: CustomerRecord = {
  customer_id: 'full-1',
  display_name: 'María José Núñez',
  workers: [ALICE, GHOST],
  avatar: 'https://avatars.example.com/full-1.png',
  channels: [
    { type: 'sms', value: '+14155550123' },
    { type: 'whatsapp', value: 'whatsapp:+14155550124' },
    { type: 'email', value: 'maria@example.org' },
    { type: 'chat', value: 'maria-chat' },
  ],
  links: [{ type: 'CRM', value: 'https://crm.example.com/full-1', display_name: 'Open' }],
  details: { title: 'Gold member', content: 'Since 2019' },
};
const SPARSE: CustomerRecord = { customer_id: 'sparse-1', display_name: 'Cher', workers: [ALICE] };
const WA_ONLY: CustomerRecord = {
  customer_id: 'wa-1',
  display_name: 'Wanda Only',
  workers: [ALICE],
  channels: [{ type: 'whatsapp', value: 'whatsapp:+447700900123' }],
};
const TRICKY: CustomerRecord = { customer_id: 'tricky-1', display_name: 'Eve {{worker.identity}}', workers: [ALICE] };
const FOREIGN: CustomerRecord = { customer_id: 'bob-1', display_name: 'Bob Customer', workers: [BOB] };

const fetchTemplates = (service: TestService, worker: string, customerId: string) =>
  service.post('/callbacks/templates', {
    Location: 'GetTemplatesByCustomerId',
    Worker: worker,
    CustomerId: customerId,
    ConversationSid: 'CH00000000000000000000000000000000',
  });

async function contents(service: TestService, worker: string, customerId: string): Promise<string[]> {
  const res = await fetchTemplates(service, worker, customerId);
  assert.equal(res.status, 200, res.text);
  return res.json.flatMap((c: { templates: Array<{ content: string }> }) => c.templates.map((t) => t.content));
}

for (const kind of storeKinds()) {
  describe(`GetTemplatesByCustomerId on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    before(async () => {
      db = await createTestDatabase(kind);
      service = await startService(db);
      await seed(service.store, [FULL, SPARSE, WA_ONLY, TRICKY, FOREIGN]);
      await loadWorkers(service.store, [
        { identity: ALICE, display_name: 'Alice Johnson', avatar: 'https://avatars.example.com/alice.png' },
      ]);
    });
    after(async () => {
      await service.close();
      await db.drop();
    });

    test('with no templates loaded the reply is an empty array', async () => {
      await loadTemplates(service.store, []);
      const res = await fetchTemplates(service, ALICE, 'full-1');
      assert.equal(res.status, 200);
      assert.equal(res.text, '[]');
    });

    test('a bare JSON array of categories, in the company order, templates in file order', async () => {
      await loadTemplates(service.store, [
        { display_name: 'Zeta openers', templates: [{ content: 'z2' }, { content: 'z1' }, { content: 'z3' }] },
        { display_name: 'Alpha follow-ups', templates: [{ content: 'a1' }] },
        { display_name: 'Middle', templates: [{ content: 'm2' }, { content: 'm1' }] },
      ]);
      const res = await fetchTemplates(service, ALICE, 'full-1');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(Array.isArray(res.json), 'not wrapped in objects');
      assert.deepEqual(
        res.json.map((c: { display_name: string }) => c.display_name),
        ['Zeta openers', 'Alpha follow-ups', 'Middle'],
      );
      assert.deepEqual(await contents(service, ALICE, 'full-1'), ['z2', 'z1', 'z3', 'a1', 'm2', 'm1']);
    });

    test('whatsAppApproved: exactly that spelling, a JSON boolean, false when not set', async () => {
      await loadTemplates(service.store, [
        {
          display_name: 'WhatsApp',
          templates: [
            { content: 'approved', whatsAppApproved: true },
            { content: 'not approved', whatsAppApproved: false },
            { content: 'unset' },
          ],
        },
      ]);
      const res = await fetchTemplates(service, ALICE, 'full-1');
      assert.deepEqual(res.json, [
        {
          display_name: 'WhatsApp',
          templates: [
            { content: 'approved', whatsAppApproved: true },
            { content: 'not approved', whatsAppApproved: false },
            { content: 'unset', whatsAppApproved: false },
          ],
        },
      ]);
      assert.match(res.text, /"whatsAppApproved":true/);
      assert.doesNotMatch(res.text, /whatsappApproved|"true"|"false"/);
    });

    describe('placeholders', () => {
      const every: Array<[string, string]> = [
        ['{{customer.customer_id}}', 'full-1'],
        ['{{customer.display_name}}', 'María José Núñez'],
        ['{{customer.first_name}}', 'María'],
        ['{{customer.last_name}}', 'Núñez'],
        ['{{customer.avatar}}', 'https://avatars.example.com/full-1.png'],
        ['{{customer.phone}}', '+14155550123'],
        ['{{customer.whatsapp}}', '+14155550124'],
        ['{{customer.email}}', 'maria@example.org'],
        ['{{customer.chat}}', 'maria-chat'],
        ['{{customer.details_title}}', 'Gold member'],
        ['{{customer.details_content}}', 'Since 2019'],
        ['{{customer.link.CRM}}', 'https://crm.example.com/full-1'],
        ['{{worker.identity}}', ALICE],
        ['{{worker.display_name}}', 'Alice Johnson'],
        ['{{worker.first_name}}', 'Alice'],
        ['{{Name}}', 'María José Núñez'],
        ['{{Author}}', 'Alice Johnson'],
        ['{{ customer.first_name }}', 'María'],
      ];
      before(() =>
        loadTemplates(service.store, [
          { display_name: 'Every placeholder', templates: every.map(([p]) => ({ content: `<${p}>` })) },
        ]),
      );

      test('each placeholder is filled from the customer and the rep, server-side', async () => {
        assert.deepEqual(
          await contents(service, ALICE, 'full-1'),
          every.map(([, value]) => `<${value}>`),
        );
      });

      test('a rep not in the workers table is named by their identity', async () => {
        const byPlaceholder = new Map(every.map(([p], i) => [p, i]));
        const got = await contents(service, GHOST, 'full-1');
        for (const p of ['{{worker.display_name}}', '{{worker.first_name}}', '{{Author}}', '{{worker.identity}}']) {
          assert.equal(got[byPlaceholder.get(p) as number], `<${GHOST}>`, p);
        }
      });

      test('a template whose placeholder has no value for this customer is left out, never sent with a hole', async () => {
        await loadTemplates(service.store, [
          {
            display_name: 'Mixed',
            templates: [
              { content: 'Hi {{customer.first_name}}' },
              { content: 'Mail {{customer.email}}' },
              { content: 'Surname {{customer.last_name}}' },
              { content: 'Call {{customer.phone}}' },
              { content: 'CRM {{customer.link.CRM}}' },
            ],
          },
          { display_name: 'Only mail', templates: [{ content: 'We wrote to {{customer.email}}' }] },
        ]);
        const res = await fetchTemplates(service, ALICE, 'sparse-1');
        assert.deepEqual(res.json, [{ display_name: 'Mixed', templates: [{ content: 'Hi Cher', whatsAppApproved: false }] }]);
        // The customer with only a WhatsApp number: phone falls back to it.
        assert.deepEqual(await contents(service, ALICE, 'wa-1'), ['Hi Wanda', 'Surname Only', 'Call +447700900123']);
        assert.equal((await contents(service, ALICE, 'full-1')).length, 6);
      });

      test('values are inserted as they are: a customer name holding {{…}} is not expanded again', async () => {
        await loadTemplates(service.store, [{ display_name: 'Hello', templates: [{ content: 'Hello {{Name}}!' }] }]);
        assert.deepEqual(await contents(service, ALICE, 'tricky-1'), ['Hello Eve {{worker.identity}}!']);
      });

      test('a changed worker display name shows in the next reply', async () => {
        await loadTemplates(service.store, [{ display_name: 'Sign-off', templates: [{ content: '— {{worker.display_name}}' }] }]);
        await loadWorkers(service.store, [{ identity: ALICE, display_name: 'Alice J. Smith' }]);
        assert.deepEqual(await contents(service, ALICE, 'full-1'), ['— Alice J. Smith']);
        await loadWorkers(service.store, [{ identity: ALICE, display_name: 'Alice Johnson' }]);
      });
    });

    describe('templates are checked when loaded', () => {
      const GOOD = [{ display_name: 'Kept', templates: [{ content: 'Hello {{customer.first_name}}', whatsAppApproved: true }] }];
      before(() => loadTemplates(service.store, GOOD));

      const rejects = async (categories: unknown[], expected: Array<{ field: string; message: RegExp }>) => {
        await assert.rejects(loadTemplates(service.store, categories), (err: unknown) => {
          assert.ok(err instanceof ImportRejected);
          assert.equal(err.problems.length, expected.length, JSON.stringify(err.problems));
          expected.forEach((e, i) => {
            assert.equal(formatPath(err.problems[i]?.path ?? []), e.field);
            assert.match(err.problems[i]?.message ?? '', e.message);
            assert.equal(typeof err.problems[i]?.line, 'number');
          });
          return true;
        });
        // Nothing changed: the previous set is still what the app gets.
        const res = await fetchTemplates(service, ALICE, 'full-1');
        assert.deepEqual(res.json, [{ display_name: 'Kept', templates: [{ content: 'Hello María', whatsAppApproved: true }] }]);
      };

      test('an unknown placeholder, with a suggestion; the good templates in the same file are not loaded either', () =>
        rejects(
          [
            { display_name: 'New', templates: [{ content: 'Fine {{Name}}' }, { content: 'Hi {{customer.firstname}}' }] },
            { display_name: 'Other', templates: [{ content: 'Hi {{customer.nickname}}' }] },
          ],
          [
            { field: 'categories[0].templates[1].content', message: /unknown placeholder \{\{customer\.firstname\}\}.*did you mean \{\{customer\.first_name\}\}/ },
            { field: 'categories[1].templates[0].content', message: /unknown placeholder \{\{customer\.nickname\}\}; known placeholders: / },
          ],
        ));
      test('half-written and empty placeholders', () =>
        rejects(
          [{ display_name: 'Broken', templates: [{ content: 'Hi {{Name' }, { content: 'Hi {{}}' }, { content: 'Hi }} there' }] }],
          [
            { field: 'categories[0].templates[0].content', message: /unclosed or malformed placeholder/ },
            { field: 'categories[0].templates[1].content', message: /empty placeholder/ },
            { field: 'categories[0].templates[2].content', message: /unclosed or malformed placeholder/ },
          ],
        ));
      test('whatsAppApproved must be a boolean, spelled exactly', () =>
        rejects(
          [{ display_name: 'WA', templates: [{ content: 'a', whatsAppApproved: 'true' }, { content: 'b', whatsappApproved: true }] }],
          [
            { field: 'categories[0].templates[0].whatsAppApproved', message: /boolean/ },
            { field: 'categories[0].templates[1].whatsappApproved', message: /unknown field; expected content, whatsAppApproved/ },
          ],
        ));
      test('categories need a name, unique, and at least one template', () =>
        rejects(
          [
            { display_name: 'Same', templates: [{ content: 'a' }] },
            { display_name: 'Same', templates: [{ content: 'b' }] },
            { display_name: ' ', templates: [] },
          ],
          [
            { field: 'categories[1].display_name', message: /also the name of categories\[0\]/ },
            { field: 'categories[2].display_name', message: /must not be empty/ },
            { field: 'categories[2].templates', message: /non-empty list/ },
          ],
        ));
    });

    describe('refusals', () => {
      before(() => loadTemplates(service.store, [{ display_name: 'Hello', templates: [{ content: 'Hi {{Name}}' }] }]));

      test('404 for a customer of another worker and for an unknown customer', async () => {
        for (const customerId of ['bob-1', 'no-such-customer']) {
          const res = await fetchTemplates(service, ALICE, customerId);
          assert.equal(res.status, 404, res.text);
          assert.equal(res.json.error.code, 'CUSTOMER_NOT_FOUND');
        }
        assert.deepEqual(await contents(service, BOB, 'bob-1'), ['Hi Bob Customer']);
      });
      test('422 for an unknown Location', async () => {
        const res = await service.post('/callbacks/templates', { Location: 'GetTemplates', Worker: ALICE, CustomerId: 'full-1' });
        assert.equal(res.status, 422);
        assert.equal(res.json.error.code, 'UNKNOWN_LOCATION');
      });
      for (const missing of ['Worker', 'CustomerId']) {
        test(`400 without ${missing}`, async () => {
          const params: Record<string, string> = { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: 'full-1' };
          delete params[missing];
          const res = await service.post('/callbacks/templates', params);
          assert.equal(res.status, 400);
          assert.match(res.json.error.message, new RegExp(missing));
        });
      }
      test('403 when not signed by Twilio', async () => {
        const res = await service.post(
          '/callbacks/templates',
          { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: 'full-1' },
          { signature: 'bm90IGEgc2lnbmF0dXJl' },
        );
        assert.equal(res.status, 403);
        assert.equal(res.json.error.code, 'INVALID_SIGNATURE');
      });
    });
  });
}
