/** Reads and writes of `sender_addresses`. */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/dialect.js';
import type { NormalizedSender } from './sender.validate.js';
import type { SenderChannel, SenderRecord } from './sender.types.js';

type Db = Kysely<Database>;

export interface SenderCandidate {
  address: string;
  worker: string | null;
  countries: string[];
}

/** The channel's addresses a worker may send from (their own and the shared ones), in file order. */
export async function findCandidates(db: Db, channel: SenderChannel, worker: string): Promise<SenderCandidate[]> {
  const rows = await db
    .selectFrom('sender_addresses')
    .select(['address', 'worker', 'countries'])
    .where('channel_type', '=', channel)
    .where((eb) => eb.or([eb('worker', '=', worker), eb('worker', 'is', null)]))
    .orderBy('position')
    .execute();
  return rows.map((r) => ({ address: r.address, worker: r.worker, countries: JSON.parse(r.countries) as string[] }));
}

/** Takes the sender addresses' write lock for the rest of the transaction, before anything is read. */
export async function lockSenders(trx: Transaction<Database>, dialect: Dialect): Promise<void> {
  // Two loads at once would interleave delete and insert; readers are not blocked (MVCC).
  if (dialect === 'postgres') await sql`lock table sender_addresses in share row exclusive mode`.execute(trx);
  else await sql`delete from sender_addresses where 0`.execute(trx);
}

/** Replaces every sender address with `senders`, in their order. */
export async function replaceSenders(trx: Transaction<Database>, dialect: Dialect, senders: NormalizedSender[]): Promise<void> {
  await lockSenders(trx, dialect);
  await trx.deleteFrom('sender_addresses').execute();
  const rows = senders.map(({ record, e164 }, position) => ({
    channel_type: record.channel_type,
    address: record.address,
    e164,
    worker: record.worker ?? null,
    countries: JSON.stringify(record.countries ?? []),
    position,
  }));
  for (let i = 0; i < rows.length; i += 1000) await trx.insertInto('sender_addresses').values(rows.slice(i, i + 1000)).execute();
}

/** Every sender address, in file order, as a senders file record. */
export async function listSenders(db: Db | Transaction<Database>): Promise<SenderRecord[]> {
  const rows = await db
    .selectFrom('sender_addresses')
    .select(['channel_type', 'address', 'worker', 'countries'])
    .orderBy('position')
    .execute();
  return rows.map((r) => {
    const record: SenderRecord = { channel_type: r.channel_type, address: r.address };
    if (r.worker !== null) record.worker = r.worker;
    const countries = JSON.parse(r.countries) as string[];
    if (countries.length > 0) record.countries = countries;
    return record;
  });
}
