/**
 * Property-based tests (fast-check), on both stores, through the real HTTP stack
 * (issue 14): for every callback, arbitrary correctly signed form bodies —
 * Unicode, control characters, NUL, duplicate keys (arrays), very long values,
 * numbers where strings go, the route's own field names with wild values — are
 * answered 2xx, or 4xx with a JSON error; never a 5xx, never a refused
 * signature (the signature is genuine: a 403 would mean the property tested
 * nothing). A normal request still works afterwards. And search queries made of
 * %, _, *, ", ', \ match literally.
 *
 * ROUTES is the one place to add callbacks: their bodies are signed as Twilio
 * signs. The admin API's routes (bearer tokens, JSON bodies, path parameters)
 * have the same property in test/properties-admin.test.ts; the generators and
 * the check are shared (test/helpers/arbitraries.ts).
 *
 * Runtime: NUM_RUNS per route and store keeps the file well under 60 s on a
 * loaded 2-core machine; FC_NUM_RUNS overrides it for a longer hunt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ALICE, assertClean, CALLBACK_PLAUSIBLE as PLAUSIBLE, jsonBody, wildText } from './helpers/arbitraries.js';
import { fold } from '../src/kernel/text.js';
import { type Params, postForm, sign, startService, type TestService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 120);

/** A route under test: how to reach it, and the field names and values it cares about. */
interface RouteSpec {
  readonly path: string;
  /** Field names the route reads: generated more often than random names, with wild or plausible values. */
  readonly fields: readonly string[];
  /** Plausible values, so that some bodies get past validation into the services and the store. */
  readonly plausible: Record<string, readonly string[]>;
  /** A request that must answer 200 before and after the run. */
  readonly normal: Params;
}

/** A genuine signature refused would mean the property tested nothing. */
const GENUINE = { never: ['INVALID_SIGNATURE'] };

const crmNormal: Params = { Location: 'GetCustomersList', Worker: ALICE };
const ROUTES: RouteSpec[] = [
  { path: '/callbacks/crm', fields: ['Location', 'Worker', 'PageSize', 'Anchor', 'NextPageToken', 'Query', 'CustomerId'], plausible: PLAUSIBLE, normal: crmNormal },
  {
    path: '/callbacks/outgoing-conversation',
    fields: ['Location', 'Worker', 'CustomerId', 'ChannelType', 'ChannelValue'],
    plausible: PLAUSIBLE,
    normal: { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'c1', ChannelType: 'sms', ChannelValue: '+15551230001' },
  },
  {
    path: '/callbacks/templates',
    fields: ['Location', 'Worker', 'CustomerId', 'ConversationSid'],
    plausible: PLAUSIBLE,
    normal: { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: 'c1' },
  },
  {
    path: '/callbacks/routing',
    fields: ['ConversationSid', 'MessagingBinding.Address', 'MessagingBinding.AuthorAddress', 'MessagingBinding.ProxyAddress'],
    plausible: PLAUSIBLE,
    normal: { ConversationSid: 'CHffffffffffffffffffffffffffffffff', 'MessagingBinding.Address': '+15551230001' },
  },
  {
    path: '/callbacks/conversations',
    fields: ['EventType', 'ConversationSid', 'ParticipantSid', 'Identity', 'MessagingBinding.Address', 'MessagingBinding.Type'],
    plausible: PLAUSIBLE,
    normal: { EventType: 'onConversationAdd', 'MessagingBinding.Address': '+15551230001' },
  },
];

