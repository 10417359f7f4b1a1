/**
 * What the property tests share (test/properties.test.ts for the callbacks,
 * test/properties-admin.test.ts for the admin API): hostile text, hostile JSON
 * (as values and as raw text), values shaped by a JSON Schema with wild leaves,
 * and the check every answer must pass.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ERROR_CODES } from '../../src/kernel/errors.js';
import type { WireResponse } from './service.js';

export const ALICE = 'alice@example.com';
const SIDS = ['CH0123456789abcdef0123456789abcdef', 'MB0123456789abcdef0123456789abcdef'];
const LOCATIONS = ['GetCustomersList', 'GetCustomerDetailsByCustomerId', 'GetProxyAddress', 'GetTemplates', 'GetTemplatesByCustomerId'];
/** Values worth trying for each callback field (the customers the property tests seed: c1, c2; reps alice and bob). */
export const CALLBACK_PLAUSIBLE: Record<string, readonly string[]> = {
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

/** Lone surrogates become U+FFFD, as any UTF-8 encoder (URLSearchParams included) sends them. */
export function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Text as a client could send it: every Unicode code point, control characters and NUL included; well-formed. */
export const wildText = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\t', '\n', '\r', '\u2028', '\ufeff', '\ufffd', '&', '=', '+', '%', '#', '?', '\\', '"', "'"), maxLength: 12 }) },
    { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.bigInt()).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', 'undefined', '[]', '{}', '__proto__', 'constructor', 'toString') },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'é', '😀', '%'), fc.integer({ min: 256, max: 70_000 })).map(([c, n]) => c.repeat(n)) },
  )
  .map(wellFormed);

/** Arbitrary JSON documents, Unicode and NUL included (for JSON routes, and as the wrong media type for form ones). */
export const jsonBody = fc.json({ maxDepth: 3 }).map(wellFormed);

/** A few hundred KB of one character (UTF-8: up to 4 bytes each; NUL: 6 bytes of JSON escape each). */
export const hugeText = fc
  .tuple(fc.constantFrom('a', 'é', '😀', ' ', '\u0000', '{{customer.first_name}}'), fc.integer({ min: 20_000, max: 300_000 }))
  .map(([c, n]) => c.repeat(Math.max(1, Math.floor(n / c.length))));

/**
 * Text a JSON string can carry and a form cannot: besides `wildText`, lone
 * surrogates (JSON.stringify writes them as `\ud800` escapes, which any JSON
 * parser reads back as they were) and huge strings.
 */
export const jsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: wildText },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a', '\u0000', ' '), minLength: 1, maxLength: 6 }) },
  { weight: 1, arbitrary: hugeText },
);

/** Object keys: hostile text, and the names prototype pollution and naive merges trip on. */
export const jsonKey = fc.oneof(
  { weight: 3, arbitrary: wildText.filter((k) => k.length < 300) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '$ref', 'a.b', 'a[0]') },
);

/** Any JSON value: nested arrays and objects, hostile strings and keys, numbers at the edges of what JSON holds. */
export const wildJsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    {
      weight: 4,
      arbitrary: fc.oneof(
        jsonText,
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, 5e-324, 0.5),
      ),
    },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(jsonKey, tie('value'), { maxKeys: 4 }) },
  ),
})).value;

