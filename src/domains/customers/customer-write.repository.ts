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
import type { Database } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/dialect.js';
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
  insertOwners: (rows: number, table: string) => `insert or fail into ${table} ${valuesOf(OWNER_COLUMNS, rows)}`,
  insertAddresses: (rows: number, table: string) => `insert or fail into ${table} ${valuesOf(ADDRESS_COLUMNS, rows)}`,
  stage: [
    `create temp table import_owners (${OWNER_COLUMNS.join(', ')})`,
    `create temp table import_addresses (${ADDRESS_COLUMNS.join(', ')})`,
  ],
  unstage: [
    `insert or fail into customer_owners (${OWNER_COLUMNS.join(', ')}) select ${OWNER_COLUMNS.join(', ')} from temp.import_owners order by worker, sort_key, customer_id`,
    `insert or fail into customer_addresses (${ADDRESS_COLUMNS.join(', ')}) select ${ADDRESS_COLUMNS.join(', ')} from temp.import_addresses order by address, customer_pk`,
    'drop table temp.import_owners',
    'drop table temp.import_addresses',
  ],
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

/**
 * Customers as the writer takes them: the values it binds, ready (built where
 * the records are validated, possibly another thread), in flat arrays.
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

const COLUMN = Object.fromEntries(CUSTOMER_COLUMNS.map((c, i) => [c, i])) as Record<(typeof CUSTOMER_COLUMNS)[number], number>;
const WIDTH = CUSTOMER_COLUMNS.length;

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

interface StoredKey {
  pk: number;
  customer_id: string;
  import_seq: number;
}

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

export function customerWriter(trx: Trx, dialect: Dialect, seq: number, options: { bulk?: boolean } = {}): CustomerWriter {
  return dialect === 'sqlite' ? new SqliteWriter(trx, seq, options.bulk ?? false) : new PostgresWriter(trx, seq);
}

/** Inserts or replaces each customer (ids unique among them) for run `seq`; returns the ids that run had already written. */
export async function upsertCustomers(
  trx: Trx,
  dialect: Dialect,
  customers: readonly NormalizedCustomer[],
  seq: number,
): Promise<Set<string>> {
  const writer = customerWriter(trx, dialect, seq);
  const repeats = await writer.write(customerRows(customers));
  await writer.finish();
  return new Set([...repeats.keys()].map((i) => (customers[i] as NormalizedCustomer).record.customer_id));
}

abstract class Writer implements CustomerWriter {
  constructor(
    protected readonly trx: Trx,
    protected readonly seq: number,
  ) {}

  async finish(): Promise<void> {}

  protected async run<R>(sqlText: string, parameters: unknown[]): Promise<R[]> {
    return (await this.trx.executeQuery<R>(CompiledQuery.raw(sqlText, parameters))).rows;
  }

  /** The stored customers among `ids`. */
  protected abstract lookup(ids: string[]): Promise<StoredKey[]>;
  /** Inserts new customers (`values`: CUSTOMER_COLUMNS values); sets their pks by id. */
  protected abstract insert(values: Array<string | null>, pks: Map<string, number>): Promise<void>;
  /** Replaces stored customers' columns (`pks` in the order of `values`), and deletes their owners and addresses. */
  protected abstract replace(values: Array<string | null>, pks: number[]): Promise<void>;
  /** Inserts rows of customer_owners (`values` in OWNER_COLUMNS order, one row after the other). */
  protected abstract insertOwners(values: unknown[]): Promise<void>;
  /** Inserts rows of customer_addresses (`values` in ADDRESS_COLUMNS order). */
  protected abstract insertAddresses(values: unknown[]): Promise<void>;

  async write(rows: CustomerRows): Promise<Map<number, number | undefined>> {
    const { values } = rows;
    const count = values.length / WIDTH;
    const repeats = new Map<number, number | undefined>();
    if (count === 0) return repeats;
    const ids: string[] = new Array(count);
    for (let i = 0; i < count; i++) ids[i] = values[i * WIDTH] as string;
    const stored = new Map<string, StoredKey>();
    for (const row of await this.lookup(ids)) stored.set(row.customer_id, row);

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
      const customer = values.slice(i * WIDTH, (i + 1) * WIDTH);
      if (row === undefined) fresh.push(...customer);
      else if (Number(row.import_seq) === this.seq) repeats.set(i, undefined);
      else {
        replaced.push(...customer);
        replacedPks.push(row.pk);
        pks.set(id, row.pk);
      }
    }
    if (fresh.length > 0) await this.insert(fresh, pks);
    if (replaced.length > 0) await this.replace(replaced, replacedPks);

