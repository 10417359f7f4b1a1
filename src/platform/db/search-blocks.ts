/**
 * PostgreSQL: where in list order a text fragment can be (migrations 20261205T0100, 20261206T0500).
 *
 * pg_trgm's GIN index names the customers holding a fragment in table order,
 * and finds nothing for one or two characters; a fragment it cannot find, or
 * finds in too many customers to fetch, is read in list order until the page
 * is full (customer.repository.ts). When its matches sit together far down a
 * book (`av`: the Xaviers of a book in first-name order, three quarters of the
 * way down), that read is most of the book: 55–95 ms for 200,000 customers.
 *
 * So the list is cut into blocks, contiguous ranges of list order: a block
 * starts at its `prefix` (a sort key, or `''` for the first) and ends where the
 * next one starts, and a customer is in the block with the greatest prefix not
 * above its sort key. Each block keeps the pairs of adjacent characters its
 * customers' texts hold, and the characters, hashed into BLOCK_BITS bits. A
 * text holding a fragment holds each of its pairs and characters, so a block
 * missing one of them holds no match, and a read in list order skips it: it
 * reads only the blocks whose bits hold all the fragment's (`blocksHolding`,
 * search-index.ts). A one-character fragment no block holds (`-`, `%`) is
 * answered without a read.
 *
 * Where the blocks start is chosen from the customers (`cutSearchBlocks`): about
 * every BLOCK_ROWS_MIN customers in list order, at most BLOCKS_MAX blocks, so a
 * fragment whose matches sit together inside a first name (`ohns`, the Johnsons
 * of every first name, 1,100 in a row) is read from a block near them, not from
 * the first name's start. They are cut by a large import (in its transaction,
 * which excludes every other writer of customers: see `cutIsDue`) and by the
 * upgrade. Between cuts, writers never add or move a block: each adds the bits
 * of what it wrote to every block that a sort key with the same start
 * (blockStart: its first START_LENGTH characters) can be in. That is a superset
 * (bits of a customer may land in its neighbours' blocks too), so it costs
 * reads, never rows; the next cut makes every block exact again.
 *
 * Bits are only ever added between cuts (a removed or renamed customer leaves
 * its bits, which costs reads, never rows), by every writer in its own
 * transaction: the import's writer (import, the admin API) and routing's
 * auto-create (customer-import and customer-create repositories, through
 * `BulkStatements.searchBlocks`). A migration that rewrites `search_text` or
 * `sort_key` must cut the blocks again.
 */
import { type Kysely, sql } from 'kysely';
import { successor } from '../../kernel/text.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';

/** Characters of a sort key that name the range a writer adds its bits to (blockStart). */
const START_LENGTH = 3;
/**
 * Bits a block keeps: each pair sets two of them (a Bloom filter), so a pair a block lacks looks
 * present only when both its bits were set by others: at about 400 pairs in a block (a first name's
 * block at 1,000,000 customers), about one block in 100 rather than one in 11 with one bit of 4,096.
 * A false "present" costs a read of that block, never rows.
 */
export const BLOCK_BITS = 8192;
const BLOCK_BYTES = BLOCK_BITS / 8;
/** A cut starts a block after at least this many customers in list order… */
const BLOCK_ROWS_MIN = 256;
/**
 * …and makes at most this many blocks (more customers per block in a larger store): every search
 * that asks the blocks reads them all (about 0.1 ms per 1,000 here).
 */
const BLOCKS_MAX = 2048;

