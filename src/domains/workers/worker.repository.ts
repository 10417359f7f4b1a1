/** Reads and writes of `workers` (reps: display name and avatar). */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/dialect.js';
import type { WorkerRecord } from './worker.validate.js';

type Db = Kysely<Database>;

export interface WorkerRow {
  identity: string;
  display_name: string | null;
  avatar: string | null;
}

export async function findWorker(db: Db, identity: string): Promise<WorkerRow | undefined> {
  return db.selectFrom('workers').select(['identity', 'display_name', 'avatar']).where('identity', '=', identity).executeTakeFirst();
}

/** Inserts or replaces each worker; with `prune`, deletes the workers not in the list. Returns counts. */
export async function upsertWorkers(
  trx: Transaction<Database>,
  dialect: Dialect,
  workers: WorkerRecord[],
  prune: boolean,
): Promise<{ created: number; updated: number; pruned: number }> {
  if (dialect === 'postgres') await sql`lock table workers in share row exclusive mode`.execute(trx);
  const count = async () => Number((await trx.selectFrom('workers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const before = await count();
  let pruned = 0;
  if (prune) {
    // Identities are unique in a validated file; delete the others in batches below the parameter limit.
    const keep = new Set(workers.map((w) => w.identity));
    const existing = await trx.selectFrom('workers').select('identity').execute();
    const stale = existing.map((r) => r.identity).filter((id) => !keep.has(id));
    for (let i = 0; i < stale.length; i += 1000) {
      await trx.deleteFrom('workers').where('identity', 'in', stale.slice(i, i + 1000)).execute();
    }
    pruned = stale.length;
  }
  const rows = workers.map((w) => ({ identity: w.identity, display_name: w.display_name ?? null, avatar: w.avatar ?? null }));
  for (let i = 0; i < rows.length; i += 1000) {
    await trx
      .insertInto('workers')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) =>
        oc.column('identity').doUpdateSet((eb) => ({
          display_name: eb.ref('excluded.display_name'),
          avatar: eb.ref('excluded.avatar'),
        })),
      )
      .execute();
  }
  const after = await count();
  const created = after - (before - pruned);
  return { created, updated: workers.length - created, pruned };
}

export async function listWorkers(db: Db): Promise<WorkerRecord[]> {
  const rows = await db.selectFrom('workers').select(['identity', 'display_name', 'avatar']).orderBy('identity').execute();
  return rows.map((r) => {
    const record: WorkerRecord = { identity: r.identity };
    if (r.display_name !== null) record.display_name = r.display_name;
    if (r.avatar !== null) record.avatar = r.avatar;
    return record;
  });
}
