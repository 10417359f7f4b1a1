/** The export's read: every customer with its owners, in customer_id order, a page at a time. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { StoredCustomer } from './customer.row.js';

/** The owners of the customers `pks`, each list in identity order. */
export async function ownersOf(db: Kysely<Database> | Transaction<Database>, pks: readonly number[]): Promise<Map<number, string[]>> {
  const owners = await db.selectFrom('customer_owners').select(['customer_pk', 'worker']).where('customer_pk', 'in', [...pks]).orderBy('worker').execute();
  const byPk = new Map<number, string[]>();
  for (const o of owners) {
    const list = byPk.get(o.customer_pk);
    if (list) list.push(o.worker);
    else byPk.set(o.customer_pk, [o.worker]);
  }
  return byPk;
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
  const byPk = await ownersOf(db, rows.map((r) => r.pk));
  return rows.map((r) => ({ ...r, workers: byPk.get(r.pk) ?? [] }));
}
