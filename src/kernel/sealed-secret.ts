/**
 * Secrets the service keeps in its store to use again (the simulator's target's auth token, which
 * opens that Twilio account), sealed with AES-256-GCM, so that a copy of the store (a backup, a dump,
 * a stolen disk) does not hold them in clear. The key is derived from configuration every instance
 * shares (config.ts' pageTokenSecret: PAGE_TOKEN_SECRET, else derived from TWILIO_AUTH_TOKEN), under a
 * label of its own, and never kept in the store.
 *
 * Sealed text: `sealed:v1:` then base64url of a 12-byte nonce, the ciphertext and the 16-byte tag.
 * Text without that prefix was stored before sealing existed and is read as it is (sealed on its next
 * write). Opening fails, undefined, when the key has changed since or the text was altered.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'sealed:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBox {
  private readonly key: Buffer;

  /** `secret`: the shared configuration the key is derived from (any length). */
  constructor(secret: string) {
    this.key = createHmac('sha256', secret).update('fis:sealed-secrets:v1').digest();
  }

  seal(plain: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The secret sealed in `stored`, `stored` itself when it was never sealed, undefined when it cannot be opened. */
  open(stored: string): string | undefined {
    if (!stored.startsWith(PREFIX)) return stored;
    const bytes = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
