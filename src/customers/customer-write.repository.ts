/**
 * Writes of customers, used by the import inside one transaction. Each call
 * takes the transaction handle: an import is all or nothing.
 */
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../db/database.js';
import type { StoredCustomer } from './customer.row.js';
import type { NormalizedCustomer } from './customer.validate.js';

type Trx = Transaction<Database>;

/** Parameters per statement, safely under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

function* batches<T>(rows: T[], columns: number): Generator<T[]> {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** The next import run number; runs are serialised by the caller's lock. */
export async function nextImportSeq(trx: Trx): Promise<number> {
  const row = await trx
    .selectFrom('customers')
    .select((eb) => eb.fn.max('import_seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0) + 1;
}

export async function countCustomers(db: Kysely<Database> | Trx): Promise<number> {
  const row = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Inserts or replaces each customer with its owners and addresses, and returns
 * the ids that import run `seq` had already written (repeated in the file):
 * those rows are left as they were. Finding repeats in the upsert itself keeps
 * the cost per batch constant; a separate lookup by `import_seq` grew with the import.
 */
export async function upsertCustomers(trx: Trx, customers: NormalizedCustomer[], seq: number): Promise<Set<string>> {
  const repeated = new Set<string>();
  if (customers.length === 0) return repeated;
  // Only customers that were already stored have owners and addresses to replace. Skipping the
  // deletes for new ones matters on PostgreSQL: inside the import's transaction the new rows have
  // no statistics, and the planner would answer `customer_pk in (…)` by scanning the whole table.
  const existed = await storedIds(trx, customers.map(({ record }) => record.customer_id));
  const pks = new Map<string, number>();
  for (const batch of batches(customers, 10)) {
    const rows = await trx
      .insertInto('customers')
      .values(
        batch.map(({ record, sortKey, searchText, phoneDigits }) => ({
          customer_id: record.customer_id,
          display_name: record.display_name,
          sort_key: sortKey,
          avatar: record.avatar ?? null,
          channels: JSON.stringify(record.channels ?? []),
          links: JSON.stringify(record.links ?? []),
          details: record.details ? JSON.stringify(record.details) : null,
          search_text: searchText,
          phone_digits: phoneDigits,
          import_seq: seq,
        })),
      )
      .onConflict((oc) =>
        oc.column('customer_id').doUpdateSet((eb) => ({
          display_name: eb.ref('excluded.display_name'),
          sort_key: eb.ref('excluded.sort_key'),
          avatar: eb.ref('excluded.avatar'),
          channels: eb.ref('excluded.channels'),
          links: eb.ref('excluded.links'),
          details: eb.ref('excluded.details'),
          search_text: eb.ref('excluded.search_text'),
          phone_digits: eb.ref('excluded.phone_digits'),
          import_seq: eb.ref('excluded.import_seq'),
        }))
          // A row this run already wrote is a repeat: not updated, so not returned.
          .whereRef('customers.import_seq', '<>', 'excluded.import_seq'),
      )
      .returning(['pk', 'customer_id'])
      .execute();
    for (const row of rows) pks.set(row.customer_id, row.pk);
  }
  for (const { record } of customers) if (!pks.has(record.customer_id)) repeated.add(record.customer_id);
  const written = repeated.size === 0 ? customers : customers.filter(({ record }) => pks.has(record.customer_id));

  const replaced = [...pks].filter(([id]) => existed.has(id)).map(([, pk]) => pk);
  if (replaced.length > 0) await deleteDependents(trx, replaced);

  const owners = written.flatMap(({ record, sortKey, searchText, phoneDigits }) =>
    record.workers.map((worker) => ({
      worker,
      customer_pk: pks.get(record.customer_id) as number,
      customer_id: record.customer_id,
      sort_key: sortKey,
      display_name: record.display_name,
      avatar: record.avatar ?? null,
      search_text: searchText,
      phone_digits: phoneDigits,
    })),
  );
  for (const batch of batches(owners, 8)) await trx.insertInto('customer_owners').values(batch).execute();

  const addresses = written.flatMap(({ record, addresses }) =>
    addresses.map((address) => ({ address, customer_pk: pks.get(record.customer_id) as number })),
  );
  for (const batch of batches(addresses, 2)) await trx.insertInto('customer_addresses').values(batch).execute();
  return repeated;
}

/** The ids among `customerIds` that are stored (through the unique index on customer_id). */
async function storedIds(trx: Trx, customerIds: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const ids of batches(customerIds, 1)) {
    const rows = await trx.selectFrom('customers').select('customer_id').where('customer_id', 'in', ids).execute();
    for (const row of rows) found.add(row.customer_id);
  }
  return found;
}

async function deleteDependents(trx: Trx, pks: number[]): Promise<void> {
  for (const batch of batches(pks, 1)) {
    await trx.deleteFrom('customer_owners').where('customer_pk', 'in', batch).execute();
    await trx.deleteFrom('customer_addresses').where('customer_pk', 'in', batch).execute();
  }
}

/** Deletes every customer that import run `seq` did not write; returns how many. */
export async function pruneCustomersNotIn(trx: Trx, seq: number): Promise<number> {
  const stale = trx.selectFrom('customers').select('pk').where('import_seq', '<>', seq);
  await trx.deleteFrom('customer_owners').where('customer_pk', 'in', stale).execute();
  await trx.deleteFrom('customer_addresses').where('customer_pk', 'in', stale).execute();
  const result = await trx.deleteFrom('customers').where('import_seq', '<>', seq).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Serialises imports on PostgreSQL without blocking readers (SQLite serialises writers itself). */
export async function lockForImport(trx: Trx, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect === 'postgres') await sql`lock table customers in share row exclusive mode`.execute(trx);
}

export interface ExportRow extends StoredCustomer {
  pk: number;
}

/** One page of customers in customer_id order, after `afterId`, with their owners. */
export async function exportPage(
  db: Kysely<Database>,
  afterId: string | undefined,
  limit: number,
): Promise<Array<ExportRow & { workers: string[] }>> {
  let query = db
    .selectFrom('customers')
    .select(['pk', 'customer_id', 'display_name', 'avatar', 'channels', 'links', 'details'])
    .orderBy('customer_id')
    .limit(limit);
  if (afterId !== undefined) query = query.where('customer_id', '>', afterId);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const owners = await db
    .selectFrom('customer_owners')
    .select(['customer_pk', 'worker'])
    .where(
      'customer_pk',
      'in',
      rows.map((r) => r.pk),
    )
    .orderBy('worker')
    .execute();
  const byPk = new Map<number, string[]>();
  for (const o of owners) {
    const list = byPk.get(o.customer_pk);
    if (list) list.push(o.worker);
    else byPk.set(o.customer_pk, [o.worker]);
  }
  return rows.map((r) => ({ ...r, workers: byPk.get(r.pk) ?? [] }));
}
