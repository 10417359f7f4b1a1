/**
 * Property-based tests (fast-check) of every admin API route, on both stores,
 * through the real HTTP stack (issue 14): arbitrary path parameters (Unicode,
 * `%`, encoded `/`, NUL, malformed escapes, very long), arbitrary query strings,
 * and arbitrary bodies (values shaped by the route's own schema with hostile
 * leaves, arrays where objects go, numbers where strings go, NUL, control
 * characters, lone surrogates, strings of hundreds of KB, duplicate keys in
 * the raw text, deep nesting, invalid JSON and invalid UTF-8, the wrong media
 * type) are answered 2xx, or 4xx with the service's JSON error; never 3xx,
 * never 5xx, never a refused valid token. Writes may succeed: the run changes
 * the test data. A normal request still works after each route's run.
 *
 * The routes are the ones the app registers (`app.adminRoutes`, which the
 * OpenAPI test holds equal to the document), each with its query and body
 * schemas from the OpenAPI document it serves. A route SPECS does not describe
 * fails the run: a new route cannot go untested.
 *
 * Runtime: NUM_RUNS per route and store keeps the file well under 60 s per store
 * on a loaded 2-core machine; FC_NUM_RUNS overrides it for a longer hunt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { makeToken } from './helpers/admin.js';
import {
  ALICE,
  assertClean,
  CALLBACK_PLAUSIBLE,
  fromSchema,
  type Hints,
  type JsonSchema,
  jsonTextOf,
  plausibleFromSchema,
  wildJsonValue,
  wildText,
} from './helpers/arbitraries.js';
import { startService, type TestService, toWire, type WireResponse } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 100);
const BOB = 'bob@example.com';

/** What the store holds when a route's run starts: the plausible values of its path parameters and ids. */
interface Known {
  readonly customers: readonly string[];
  readonly workers: readonly string[];
  readonly categories: readonly string[];
  readonly templates: readonly string[];
  /** Each category's template ids, in order. */
  readonly templatesByCategory: readonly (readonly string[])[];
  readonly senders: readonly string[];
}
type Resource = 'customers' | 'workers' | 'categories' | 'templates' | 'senders';

/** How to generate requests for one admin route; its query and body schemas come from the OpenAPI document. */
interface AdminRouteSpec {
  /** What the route takes: a JSON body, an NDJSON stream (the bulk import), or nothing. */
  readonly body: 'json' | 'ndjson' | 'none';
  /** Each path parameter, and the resource whose ids (besides wild ones) it is given. */
  readonly params?: Readonly<Record<string, Resource>>;
  /** NDJSON: the route whose JSON body schema one line follows. */
  readonly lines?: string;
  /** Values worth trying for this route's fields, besides the shared ones. */
  readonly hints?: (known: Known) => Hints;
}

const CUSTOMER = { customer_id: 'customers' } as const;
const WORKER = { identity: 'workers' } as const;
const CATEGORY = { id: 'categories' } as const;
const TEMPLATE = { id: 'templates' } as const;
const SENDER = { address: 'senders' } as const;

/** Mostly `valid`, sometimes a near miss. */
const mostly = (valid: fc.Arbitrary<unknown>, ...misses: unknown[]) => fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom(...misses) });

/** A preview needs a rep and a customer of theirs (the fixtures' customers of alice). */
const PREVIEW: Hints = {
  worker: mostly(fc.constant(ALICE), BOB, 'nobody@example.com'),
  customer_id: mostly(fc.constantFrom('c1', 'c2', '100%', 'a/b'), 'ünï-😀', 'no-such-customer'),
};