/** A JSON Schema, as far as the service's route schemas (and so its OpenAPI document) use it. */
export interface JsonSchema {
  type?: string;
  enum?: readonly unknown[];
  anyOf?: readonly JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
  maxProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/**
 * Values worth trying for a field (an id that exists, a valid phone number, …),
 * by its path in the document (`links[].value`) or by its last step (`value`).
 * An array's items are named after it with `[]` (`workers[]`); a hint for the
 * array's own name stands for the whole array (`ids`: every id, reordered).
 */
export type Hints = Readonly<Record<string, fc.Arbitrary<unknown>>>;

function hintFor(hints: Hints, path: string | undefined): fc.Arbitrary<unknown> | undefined {
  if (path === undefined) return undefined;
  return hints[path] ?? hints[path.slice(path.lastIndexOf('.') + 1)];
}

const child = (path: string | undefined, key: string) => (path === undefined || path === '' ? key : `${path}.${key}`);
const items = (path: string | undefined) => `${path ?? ''}[]`;

const stringOfLength = (n: number) => fc.constantFrom('x', 'é', '😀').map((c) => c.repeat(Math.ceil(n / c.length)).slice(0, n));

/**
 * Values shaped by `schema`, so that many get past the schema into the domain
 * validators, the services and the store; at every level a wild JSON value may
 * stand in instead (an array where an object goes, a number where a string
 * goes), required fields go missing, unknown ones appear, limits are crossed.
 * `hints` adds values worth trying for a field of that name.
 */
export function fromSchema(schema: JsonSchema, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  const hint = hintFor(hints, name);
  const shaped = shapedBy(schema, hints, name);
  return fc.oneof(
    { weight: 6, arbitrary: hint ? fc.oneof(hint, shaped) : shaped },
    { weight: 1, arbitrary: wildJsonValue },
  );
}

/** Short, ordinary text (some of it not ASCII). */
function plainText(minLength = 1, maxLength = 16): fc.Arbitrary<string> {
  const min = Math.max(1, minLength);
  return fc.string({ unit: fc.constantFrom(...'abcdefxyzABCXYZ0123456789 ._-éü€'), minLength: min, maxLength: Math.max(min, Math.min(maxLength, 16)) });
}

/**
 * Values `schema` accepts (as far as a schema can say: what the domain then makes
 * of them is up to it), with `hints` for the fields they name: the requests a
 * careful client would send, which get through to the services and the store
 * and may succeed.
 */
export function plausibleFromSchema(schema: JsonSchema, hints: Hints, name?: string): fc.Arbitrary<unknown> {
  const hint = hintFor(hints, name);
  if (hint) return hint;
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((branch) => plausibleFromSchema(branch, hints, name)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? 0;
      return fc.integer({ min, max: Math.min(schema.maximum ?? min + 100, min + 100) });
    }
    case 'string':
      return plainText(schema.minLength, schema.maxLength);
    case 'array': {
      const min = schema.minItems ?? 0;
      return fc.array(plausibleFromSchema(schema.items ?? {}, hints, items(name)), { minLength: min, maxLength: Math.max(min, 3) });
    }
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const required = new Set(schema.required ?? []);
      const known = fc.record(
        Object.fromEntries(properties.map(([key, s]) => [key, plausibleFromSchema(s, hints, child(name, key))])),
        { requiredKeys: properties.map(([key]) => key).filter((key) => required.has(key)) },
      );
      if (typeof schema.additionalProperties !== 'object') return known;
      const extra = fc.dictionary(plainText(), plausibleFromSchema(schema.additionalProperties, hints), { maxKeys: Math.min(3, schema.maxProperties ?? 3) });
      return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
    }
    default:
      return fc.constant(null);
  }
}

function shapedBy(schema: JsonSchema, hints: Hints, name: string | undefined): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((branch) => shapedBy(branch, hints, name)));
  if (schema.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...schema.enum) }, { weight: 1, arbitrary: jsonText });
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 0, 1) });
    case 'integer':
    case 'number': {
      const edges = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined).flatMap((n) => [n - 1, n, n + 1]);
      return fc.oneof(
        fc.integer({ min: -2, max: 300 }),
        fc.constantFrom(...edges, 0, -1, 2 ** 31, 2 ** 53 + 2, 1e308, 0.5, -0),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer().map(String),
      );
    }
    case 'string': {
      const limits = [schema.minLength, schema.maxLength].filter((n): n is number => n !== undefined).flatMap((n) => [n, n + 1]);
      return fc.oneof(
        { weight: 6, arbitrary: jsonText },
        { weight: limits.length > 0 ? 1 : 0, arbitrary: limits.length > 0 ? fc.constantFrom(...limits).chain(stringOfLength) : fc.constant('') },
        { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)) },
      );
    }
    case 'array': {
      const item = schema.items ? fromSchema(schema.items, hints, items(name)) : wildJsonValue;
      return fc.oneof(
        { weight: 6, arbitrary: fc.array(item, { minLength: schema.minItems ?? 0, maxLength: 4 }) },
        { weight: 1, arbitrary: fc.array(item, { maxLength: 0 }) },
        { weight: 1, arbitrary: fc.array(fc.constant(null), { minLength: 50, maxLength: 2_000 }) },
      );
    }
    case 'object':
      return objectShapedBy(schema, hints, name);
    default:
      return wildJsonValue;
  }
}

function objectShapedBy(schema: JsonSchema, hints: Hints, name: string | undefined): fc.Arbitrary<unknown> {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const known = fc.record(
    Object.fromEntries(properties.map(([key, s]) => [key, fromSchema(s, hints, child(name, key))])),
    { requiredKeys: properties.map(([key]) => key).filter((key) => required.has(key)) },
  );
  const extraValue = typeof schema.additionalProperties === 'object' ? fromSchema(schema.additionalProperties, hints) : wildJsonValue;
  const names = Object.keys(hints).filter((k) => /^[A-Za-z_]+$/.test(k));
  const extraKeys = names.length > 0 ? fc.oneof(jsonKey, fc.constantFrom(...names)) : jsonKey;
  const open = typeof schema.additionalProperties === 'object';
  const extra = fc.dictionary(extraKeys, extraValue, { maxKeys: open ? (schema.maxProperties ?? 10) + 5 : 2, noNullPrototype: false });
  return fc
    .tuple(known, fc.oneof({ weight: open ? 1 : 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extra }), fc.option(fc.constantFrom(...(required.size > 0 ? required : ['-'])), { freq: 8 }))
    .map(([k, e, drop]) => {
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(e)) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      for (const [key, v] of Object.entries(k)) if (v !== undefined) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      if (drop !== null) delete out[drop];
      return out;
    });
}

