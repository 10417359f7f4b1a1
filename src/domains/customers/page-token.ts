/**
 * `next_page_token`: an opaque, stateless keyset cursor.
 *
 * The token carries the sort key of the last customer on the page and a MAC
 * over (worker, query, cursor) under a key shared by every instance, so any
 * instance can continue a walk, and a token that was forged, altered, or issued
 * to another worker or another search is refused.
 */
import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../../kernel/errors.js';
import { KeyedHmac } from '../../kernel/keyed-hmac.js';

/** Position after which the next page starts: (rank, sort_key, customer_id); rank is 0 outside search. */
export interface Cursor {
  rank: number;
  sortKey: string;
  customerId: string;
}

const VERSION = 'v1';
const MAC_BYTES = 18;

export class PageTokens {
  private readonly hmac: KeyedHmac;

  constructor(secret: string) {
    this.hmac = new KeyedHmac('sha256', secret);
  }

  issue(cursor: Cursor, scope: { worker: string; query: string }): string {
    const body = Buffer.from(JSON.stringify([cursor.rank, cursor.sortKey, cursor.customerId]), 'utf8').toString('base64url');
    return `${VERSION}.${body}.${this.mac(body, scope)}`;
  }

  /** Returns the cursor, or throws INVALID_PAGE_TOKEN. */
  read(token: string, scope: { worker: string; query: string }): Cursor {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) throw invalid();
    const [, body, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(body, scope), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (
      !Array.isArray(decoded) ||
      decoded.length !== 3 ||
      !Number.isInteger(decoded[0]) ||
      typeof decoded[1] !== 'string' ||
      typeof decoded[2] !== 'string'
    ) {
      throw invalid();
    }
    return { rank: decoded[0] as number, sortKey: decoded[1], customerId: decoded[2] };
  }

  private mac(body: string, scope: { worker: string; query: string }): string {
    // Length-prefixed fields: no two different (worker, query, body) triples share an input.
    return this.hmac
      .digest(`${VERSION}\n${scope.worker.length}:${scope.worker}\n${scope.query.length}:${scope.query}\n${body}`)
      .subarray(0, MAC_BYTES)
      .toString('base64url');
  }
}

const invalid = () =>
  new AppError(
    'INVALID_PAGE_TOKEN',
    'NextPageToken is not a token this service issued for this worker and query; start again from the first page',
  );
