/** Reads and writes of `workers` (reps: display name, avatar, state and availability). */
import type { Kysely, Transaction } from 'kysely';
import type { Table } from '../../platform/db/bulk.js';
import type { Database } from '../../platform/db/database.js';
import type { WorkerRecord, WorkerState } from './worker.validate.js';

type Db = Kysely<Database>;

/** A rep as the store holds them. */
export interface WorkerRow {
  identity: string;
  display_name: string | null;
  avatar: string | null;
  state: WorkerState;
  available: boolean;
}

/** Statements with more parameters than this are split (PostgreSQL allows 65,535; SQLite 32,766). */
const BATCH = 1000;

const COLUMNS = ['identity', 'display_name', 'avatar', 'state', 'available'] as const;

function toWorker(r: { identity: string; display_name: string | null; avatar: string | null; state: string; available: number | boolean }): WorkerRow {
  return {
    identity: r.identity,
    display_name: r.display_name,
    avatar: r.avatar,
    state: r.state === 'deactivated' ? 'deactivated' : 'active',
    available: Number(r.available) === 1,
  };
}

export async function findWorker(db: Db, identity: string): Promise<WorkerRow | undefined> {
  const row = await db.selectFrom('workers').select(COLUMNS).where('identity', '=', identity).executeTakeFirst();
  return row ? toWorker(row) : undefined;
}

/** The reps among `identities` that the store knows, by identity order; unknown identities are left out. */
export async function findWorkers(db: Db, identities: readonly string[]): Promise<WorkerRow[]> {
  const unique = [...new Set(identities)];
  const out: WorkerRow[] = [];
  for (let i = 0; i < unique.length; i += BATCH) {
    const rows = await db.selectFrom('workers').select(COLUMNS).where('identity', 'in', unique.slice(i, i + BATCH)).execute();
    out.push(...rows.map(toWorker));
  }
  return out.sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
}

/** Every rep, by identity. */
export async function listWorkerRows(db: Db): Promise<WorkerRow[]> {
  const rows = await db.selectFrom('workers').select(COLUMNS).orderBy('identity').execute();
  return rows.map(toWorker);
}

function sameWorker(a: WorkerRow, b: WorkerRow): boolean {
  return a.display_name === b.display_name && a.avatar === b.avatar && a.state === b.state && a.available === b.available;
}

/** What `upsertWorkers` needs to hold: its counts and prune assume no other load runs meanwhile (readers are not blocked). */
export const WORKERS_WRITE_LOCK: readonly Table[] = ['workers'];

/**
 * Inserts or replaces each worker; with `prune`, deletes the workers not in the list. Returns counts.
 * In `Store.write` with WORKERS_WRITE_LOCK.
 */
export async function upsertWorkers(
  trx: Transaction<Database>,
  workers: WorkerRecord[],
  prune: boolean,
): Promise<{ created: number; updated: number; pruned: number; changed: string[] }> {
  const count = async () => Number((await trx.selectFrom('workers').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const before = await count();
  const previous = new Map((await findWorkers(trx, workers.map((w) => w.identity))).map((w) => [w.identity, w]));
  let pruned = 0;
  if (prune) {
    // Identities are unique in a validated file; delete the others in batches below the parameter limit.
    const keep = new Set(workers.map((w) => w.identity));
    const existing = await trx.selectFrom('workers').select('identity').execute();
    const stale = existing.map((r) => r.identity).filter((id) => !keep.has(id));
    for (let i = 0; i < stale.length; i += BATCH) {
      await trx.deleteFrom('workers').where('identity', 'in', stale.slice(i, i + BATCH)).execute();
    }
    pruned = stale.length;
  }
  const next: WorkerRow[] = workers.map((w) => ({
    identity: w.identity,
    display_name: w.display_name ?? null,
    avatar: w.avatar ?? null,
    state: w.state ?? 'active',
    available: w.available ?? true,
  }));
  const rows = next.map((w) => ({ ...w, available: w.available ? 1 : 0 }));
  for (let i = 0; i < rows.length; i += BATCH) {
    await trx
      .insertInto('workers')
      .values(rows.slice(i, i + BATCH))
      .onConflict((oc) =>
        oc.column('identity').doUpdateSet((eb) => ({
          display_name: eb.ref('excluded.display_name'),
          avatar: eb.ref('excluded.avatar'),
          state: eb.ref('excluded.state'),
          available: eb.ref('excluded.available'),
        })),
      )
      .execute();
  }
  const after = await count();
  const created = after - (before - pruned);
  const changed = next.filter((w) => {
    const old = previous.get(w.identity);
    return old === undefined || !sameWorker(old, w);
  });
  return { created, updated: workers.length - created, pruned, changed: changed.map((w) => w.identity) };
}

/**
 * Every rep as a workers file writes them (what `import` reads back unchanged):
 * empty fields and the defaults (`state: active`, `available: true`) left out.
 */
export async function listWorkers(db: Db): Promise<WorkerRecord[]> {
  return (await listWorkerRows(db)).map((r) => {
    const record: WorkerRecord = { identity: r.identity };
    if (r.display_name !== null) record.display_name = r.display_name;
    if (r.avatar !== null) record.avatar = r.avatar;
    if (r.state !== 'active') record.state = r.state;
    if (!r.available) record.available = false;
    return record;
  });
}