/** An object as JSON text with one key written twice (a last-one-wins parser sees the second value). */
function withDuplicateKey(value: unknown, key: string, second: unknown): string {
  const entries = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.entries(value) : [];
  const all: Array<[string, unknown]> = [...entries, [key, second], ...(entries.length > 0 ? [entries[0] as [string, unknown]] : [])];
  return `{${all.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
}

/** Raw JSON text around `document`: itself, with duplicate keys, broken, nested deep, or not JSON at all. */
export function jsonTextOf(document: fc.Arbitrary<unknown>, hints: Hints = {}): fc.Arbitrary<string | Uint8Array> {
  const names = Object.keys(hints).filter((k) => /^[A-Za-z_]+$/.test(k));
  const keys = names.length > 0 ? fc.oneof(fc.constantFrom(...names), jsonKey) : jsonKey;
  return fc.oneof(
    { weight: 12, arbitrary: document.map((d) => JSON.stringify(d) ?? 'null') },
    { weight: 2, arbitrary: wildJsonValue.map((d) => JSON.stringify(d) ?? 'null') },
    { weight: 2, arbitrary: fc.tuple(document, keys, fc.oneof(document, wildJsonValue)).map(([d, k, v]) => withDuplicateKey(d, k, v)) },
    {
      weight: 2,
      arbitrary: fc.tuple(document.map((d) => JSON.stringify(d) ?? 'null'), fc.nat(), fc.constantFrom('cut', 'trailing', 'bom', 'comment', 'single')).map(([text, at, how]) => {
        if (how === 'cut') return text.slice(0, at % Math.max(1, text.length));
        if (how === 'trailing') return `${text},`;
        if (how === 'bom') return `\ufeff${text}`;
        if (how === 'comment') return `/* x */${text}`;
        return text.replace(/"/g, "'");
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', 'null', '[]', '{}', '0', '"x"', 'NaN', 'Infinity', 'undefined', '{"a":1}{"a":2}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '\u0000'),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('[', '{"a":', '{"__proto__":', '{"constructor":'), fc.integer({ min: 100, max: 150_000 })).map(([open, n]) => {
        const close = open === '[' ? ']' : '}';
        return `${open.repeat(n)}${open === '[' ? '' : '1'}${close.repeat(n)}`;
      }),
    },
    { weight: 1, arbitrary: wildText },
    {
      weight: 1,
      // Not UTF-8: a lone continuation byte, an overlong encoding, an encoded surrogate, a truncated sequence.
      arbitrary: fc.tuple(document.map((d) => JSON.stringify(d) ?? 'null'), fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0xff], [0x00])).map(([text, bytes]) => {
        const at = Math.max(0, text.indexOf('"') + 1);
        const head = Buffer.from(text.slice(0, at));
        return new Uint8Array(Buffer.concat([head, Buffer.from(bytes), Buffer.from(text.slice(at))]));
      }),
    },
  );
}

export interface CleanOptions {
  /** Error codes that would mean the property tested nothing (a genuine signature refused, a valid token refused). */
  readonly never?: readonly string[];
}

/** The property: 2xx, or 4xx with the service's JSON error; never 3xx, never 5xx. */
export function assertClean(res: WireResponse, label: string, options: CleanOptions = {}): void {
  assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), `${label}: ${res.status} ${res.text.slice(0, 300)}`);
  if (res.status >= 400) {
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${label}: ${res.status} ${res.text.slice(0, 200)}`);
    const error = res.json?.error;
    assert.equal(typeof error?.code, 'string', `${label}: ${res.status} ${res.text.slice(0, 200)}`);
    assert.ok(Object.hasOwn(ERROR_CODES, error.code), `${label}: ${error.code} is not in the error catalogue`);
    assert.equal(typeof error.message, 'string', label);
    if (error.problems !== undefined) {
      assert.ok(Array.isArray(error.problems), label);
      for (const p of error.problems) assert.equal(typeof p.message, 'string', `${label}: ${JSON.stringify(p)}`);
    }
    for (const code of options.never ?? []) assert.notEqual(error.code, code, `${label}: ${res.text.slice(0, 300)}`);
  }
}
