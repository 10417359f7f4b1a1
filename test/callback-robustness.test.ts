/**
 * No input makes the service answer 5xx or die: every bad request gets a
 * clear JSON 4xx, and the service answers normally afterwards.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { answerClientError } from '../src/transports/http/error-handler.js';
import { encodeForm, postForm, sign, startService, useService } from './helpers/service.js';
import { createTestDatabase, seed, storeKinds } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const LIST = { Location: 'GetCustomersList', Worker: ALICE };

for (const kind of storeKinds()) {
  describe(`bad input on ${kind}`, () => {
    const fx = useService(kind, { setup: (s) => seed(s.store, [{ customer_id: '1', display_name: 'Ann', workers: [ALICE] }]) });
    afterEach(async () => {
      const res = await fx.service.post('/callbacks/crm', LIST);
      assert.equal(res.status, 200, 'the fx.service still answers normally');
      assert.equal(res.json.objects.customers.length, 1);
    });

    const expectError = (res: { status: number; json: { error?: { code: string; message: string } } }, status: number, code: string) => {
      assert.equal(res.status, status, JSON.stringify(res.json));
      assert.equal(res.json.error?.code, code);
      assert.equal(typeof res.json.error?.message, 'string');
    };

    test('missing Location', async () => expectError(await fx.service.post('/callbacks/crm', { Worker: ALICE }), 400, 'BAD_REQUEST'));
    test('missing Worker', async () =>
      expectError(await fx.service.post('/callbacks/crm', { Location: 'GetCustomersList' }), 400, 'BAD_REQUEST'));
    test('empty Worker', async () => expectError(await fx.service.post('/callbacks/crm', { ...LIST, Worker: '' }), 400, 'BAD_REQUEST'));
    test('a field sent twice (wrong type: a list)', async () =>
      expectError(await fx.service.post('/callbacks/crm', { ...LIST, Worker: [ALICE, 'bob@example.com'] }), 400, 'BAD_REQUEST'));
    test('unknown Location is a 422', async () =>
      expectError(await fx.service.post('/callbacks/crm', { ...LIST, Location: 'DeleteEverything' }), 422, 'UNKNOWN_LOCATION'));
    test('an empty body', async () => expectError(await fx.service.post('/callbacks/crm', {}), 400, 'BAD_REQUEST'));

    test('a huge body is a 413', async () => {
      const params = { ...LIST, Query: 'x'.repeat(100_000) };
      expectError(await fx.service.post('/callbacks/crm', params), 413, 'BODY_TOO_LARGE');
    });

    test('JSON instead of a form is a 415', async () => {
      const res = await fx.service.post('/callbacks/crm', LIST, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(LIST),
      });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    test('no content type is a 415', async () => {
      const res = await fetch(`${fx.service.url}/callbacks/crm`, { method: 'POST', body: new Uint8Array(Buffer.from(encodeForm(LIST))) });
      expectError({ status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    test('a charset other than UTF-8 is a 415', async () => {
      const res = await fx.service.post('/callbacks/crm', LIST, {
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=iso-8859-1' },
      });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    test('raw bytes that are not UTF-8 are a 400, never repaired', async () => {
      const body = Buffer.concat([Buffer.from('Location=GetCustomersList&Worker=alice'), Buffer.from([0xff, 0xfe]), Buffer.from('@example.com')]);
      expectError(await fx.service.post('/callbacks/crm', LIST, { body: new Uint8Array(body) }), 400, 'INVALID_ENCODING');
    });

    for (const bad of ['%FF', '%E0%A4%A', '%', '%zz', '%C3']) {
      test(`broken percent-encoding ${bad} is a 400`, async () => {
        const body = `Location=GetCustomersList&Worker=alice${bad}%40example.com`;
        expectError(await fx.service.post('/callbacks/crm', LIST, { body }), 400, 'INVALID_ENCODING');
      });
    }

    // Issue 14 item 3: PostgreSQL cannot hold NUL in text; it gave a 500 there. Refused at the parser on every store.
    for (const [label, field, callback, base] of [
      ['Worker', 'Worker', '/callbacks/crm', LIST],
      ['CustomerId', 'CustomerId', '/callbacks/crm', { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '1' }],
      ['Query', 'Query', '/callbacks/crm', { Location: 'GetCustomersList', Worker: ALICE, Query: 'Ann' }],
      ['a field name', 'Bad\u0000Name', '/callbacks/crm', LIST],
      ['the routing address', 'MessagingBinding.Address', '/callbacks/routing', { ConversationSid: 'CH00000000000000000000000000000000', 'MessagingBinding.Address': '+15551230001' }],
      ['the templates Worker', 'Worker', '/callbacks/templates', { Worker: ALICE, CustomerId: '1' }],
      ['the outgoing CustomerId', 'CustomerId', '/callbacks/outgoing-conversation', { Location: 'GetProxyAddress', Worker: ALICE, CustomerId: '1', ChannelType: 'sms', ChannelValue: '+15551230001' }],
      ['a conversations webhook', 'MessagingBinding.Address', '/callbacks/conversations', { EventType: 'onConversationAdd', 'MessagingBinding.Address': '+15551230001' }],
    ] as const) {
      test(`a NUL character (%00) in ${label} is a 400, on every store`, async () => {
        const params: Record<string, string> = { ...base };
        if (field.includes('\u0000')) params[field] = 'x';
        else params[field] = `${params[field] ?? 'x'}\u0000tail`;
        const res = await fx.service.post(callback, params);
        expectError(res, 400, 'INVALID_ENCODING');
        assert.match(res.json.error.message, /NUL/);
      });
    }
    test('a raw 0 byte in the body is a 400', async () => {
      const body = new Uint8Array(Buffer.concat([Buffer.from('Location=GetCustomersList&Worker=alice'), Buffer.from([0]), Buffer.from('@example.com')]));
      expectError(await fx.service.post('/callbacks/crm', LIST, { body }), 400, 'INVALID_ENCODING');
    });
    test('a percent-encoded lone surrogate (%ED%A0%80) is a 400, never stored or matched', async () => {
      const body = 'Location=GetCustomersList&Worker=alice%ED%A0%80%40example.com';
      expectError(await fx.service.post('/callbacks/crm', LIST, { body }), 400, 'INVALID_ENCODING');
    });

    test('a well-encoded U+FFFD in an identity matches nobody', async () => {
      const res = await fx.service.post('/callbacks/crm', { ...LIST, Worker: 'alice\uFFFD@example.com' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.objects.customers, []);
    });

    // Found by the admin API's property test: Node's HTTP parser refuses these before routing, and
    // Fastify's default answer was {"error": "Request Header Fields Too Large", "statusCode": 431}.
    test("a URL and headers over 16 KB: 431 in the service's error shape, on any route", async () => {
      for (const path of [`/callbacks/crm?tenant=${'a'.repeat(20_000)}`, `/api/v1/customers/${'%F0%9F%98%80'.repeat(2_000)}`]) {
        const res = await fetch(`${fx.service.url}${path}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        expectError({ status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } }, 431, 'HEADERS_TOO_LARGE');
      }
    });
    test("a path parameter over 2048 characters: 414 in the service's error shape", async () => {
      const res = await fetch(`${fx.service.url}/api/v1/customers/${'a'.repeat(3_000)}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      expectError({ status: res.status, json: (await res.json()) as { error?: { code: string; message: string } } }, 414, 'URL_TOO_LONG');
    });
    test("a request whose headers stall (Node's ERR_HTTP_REQUEST_TIMEOUT): 408 in the service's error shape", async () => {
      // Node raises it after headersTimeout (a minute): the handler is given the error Node gives, on a real socket.
      const server = createServer((socket) => {
        // The handler ends with socket.destroy(err), as Node's own does; Node's socket has this listener.
        socket.on('error', () => {});
        const err = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
        answerClientError.call({ log: { debug() {} } } as unknown as FastifyInstance, err, socket);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const raw = await new Promise<string>((resolve, reject) => {
          let text = '';
          const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
          socket.on('data', (chunk) => (text += chunk.toString()));
          socket.on('close', () => resolve(text));
          socket.on('error', reject);
        });
        assert.match(raw, /^HTTP\/1\.1 408 Request Timeout\r\n/);
        expectError({ status: 408, json: JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) }, 408, 'REQUEST_TIMEOUT');
      } finally {
        server.close();
      }
    });
    test("a request that is not HTTP: 400 in the service's error shape", async () => {
      const { port } = new URL(fx.service.url);
      const raw = await new Promise<string>((resolve, reject) => {
        let text = '';
        const socket = connect(Number(port), '127.0.0.1', () => socket.end('NOT HTTP AT ALL\r\n\r\n'));
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);
      assert.match(raw, /content-type: application\/json/i);
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
      expectError({ status: 400, json: body }, 400, 'BAD_REQUEST');
    });

    test('an unknown route is a JSON 404', async () => {
      const res = await fx.service.get('/callbacks/crm');
      expectError(res, 404, 'NOT_FOUND');
    });
  });

  describe(`X-Twilio-Signature on ${kind}`, () => {
    const fx = useService(kind);

    test('missing signature: 403', async () => {
      const res = await fx.service.post('/callbacks/crm', LIST, { signature: false });
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, 'INVALID_SIGNATURE');
    });
    test('wrong signature: 403', async () => {
      const res = await fx.service.post('/callbacks/crm', LIST, { signature: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
      assert.equal(res.status, 403);
    });
    test('signed with another auth token: 403', async () => {
      const res = await fx.service.post('/callbacks/crm', LIST, { authToken: 'someone-elses-token' });
      assert.equal(res.status, 403);
    });
    test('signed for other parameters: 403', async () => {
      const signature = sign(`${fx.service.config.publicUrl}/callbacks/crm`, { ...LIST, Worker: 'bob@example.com' });
      assert.equal((await fx.service.post('/callbacks/crm', LIST, { signature })).status, 403);
    });
    test('signature is checked before the input: an unsigned bad request is a 403, not a 400', async () => {
      const res = await fx.service.post('/callbacks/crm', { ...LIST, PageSize: 'lots' }, { signature: false });
      assert.equal(res.status, 403);
    });
    test('the query string is part of what is signed', async () => {
      const url = `${fx.service.url}/callbacks/crm?tenant=a`;
      const signedFor = `${fx.service.config.publicUrl}/callbacks/crm?tenant=a`;
      const ok = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(signedFor, LIST) },
        body: encodeForm(LIST),
      });
      assert.equal(ok.status, 200);
      const bad = await fetch(`${fx.service.url}/callbacks/crm?tenant=b`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(signedFor, LIST) },
        body: encodeForm(LIST),
      });
      assert.equal(bad.status, 403);
    });
  });

  describe(`PUBLIC_URL behind a TLS-terminating proxy, on ${kind}`, () => {
    const fx = useService(kind, { env: { PUBLIC_URL: 'https://fis.example.com' } });

    test('a request signed for the public URL is accepted', async () => {
      assert.equal((await fx.service.post('/callbacks/crm', LIST)).status, 200);
    });
    test('the with-port form Twilio sometimes signs is accepted too', async () => {
      const res = await postForm(fx.service.url, '/callbacks/crm', LIST, { signedBase: 'https://fis.example.com:443' });
      assert.equal(res.status, 200);
    });
    test('a request signed for the internal address is refused', async () => {
      const res = await postForm(fx.service.url, '/callbacks/crm', LIST);
      assert.equal(res.status, 403);
    });
  });

  describe(`insecure development mode, on ${kind}`, () => {
    test('accepts unsigned callbacks only when explicitly enabled', async () => {
      const db = await createTestDatabase(kind);
      const service = await startService(db, { INSECURE_DEV_MODE: 'true', TWILIO_AUTH_TOKEN: '' });
      try {
        const res = await service.post('/callbacks/crm', LIST, { signature: false });
        assert.equal(res.status, 200);
      } finally {
        await service.close();
        await db.drop();
      }
    });
  });
}
