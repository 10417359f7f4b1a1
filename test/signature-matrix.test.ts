/**
 * X-Twilio-Signature, as an attacker would try it (issue 14 items 8 and 9):
 * only the genuine request passes. On both stores, through the real HTTP stack.
 *
 * Three deployments:
 * - `pub`: PUBLIC_URL set (the normal case); X-Forwarded-* from anyone is ignored;
 * - `proxied`: no PUBLIC_URL, TRUSTED_PROXIES=loopback: the URL is rebuilt from
 *   the X-Forwarded-Proto/Host the (local) proxy sends;
 * - `elsewhere`: no PUBLIC_URL, TRUSTED_PROXIES names another address: requests
 *   from here did not come through the proxy and are refused, whatever they claim.
 *
 * Known-answer signatures: fixed vectors, computed independently of the twilio
 * package and of src/ (see KNOWN_ANSWERS), so a change that breaks both the
 * service and the test helper the same way still fails here.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import twilio from 'twilio';
import { TwilioSignatures } from '../src/transports/http/twilio-signature.js';
import { type Params, postForm, sign, startService, type TestService } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, seed, storeKinds, TEST_PUBLIC_URL, type TestDatabase } from './helpers/stores.js';

const ALICE = 'alice@example.com';
const LIST: Params = { Location: 'GetCustomersList', Worker: ALICE, PageSize: '5' };
const PROXY_BASE = 'https://fis.example.com';
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'fis.example.com' };

/**
 * Known answers. Each signature is base64(HMAC-SHA1(key = auth token, message =
 * URL followed by every parameter name and value, in name order)), computed
 * outside this code base: with Python's hmac/hashlib
 * (`base64.b64encode(hmac.new(token.encode(), (url + ''.join(k + p[k] for k in
 * sorted(p))).encode('utf-8'), hashlib.sha1).digest())`) and checked with a
 * one-line node:crypto createHmac('sha1', token) over the same string. Token:
 * AUTH_TOKEN of test/helpers/stores.ts ('test-auth-token-0123456789abcdef').
 */
const KNOWN_ANSWERS: { url: string; params: Record<string, string>; signature: string }[] = [
  { url: `${TEST_PUBLIC_URL}/callbacks/crm`, params: { Location: 'GetCustomersList', Worker: ALICE, PageSize: '5' }, signature: 'aV3LW+Pp6YAZBQ4LwwQVv+9Fbmg=' },
  {
    url: `${TEST_PUBLIC_URL}/callbacks/crm?tenant=a`,
    params: { Location: 'GetCustomerDetailsByCustomerId', Worker: ALICE, CustomerId: '1' },
    signature: 'cjzmyB5G6lnS25dgsvkIkb82vPM=',
  },
  { url: `${TEST_PUBLIC_URL}/callbacks/templates`, params: { Location: 'GetTemplates', Worker: ALICE, CustomerId: '1' }, signature: 'PrdN3OETAZoXfl6abf61t6RVjSQ=' },
  {
    url: `${TEST_PUBLIC_URL}/callbacks/crm`,
    params: { Location: 'GetCustomersList', Worker: ALICE, Query: 'Zoë & Ann=100% "q"' },
    signature: 'IsrIJFyQahVLK+r3yYKffX2i5No=',
  },
  { url: `${TEST_PUBLIC_URL}/callbacks/crm`, params: {}, signature: 'ZSvEipltEKpYaNN/cSUtRTke/3Y=' },
];

describe('known-answer signatures', () => {
  test('the vectors are what HMAC-SHA1 over url + sorted name/value pairs gives', () => {
    // A third computation, spelled out here, so that a wrong vector is caught before it is blamed on the service.
    for (const { url, params, signature } of KNOWN_ANSWERS) {
      const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
      assert.equal(createHmac('sha1', AUTH_TOKEN).update(data, 'utf8').digest('base64'), signature, url);
    }
  });
  test("the service's signer and the twilio package both give the vectors", () => {
    const ours = new TwilioSignatures(AUTH_TOKEN);
    for (const { url, params, signature } of KNOWN_ANSWERS) {
      assert.equal(ours.expected(url, params), signature, url);
      assert.equal(twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params), signature, url);
      assert.ok(ours.isValid(signature, url, params));
      assert.ok(!ours.isValid(signature, `${url}x`, params));
    }
  });
});