const SPECS: Readonly<Record<string, AdminRouteSpec>> = {
  'GET /api/v1/customers': { body: 'none' },
  'POST /api/v1/customers': { body: 'json' },
  'GET /api/v1/customers/:customer_id': { body: 'none', params: CUSTOMER },
  'PUT /api/v1/customers/:customer_id': { body: 'json', params: CUSTOMER },
  'PATCH /api/v1/customers/:customer_id': { body: 'json', params: CUSTOMER },
  'DELETE /api/v1/customers/:customer_id': { body: 'none', params: CUSTOMER },
  'GET /api/v1/customers/export': { body: 'none' },
  'POST /api/v1/customers/import': { body: 'ndjson', lines: 'POST /api/v1/customers' },
  'GET /api/v1/workers': { body: 'none' },
  'POST /api/v1/workers': { body: 'json' },
  'GET /api/v1/workers/:identity': { body: 'none', params: WORKER },
  'PUT /api/v1/workers/:identity': { body: 'json', params: WORKER },
  'PATCH /api/v1/workers/:identity': { body: 'json', params: WORKER },
  'DELETE /api/v1/workers/:identity': { body: 'none', params: WORKER },
  'PUT /api/v1/workers/:identity/customers/:customer_id': { body: 'none', params: { ...WORKER, ...CUSTOMER } },
  'DELETE /api/v1/workers/:identity/customers/:customer_id': { body: 'none', params: { ...WORKER, ...CUSTOMER } },
  'GET /api/v1/template-categories': { body: 'none' },
  'POST /api/v1/template-categories': { body: 'json' },
  'PUT /api/v1/template-categories/order': { body: 'json', hints: (k) => ({ ids: fc.shuffledSubarray([...k.categories], { minLength: k.categories.length }) }) },
  'GET /api/v1/template-categories/:id': { body: 'none', params: CATEGORY },
  'PATCH /api/v1/template-categories/:id': { body: 'json', params: CATEGORY },
  'DELETE /api/v1/template-categories/:id': { body: 'none', params: CATEGORY },
  'POST /api/v1/template-categories/:id/templates': { body: 'json', params: CATEGORY },
  'PUT /api/v1/template-categories/:id/templates/order': {
    body: 'json',
    params: CATEGORY,
    hints: (k) => ({ ids: fc.oneof(...k.templatesByCategory.map((ids) => fc.shuffledSubarray([...ids], { minLength: ids.length })), fc.constant([])) }),
  },
  'GET /api/v1/templates/preview': { body: 'none', hints: () => PREVIEW },
  'POST /api/v1/templates/preview': { body: 'json', hints: () => PREVIEW },
  'GET /api/v1/templates/:id': { body: 'none', params: TEMPLATE },
  'GET /api/v1/templates/:id/preview': { body: 'none', params: TEMPLATE, hints: () => PREVIEW },
  'PUT /api/v1/templates/:id': { body: 'json', params: TEMPLATE },
  'PATCH /api/v1/templates/:id': { body: 'json', params: TEMPLATE },
  'DELETE /api/v1/templates/:id': { body: 'none', params: TEMPLATE },
  'GET /api/v1/senders': { body: 'none' },
  'POST /api/v1/senders': { body: 'json' },
  'PUT /api/v1/senders/order': { body: 'json', hints: (k) => ({ addresses: fc.shuffledSubarray([...k.senders], { minLength: k.senders.length }) }) },
  'GET /api/v1/senders/:address': { body: 'none', params: SENDER },
  'PUT /api/v1/senders/:address': { body: 'json', params: SENDER },
  'PATCH /api/v1/senders/:address': { body: 'json', params: SENDER },
  'DELETE /api/v1/senders/:address': { body: 'none', params: SENDER },
  'GET /api/v1/audit': { body: 'none' },
  'POST /api/v1/simulator/callback': {
    body: 'json',
    hints: () => ({
      params: fc.record(
        Object.fromEntries(Object.entries(CALLBACK_PLAUSIBLE).map(([name, values]) => [name, fc.oneof(fc.constantFrom(...values), wildText)])),
        { requiredKeys: [] },
      ),
    }),
  },
  'GET /api/v1/simulator/target': { body: 'none' },
  'PUT /api/v1/simulator/target': {
    body: 'json',
    hints: () => {
      const path = mostly(fc.constantFrom('/callbacks/crm', '/callbacks/templates', '/x/y'), '//elsewhere', 'callbacks', '/a b', '/#x');
      // Only addresses that refuse at once: a simulated callback sent there later must not wait on DNS.
      return {
        base_url: mostly(fc.constantFrom('http://127.0.0.1:9', 'http://127.0.0.1:9/', 'https://127.0.0.1:9/fis'), 'ftp://127.0.0.1', 'http://u:p@127.0.0.1', 'http://127.0.0.1/?q=1', 'not a url'),
        auth_token: mostly(fc.constant('token-0123456789'), ' ', 'a\nb'),
        crm: path,
        outgoing: path,
        templates: path,
      };
    },
  },
  'DELETE /api/v1/simulator/target': { body: 'none' },
  'GET /api/v1/me': { body: 'none' },
};

