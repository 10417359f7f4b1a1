/**
 * Routing's upsert: a customer record for an unknown sender, written with the
 * same columns, owners and addresses as the import writes (customer-rows.ts),
 * so the CRM callback and the next routing find it like any imported one.
 */
import type { Transaction } from 'kysely';
import type { BulkStatements } from '../../platform/db/bulk.js';
import type { CustomerOwnerRow, CustomerRow, Database } from '../../platform/db/database.js';
import { CUSTOMER_COLUMNS, type CustomerColumn, customerRows, OWNER_COPIED_COLUMNS } from './customer-rows.js';
import type { NormalizedCustomer } from './customer.validate.js';

/** `import_seq` of records no import wrote: an import with `--prune` removes them like any record missing from its file. */
export const NOT_IMPORTED_SEQ = 0;

/**
 * Creates `customer` unless a record with its id exists (then keeps that one
 * as it is). Runs in the caller's write transaction: the row, its owners and
 * its addresses appear together.
 */
export async function createCustomerIfAbsent(
  trx: Transaction<Database>,
  bulk: BulkStatements,
  customer: NormalizedCustomer,
): Promise<'created' | 'exists'> {
  const rows = customerRows([customer]);
  // The values are built for CUSTOMER_COLUMNS, in their order (customer-rows.ts).
  const row = Object.fromEntries(CUSTOMER_COLUMNS.map((column, i) => [column, rows.values[i]])) as unknown as Pick<
    CustomerRow,
    CustomerColumn
  >;
  const inserted = await trx
    .insertInto('customers')
    .values({ ...row, import_seq: NOT_IMPORTED_SEQ })
    .onConflict((oc) => oc.column('customer_id').doNothing())
    .returning('pk')
    .executeTakeFirst();
  if (!inserted) return 'exists';
  const pk = inserted.pk;
  const blocks = bulk.searchBlocks();
  blocks.note(row.sort_key, row.search_text);
  await blocks.save(trx);

  if (rows.workers.length > 0) {
    const copied = Object.fromEntries(OWNER_COPIED_COLUMNS.map((column) => [column, row[column]])) as Pick<
      CustomerOwnerRow,
      (typeof OWNER_COPIED_COLUMNS)[number]
    >;
    await trx
      .insertInto('customer_owners')
      .values(rows.workers.map((worker) => ({ worker, customer_pk: pk, ...copied })))
      .execute();
  }
  if (rows.addresses.length > 0) {
    await trx
      .insertInto('customer_addresses')
      .values(rows.addresses.map((address) => ({ address, customer_pk: pk })))
      .execute();
  }
  return 'created';
}
