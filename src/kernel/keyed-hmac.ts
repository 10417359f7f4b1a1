/**
 * HMAC (RFC 2104) under one fixed key, for the per-request checks of the hot
 * path: the Twilio signature and the page token.
 *
 * `createHmac` sets the key up again on every call; under load that was most
 * of the cost of a signature check. Here the key's inner and outer pad blocks
 * are hashed once, and each MAC copies the two prepared hash states. The
 * result is byte for byte `createHmac(algorithm, key).update(data).digest()`
 * (checked by test/keyed-hmac.test.ts).
 */
import { createHash, type Hash } from 'node:crypto';

/** Block size in bytes of the hash functions used here (SHA-1 and SHA-256 both use 64). */
const BLOCK = 64;

export class KeyedHmac {
  private readonly inner: Hash;
  private readonly outer: Hash;

  constructor(algorithm: 'sha1' | 'sha256', key: string | Buffer) {
    let bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (bytes.length > BLOCK) bytes = createHash(algorithm).update(bytes).digest();
    const block = Buffer.alloc(BLOCK);
    bytes.copy(block);
    this.inner = createHash(algorithm).update(block.map((b) => b ^ 0x36));
    this.outer = createHash(algorithm).update(block.map((b) => b ^ 0x5c));
  }

  /** The MAC of `data` (a string is hashed as UTF-8). */
  digest(data: string | Buffer): Buffer {
    const innerDigest = this.inner.copy().update(data).digest();
    return this.outer.copy().update(innerDigest).digest();
  }
}