/** The values worth trying for a field, whatever the route: ids that exist, new ones, valid values, and near misses. */
function sharedHints(k: Known): Hints {
  const newIdentity = fc.stringMatching(/^[a-z]{1,8}@example\.com$/);
  const identity = mostly(fc.oneof(fc.constantFrom(...k.workers, ALICE), newIdentity), 'Not An Identity', ' padded@example.com', 'system');
  const customerId = mostly(fc.oneof(fc.constantFrom(...k.customers, 'c1', 'ünï-new'), fc.stringMatching(/^new-[a-z0-9]{1,8}$/)), ' padded', 2 ** 53 + 2);
  const phone = fc.integer({ min: 1000, max: 9999 }).map((n) => `+1555000${n}`);
  const url = mostly(fc.constantFrom('https://example.com/x', 'http://crm.example.com/c/1', 'mailto:a@example.com', 'tel:+15551230001'), 'javascript:alert(1)', 'example.com', '');
  return {
    customer_id: fc.oneof(customerId, fc.integer({ min: 0, max: 99 })),
    resource_id: customerId,
    display_name: mostly(fc.oneof(fc.constantFrom('Ann Example', 'Ünï Cödé 😀', '100% "Juice"_Bar\\', ' padded '), fc.stringMatching(/^[A-Z][a-z]{2,10}$/)), '', '  ', 'two\nlines'),
    identity,
    worker: identity,
    'workers[]': identity,
    owner: identity,
    after: identity,
    'channels[]': mostly(
      fc.oneof(
        phone.map((value) => ({ type: 'sms', value })),
        phone.map((value) => ({ type: 'whatsapp', value: `whatsapp:${value}` })),
        fc.constant({ type: 'email', value: 'ann@example.com' }),
        newIdentity.map((value) => ({ type: 'chat', value })),
      ),
      { type: 'sms', value: 'ann@example.com' },
      { type: 'email', value: '+15551230001' },
    ),
    'links[].type': fc.constantFrom('CRM', 'Facebook', 'LinkedIn'),
    'links[].value': url,
    title: mostly(fc.constantFrom('Notes', 'Account'), ''),
    content: mostly(fc.constantFrom('Hello {{customer.first_name}}', 'From {{worker.first_name}}', 'Plain text', 'Line\nbreak'), '{{customer.nope}}', '{{', '}}{{', ''),
    avatar: mostly(fc.constantFrom('https://img.example.com/a.png', 'http://img.example.com/b.png'), 'javascript:alert(1)', 'data:image/png;base64,AAAA'),
    category_id: fc.constantFrom(...k.categories, 'no-such-category'),
    address: mostly(fc.oneof(fc.constantFrom(...k.senders, 'whatsapp:+15550000009'), phone), '+1 555 000 0009', 'whatsapp:', 'ann@example.com'),
    'countries[]': mostly(fc.constantFrom('US', 'GB', 'FR', 'us'), 'XX', 'UK', ''),
    position: fc.constantFrom(0, 1, 2, 100),
    q: fc.constantFrom('Ann', '%', '_', '*', '+1 555', 'c1', 'ü'),
    page_token: fc.constantFrom('abc', 'eyJ4IjoxfQ', ''),
    action: fc.constantFrom('customer.create', 'customer.update', 'worker.delete', ''),
  };
}

