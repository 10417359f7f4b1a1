/**
 * The import's writes of customers, inside the one transaction an import is
 * (`Store.write` with CUSTOMERS_WRITE_LOCK): all or nothing.
 *
 * An import writes up to millions of customers, so the writer binds values to
 * multi-row statements (`Store.bulk`, chosen by the store) rather than building
 * a query per batch; this module says which tables, columns and keys.
 */
import type { Kysely, Transaction } from 'kysely';
import type { BulkStatements, Column, Table } from '../../platform/db/bulk.js';
import type { Database } from '../../platform/db/database.js';
import { NO_SEARCH_BLOCKS } from '../../platform/db/search-blocks.js';
import type { InsertedWindows } from '../../platform/db/phone-windows.js';
import { COLUMN, CUSTOMER_COLUMNS, customerRows, type CustomerRows, OWNER_COPIED_COLUMNS, pushOwnerRow, WIDTH } from './customer-rows.js';
import type { NormalizedCustomer } from './customer.validate.js';

type Trx = Transaction<Database>;

/**
 * What an import holds for its whole length (`Store.write`): imports exclude each other, and every other
 * writer of customers, owners and addresses (routing's create) writes `customers` first, so waits too.
 */
export const CUSTOMERS_WRITE_LOCK: readonly Table[] = ['customers'];

/** The next import run number; runs are serialised by the import's write lock. */
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

/** Deletes every customer that import run `seq` did not write; returns how many. */
export async function pruneCustomersNotIn(trx: Trx, seq: number): Promise<number> {
  const stale = trx.selectFrom('customers').select('pk').where('import_seq', '<>', seq);
  await trx.deleteFrom('customer_owners').where('customer_pk', 'in', stale).execute();
  await trx.deleteFrom('customer_addresses').where('customer_pk', 'in', stale).execute();
  const result = await trx.deleteFrom('customers').where('import_seq', '<>', seq).executeTakeFirst();
  return Number(result.numDeletedRows);
}

const text = <T extends keyof Database>(names: ReadonlyArray<keyof Database[T] & string>): Array<Column<T>> =>
  names.map((name) => [name, 'text'] as const);
const CUSTOMER: Array<Column<'customers'>> = text<'customers'>(CUSTOMER_COLUMNS);
const IMPORT_SEQ: Column<'customers'> = ['import_seq', 'integer'];
const PK: Column<'customers'> = ['pk', 'integer'];
const OWNERS: Array<Column<'customer_owners'>> = [['worker', 'text'], ['customer_pk', 'integer'], ...text<'customer_owners'>(OWNER_COPIED_COLUMNS)];
const ADDRESSES: Array<Column<'customer_addresses'>> = [
  ['address', 'text'],
  ['customer_pk', 'integer'],
];

/**
 * Writes batches of customers with their owners and addresses for import run
 * `seq`: inserts new customers, replaces stored ones (owners and addresses
 * included). A repeated id (earlier in the batch, or written by this run in an
 * earlier batch) is left as it was and reported back. Each batch's ids are
 * looked up through the unique index on customer_id, which is how repeats from
 * earlier batches are found: the cost per batch and the memory stay constant
 * however large the file.
 */
export interface CustomerWriter {
  /**
   * Writes `rows`; returns the repeats, by index in `rows`, each with the index
   * of its first occurrence in `rows`, or undefined if an earlier batch had it.
   */
  write(rows: CustomerRows): Promise<Map<number, number | undefined>>;
  /** Completes the writes: call once, after the last batch. */
  finish(): Promise<void>;
}

/**
 * Writes a few customers (the admin API's single writes) with the import's writer, in the caller's
 * transaction under CUSTOMERS_WRITE_LOCK. Returns the ids repeated in `customers` (left as first written).
 */
export async function upsertCustomers(
  trx: Trx,
  bulk: BulkStatements,
  customers: readonly NormalizedCustomer[],
  seq: number,
): Promise<Set<string>> {
  const writer = customerWriter(trx, bulk, seq);
  const repeats = await writer.write(customerRows(customers));
  await writer.finish();
  return new Set([...repeats.keys()].map((i) => (customers[i] as NormalizedCustomer).record.customer_id));
}

/**
 * `blocksCutAfter`: the caller cuts the search blocks afresh after these writes (a first import:
 * search-blocks.ts), so the writer adds no bits of its own. `insertedWindows`: where the customers it
 * inserts go for their search windows, when the caller deferred their triggers (deferSearchIndex).
 */
export function customerWriter(
  trx: Trx,
  bulk: BulkStatements,
  seq: number,
  options: { blocksCutAfter?: boolean; insertedWindows?: InsertedWindows | undefined } = {},
): CustomerWriter {
  return new Writer(trx, bulk, seq, options.blocksCutAfter ?? false, options.insertedWindows);
}

