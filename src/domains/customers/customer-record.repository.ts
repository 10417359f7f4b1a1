/**
 * Whole customer records (the Customer DTO plus its owners) by id, and single
 * deletes: what the admin API reads and changes one customer at a time. Writes
 * of records go through the import's writer (customer-import.repository.ts), so
 * that `customers`, `customer_owners` and `customer_addresses` stay in step.
 */
import { type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import { ownersOf } from './customer-export.repository.js';
import { customerFromRow } from './customer.row.js';
import type { CustomerRecord } from './customer.types.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The record in the import's key order: id, name, workers (sorted), then the rest of the DTO. */
export async function findCustomerRecords(db: Db, ids: readonly string[]): Promise<Map<string, CustomerRecord>> {
  const found = new Map<string, CustomerRecord>();
  if (ids.length === 0) return found;
  const rows = await db
    .selectFrom('customers')
    .select(['pk', 'customer_id', 'display_name', 'avatar', 'channels', 'links', 'details'])
    .where('customer_id', 'in', [...ids])
    .execute();
  if (rows.length === 0) return found;
  const byPk = await ownersOf(db, rows.map((r) => r.pk));
  for (const row of rows) {
    const { customer_id, display_name, ...rest } = customerFromRow(row);
    found.set(customer_id, { customer_id, display_name, workers: byPk.get(row.pk) ?? [], ...rest });
  }
  return found;
}

export async function findCustomerRecord(db: Db, id: string): Promise<CustomerRecord | undefined> {
  return (await findCustomerRecords(db, [id])).get(id);
}

/** Deletes a customer with its owners and addresses; false when there was none. */
export async function deleteCustomer(trx: Transaction<Database>, id: string): Promise<boolean> {
  const row = await trx.selectFrom('customers').select('pk').where('customer_id', '=', id).executeTakeFirst();
  if (!row) return false;
  await trx.deleteFrom('customer_owners').where('customer_pk', '=', row.pk).execute();
  await trx.deleteFrom('customer_addresses').where('customer_pk', '=', row.pk).execute();
  await trx.deleteFrom('customers').where('pk', '=', row.pk).execute();
  return true;
}

/** How many customers each of `workers` owns (absent: none). */
export async function countBooks(db: Db, workers: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (workers.length === 0) return counts;
  const rows = await db
    .selectFrom('customer_owners')
    .select(['worker', (eb) => eb.fn.countAll().as('n')])
    .where('worker', 'in', [...workers])
    .groupBy('worker')
    .execute();
  for (const r of rows) counts.set(r.worker, Number(r.n));
  return counts;
}

/** The ids of the customers a worker owns, in id order. */
export async function bookIds(db: Db, worker: string): Promise<string[]> {
  const rows = await db.selectFrom('customer_owners').select('customer_id').where('worker', '=', worker).orderBy('customer_id').execute();
  return rows.map((r) => r.customer_id);
}
