/**
 * The bind layout of customers: the values the import writer (and routing's
 * upsert) store for a validated customer, as flat arrays. Built where records
 * are validated, possibly in another thread (application/files/prepare.ts), so
 * this module holds data and pure functions only.
 */
import type { NormalizedCustomer } from './customer.validate.js';

/** The customers columns the writers set, in bind order, `pk` and `import_seq` aside (customer_id first). */
export const CUSTOMER_COLUMNS = [
  'customer_id',
  'display_name',
  'sort_key',
  'avatar',
  'channels',
  'links',
  'details',
  'search_text',
  'phone_digits',
] as const;
export type CustomerColumn = (typeof CUSTOMER_COLUMNS)[number];

/**
 * The columns of customer_owners copied from the customer (the book is
 * denormalised, see database.ts), in the order they follow `worker, customer_pk`.
 */
export const OWNER_COPIED_COLUMNS = ['customer_id', 'sort_key', 'display_name', 'avatar', 'search_text', 'phone_digits'] as const;

/** Values per customer in `CustomerRows.values`. */
export const WIDTH = CUSTOMER_COLUMNS.length;
/** Where each column is in a customer's values. */
export const COLUMN = Object.fromEntries(CUSTOMER_COLUMNS.map((c, i) => [c, i])) as Record<CustomerColumn, number>;
const OWNER_COPIED_AT = OWNER_COPIED_COLUMNS.map((c) => COLUMN[c]);

/**
 * Customers as the writer takes them: the values it binds, ready, in flat arrays.
 */
export interface CustomerRows {
  /** Each customer's CUSTOMER_COLUMNS values (customer_id first), one customer after the other. */
  values: Array<string | null>;
  /** Each customer's owners: `workerCounts[i]` identities of `workers`, customer after customer. */
  workers: string[];
  workerCounts: number[];
  /** Each customer's addresses (E.164 numbers, lower-case e-mail addresses), the same way. */
  addresses: string[];
  addressCounts: number[];
}

/** The customer_id of the `index`th customer of `rows`. */
export const customerIdAt = (rows: CustomerRows, index: number) => rows.values[index * WIDTH] as string;

/** The writer's form of valid customers. */
export function customerRows(customers: readonly NormalizedCustomer[]): CustomerRows {
  const rows: CustomerRows = { values: [], workers: [], workerCounts: [], addresses: [], addressCounts: [] };
  for (const { record, sortKey, searchText, phoneDigits, addresses } of customers) {
    rows.values.push(
      record.customer_id,
      record.display_name,
      sortKey,
      record.avatar ?? null,
      JSON.stringify(record.channels ?? []),
      JSON.stringify(record.links ?? []),
      record.details ? JSON.stringify(record.details) : null,
      searchText,
      phoneDigits,
    );
    rows.workers.push(...record.workers);
    rows.workerCounts.push(record.workers.length);
    rows.addresses.push(...addresses);
    rows.addressCounts.push(addresses.length);
  }
  return rows;
}

/** Appends to `out` the customer_owners row of `worker` for the customer whose values start at `at` (stored as `pk`). */
export function pushOwnerRow(out: unknown[], values: ReadonlyArray<string | null>, at: number, worker: string, pk: number): void {
  out.push(worker, pk);
  for (const offset of OWNER_COPIED_AT) out.push(values[at + offset]);
}