/** Path segments no encoder would write: malformed or overlong escapes, encoded NUL, `/`, dots, a lone surrogate. */
const WEIRD_SEGMENTS = [
  '%', '%0', '%00', 'a%00b', '%2F', 'a%2Fb', '%2f..%2f', '%ZZ', '%ED%A0%80', '%C0%AF', '%C0%80', '%FF', '%E2%80%AE', '%EF%BF%BD',
  '..', '.', '%2e%2e', '~', '%20', '%20x%20', '+', ';', 'a;b=c', '%3F', '%23', '*', '%25', '%2525', '%09', '%0A',
];

function hostileSegment(known: Known, resource: Resource): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...known[resource], 'none-known').map(encodeURIComponent) },
    { weight: 3, arbitrary: wildText.filter((s) => s !== '').map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...WEIRD_SEGMENTS) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '%F0%9F%98%80', '%00', '%'), fc.integer({ min: 100, max: 4_000 })).map(([c, n]) => c.repeat(n)) },
  );
}

/** Raw query-string pieces URLSearchParams would never write. */
const WEIRD_QUERIES = ['%', '%00', 'q=%ZZ', 'q=%ED%A0%80', 'owner=%00', 'worker=%C0%80', '&&', '=', '==', 'a[]=1', '__proto__=1', 'constructor[prototype][x]=1', 'q', 'limit', 'page_size=1&page_size=2', 'x=%FF'];

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly schema: JsonSchema;
}

interface Operation {
  readonly parameters: readonly Parameter[];
  readonly requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

const asText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

/** A query value as text: the field's hints, its type's edge cases, anything. */
function hostileQueryValue(p: Parameter, hints: Hints): fc.Arbitrary<string> {
  const typed =
    p.schema.type === 'integer'
      ? fc.oneof(fc.integer({ min: -5, max: 2_000 }).map(String), fc.constantFrom('1e2', '0x10', '1.5', '', ' 1', 'NaN', '99999999999999999999', '-0'))
      : p.schema.type === 'boolean'
        ? fc.constantFrom('true', 'false', '1', '0', 'yes', '', 'TRUE')
        : wildText;
  const hint = hints[p.name];
  return fc.oneof({ weight: 3, arbitrary: hint ? hint.map(asText) : typed }, { weight: 3, arbitrary: typed }, { weight: 1, arbitrary: wildText });
}

function search(entries: ReadonlyArray<readonly [string, string | readonly string[] | undefined]>): string {
  const out = new URLSearchParams();
  for (const [name, v] of entries) for (const one of typeof v === 'string' ? [v] : (v ?? [])) out.append(name, one);
  return out.toString();
}

/** The route's query parameters with hostile values, repeated, unknown ones, raw pieces no encoder writes. */
function hostileQuery(op: Operation, hints: Hints): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const known = fc.record(
    Object.fromEntries(params.map((p) => [p.name, fc.oneof({ weight: 4, arbitrary: hostileQueryValue(p, hints) }, { weight: 1, arbitrary: fc.array(hostileQueryValue(p, hints), { minLength: 2, maxLength: 3 }) })])),
    { requiredKeys: [] },
  );
  const extra = fc.dictionary(wildText.filter((k) => k.length < 300), wildText, { maxKeys: 2 });
  return fc
    .tuple(known, fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extra }), fc.option(fc.constantFrom(...WEIRD_QUERIES), { freq: 6 }))
    .map(([k, e, weird]) => {
      const text = search([...Object.entries(e), ...Object.entries(k)]);
      return weird === null ? text : text === '' ? weird : `${text}&${weird}`;
    });
}

/** The route's query parameters with values of their types (required ones always there). */
function plausibleQuery(op: Operation, hints: Hints): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const value = (p: Parameter) => plausibleFromSchema(p.schema, hints, p.name).map(asText);
  return fc
    .record(Object.fromEntries(params.map((p) => [p.name, value(p)])), { requiredKeys: params.filter((p) => p.required).map((p) => p.name) })
    .map((k) => search(Object.entries(k)));
}

const JSON_TYPES = [
  'application/json; charset=utf-8', 'Application/JSON', 'application/json; charset=latin1', 'application/json;charset="utf-8"', 'text/plain',
  'application/x-www-form-urlencoded', 'application/x-ndjson', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json, text/plain',
  '*/*', ';', 'application/vnd.api+json', 'application/merge-patch+json; charset=utf-16',
];
const NDJSON_TYPES = ['application/ndjson', 'application/jsonl', 'application/x-ndjson; charset=utf-8', 'application/json', 'text/plain', 'application/octet-stream'];

