/**
 * PostgreSQL: where in list order a text fragment can be (migration 20261205T0100).
 *
 * pg_trgm's GIN index names the customers holding a fragment in table order,
 * and finds nothing for one or two characters; a fragment it cannot find, or
 * finds in too many customers to fetch, is read in list order until the page
 * is full (customer.repository.ts). When its matches sit together far down a
 * book (`av`: the Xaviers of a book in first-name order, three quarters of the
 * way down), that read is most of the book: 55–95 ms for 200,000 customers.
 *
 * So the list is cut into blocks, one per start of a sort key (its first
 * PREFIX_LENGTH characters: contiguous ranges of list order, whatever the book),
 * and each block keeps the pairs of adjacent characters its customers' texts
 * hold, hashed into BLOCK_BITS bits. A text holding a fragment of two or more
 * characters holds each of its pairs, so a block missing one of them holds no
 * match, and a read in list order skips it: it reads only the blocks whose bits
 * hold all the fragment's pairs (`blocksHolding`, search-index.ts).
 *
 * Bits are only ever added (a block's bits are a superset of its customers'
 * pairs: a removed or renamed customer leaves its bits, which costs reads,
 * never rows), by every writer in its own transaction: the import's writer
 * (import, the admin API) and routing's auto-create (customer-import and
 * customer-create repositories, through `BulkStatements.searchBlocks`). A
 * migration that rewrites `search_text` or `sort_key` must add their bits too.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';

/** Characters of a sort key that name its block. */
const PREFIX_LENGTH = 3;
/**
 * Bits a block keeps: each pair sets two of them (a Bloom filter), so a pair a block lacks looks
 * present only when both its bits were set by others: at about 400 pairs in a block (a first name's
 * block at 1,000,000 customers), about one block in 100 rather than one in 11 with one bit of 4,096.
 * A false "present" costs a read of that block, never rows.
 */
export const BLOCK_BITS = 8192;
const BLOCK_BYTES = BLOCK_BITS / 8;

/** The block of a sort key: its first PREFIX_LENGTH characters (the whole key when shorter). */
export function blockOf(sortKey: string): string {
  let end = 0;
  let count = 0;
  for (const char of sortKey) {
    if (count === PREFIX_LENGTH) break;
    end += char.length;
    count++;
  }
  return sortKey.slice(0, end);
}

/** The hash of a pair of characters (code points): murmur3's finalizer, one character at a time (each step one-to-one). */
function pairHash(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h ^ b, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * Calls `each` with the hash of every pair of adjacent characters (code points) of `text`, whose two
 * bits are `(hash >>> 0) % BLOCK_BITS` and `(hash >>> 13) % BLOCK_BITS`. Changing them needs a migration
 * that rebuilds every block. (A loop over UTF-16 units: an import runs it for every customer.)
 */
function forEachPair(text: string, each: (hash: number) => void): void {
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = (code - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    if (previous >= 0) each(pairHash(previous, code));
    previous = code;
  }
}

const setBit = (mask: Uint8Array, bit: number) => {
  mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
};

/** Sets in `mask` the bits of every pair of adjacent characters of `text`. */
export function addPairs(mask: Uint8Array, text: string): void {
  forEachPair(text, (hash) => {
    setBit(mask, (hash >>> 0) % BLOCK_BITS);
    setBit(mask, (hash >>> 13) % BLOCK_BITS);
  });
}

/** Whether `text` has at least one pair of characters, two code points (a fragment blocks can narrow). */
export function hasPairs(text: string): boolean {
  return [...text].length >= 2;
}

/** The distinct bits of `text`'s pairs of adjacent characters. */
export function pairBits(text: string): number[] {
  const bits = new Set<number>();
  forEachPair(text, (hash) => {
    bits.add((hash >>> 0) % BLOCK_BITS);
    bits.add((hash >>> 13) % BLOCK_BITS);
  });
  return [...bits];
}

/** A mask as PostgreSQL's `bit(BLOCK_BITS)` takes it from text: `x` and hexadecimal digits, bit 0 first. */
const asBits = (mask: Uint8Array): string => `x${Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength).toString('hex')}`;

/** Bits to add to blocks, gathered over a transaction's writes and saved once. */
export interface SearchBlockWriter {
  /** A customer written (inserted, or replaced with this text). */
  note(sortKey: string, searchText: string): void;
  /** Adds the gathered bits to their blocks, in the writer's transaction. */
  save(trx: Kysely<Database>): Promise<void>;
}

/** SQLite's: nothing to keep (its text index answers in list order itself). */
export const NO_SEARCH_BLOCKS: SearchBlockWriter = {
  note() {},
  async save() {},
};

/** PostgreSQL's: bits per block in memory (BLOCK_BYTES each), one statement at `save`. */
export function postgresSearchBlocks(): SearchBlockWriter {
  const masks = new Map<string, Uint8Array>();
  return {
    note(sortKey, searchText) {
      const block = blockOf(sortKey);
      let mask = masks.get(block);
      if (!mask) masks.set(block, (mask = new Uint8Array(BLOCK_BYTES)));
      addPairs(mask, searchText);
    },
    async save(trx) {
      if (masks.size === 0) return;
      // In one order for every writer, so that two writers' row locks cannot deadlock.
      const blocks = [...masks.keys()].sort();
      const bits = blocks.map((block) => asBits(masks.get(block) as Uint8Array));
      masks.clear();
      await sql`insert into customer_search_blocks (prefix, bits)
        select p, b::bit(${sql.raw(String(BLOCK_BITS))}) from unnest(${blocks}::text[], ${bits}::text[]) as t(p, b)
        on conflict (prefix) do update set bits = customer_search_blocks.bits | excluded.bits
        where customer_search_blocks.bits | excluded.bits <> customer_search_blocks.bits`.execute(trx);
    },
  };
}