for (const kind of storeKinds()) {
  describe(`signature matrix on ${kind}`, () => {
    let db: TestDatabase;
    let pub: TestService;
    let proxied: TestService;
    let elsewhere: TestService;

    before(async () => {
      db = await createTestDatabase(kind);
      pub = await startService(db);
      proxied = await startService(db, { TRUSTED_PROXIES: 'loopback' });
      elsewhere = await startService(db, { TRUSTED_PROXIES: '10.9.9.9' });
      await seed(pub.store, [{ customer_id: '1', display_name: 'Ann', workers: [ALICE] }]);
    });
    after(async () => {
      await pub?.close();
      await proxied?.close();
      await elsewhere?.close();
      await db?.drop();
    });

    /** Sends `body` to `path` of `target`, signed for `signedUrl` over `signedParams`. */
    const send = (
      target: TestService,
      path: string,
      body: Params,
      opts: { signedUrl?: string; signedParams?: Params; token?: string; signature?: string | false; headers?: Record<string, string> } = {},
    ) => {
      const signature =
        opts.signature !== undefined ? opts.signature : sign(opts.signedUrl ?? `${TEST_PUBLIC_URL}${path}`, opts.signedParams ?? body, opts.token ?? AUTH_TOKEN);
      return postForm(target.url, path, body, { signature, ...(opts.headers ? { headers: opts.headers } : {}) });
    };
    const refused = async (res: Promise<{ status: number; json: { error?: { code: string } } }>, label: string) => {
      const r = await res;
      assert.equal(r.status, 403, `${label}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error?.code, 'INVALID_SIGNATURE', label);
    };

    test('PUBLIC_URL: the genuine request passes, every variation is refused', async () => {
      const genuine = await send(pub, '/callbacks/crm', LIST);
      assert.equal(genuine.status, 200, genuine.text);
      assert.equal(genuine.json.objects.customers.length, 1);

      await refused(send(pub, '/callbacks/crm', LIST, { token: 'another-accounts-token-0123456789' }), 'wrong token');
      await refused(send(pub, '/callbacks/crm', LIST, { signedUrl: 'https://other.example.com/callbacks/crm' }), 'wrong URL');
      await refused(send(pub, '/callbacks/crm', { ...LIST, Worker: 'bob@example.com' }, { signedParams: LIST }), 'altered parameter');
      await refused(send(pub, '/callbacks/crm', { ...LIST, Query: 'Ann' }, { signedParams: LIST }), 'added parameter');
      const { PageSize: _removed, ...fewer } = LIST;
      await refused(send(pub, '/callbacks/crm', fewer, { signedParams: LIST }), 'removed parameter');
      await refused(send(pub, '/callbacks/crm', { ...LIST, PageSize: ['5', '6'] }, { signedParams: LIST }), 'parameter repeated');
      await refused(send(pub, '/callbacks/crm', LIST, { signature: false }), 'missing header');
      await refused(send(pub, '/callbacks/crm', LIST, { signature: '' }), 'empty header');
      await refused(send(pub, '/callbacks/crm', LIST, { signature: sign(`${TEST_PUBLIC_URL}/callbacks/crm`, LIST).slice(0, -2) }), 'truncated');
      // Replay of a genuine signature to other routes, and to the same route with another query or path spelling.
      const crmSignature = sign(`${TEST_PUBLIC_URL}/callbacks/crm`, LIST);
      for (const path of ['/callbacks/templates', '/callbacks/outgoing-conversation', '/callbacks/routing', '/callbacks/conversations', '/callbacks/crm?x=1', '/callbacks/crm/']) {
        await refused(send(pub, path, LIST, { signature: crmSignature }), `replayed to ${path}`);
      }
      // Scheme, host and port variants of the public URL.
      for (const base of ['http://fis.test.example', 'https://www.fis.test.example', 'https://fis.test.example:8443', 'https://fis.test.example.evil.com', 'http://127.0.0.1']) {
        await refused(send(pub, '/callbacks/crm', LIST, { signedUrl: `${base}/callbacks/crm` }), `signed for ${base}`);
      }
      // Forwarded headers from an untrusted peer change nothing: the URL is PUBLIC_URL.
      await refused(
        send(pub, '/callbacks/crm', LIST, {
          signedUrl: 'https://other.example.com/callbacks/crm',
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'other.example.com', host: 'other.example.com' },
        }),
        'another URL of the account, with matching X-Forwarded-* and Host',
      );
      // The with-port spelling Twilio sometimes signs (default port) is the same URL: accepted.
      const withPort = await send(pub, '/callbacks/crm', LIST, { signedUrl: `${TEST_PUBLIC_URL}:443/callbacks/crm` });
      assert.equal(withPort.status, 200);
    });

    test('behind a trusted proxy (no PUBLIC_URL): the URL the proxy forwards decides', async () => {
      const genuine = await send(proxied, '/callbacks/crm', LIST, { signedUrl: `${PROXY_BASE}/callbacks/crm`, headers: FORWARDED });
      assert.equal(genuine.status, 200, genuine.text);
      for (const base of ['http://fis.example.com', 'https://fis.example.com:8443', 'https://other.example.com', proxied.url]) {
        await refused(send(proxied, '/callbacks/crm', LIST, { signedUrl: `${base}/callbacks/crm`, headers: FORWARDED }), `signed for ${base}`);
      }
      await refused(
        send(proxied, '/callbacks/templates', LIST, { signature: sign(`${PROXY_BASE}/callbacks/crm`, LIST), headers: FORWARDED }),
        'replayed to another route',
      );
      const withPort = await send(proxied, '/callbacks/crm', LIST, {
        signedUrl: `${PROXY_BASE}:443/callbacks/crm`,
        headers: FORWARDED,
      });
      assert.equal(withPort.status, 200);
    });

    test('not from a trusted proxy (no PUBLIC_URL): refused, whatever the headers claim', async () => {
      await refused(send(elsewhere, '/callbacks/crm', LIST, { signedUrl: `${elsewhere.url}/callbacks/crm` }), 'signed for the URL as received');
      await refused(
        send(elsewhere, '/callbacks/crm', LIST, { signedUrl: `${PROXY_BASE}/callbacks/crm`, headers: FORWARDED }),
        'signed for the URL claimed in X-Forwarded-*',
      );
    });

    test('known-answer signatures are accepted at the wire, and nothing else', async () => {
      for (const { url, params, signature } of KNOWN_ANSWERS.slice(0, 2)) {
        const path = url.slice(TEST_PUBLIC_URL.length);
        const ok = await postForm(pub.url, path, params, { signature });
        assert.equal(ok.status, 200, `${url}: ${ok.text}`);
        await refused(postForm(pub.url, path, { ...params, Worker: 'bob@example.com' }, { signature }), `${url} altered`);
      }
    });
  });
}