type Body = string | Uint8Array;
interface Sent {
  readonly body?: Body;
  /** The media type; none sent when undefined. */
  readonly type?: string | undefined;
}
const concat = (parts: readonly Body[], separator: string): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.flatMap((p, i) => [...(i > 0 ? [Buffer.from(separator)] : []), Buffer.from(p)])));

/** The schemas a route's body follows: the JSON body's, or an NDJSON line's. */
function bodySchema(spec: AdminRouteSpec, op: Operation, ops: ReadonlyMap<string, Operation>): JsonSchema | undefined {
  if (spec.body === 'none') return undefined;
  const from = spec.body === 'ndjson' ? (spec.lines ? ops.get(spec.lines) : undefined) : op;
  const schema = from?.requestBody?.content['application/json']?.schema;
  assert.ok(schema, `a JSON schema for the body (${spec.body}${spec.lines ? ` lines: ${spec.lines}` : ''})`);
  return schema;
}

function hostileBody(spec: AdminRouteSpec, method: string, schema: JsonSchema | undefined, hints: Hints): fc.Arbitrary<Sent> {
  if (spec.body === 'none' || !schema) {
    if (method === 'GET') return fc.constant({}); // fetch sends no body with a GET
    return fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.record({ body: jsonTextOf(wildJsonValue), type: fc.constantFrom('application/json', 'text/plain') }) });
  }
  if (spec.body === 'ndjson') {
    const line = fc.oneof(
      { weight: 6, arbitrary: fromSchema(schema, hints).map((d) => JSON.stringify(d) ?? 'null') },
      { weight: 2, arbitrary: jsonTextOf(fromSchema(schema, hints), hints) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', '\r') },
    );
    return fc.record({
      body: fc.tuple(fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n', '\n\n'), fc.boolean()).map(([lines, sep, end]) => concat(end ? [...lines, ''] : lines, sep)),
      type: fc.oneof({ weight: 6, arbitrary: fc.constant('application/x-ndjson') }, { weight: 2, arbitrary: fc.constantFrom(...NDJSON_TYPES) }, { weight: 1, arbitrary: fc.constant(undefined) }),
    });
  }
  return fc.record({
    body: jsonTextOf(fromSchema(schema, hints), hints),
    type: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/merge-patch+json') },
      { weight: 3, arbitrary: fc.constantFrom(...JSON_TYPES) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
  });
}

/**
 * A body a careful client would send: what the schema accepts, with the hints;
 * a field named like a path parameter names the same thing (a PUT's customer_id).
 */
function plausibleBody(spec: AdminRouteSpec, method: string, schema: JsonSchema | undefined, hints: Hints): fc.Arbitrary<(params: Record<string, string>) => Sent> {
  if (spec.body === 'none' || !schema) return fc.constant(() => ({}));
  const document = plausibleFromSchema(schema, hints);
  const samePath = (d: unknown, params: Record<string, string>) => {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) return d;
    const out: Record<string, unknown> = { ...d };
    for (const [name, value] of Object.entries(params)) if (name in out) out[name] = value;
    return out;
  };
  if (spec.body === 'ndjson') {
    return fc.array(document, { minLength: 1, maxLength: 4 }).map((lines) => () => ({ body: `${lines.map((d) => JSON.stringify(d)).join('\n')}\n`, type: 'application/x-ndjson' }));
  }
  const type = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  return document.map((d) => (params: Record<string, string>) => ({ body: JSON.stringify(samePath(d, params)), type }));
}

type Auth = 'write' | 'read' | 'other';

interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly auth: Auth;
  readonly authorization?: string;
  readonly headers: Record<string, string>;
  readonly body?: Body;
}

const headerText = fc.string({ unit: fc.constantFrom(...' !#$%&\'()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~"\u00e9\u00ff'), maxLength: 40 });

/**
 * Requests to one route: plausible ones (ids that exist, values of the right
 * types, the write token: they reach the services and the store, and many
 * succeed) and hostile ones (every part of the request free).
 */