class Writer implements CustomerWriter {
  private readonly lookup;
  private readonly insert;
  private readonly update;
  private readonly deleteOwners;
  private readonly deleteAddresses;
  private readonly owners;
  private readonly addresses;
  private readonly blocks;

  constructor(
    private readonly trx: Trx,
    bulk: BulkStatements,
    private readonly seq: number,
    blocksCutAfter: boolean,
    private readonly windows: InsertedWindows | undefined,
  ) {
    this.lookup = bulk.selectIn({ table: 'customers', columns: ['pk', 'customer_id', 'import_seq'], key: ['customer_id', 'text'] });
    this.insert = bulk.insert({ table: 'customers', columns: CUSTOMER, constants: [IMPORT_SEQ], returning: ['pk', 'customer_id'] });
    // customer_id stays as it is.
    this.update = bulk.update({ table: 'customers', key: PK, columns: CUSTOMER.slice(1), constants: [IMPORT_SEQ] });
    this.deleteOwners = bulk.deleteIn({ table: 'customer_owners', key: ['customer_pk', 'integer'] });
    this.deleteAddresses = bulk.deleteIn({ table: 'customer_addresses', key: ['customer_pk', 'integer'] });
    // In the order of each table's primary key.
    this.owners = bulk.appender(trx, { table: 'customer_owners', columns: OWNERS, orderBy: ['worker', 'sort_key', 'customer_id'] });
    this.addresses = bulk.appender(trx, { table: 'customer_addresses', columns: ADDRESSES, orderBy: ['address', 'customer_pk'] });
    this.blocks = blocksCutAfter ? NO_SEARCH_BLOCKS : bulk.searchBlocks();
  }

  async finish(): Promise<void> {
    await this.owners.finish();
    await this.addresses.finish();
    await this.blocks.save(this.trx);
    await this.windows?.finish();
  }

  async write(rows: CustomerRows): Promise<Map<number, number | undefined>> {
    const { values } = rows;
    const count = values.length / WIDTH;
    const repeats = new Map<number, number | undefined>();
    if (count === 0) return repeats;
    const ids: string[] = new Array(count);
    for (let i = 0; i < count; i++) ids[i] = values[i * WIDTH] as string;
    const stored = new Map<string, { pk: number; import_seq: number }>();
    for (const row of await this.lookup.run(this.trx, ids)) stored.set(row.customer_id, row);

    const first = new Map<string, number>();
    const fresh: Array<string | null> = [];
    const replaced: Array<string | null> = [];
    const replacedPks: number[] = [];
    const pks = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const id = ids[i] as string;
      const earlier = first.get(id);
      if (earlier !== undefined) {
        repeats.set(i, earlier);
        continue;
      }
      first.set(id, i);
      const row = stored.get(id);
      if (row !== undefined && Number(row.import_seq) === this.seq) {
        repeats.set(i, undefined);
        continue;
      }
      // Written now, as a new customer or over a stored one.
      this.blocks.note(values[i * WIDTH + COLUMN.sort_key] as string, values[i * WIDTH + COLUMN.search_text] as string);
      if (row === undefined) {
        for (let c = i * WIDTH; c < (i + 1) * WIDTH; c++) fresh.push(values[c] as string | null);
      } else {
        for (let c = i * WIDTH + 1; c < (i + 1) * WIDTH; c++) replaced.push(values[c] as string | null);
        replacedPks.push(row.pk);
        pks.set(id, row.pk);
      }
    }
    if (fresh.length > 0) {
      for (const row of await this.insert.run(this.trx, fresh, [this.seq])) pks.set(row.customer_id, row.pk);
      if (this.windows) {
        for (let at = 0; at < fresh.length; at += WIDTH) {
          const pk = pks.get(fresh[at] as string) as number;
          this.windows.add(pk, fresh[at + COLUMN.search_text] as string, fresh[at + COLUMN.phone_digits] as string);
        }
        await this.windows.writeIfFull();
      }
    }
    if (replacedPks.length > 0) {
      await this.update.run(this.trx, replacedPks, replaced, [this.seq]);
      await this.deleteOwners.run(this.trx, replacedPks);
      await this.deleteAddresses.run(this.trx, replacedPks);
    }

    const owners: unknown[] = [];
    const addresses: unknown[] = [];
    let worker = 0;
    let address = 0;
    for (let i = 0; i < count; i++) {
      const workerCount = rows.workerCounts[i] as number;
      const addressCount = rows.addressCounts[i] as number;
      if (!repeats.has(i)) {
        const pk = pks.get(ids[i] as string) as number;
        for (let w = worker; w < worker + workerCount; w++) pushOwnerRow(owners, values, i * WIDTH, rows.workers[w] as string, pk);
        for (let a = address; a < address + addressCount; a++) addresses.push(rows.addresses[a], pk);
      }
      worker += workerCount;
      address += addressCount;
    }
    if (owners.length > 0) await this.owners.add(owners);
    if (addresses.length > 0) await this.addresses.add(addresses);
    return repeats;
  }
}