/** A form body: the route's fields with plausible or wild values, some repeated, plus arbitrary extra fields. */
function formBody(route: RouteSpec): fc.Arbitrary<Params> {
  const value = (name: string) => fc.oneof(fc.constantFrom(...(route.plausible[name] ?? [''])), wildText);
  const known = fc.record(
    Object.fromEntries(route.fields.map((name) => [name, fc.oneof(value(name), fc.array(value(name), { minLength: 2, maxLength: 3 }))])),
    { requiredKeys: [] },
  );
  const extra = fc.dictionary(
    fc.oneof(wildText.filter((k) => k.length < 300), fc.constantFrom('__proto__', 'constructor', 'Location[]', 'a.b', '')),
    fc.oneof(wildText, fc.array(wildText, { minLength: 2, maxLength: 3 })),
    { maxKeys: 3 },
  );
  return fc.tuple(known, extra).map(([k, e]) => {
    const out: Params = Object.create(null);
    for (const [name, v] of Object.entries(e)) out[name] = v;
    for (const [name, v] of Object.entries(k)) if (v !== undefined) out[name] = v as string | string[];
    return out;
  });
}

for (const kind of storeKinds()) {
  describe(`properties of every callback on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;

    before(async () => {
      db = await createTestDatabase(kind);
      // No Twilio API credentials: routing fails its API call at once (answered 200 "failed"), keeping runs fast.
      service = await startService(db, { TWILIO_SMS_NUMBER: '+15550000000', ROUTING_DEFAULT_WORKERS: ALICE, ROUTING_AUTO_CREATE_CUSTOMERS: 'true', ROUTING_RETRY_AFTER_REPLY_MS: '0' });
      await seed(service.store, [
        { customer_id: 'c1', display_name: 'Ann Example', workers: [ALICE], channels: [{ type: 'sms', value: '+15551230001' }] },
        { customer_id: 'c2', display_name: '100% "Juice"_Bar\\', workers: [ALICE, 'bob@example.com'] },
      ]);
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    for (const route of ROUTES) {
      test(`${route.path}: arbitrary signed bodies are answered 2xx or 4xx with a JSON error, then it still works`, async () => {
        assert.equal((await service.post(route.path, route.normal)).status, 200);
        const signedUrl = `${service.config.publicUrl}${route.path}`;
        await fc.assert(
          fc.asyncProperty(formBody(route), async (params) => {
            const res = await postForm(service.url, route.path, params, { signature: sign(signedUrl, params) });
            assertClean(res, `${route.path} ${JSON.stringify(params).slice(0, 300)}`, GENUINE);
          }),
          { numRuns: NUM_RUNS },
        );
        const after = await service.post(route.path, route.normal);
        assert.equal(after.status, 200, after.text);
      });
    }

    test('arbitrary JSON sent to the form callbacks: 415 with a JSON error', async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, fc.constantFrom(...ROUTES.map((r) => r.path)), async (body, path) => {
          const res = await postForm(service.url, path, {}, { headers: { 'content-type': 'application/json' }, body });
          assertClean(res, `${path} ${body.slice(0, 200)}`, GENUINE);
          assert.equal(res.status, 415);
        }),
        { numRuns: NUM_RUNS },
      );
    });

    test('search queries made of %, _, *, ", \', \\ match literally', async () => {
      const alphabet = ['%', '_', '*', '"', "'", '\\', 'a', 'b', ' '];
      const names = fc.sample(fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 8 }).filter((n) => n.trim() !== ''), { numRuns: 40, seed: 14 });
      const worker = 'literal@example.com';
      const customers = [...new Set(names)].map((display_name, i) => ({ customer_id: `lit-${i}`, display_name, workers: [worker] }));
      await seed(service.store, customers);
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength: 4 }),
            fc.constantFrom(...customers).chain((c) => fc.nat(c.display_name.length).map((i) => c.display_name.slice(i, i + 3))),
          ).filter((q) => q.trim() !== ''),
          async (query) => {
            const res = await service.post('/callbacks/crm', { Location: 'GetCustomersList', Worker: worker, PageSize: '200', Query: query });
            assert.equal(res.status, 200, res.text);
            const got = res.json.objects.customers.map((c: { customer_id: string }) => c.customer_id).sort();
            const expected = customers.filter((c) => fold(c.display_name).includes(fold(query))).map((c) => c.customer_id).sort();
            assert.deepEqual(got, expected, `query ${JSON.stringify(query)}`);
          },
        ),
        { numRuns: NUM_RUNS * 2 },
      );
    });
  });
}