function requests(method: string, url: string, spec: AdminRouteSpec, op: Operation, ops: ReadonlyMap<string, Operation>, known: Known, tokens: { write: string; read: string }): fc.Arbitrary<AdminRequest> {
  const hints: Hints = { ...sharedHints(known), ...spec.hints?.(known) };
  const schema = bodySchema(spec, op, ops);
  const names = [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string);
  const resource = (name: string) => spec.params?.[name] ?? 'customers';
  const fill = (values: readonly string[]) => {
    let i = 0;
    return url.replace(/:([A-Za-z_]+)/g, () => values[i++] as string);
  };
  const write: [Auth, string] = ['write', `Bearer ${tokens.write}`];
  const plausible = fc
    .record({
      params: fc.tuple(...names.map((name) => fc.constantFrom(...known[resource(name)], 'none-known'))),
      query: plausibleQuery(op, hints),
      body: plausibleBody(spec, method, schema, hints),
    })
    .map(({ params, query, body }) => ({
      path: fill(params.map(encodeURIComponent)),
      query,
      auth: write,
      headers: {},
      body: body(Object.fromEntries(names.map((name, i) => [name, params[i] as string]))),
    }));
  const hostile = fc.record({
    path: fc.tuple(...names.map((name) => hostileSegment(known, resource(name)))).map(fill),
    query: hostileQuery(op, hints),
    auth: fc.oneof(
      { weight: 10, arbitrary: fc.constant(write) },
      { weight: 1, arbitrary: fc.constant<[Auth, string]>(['read', `Bearer ${tokens.read}`]) },
      { weight: 1, arbitrary: fc.constantFrom<[Auth, string]>(['other', 'Bearer'], ['other', 'Bearer nope'], ['other', 'Basic YTpi'], ['other', `Bearer ${tokens.write} x`], ['other', `Bearer ${'x'.repeat(5_000)}`]) },
    ),
    headers: fc.record(
      {
        'if-match': fc.oneof(fc.constantFrom('*', '"nope"', 'W/"x"', ',', '"a", "b"', ''), headerText),
        'if-none-match': fc.constantFrom('"nope"', 'W/"x"'),
        'x-request-id': fc.oneof(headerText, fc.integer({ min: 300, max: 8_000 }).map((n) => 'r'.repeat(n))),
        accept: fc.constantFrom('text/html', 'application/xml', '*/*', 'application/json;q=0'),
      },
      { requiredKeys: [] },
    ),
    body: hostileBody(spec, method, schema, hints),
  });
  return fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile }).map(({ path, query, auth: [kind, authorization], headers, body }) => ({
    method,
    path,
    query,
    auth: kind,
    authorization,
    headers: { ...(headers as Record<string, string>), ...(body.type === undefined ? {} : { 'content-type': body.type }) },
    ...(body.body === undefined ? {} : { body: body.body }),
  }));
}

async function send(service: TestService, req: AdminRequest): Promise<WireResponse> {
  const url = `${service.url}${req.path}${req.query === '' ? '' : `?${req.query}`}`;
  const headers: Record<string, string> = { ...req.headers, ...(req.authorization ? { authorization: req.authorization } : {}) };
  // A body without a type: fetch would label a string text/plain; send bytes, which it leaves unlabelled.
  const body = req.body === undefined ? undefined : headers['content-type'] === undefined ? Buffer.from(req.body) : req.body;
  return toWire(await fetch(url, { method: req.method, headers, body }));
}

function describeRequest(req: AdminRequest, res: WireResponse): string {
  const body = req.body === undefined ? '' : typeof req.body === 'string' ? req.body : `<bytes ${Buffer.from(req.body).toString('hex').slice(0, 120)}>`;
  return `${req.method} ${req.path.slice(0, 200)}${req.query ? `?${req.query.slice(0, 200)}` : ''} [${req.auth}] ${JSON.stringify(req.headers).slice(0, 200)} ${JSON.stringify(body.slice(0, 300))} → ${res.status}`;
}

