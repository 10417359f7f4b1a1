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
 * ROUTES is the one place to add routes: form callbacks are signed as Twilio
 * signs; JSON routes (the admin API, when it lands) get arbitrary JSON values
 * from `jsonBody` and the same property.
 *
 * Runtime: NUM_RUNS per route and store keeps the file well under 60 s on a
 * loaded 2-core machine; FC_NUM_RUNS overrides it for a longer hunt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { fold } from '../src/kernel/text.js';
import { type Params, postForm, sign, startService, type TestService, type WireResponse } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 120);
const ALICE = 'alice@example.com';
const SIDS = ['CH0123456789abcdef0123456789abcdef', 'MB0123456789abcdef0123456789abcdef'];

/** A route under test: how to reach it, and the field names and values it cares about. */
interface RouteSpec {
  readonly path: string;
  readonly encoding: 'form' | 'json';
  /** Field names the route reads: generated more often than random names, with wild or plausible values. */
  readonly fields: readonly string[];
  /** Plausible values, so that some bodies get past validation into the services and the store. */
  readonly plausible: Record<string, readonly string[]>;
  /** A request that must answer 200 before and after the run. */
  readonly normal: Params;
}

const LOCATIONS = ['GetCustomersList', 'GetCustomerDetailsByCustomerId', 'GetProxyAddress', 'GetTemplates', 'GetTemplatesByCustomerId'];
const PLAUSIBLE: Record<string, readonly string[]> = {
  Location: LOCATIONS,
  Worker: [ALICE, 'bob@example.com', ''],
  CustomerId: ['c1', 'c2', 'inbound:+15551230001', '', '%', '_'],
  PageSize: ['1', '30', '0', '-1', '1e3', '200', '201', '007', '3.5', 'NaN'],
  Anchor: ['c1', ''],
  NextPageToken: ['', 'abc', 'eyJ4IjoxfQ'],
  Query: ['Ann', '%', '_', '*', '"', "'", '\\', '+1 555', '0'],
  ChannelType: ['sms', 'whatsapp', 'chat', 'SMS', ''],
  ChannelValue: ['+15551230001', 'whatsapp:+15551230001', '5551230001', ''],
  ConversationSid: SIDS,
  ParticipantSid: SIDS,
  EventType: ['onConversationAdd', 'onParticipantAdded', 'onMessageAdded', ''],
  'MessagingBinding.Address': ['+15551230001', 'whatsapp:+15551230001', '+15559990001', '(555) 123-0001', ''],
  'MessagingBinding.AuthorAddress': ['+15551230001', ''],
  'MessagingBinding.ProxyAddress': ['+15550000000', ''],
  'MessagingBinding.Type': ['sms', 'whatsapp', 'chat'],
  Identity: ['', ALICE],
};

const crmNormal: Params = { Location: 'GetCustomersList', Worker: ALICE };
const ROUTES: RouteSpec[] = [
  { path: '/callbacks/crm', encoding: 'form', fields: ['Location', 'Worker', 'PageSize', 'Anchor', 'NextPageToken', 'Query', 'CustomerId'], plausible: PLAUSIBLE, normal: crmNormal },
  {
    path: '/callbacks/outgoing-conversation',
    encoding: 'form',
    fields: ['Location', 'Worker', 'CustomerId', 'ChannelType', 'ChannelValue'],
    plausible: PLAUSIBLE,
    normal: { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: 'c1', ChannelType: 'sms', ChannelValue: '+15551230001' },
  },
  {
    path: '/callbacks/templates',
    encoding: 'form',
    fields: ['Location', 'Worker', 'CustomerId', 'ConversationSid'],
    plausible: PLAUSIBLE,
    normal: { Location: 'GetTemplatesByCustomerId', Worker: ALICE, CustomerId: 'c1' },
  },
  {
    path: '/callbacks/routing',
    encoding: 'form',
    fields: ['ConversationSid', 'MessagingBinding.Address', 'MessagingBinding.AuthorAddress', 'MessagingBinding.ProxyAddress'],
    plausible: PLAUSIBLE,
    normal: { ConversationSid: 'CHffffffffffffffffffffffffffffffff', 'MessagingBinding.Address': '+15551230001' },
  },
  {
    path: '/callbacks/conversations',
    encoding: 'form',
    fields: ['EventType', 'ConversationSid', 'ParticipantSid', 'Identity', 'MessagingBinding.Address', 'MessagingBinding.Type'],
    plausible: PLAUSIBLE,
    normal: { EventType: 'onConversationAdd', 'MessagingBinding.Address': '+15551230001' },
  },
  // The admin API's JSON routes go here, with encoding: 'json'.
];

/** Text as a client could send it: every Unicode code point, control characters and NUL included; well-formed. */
const wildText = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\t', '\n', '\r', '\u2028', '\ufeff', '\ufffd', '&', '=', '+', '%', '#', '?', '\\', '"', "'"), maxLength: 12 }) },
    { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.bigInt()).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor', 'toString') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '😀', '%'), fc.integer({ min: 256, max: 70_000 })).map(([c, n]) => c.repeat(n)) },
  )
  .map(wellFormed);

/** Lone surrogates become U+FFFD, as any UTF-8 encoder (URLSearchParams included) sends them. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

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

/** Arbitrary JSON documents, Unicode and NUL included (for JSON routes, and as the wrong media type for form ones). */
const jsonBody = fc.json({ maxDepth: 3 }).map(wellFormed);

function assertClean(res: WireResponse, label: string): void {
  assert.ok(res.status >= 200 && res.status < 500, `${label}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.notEqual(res.json?.error?.code, 'INVALID_SIGNATURE', `${label}: a genuine signature was refused: ${res.text.slice(0, 300)}`);
  if (res.status >= 400) {
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, label);
    assert.equal(typeof res.json?.error?.code, 'string', `${label}: ${res.text.slice(0, 200)}`);
    assert.equal(typeof res.json?.error?.message, 'string', label);
  }
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
          fc.asyncProperty(route.encoding === 'form' ? formBody(route) : jsonBody.map((j) => ({ json: j }) as Params), async (params) => {
            const res =
              route.encoding === 'form'
                ? await postForm(service.url, route.path, params, { signature: sign(signedUrl, params) })
                : await postForm(service.url, route.path, {}, { headers: { 'content-type': 'application/json' }, body: String(params.json) });
            assertClean(res, `${route.path} ${JSON.stringify(params).slice(0, 300)}`);
          }),
          { numRuns: NUM_RUNS },
        );
        const after = await service.post(route.path, route.normal);
        assert.equal(after.status, 200, after.text);
      });
    }

    test('arbitrary JSON sent to the form callbacks: 415 with a JSON error', async () => {
      await fc.assert(
        fc.asyncProperty(jsonBody, fc.constantFrom(...ROUTES.filter((r) => r.encoding === 'form').map((r) => r.path)), async (body, path) => {
          const res = await postForm(service.url, path, {}, { headers: { 'content-type': 'application/json' }, body });
          assertClean(res, `${path} ${body.slice(0, 200)}`);
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
