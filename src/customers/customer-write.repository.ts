/**
 * Writes of customers, used by the import inside one transaction. Each call
 * takes the transaction handle: an import is all or nothing.
 *
 * An import writes up to millions of customers, so the writer's statements are
 * fixed SQL text with placeholders, written once per dialect, and each batch
 * only binds values (building and compiling Kysely queries for every batch took
 * a third of the import's time). They run through the transaction's own
 * connection (`trx.executeQuery`), inside the same transaction as the rest.
 * - SQLite: multi-row `insert or fail … values (…), (…)` of a fixed number of
 *   rows for every full group of rows, one-row statements for the rest.
 *   `or fail`, not the default `or abort`: an aborting multi-row statement must
 *   be able to undo itself, so SQLite first copies every page it changes to a
 *   statement journal, which about doubled the cost of writing. None of these
 *   statements should ever fail (ids are looked up first); if one did, the
 *   error would roll the whole transaction back anyway.
 * - PostgreSQL: one statement per batch and table, whatever the batch's size,
 *   with one array parameter per column (`unnest`).
 */
import { CompiledQuery, type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import type { Dialect } from '../db/dialect.js';
import type { StoredCustomer } from './customer.row.js';
import type { NormalizedCustomer } from './customer.validate.js';

type Trx = Transaction<Database>;

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


/** The customers columns the writer sets, `pk` and `import_seq` aside. */
const CUSTOMER_COLUMNS = [
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
const OWNER_COLUMNS = [
  'worker',
  'customer_pk',
  'customer_id',
  'sort_key',
  'display_name',
  'avatar',
  'search_text',
  'phone_digits',
] as const;
const ADDRESS_COLUMNS = ['address', 'customer_pk'] as const;

/** Rows per multi-row statement on SQLite: more saves little and makes a larger statement to bind. */
const ROWS = 100;
/** Ids per lookup on SQLite: `customer_id in (…)`, padded with nulls. */
const LOOKUP = 500;

const placeholders = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;
const valuesOf = (columns: readonly string[], rows: number) =>
  `(${columns.join(', ')}) values ${Array.from({ length: rows }, () => placeholders(columns.length)).join(', ')}`;
const CUSTOMER_ROW = [...CUSTOMER_COLUMNS, 'import_seq'];

/** SQLite statements: `?` placeholders. */
const SQLITE = {
  lookup: `select pk, customer_id, import_seq from customers where customer_id in ${placeholders(LOOKUP)}`,
  insertCustomers: (rows: number) => `insert or fail into customers ${valuesOf(CUSTOMER_ROW, rows)} returning pk, customer_id`,
  updateCustomer: `update customers set ${CUSTOMER_ROW.slice(1).map((c) => `${c} = ?`).join(', ')} where pk = ?`,
  deleteOwners: 'delete from customer_owners where customer_pk = ?',
  deleteAddresses: 'delete from customer_addresses where customer_pk = ?',
  insertOwners: (rows: number) => `insert or fail into customer_owners ${valuesOf(OWNER_COLUMNS, rows)}`,
  insertAddresses: (rows: number) => `insert or fail into customer_addresses ${valuesOf(ADDRESS_COLUMNS, rows)}`,
};

const unnest = (types: readonly string[]) => `unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
const CUSTOMER_TYPES = CUSTOMER_COLUMNS.map(() => 'text');

/** PostgreSQL statements: one array parameter per column, then any single values. */
const POSTGRES = {
  lookup: 'select pk, customer_id, import_seq from customers where customer_id = any($1::text[])',
  insertCustomers:
    `insert into customers (${CUSTOMER_ROW.join(', ')}) ` +
    `select *, $${CUSTOMER_COLUMNS.length + 1}::integer from ${unnest(CUSTOMER_TYPES)} returning pk, customer_id`,
  updateCustomers:
    `update customers as c set ${CUSTOMER_ROW.slice(1).map((col) => `${col} = u.${col}`).join(', ')} ` +
    `from (select *, $${CUSTOMER_COLUMNS.length + 2}::integer as import_seq ` +
    `from ${unnest(['integer', ...CUSTOMER_TYPES])} as u(pk, ${CUSTOMER_COLUMNS.join(', ')})) as u ` +
    'where c.pk = u.pk',
  deleteOwners: 'delete from customer_owners where customer_pk = any($1::integer[])',
  deleteAddresses: 'delete from customer_addresses where customer_pk = any($1::integer[])',
  insertOwners: `insert into customer_owners (${OWNER_COLUMNS.join(', ')}) select * from ${unnest(['text', 'integer', 'text', 'text', 'text', 'text', 'text', 'text'])}`,
  insertAddresses: `insert into customer_addresses (${ADDRESS_COLUMNS.join(', ')}) select * from ${unnest(['text', 'integer'])}`,
};

/** A customer's values in CUSTOMER_COLUMNS order, appended to `out`. */
function pushCustomer(out: unknown[], { record, sortKey, searchText, phoneDigits }: NormalizedCustomer): void {
  out.push(
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
}

/** A customer's rows of customer_owners, in OWNER_COLUMNS order, appended to `out`. */
function pushOwners(out: unknown[], { record, sortKey, searchText, phoneDigits }: NormalizedCustomer, pk: number): void {
  const avatar = record.avatar ?? null;
  for (const worker of record.workers) {
    out.push(worker, pk, record.customer_id, sortKey, record.display_name, avatar, searchText, phoneDigits);
  }
}

interface StoredKey {
  pk: number;
  customer_id: string;
  import_seq: number;
}

/**
 * Writes batches of customers with their owners and addresses for import run
 * `seq`: inserts new customers, replaces stored ones (owners and addresses
 * included). An id this run has already written (repeated in the file, in an
 * earlier batch) is left as it was and reported back. Each batch's ids are
 * looked up through the unique index on customer_id, which is how repeats are
 * found: the cost per batch and the memory stay constant however large the file.
 */
export interface CustomerWriter {
  /** Writes `customers` (ids unique among them); returns the ids this run had already written. */
  write(customers: readonly NormalizedCustomer[]): Promise<Set<string>>;
}

export function customerWriter(trx: Trx, dialect: Dialect, seq: number): CustomerWriter {
  return dialect === 'sqlite' ? new SqliteWriter(trx, seq) : new PostgresWriter(trx, seq);
}

/** Inserts or replaces each customer (see CustomerWriter); returns the ids run `seq` had already written. */
export function upsertCustomers(
  trx: Trx,
  dialect: Dialect,
  customers: readonly NormalizedCustomer[],
  seq: number,
): Promise<Set<string>> {
  return customerWriter(trx, dialect, seq).write(customers);
}

abstract class Writer implements CustomerWriter {
  constructor(
    protected readonly trx: Trx,
    protected readonly seq: number,
  ) {}

  protected async run<R>(sqlText: string, parameters: unknown[]): Promise<R[]> {
    return (await this.trx.executeQuery<R>(CompiledQuery.raw(sqlText, parameters))).rows;
  }

  /** The stored customers among `ids`. */
  protected abstract lookup(ids: string[]): Promise<StoredKey[]>;
  /** Inserts new customers; returns their pks by id. */
  protected abstract insert(customers: NormalizedCustomer[], pks: Map<string, number>): Promise<void>;
  /** Replaces stored customers' columns, and deletes their owners and addresses. */
  protected abstract replace(customers: NormalizedCustomer[], pks: number[]): Promise<void>;
  /** Inserts rows of customer_owners (`values` in OWNER_COLUMNS order, one row after the other). */
  protected abstract insertOwners(values: unknown[]): Promise<void>;
  /** Inserts rows of customer_addresses (`values` in ADDRESS_COLUMNS order). */
  protected abstract insertAddresses(values: unknown[]): Promise<void>;

  async write(customers: readonly NormalizedCustomer[]): Promise<Set<string>> {
    const repeated = new Set<string>();
    if (customers.length === 0) return repeated;
    const stored = new Map<string, StoredKey>();
    for (const row of await this.lookup(customers.map((c) => c.record.customer_id))) stored.set(row.customer_id, row);

    const fresh: NormalizedCustomer[] = [];
    const replaced: NormalizedCustomer[] = [];
    const replacedPks: number[] = [];
    const pks = new Map<string, number>();
    for (const customer of customers) {
      const id = customer.record.customer_id;
      const row = stored.get(id);
      if (row === undefined) fresh.push(customer);
      else if (Number(row.import_seq) === this.seq) repeated.add(id);
      else {
        replaced.push(customer);
        replacedPks.push(row.pk);
        pks.set(id, row.pk);
      }
    }
    if (fresh.length > 0) await this.insert(fresh, pks);
    if (replaced.length > 0) await this.replace(replaced, replacedPks);

    const owners: unknown[] = [];
    const addresses: unknown[] = [];
    for (const customer of customers) {
      const pk = pks.get(customer.record.customer_id);
      if (pk === undefined) continue; // a repeat, left as it was
      pushOwners(owners, customer, pk);
      for (const address of customer.addresses) addresses.push(address, pk);
    }
    if (owners.length > 0) await this.insertOwners(owners);
    if (addresses.length > 0) await this.insertAddresses(addresses);
    return repeated;
  }
}

class SqliteWriter extends Writer {
  /** Statement text by row count: only ROWS and 1 are used, so there are two per table. */
  private static readonly insertCustomers = new Map([ROWS, 1].map((n) => [n, SQLITE.insertCustomers(n)]));
  private static readonly insertOwners = new Map([ROWS, 1].map((n) => [n, SQLITE.insertOwners(n)]));
  private static readonly insertAddresses = new Map([ROWS, 1].map((n) => [n, SQLITE.insertAddresses(n)]));

  protected async lookup(ids: string[]): Promise<StoredKey[]> {
    const found: StoredKey[] = [];
    for (let i = 0; i < ids.length; i += LOOKUP) {
      const chunk: Array<string | null> = ids.slice(i, i + LOOKUP);
      while (chunk.length < LOOKUP) chunk.push(null);
      found.push(...(await this.run<StoredKey>(SQLITE.lookup, chunk)));
    }
    return found;
  }

  /** Runs `statements.get(ROWS)` for every full group of ROWS rows, `statements.get(1)` for each other. */
  private async insertRows<R>(statements: Map<number, string>, columns: number, values: unknown[], each?: (rows: R[]) => void) {
    const rows = values.length / columns;
    const full = rows - (rows % ROWS);
    for (let row = 0; row < rows; ) {
      const n = row < full ? ROWS : 1;
      const result = await this.run<R>(statements.get(n) as string, values.slice(row * columns, (row + n) * columns));
      each?.(result);
      row += n;
    }
  }

  protected async insert(customers: NormalizedCustomer[], pks: Map<string, number>): Promise<void> {
    const values: unknown[] = [];
    for (const customer of customers) {
      pushCustomer(values, customer);
      values.push(this.seq);
    }
    await this.insertRows<{ pk: number; customer_id: string }>(SqliteWriter.insertCustomers, CUSTOMER_ROW.length, values, (rows) => {
      for (const row of rows) pks.set(row.customer_id, row.pk);
    });
  }

  protected async replace(customers: NormalizedCustomer[], pks: number[]): Promise<void> {
    for (let i = 0; i < customers.length; i++) {
      const values: unknown[] = [];
      pushCustomer(values, customers[i] as NormalizedCustomer);
      values.shift(); // customer_id: unchanged
      values.push(this.seq, pks[i]);
      await this.run(SQLITE.updateCustomer, values);
      await this.run(SQLITE.deleteOwners, [pks[i]]);
      await this.run(SQLITE.deleteAddresses, [pks[i]]);
    }
  }

  protected insertOwners(values: unknown[]): Promise<void> {
    return this.insertRows(SqliteWriter.insertOwners, OWNER_COLUMNS.length, values);
  }

  protected insertAddresses(values: unknown[]): Promise<void> {
    return this.insertRows(SqliteWriter.insertAddresses, ADDRESS_COLUMNS.length, values);
  }
}

class PostgresWriter extends Writer {
  /** `values` (rows one after the other) as one array per column. */
  private static columns(values: unknown[], columns: number): unknown[][] {
    const arrays = Array.from({ length: columns }, () => new Array<unknown>(values.length / columns));
    for (let i = 0; i < values.length; i++) (arrays[i % columns] as unknown[])[Math.floor(i / columns)] = values[i];
    return arrays;
  }

  protected lookup(ids: string[]): Promise<StoredKey[]> {
    return this.run<StoredKey>(POSTGRES.lookup, [ids]);
  }

  protected async insert(customers: NormalizedCustomer[], pks: Map<string, number>): Promise<void> {
    const values: unknown[] = [];
    for (const customer of customers) pushCustomer(values, customer);
    const rows = await this.run<{ pk: number; customer_id: string }>(POSTGRES.insertCustomers, [
      ...PostgresWriter.columns(values, CUSTOMER_COLUMNS.length),
      this.seq,
    ]);
    for (const row of rows) pks.set(row.customer_id, row.pk);
  }

  protected async replace(customers: NormalizedCustomer[], pks: number[]): Promise<void> {
    const values: unknown[] = [];
    for (const customer of customers) pushCustomer(values, customer);
    await this.run(POSTGRES.updateCustomers, [pks, ...PostgresWriter.columns(values, CUSTOMER_COLUMNS.length), this.seq]);
    await this.run(POSTGRES.deleteOwners, [pks]);
    await this.run(POSTGRES.deleteAddresses, [pks]);
  }

  protected async insertOwners(values: unknown[]): Promise<void> {
    await this.run(POSTGRES.insertOwners, PostgresWriter.columns(values, OWNER_COLUMNS.length));
  }

  protected async insertAddresses(values: unknown[]): Promise<void> {
    await this.run(POSTGRES.insertAddresses, PostgresWriter.columns(values, ADDRESS_COLUMNS.length));
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
