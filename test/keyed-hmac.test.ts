/**
 * The hot path's own HMAC and Twilio signature must be byte for byte what
 * node:crypto and the twilio helper compute, for every key and input.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import twilio from 'twilio';
import type { FormFields } from '../src/transports/http/form-body.js';
import { TwilioSignatures } from '../src/transports/http/twilio-signature.js';
import { seededRandom } from '../src/application/files/seed.js';
import { KeyedHmac } from '../src/kernel/keyed-hmac.js';

/** Deterministic whole numbers below n, so that a failure can be replayed. */
function random(seed: number) {
  const next = seededRandom(seed);
  return (n: number) => Math.floor(next() * n);
}

const ALPHABET = ['a', 'Z', '0', ' ', '+', '%', '&', '=', 'é', 'ß', '中', '😀', '\n', "'", '.', '@'];

function text(next: (n: number) => number, max: number): string {
  let s = '';
  for (let i = next(max + 1); i > 0; i--) s += ALPHABET[next(ALPHABET.length)];
  return s;
}

describe('KeyedHmac', () => {
  for (const algorithm of ['sha1', 'sha256'] as const) {
    test(`${algorithm}: equals createHmac for keys of 0 to 200 bytes and varied data`, () => {
      const next = random(algorithm === 'sha1' ? 1 : 2);
      for (let keyLength = 0; keyLength <= 200; keyLength++) {
        const key = randomBytes(keyLength);
        const hmac = new KeyedHmac(algorithm, key);
        for (let i = 0; i < 5; i++) {
          const data = text(next, 300);
          assert.deepEqual(hmac.digest(data), createHmac(algorithm, key).update(data).digest(), `key ${keyLength} bytes`);
        }
      }
    });

    test(`${algorithm}: a string key is its UTF-8 bytes, and one instance serves many inputs`, () => {
      const key = 'clé secrète 🔑'.repeat(5);
      const hmac = new KeyedHmac(algorithm, key);
      for (const data of ['', 'a', 'a'.repeat(64), 'b'.repeat(1000), '中文']) {
        assert.deepEqual(hmac.digest(data), createHmac(algorithm, key).update(data).digest());
      }
    });
  }
});

describe('TwilioSignatures', () => {
  const authToken = '12345678901234567890123456789012';
  const signatures = new TwilioSignatures(authToken);
  const urls = [
    'https://example.com/callbacks/crm',
    'https://example.com:443/callbacks/crm?x=1',
    'http://127.0.0.1:3000/callbacks/crm',
    "https://frontline.example.com/callbacks/crm?name=o'brien&a=%20b",
  ];

  test('the fast signature equals getExpectedTwilioSignature, repeated fields included', () => {
    const next = random(3);
    for (let i = 0; i < 2000; i++) {
      const params: FormFields = Object.create(null);
      for (let f = next(6); f >= 0; f--) {
        const name = text(next, 8) || 'Location';
        params[name] = next(4) === 0 ? [text(next, 20), text(next, 20), text(next, 5)] : text(next, 40);
      }
      const url = urls[next(urls.length)] as string;
      const expected = twilio.getExpectedTwilioSignature(authToken, url, params as Record<string, string>);
      assert.equal(signatures.expected(url, params), expected);
      assert.equal(signatures.isValid(expected, url, params), true);
    }
  });

  test('accepts and refuses exactly what twilio.validateRequest does, every URL spelling included', () => {
    const params: FormFields = { Location: 'GetCustomersList', Worker: 'alice@example.com', PageSize: '30' };
    const spellings = [
      'https://example.com/callbacks/crm',
      'https://example.com:443/callbacks/crm',
      'http://example.com:80/callbacks/crm',
      'https://example.com/callbacks/crm?q=%27',
      "https://example.com/callbacks/crm?q='",
      'https://other.example.com/callbacks/crm',
    ];
    for (const signedFor of spellings) {
      const signature = twilio.getExpectedTwilioSignature(authToken, signedFor, params as Record<string, string>);
      for (const received of spellings) {
        assert.equal(
          signatures.isValid(signature, received, params),
          twilio.validateRequest(authToken, signature, received, params as Record<string, string>),
          `signed for ${signedFor}, received ${received}`,
        );
      }
    }
    assert.equal(signatures.isValid('', urls[0] as string, params), false);
    assert.equal(signatures.isValid('AAAA', urls[0] as string, params), false);
  });
});
