/** kernel/sealed-secret.ts: what the store keeps of a secret opens only under the key that sealed it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SecretBox } from '../src/kernel/sealed-secret.js';

const box = new SecretBox('the shared configuration');

test('a sealed secret opens to itself, and two seals of one secret differ', () => {
  for (const secret of ['', 'a', 'twilio-auth-token-0123456789abcdef', 'é😀'.repeat(100)]) {
    const sealed = box.seal(secret);
    assert.match(sealed, /^sealed:v1:[A-Za-z0-9_-]+$/);
    if (secret.length >= 8) assert.ok(!sealed.includes(secret), 'not in clear');
    assert.equal(box.open(sealed), secret);
    assert.notEqual(box.seal(secret), sealed, 'a fresh nonce each time');
  }
});

test('under another key, altered or cut short, it does not open', () => {
  const sealed = box.seal('twilio-auth-token-0123456789abcdef');
  assert.equal(new SecretBox('another configuration').open(sealed), undefined);
  const bytes = Buffer.from(sealed.slice('sealed:v1:'.length), 'base64url');
  for (const at of [0, 12, bytes.length - 1]) {
    const altered = Buffer.from(bytes);
    altered[at] = (altered[at] as number) ^ 1;
    assert.equal(box.open(`sealed:v1:${altered.toString('base64url')}`), undefined, `byte ${at} altered`);
  }
  assert.equal(box.open('sealed:v1:AAAA'), undefined);
  assert.equal(box.open('sealed:v1:'), undefined);
});

test('text stored before sealing existed is read as it is', () => {
  assert.equal(box.open('plain-token'), 'plain-token');
});
