/**
 * Text no store can hold, sent to the admin API, on both stores: a NUL
 * (PostgreSQL refuses it in text: it was a 500 there, from the path, the query
 * or a body field used for a lookup) and a lone surrogate (`\ud800` in JSON: the
 * driver writes U+FFFD in its place, so the customer written could not be read
 * back, a 500 on both stores). Both are refused where they come in, 400
 * INVALID_ENCODING naming where, as the callbacks' form parser refuses them;
 * the NDJSON import refuses them line by line. Found by test/properties-admin.test.ts.
 * A JSON body that is not UTF-8 is refused whole (it was decoded with U+FFFD and stored).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adminClient, makeToken } from './helpers/admin.js';
import { useService, type WireResponse } from './helpers/service.js';
import { seed, storeKinds } from './helpers/stores.js';
import { findUnstorable } from '../src/transports/http/admin/validation.js';

const ALICE = 'alice@example.com';

function refused(res: WireResponse, position: string, field: string | undefined, what: RegExp): void {
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json.error.code, 'INVALID_ENCODING', res.text);
  assert.match(res.json.error.message, what);
  assert.deepEqual(res.json.error.problems.map((p: { position: string; field?: string }) => [p.position, p.field]), [[position, field]]);
}

for (const kind of storeKinds()) {
  describe(`NUL and lone surrogates in the admin API on ${kind}`, () => {
    const fx = useService(kind, {
      setup: (s) => seed(s.store, [{ customer_id: 'c1', display_name: 'Ann', workers: [ALICE] }]),
    });
    const api = async () => adminClient(fx.service, await makeToken(fx.service, `t-${Math.random()}`));

    test('a NUL in a path parameter: 400, never a 500', async () => {
      const a = await api();
      refused(await a.get('/customers/c1%00'), 'path', 'customer_id', /NUL/);
      refused(await a.delete('/customers/%00'), 'path', 'customer_id', /NUL/);
      refused(await a.get('/workers/%00'), 'path', 'identity', /NUL/);
      refused(await a.delete(`/workers/${encodeURIComponent(ALICE)}/customers/c1%00`), 'path', 'customer_id', /NUL/);
      refused(await a.get('/senders/%2B1555%00'), 'path', 'address', /NUL/);
      refused(await a.get('/templates/%00'), 'path', 'id', /NUL/);
    });

    test('a NUL in the query: 400, never a 500', async () => {
      const a = await api();
      refused(await a.get('/customers?q=Ann%00'), 'query', 'q', /NUL/);
      refused(await a.get('/customers?owner=a%00'), 'query', 'owner', /NUL/);
      refused(await a.get('/customers?q=a&q=%00'), 'query', 'q[1]', /NUL/);
      refused(await a.get('/audit?resource_id=%00'), 'query', 'resource_id', /NUL/);
      refused(await a.get(`/templates/preview?customer_id=c1%00&worker=${encodeURIComponent(ALICE)}`), 'query', 'customer_id', /NUL/);
    });

    test('a NUL in a JSON body, in a value or a name: 400, never a 500', async () => {
      const a = await api();
      refused(await a.post('/templates/preview', { content: 'Hi', customer_id: 'c1\u0000', worker: ALICE }), 'body', 'customer_id', /NUL/);
      refused(await a.post('/customers', { customer_id: 'n1', display_name: 'N', channels: [{ type: 'sms', value: '\u0000' }] }), 'body', 'channels[0].value', /NUL/);
      refused(await a.post('/customers', { customer_id: 'n1', display_name: 'N', 'x\u0000': 1 }), 'body', 'x\u0000', /name.*NUL/);
      // A NUL deep in a nested body is found (and named by its first steps), without recursion.
      const deep = `${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`;
      const res = await a.call('POST', '/customers', { raw: deep });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, 'INVALID_ENCODING');
      assert.match(res.json.error.problems[0].field, /^(\[0\]){20}…$/);
    });

    test('a lone surrogate in a JSON body: 400, and nothing is written', async () => {
      const a = await api();
      refused(await a.post('/customers', { customer_id: 'b\ud800', display_name: 'B' }), 'body', 'customer_id', /lone surrogate/);
      refused(await a.post('/workers', { identity: 'w\udc00@example.com' }), 'body', 'identity', /lone surrogate/);
      refused(await a.patch('/customers/c1', { display_name: 'Ann \ud83d' }), 'body', 'display_name', /lone surrogate/);
      assert.equal((await a.get('/customers/b%EF%BF%BD')).status, 404);
      assert.equal((await a.get('/customers/c1')).json.display_name, 'Ann');
    });

    test('a JSON body that is not UTF-8: 400, and nothing is written (it was decoded with U+FFFD and stored)', async () => {
      const a = await api();
      const bytes = (text: string, bad: number[]) => {
        const [head, tail] = text.split('@');
        return Buffer.concat([Buffer.from(head as string), Buffer.from(bad), Buffer.from(tail as string)]);
      };
      for (const bad of [[0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
        const created = await a.call('POST', '/customers', { raw: bytes('{"customer_id":"u1","display_name":"B@"}', bad) });
        refused(created, 'body', undefined, /not valid UTF-8/);
        const patched = await a.call('PATCH', '/customers/c1', { raw: bytes('{"display_name":"Ann@"}', bad), contentType: 'application/merge-patch+json' });
        refused(patched, 'body', undefined, /not valid UTF-8/);
      }
      assert.equal((await a.get('/customers/u1')).status, 404);
      assert.equal((await a.get('/customers/c1')).json.display_name, 'Ann');
      // Valid UTF-8, a BOM-less body with every width of character, is still read.
      const ok = await a.call('POST', '/customers', { raw: Buffer.from('{"customer_id":"u2","display_name":"é€😀"}') });
      assert.equal(ok.status, 201, ok.text);
      assert.equal((await a.get('/customers/u2')).json.display_name, 'é€😀');
    });

    test('the NDJSON import refuses lone surrogates line by line (two ids that would have become one)', async () => {
      const a = await api();
      const lines = [{ customer_id: 'a\ud800', display_name: 'A' }, { customer_id: 'a\udc00', display_name: 'B' }].map((r) => JSON.stringify(r)).join('\n');
      const res = await a.call('POST', '/customers/import', { raw: lines, contentType: 'application/x-ndjson' });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, 'IMPORT_REJECTED');
      assert.deepEqual(
        res.json.error.problems.map((p: { position: string; field: string; message: string }) => [p.position, p.field, p.message]),
        [1, 2].map((n) => [`line ${n}`, 'customer_id', 'must be Unicode text: a lone surrogate (such as \\ud800) cannot be stored']),
      );
      assert.equal((await a.get('/customers/a%EF%BF%BD')).status, 404);
    });

    test('paired surrogates (an emoji) are text like any other', async () => {
      const a = await api();
      const created = await a.post('/customers', { customer_id: 'smile-😀', display_name: '😀' });
      assert.equal(created.status, 201, created.text);
      assert.equal((await a.get(`/customers/${encodeURIComponent('smile-😀')}`)).json.display_name, '😀');
    });
  });
}

describe('findUnstorable', () => {
  test('walks half a million levels without recursion, and names where', () => {
    const depth = 500_000;
    const found = findUnstorable(JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`));
    assert.equal(found?.path.length, depth);
    assert.equal(findUnstorable(JSON.parse(`${'{"a":'.repeat(depth)}"ok"${'}'.repeat(depth)}`)), undefined);
    assert.deepEqual(findUnstorable({ a: [1, { b: 'x\udbff' }] })?.path, ['a', 1, 'b']);
    assert.deepEqual(findUnstorable({ a: { 'k\u0000': 1 } })?.path, ['a', 'k\u0000']);
    assert.equal(findUnstorable({ a: ['😀', 'é', '\ufffd'] }), undefined);
  });
});
