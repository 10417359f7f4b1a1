/** Reads and writes of `sender_addresses`. */
import type { Kysely, Transaction } from 'kysely';
import type { Table } from '../../platform/db/bulk.js';
import type { Database } from '../../platform/db/database.js';
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

/** What `replaceSenders` needs to hold: two loads at once would interleave delete and insert (readers are not blocked). */
export const SENDERS_WRITE_LOCK: readonly Table[] = ['sender_addresses'];

/** Replaces every sender address with `senders`, in their order. In `Store.write` with SENDERS_WRITE_LOCK. */
export async function replaceSenders(trx: Transaction<Database>, senders: NormalizedSender[]): Promise<void> {
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
