/**
 * Reps one at a time, as the admin API reads, checks and deletes them. The
 * workers file's reads and upserts stay in worker.repository.ts (and the
 * writes of the admin API go through its upsert).
 *
 * RECORD_COLUMNS and toRecord are the one place that says which stored columns
 * make a rep's record: issue 15's `state` and `available` are added here (and
 * in the route schema's WorkerFieldsSchema).
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/dialect.js';
import type { WorkerRecord } from './worker.validate.js';

type Db = Kysely<Database> | Transaction<Database>;

const RECORD_COLUMNS = ['identity', 'display_name', 'avatar'] as const;

type Row = { [K in (typeof RECORD_COLUMNS)[number]]: Database['workers'][K] };

function toRecord(r: Row): WorkerRecord {
  const record: WorkerRecord = { identity: r.identity };
  if (r.display_name !== null) record.display_name = r.display_name;
  if (r.avatar !== null) record.avatar = r.avatar;
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

/** Takes the reps' write lock for the rest of the transaction, before anything is read. */
export async function lockWorkers(trx: Transaction<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`lock table workers in share row exclusive mode`.execute(trx);
  else await sql`delete from workers where 0`.execute(trx);
}
