/**
 * Reps one at a time, as the admin API reads, checks and deletes them. The
 * workers file's reads and upserts stay in worker.repository.ts (and the
 * writes of the admin API go through its upsert).
 *
 * RECORD_COLUMNS and toRecord are the one place that says which stored columns
 * make a rep's record: issue 15's `state` and `available` are added here (and
 * in the route schema's WorkerFieldsSchema).
 */
import { type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { WorkerRecord } from './worker.validate.js';

type Db = Kysely<Database> | Transaction<Database>;

const RECORD_COLUMNS = ['identity', 'display_name', 'avatar', 'state', 'available'] as const;

type Row = { identity: string; display_name: string | null; avatar: string | null; state: string; available: number | boolean };

function toRecord(r: Row): WorkerRecord {
  const record: WorkerRecord = { identity: r.identity };
  if (r.display_name !== null) record.display_name = r.display_name;
  if (r.avatar !== null) record.avatar = r.avatar;
  // The API always says both (a file leaves the defaults out): what routing and the sync read.
  record.state = r.state === 'deactivated' ? 'deactivated' : 'active';
  record.available = Number(r.available) === 1;
  return record;
}

/** One page of reps in identity order, after `after`. */
export async function listWorkerPage(db: Db, after: string | undefined, limit: number): Promise<WorkerRecord[]> {
  let query = db.selectFrom('workers').select(RECORD_COLUMNS).orderBy('identity').limit(limit);
  if (after !== undefined) query = query.where('identity', '>', after);
  return (await query.execute()).map(toRecord);
}

export async function findWorkerRecord(db: Db, identity: string): Promise<WorkerRecord | undefined> {
  const row = await db.selectFrom('workers').select(RECORD_COLUMNS).where('identity', '=', identity).executeTakeFirst();
  return row && toRecord(row);
}

export async function deleteWorker(trx: Transaction<Database>, identity: string): Promise<boolean> {
  const result = await trx.deleteFrom('workers').where('identity', '=', identity).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