/** The start of a sort key writers add its bits by: its first START_LENGTH characters (the whole key when shorter). */
export function blockStart(sortKey: string): string {
  let end = 0;
  let count = 0;
  for (const char of sortKey) {
    if (count === START_LENGTH) break;
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

/** Stands for "no second character": a character's own hash is that of the pair (it, ALONE), never a real pair's. */
const ALONE = 0x110000;

/**
 * Calls `each` with the hash of every pair of adjacent characters (code points) of `text`, and of every
 * character alone (migration 20261206T1700: a one-character fragment narrows by it), whose two bits are
 * `(hash >>> 0) % BLOCK_BITS` and `(hash >>> 13) % BLOCK_BITS`. Changing them needs a migration that
 * rebuilds every block. (A loop over UTF-16 units: an import runs it for every customer.)
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
    each(pairHash(code, ALONE));
    previous = code;
  }
}

const setBit = (mask: Uint8Array, bit: number) => {
  mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
};

/** Sets in `mask` the bits of every pair of adjacent characters of `text`, and of every character. */
export function addTextBits(mask: Uint8Array, text: string): void {
  forEachPair(text, (hash) => {
    setBit(mask, (hash >>> 0) % BLOCK_BITS);
    setBit(mask, (hash >>> 13) % BLOCK_BITS);
  });
}

/** Whether blocks can narrow a read for `text`: it has a character (its own bits; two or more: their pairs' too). */
export function narrowable(text: string): boolean {
  return text.length > 0;
}

/** The distinct bits of `text`'s pairs of adjacent characters and of its characters. */
export function textBits(text: string): number[] {
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

const BIT_TYPE = sql.raw(`bit(${BLOCK_BITS})`);

/**
 * The blocks a sort key starting with each of `starts` can be in: from the one holding the start
 * itself to the last one starting before the start's successor (`ends`, null: to the end).
 */
const blocksOfStarts = (starts: readonly string[], ends: ReadonlyArray<string | null>) => sql`
  select k.prefix from customer_search_blocks k
  where exists (select 1 from unnest(${starts}::text[], ${ends}::text[]) as g(s, e)
    where k.prefix >= (select max(prefix) from customer_search_blocks where prefix <= g.s) and (g.e is null or k.prefix < g.e))`;

/**
 * PostgreSQL's: bits per start of a sort key in memory (BLOCK_BYTES each), added at `save` to every
 * block such a key can be in (see the top of this file), in one statement after locking those blocks.
 */
export function postgresSearchBlocks(): SearchBlockWriter {
  const masks = new Map<string, Uint8Array>();
  return {
    note(sortKey, searchText) {
      const start = blockStart(sortKey);
      let mask = masks.get(start);
      if (!mask) masks.set(start, (mask = new Uint8Array(BLOCK_BYTES)));
      addTextBits(mask, searchText);
    },
    async save(trx) {
      if (masks.size === 0) return;
      const starts = [...masks.keys()];
      const ends = starts.map((start) => successor(start) ?? null);
      const bits = starts.map((start) => asBits(masks.get(start) as Uint8Array));
      masks.clear();
      // The blocks' rows are locked in one order by every writer, so that two writers cannot deadlock.
      let locked = await sql`${blocksOfStarts(starts, ends)} order by k.prefix for update`.execute(trx);
      if (locked.rows.length === 0) {
        // No block yet (never cut, nothing written): the first, which every sort key is in.
        await sql`insert into customer_search_blocks (prefix, bits) values ('', ${'0'.repeat(BLOCK_BITS)}::${BIT_TYPE}) on conflict do nothing`.execute(trx);
        locked = await sql`${blocksOfStarts(starts, ends)} order by k.prefix for update`.execute(trx);
      }
      await sql`update customer_search_blocks k set bits = k.bits | t.bits
        from (select b.prefix, bit_or(g.m::${BIT_TYPE}) as bits
              from unnest(${starts}::text[], ${ends}::text[], ${bits}::text[]) as g(s, e, m)
              join customer_search_blocks b
                on b.prefix >= (select max(prefix) from customer_search_blocks where prefix <= g.s) and (g.e is null or b.prefix < g.e)
              group by b.prefix) t
        where k.prefix = t.prefix and k.bits | t.bits <> k.bits`.execute(trx);
    },
  };
}

/** Customers read per statement while blocks are cut. */
const CUT_BATCH = 20_000;

/**
 * Cuts the list into blocks afresh (see the top of this file) and fills each with exactly its
 * customers' bits, replacing every block, in the caller's transaction: about every
 * max(BLOCK_ROWS_MIN, customers / BLOCKS_MAX) customers in list order a block starts at a sort key
 * (all the customers with one sort key are in one block). Records how many customers it cut for
 * (cutIsDue). Reads every customer once: about 3 s at 1,000,000.
 */
export async function cutSearchBlocks(trx: Kysely<Database>): Promise<{ customers: number; blocks: number }> {
  const customers = Number((await sql<{ n: string }>`select count(*) as n from customers`.execute(trx)).rows[0]?.n ?? 0);
  const every = Math.max(BLOCK_ROWS_MIN, Math.ceil(customers / BLOCKS_MAX));
  const { rows: starts } = await sql<{ sort_key: string }>`
    select distinct sort_key from (select sort_key, row_number() over (order by sort_key, customer_id) as n from customers) s
    where n > 1 and n % ${every} = 1 order by sort_key`.execute(trx);
  const prefixes = ['', ...starts.map((row) => row.sort_key).filter((key) => key !== '')];
  const bounds = prefixes.map((prefix) => Buffer.from(prefix));
  const masks = prefixes.map(() => new Uint8Array(BLOCK_BYTES));
  let after = 0;
  for (;;) {
    const { rows } = await sql<{ pk: number; sort_key: string; search_text: string }>`
      select pk, sort_key, search_text from customers where pk > ${after} order by pk limit ${CUT_BATCH}`.execute(trx);
    for (const row of rows) addTextBits(masks[blockIndex(bounds, Buffer.from(row.sort_key))] as Uint8Array, row.search_text);
    if (rows.length < CUT_BATCH) break;
    after = (rows.at(-1) as { pk: number }).pk;
  }
  await sql`delete from customer_search_blocks`.execute(trx);
  for (let i = 0; i < prefixes.length; i += 500) {
    const part = prefixes.slice(i, i + 500);
    const bits = masks.slice(i, i + 500).map(asBits);
    await sql`insert into customer_search_blocks (prefix, bits) select p, b::${BIT_TYPE} from unnest(${part}::text[], ${bits}::text[]) as t(p, b)`.execute(trx);
  }
  await sql`insert into customer_search_blocks_cut (id, customers) values (1, ${customers})
    on conflict (id) do update set customers = excluded.customers`.execute(trx);
  return { customers, blocks: prefixes.length };
}

/** The index of the block holding `key` among blocks starting at `bounds` (sorted, the first empty): the last start not above it. */
export function blockIndex(bounds: readonly Buffer[], key: Buffer): number {
  let low = 0;
  let high = bounds.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (Buffer.compare(bounds[middle] as Buffer, key) <= 0) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** What an import did, for cutIsDue (and search-index.ts, countTrigramsIfDue). */
export interface ImportSize {
  /** Customers in the store after the import. */
  readonly customers: number;
  /** Records it wrote, and customers it pruned. */
  readonly written: number;
  /** Whether the store had no customers before it (its writer then added no bits: see customerWriter). */
  readonly first: boolean;
}

/**
 * Whether an import changed the store much since something was last made from it, when it held `last`
 * customers (undefined: never made): a first import (into an empty store), one that wrote at least a fifth
 * of the store, and one after which the store has doubled or halved since.
 */
export function changedMuch({ customers, written, first }: ImportSize, last: number | undefined): boolean {
  if (first || last === undefined) return true;
  return written * 5 >= customers || customers >= last * 2 || customers * 2 <= last;
}

/** Whether an import should cut the blocks again (in its transaction, before its commit): see changedMuch. */
export async function cutIsDue(trx: Kysely<Database>, size: ImportSize): Promise<boolean> {
  if (size.first) return true;
  const last = (await sql<{ customers: string }>`select customers from customer_search_blocks_cut where id = 1`.execute(trx)).rows[0];
  return changedMuch(size, last === undefined ? undefined : Number(last.customers));
}

/**
 * After an import's writes (in its transaction, which excludes every other writer of customers): the
 * blocks cut again when `cutIsDue`. PostgreSQL only (SQLite keeps no blocks).
 */
export async function cutSearchBlocksIfDue(trx: Kysely<Database>, dialect: Dialect, size: ImportSize): Promise<void> {
  if (dialect !== 'postgres') return;
  if (await cutIsDue(trx, size)) await cutSearchBlocks(trx);
}