    const owners: unknown[] = [];
    const addresses: unknown[] = [];
    let worker = 0;
    let address = 0;
    for (let i = 0; i < count; i++) {
      const workerCount = rows.workerCounts[i] as number;
      const addressCount = rows.addressCounts[i] as number;
      if (!repeats.has(i)) {
        const pk = pks.get(ids[i] as string) as number;
        const at = i * WIDTH;
        for (let w = worker; w < worker + workerCount; w++) {
          owners.push(
            rows.workers[w],
            pk,
            values[at + COLUMN.customer_id],
            values[at + COLUMN.sort_key],
            values[at + COLUMN.display_name],
            values[at + COLUMN.avatar],
            values[at + COLUMN.search_text],
            values[at + COLUMN.phone_digits],
          );
        }
        for (let a = address; a < address + addressCount; a++) addresses.push(rows.addresses[a], pk);
      }
      worker += workerCount;
      address += addressCount;
    }
    if (owners.length > 0) await this.insertOwners(owners);
    if (addresses.length > 0) await this.insertAddresses(addresses);
    return repeats;
  }
}

class SqliteWriter extends Writer {
  /** Statement text by row count: only ROWS and 1 are used, so there are two per table. */
  private static readonly insertCustomers = new Map([ROWS, 1].map((n) => [n, SQLITE.insertCustomers(n)]));
  private readonly insertOwnersSql: Map<number, string>;
  private readonly insertAddressesSql: Map<number, string>;
  private staged = false;

  constructor(
    trx: Trx,
    seq: number,
    private readonly bulk: boolean,
  ) {
    super(trx, seq);
    const owners = bulk ? 'temp.import_owners' : 'customer_owners';
    const addresses = bulk ? 'temp.import_addresses' : 'customer_addresses';
    this.insertOwnersSql = new Map([ROWS, 1].map((n) => [n, SQLITE.insertOwners(n, owners)]));
    this.insertAddressesSql = new Map([ROWS, 1].map((n) => [n, SQLITE.insertAddresses(n, addresses)]));
  }

  override async write(rows: CustomerRows): Promise<Map<number, number | undefined>> {
    if (this.bulk && !this.staged) {
      for (const statement of SQLITE.stage) await this.run(statement, []);
      this.staged = true;
    }
    return super.write(rows);
  }

  override async finish(): Promise<void> {
    if (!this.staged) return;
    for (const statement of SQLITE.unstage) await this.run(statement, []);
    this.staged = false;
  }

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

  protected async insert(values: Array<string | null>, pks: Map<string, number>): Promise<void> {
    const withSeq: unknown[] = [];
    for (let i = 0; i < values.length; i += WIDTH) {
      for (let c = i; c < i + WIDTH; c++) withSeq.push(values[c]);
      withSeq.push(this.seq);
    }
    await this.insertRows<{ pk: number; customer_id: string }>(SqliteWriter.insertCustomers, WIDTH + 1, withSeq, (rows) => {
      for (const row of rows) pks.set(row.customer_id, row.pk);
    });
  }

  protected async replace(values: Array<string | null>, pks: number[]): Promise<void> {
    for (let i = 0; i < pks.length; i++) {
      // customer_id stays as it is.
      const columns: unknown[] = values.slice(i * WIDTH + 1, (i + 1) * WIDTH);
      columns.push(this.seq, pks[i]);
      await this.run(SQLITE.updateCustomer, columns);
      await this.run(SQLITE.deleteOwners, [pks[i]]);
      await this.run(SQLITE.deleteAddresses, [pks[i]]);
    }
  }

  protected insertOwners(values: unknown[]): Promise<void> {
    return this.insertRows(this.insertOwnersSql, OWNER_COLUMNS.length, values);
  }

  protected insertAddresses(values: unknown[]): Promise<void> {
    return this.insertRows(this.insertAddressesSql, ADDRESS_COLUMNS.length, values);
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

  protected async insert(values: Array<string | null>, pks: Map<string, number>): Promise<void> {
    const rows = await this.run<{ pk: number; customer_id: string }>(POSTGRES.insertCustomers, [
      ...PostgresWriter.columns(values, WIDTH),
      this.seq,
    ]);
    for (const row of rows) pks.set(row.customer_id, row.pk);
  }

  protected async replace(values: Array<string | null>, pks: number[]): Promise<void> {
    await this.run(POSTGRES.updateCustomers, [pks, ...PostgresWriter.columns(values, WIDTH), this.seq]);
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