/**
 * fc.assert, reporting the failing request as the property's own message says it
 * (fast-check's report prints the whole counterexample: with a 300 KB string in it,
 * unreadable).
 */
async function holds<T>(property: fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  const details = await fc.check(property, { numRuns });
  if (!details.failed) return;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  assert.fail(
    `Property failed after ${details.numRuns} run(s), shrunk ${details.numShrinks} time(s) ` +
      `(replay: { seed: ${details.seed}, path: "${details.counterexamplePath}" }):\n${error.slice(0, 2_000)}`,
  );
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');

for (const kind of storeKinds()) {
  describe(`properties of every admin API route on ${kind}`, () => {
    let db: TestDatabase;
    let service: TestService;
    let tokens: { write: string; read: string };
    let ops: Map<string, Operation>;
    let probes = 0;

    const call = async (method: string, path: string, body?: unknown) =>
      toWire(
        await fetch(`${service.url}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${tokens.write}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
    /**
     * The fixtures each route's run starts from, put back where a run before deleted or
     * changed them (its writes may succeed): ids with Unicode, `%`, `/`, spaces, 255 characters.
     */
    async function provide(): Promise<void> {
      await seed(service.store, [
        { customer_id: 'c1', display_name: 'Ann Example', workers: [ALICE], channels: [{ type: 'sms', value: '+15551230001' }] },
        { customer_id: 'c2', display_name: '100% "Juice"_Bar\\', workers: [ALICE, BOB] },
        { customer_id: 'ünï-😀', display_name: 'Ünï Cödé', workers: [BOB] },
        { customer_id: '100%', display_name: 'Percent', workers: [ALICE] },
        { customer_id: 'a/b', display_name: 'Slash', workers: [ALICE] },
        { customer_id: 'sp ace?&#', display_name: 'Space', workers: [] },
        { customer_id: '€'.repeat(255), display_name: 'Long', workers: [ALICE] },
      ]);
      const fixtures: Array<[string, unknown]> = [
        ['/workers', { identity: ALICE, display_name: 'Alice A.' }],
        ['/workers', { identity: BOB }],
        ['/workers', { identity: 'ünï@example.com', state: 'deactivated', available: false }],
        ['/template-categories', { display_name: 'Openers', templates: [{ content: 'Hello {{customer.first_name}}' }, { content: 'Hi' }] }],
        ['/template-categories', { display_name: 'Closers', templates: [{ content: 'Bye from {{worker.first_name}}', whatsAppApproved: true }] }],
        ['/senders', { channel_type: 'sms', address: '+15550000001' }],
        ['/senders', { channel_type: 'whatsapp', address: 'whatsapp:+15550000002', worker: ALICE, countries: ['US'] }],
      ];
      for (const [path, body] of fixtures) {
        const res = await call('POST', path, body);
        assert.ok(res.status === 201 || res.status === 409, `${path}: ${res.status} ${res.text}`);
      }
    }

    async function knownNow(): Promise<Known> {
      const [customers, workers, categories, senders] = await Promise.all([
        call('GET', '/customers?page_size=200'),
        call('GET', '/workers?limit=1000'),
        call('GET', '/template-categories'),
        call('GET', '/senders'),
      ]);
      for (const res of [customers, workers, categories, senders]) assert.equal(res.status, 200, res.text);
      const cats = categories.json.categories as Array<{ id: string; templates: Array<{ id: string }> }>;
      return {
        customers: customers.json.customers.map((c: { customer_id: string }) => c.customer_id),
        workers: workers.json.workers.map((w: { identity: string }) => w.identity),
        categories: cats.map((c) => c.id),
        templates: cats.flatMap((c) => c.templates.map((t) => t.id)),
        templatesByCategory: cats.map((c) => c.templates.map((t) => t.id)),
        senders: senders.json.senders.map((s: { address: string }) => s.address),
      };
    }

    /** A normal client's requests: who am I, list, create, read back; and a callback. */
    async function assertStillWorks(): Promise<void> {
      const me = await call('GET', '/me');
      assert.equal(me.status, 200, me.text);
      const list = await call('GET', '/customers?page_size=5');
      assert.equal(list.status, 200, list.text);
      assert.ok(Array.isArray(list.json.customers), list.text);
      const id = `probe-${++probes}`;
      const made = await call('POST', '/customers', { customer_id: id, display_name: 'Probe Customer', workers: [ALICE] });
      assert.equal(made.status, 201, made.text);
      const read = await call('GET', `/customers/${id}`);
      assert.equal(read.status, 200, read.text);
      assert.equal(read.json.display_name, 'Probe Customer');
      const callback = await service.post('/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: id });
      assert.equal(callback.status, 200, callback.text);
    }

    before(async () => {
      db = await createTestDatabase(kind);
      // No authentication slow-down: the run sends a few bad tokens on purpose.
      service = await startService(db, { TWILIO_SMS_NUMBER: '+15550000000' }, { adminThrottle: { freeFailures: Number.MAX_SAFE_INTEGER, windowMs: 1, baseDelayMs: 0, maxDelayMs: 0 } });
      tokens = { write: await makeToken(service, 'props'), read: await makeToken(service, 'props-ro', true) };
      await provide();
      const doc = (await service.get('/api/v1/openapi.json')).json;
      ops = new Map();
      for (const route of service.app.adminRoutes) {
        const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()] as Operation | undefined;
        if (op) ops.set(`${route.method} ${route.url}`, { parameters: op.parameters ?? [], ...(op.requestBody ? { requestBody: op.requestBody } : {}) });
      }
    });
    after(async () => {
      await service?.close();
      await db?.drop();
    });

    test('every admin route the app registers has a generator that matches its OpenAPI description', () => {
      const registered = service.app.adminRoutes.map((r) => `${r.method} ${r.url}`);
      assert.ok(registered.length >= 30, `${registered.length} routes`);
      const missing = registered.filter((r) => !SPECS[r]);
      assert.deepEqual(missing, [], `admin routes without a generator in SPECS (test/properties-admin.test.ts): ${missing.join(', ')}`);
      assert.deepEqual(Object.keys(SPECS).filter((r) => !registered.includes(r)), [], 'SPECS describes routes that no longer exist');
      for (const key of registered) {
        const spec = SPECS[key] as AdminRouteSpec;
        const op = ops.get(key);
        assert.ok(op, `${key} is in the OpenAPI document`);
        const types = Object.keys(op.requestBody?.content ?? {});
        const expected = spec.body === 'json' ? ['application/json'] : spec.body === 'ndjson' ? ['application/x-ndjson'] : [];
        assert.deepEqual(types, expected, `${key}: SPECS says body "${spec.body}"`);
        const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name).sort();
        assert.deepEqual(pathParams, Object.keys(spec.params ?? {}).sort(), `${key}: the path parameters SPECS gives values for`);
      }
    });

    test('every admin route: arbitrary requests are answered 2xx or 4xx with a JSON error, never 5xx, then it still works', async (t) => {
      await assertStillWorks();
      for (const route of service.app.adminRoutes) {
        const key = `${route.method} ${route.url}`;
        await t.test(key, async (sub) => {
          const spec = SPECS[key];
          assert.ok(spec, `${key} has no generator in SPECS`);
          const op = ops.get(key);
          assert.ok(op, `${key} is in the OpenAPI document`);
          await provide();
          const known = await knownNow();
          // What the run reached: statuses and error codes (a route answered only 400s would test little).
          const seen = new Map<string, number>();
          await holds(
            fc.asyncProperty(requests(route.method, route.url, spec, op, ops, known, tokens), async (req) => {
              const res = await send(service, req);
              const never = req.auth === 'write' ? ['UNAUTHORIZED', 'READ_ONLY_TOKEN'] : req.auth === 'read' ? ['UNAUTHORIZED'] : [];
              assertClean(res, describeRequest(req, res), { never });
              const outcome = res.status < 400 ? String(res.status) : `${res.status} ${res.json.error.code}`;
              seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
            }),
            NUM_RUNS,
          );
          sub.diagnostic([...seen].sort().map(([outcome, n]) => `${outcome} ×${n}`).join(', '));
          await assertStillWorks();
        });
      }
    });
  });
}
