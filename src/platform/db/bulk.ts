/**
 * Multi-row statements for writers of many rows (the customer import), in
 * each store's dialect. A repository says which table, columns and key; this
 * module says how each store runs that best, so repositories never branch on
 * the dialect. `openStore` picks one of the two sets, once.
 *
 * The statements are fixed SQL text with placeholders, built once per
 * statement, and each call only binds values (building and compiling Kysely
 * queries for every batch took a third of the import's time). They run
 * through the transaction's own connection (`trx.executeQuery`).
 * - SQLite: multi-row `insert or fail … values (…), (…)` of a fixed number of
 *   rows for every full group of rows, one-row statements for the rest;
 *   key lookups as a fixed-size `in (…)` list padded with nulls; updates and
 *   deletes one key at a time (each an index seek). `or fail`, not the default
 *   `or abort`: an aborting multi-row statement must be able to undo itself,
 *   so SQLite first copies every page it changes to a statement journal, which
 *   about doubled the cost of writing. The writers look keys up first, so none
 *   of these statements should fail; if one did, the error rolls the whole
 *   transaction back anyway.
 * - PostgreSQL: one statement per call, whatever the number of rows, with
 *   one array parameter per column (`unnest`) or per key list (`= any`).
 *
 * Values are passed flat: the rows one after the other, each row's values in
 * the order of the statement's columns.
 */
import { CompiledQuery, type Selectable, type Transaction } from 'kysely';
import type { Database } from './database.js';
import { NO_SEARCH_BLOCKS, postgresSearchBlocks, type SearchBlockWriter } from './search-blocks.js';

type Trx = Transaction<Database>;

export type Table = keyof Database;
export type ColumnOf<T extends Table> = keyof Database[T] & string;
/** A column's type, as PostgreSQL needs it to type an array parameter. */
export type SqlType = 'text' | 'integer';
export type Column<T extends Table> = readonly [name: ColumnOf<T>, type: SqlType];

export interface SelectInStatement<R> {
  /** The rows whose key is one of `keys` (any number of them). */
  run(trx: Trx, keys: readonly unknown[]): Promise<R[]>;
}

export interface InsertStatement<R> {
  /** Inserts the rows of `values`, each with the same `constants`; returns the `returning` columns of each row. */
  run(trx: Trx, values: readonly unknown[], constants?: readonly unknown[]): Promise<R[]>;
}

export interface UpdateStatement {
  /** Sets the columns of the row with key `keys[i]` to the `i`th row of `values` (and the constants). */
  run(trx: Trx, keys: readonly unknown[], values: readonly unknown[], constants?: readonly unknown[]): Promise<void>;
}

export interface DeleteInStatement {
  run(trx: Trx, keys: readonly unknown[]): Promise<void>;
}

/**
 * Rows added to a table during one transaction, any number of calls; all of
 * them are in the table once `finish` has run. On SQLite they are staged in a
 * temporary table and copied in `orderBy` order by `finish` (a table clustered
 * on its key fills much faster in key order); on PostgreSQL each `add` inserts.
 */
export interface Appender {
  add(values: readonly unknown[]): Promise<void>;
  finish(): Promise<void>;
}

export interface BulkStatements {
  selectIn<T extends Table, C extends ColumnOf<T>>(spec: {
    table: T;
    columns: readonly C[];
    key: Column<T>;
  }): SelectInStatement<Pick<Selectable<Database[T]>, C & keyof Selectable<Database[T]>>>;
  insert<T extends Table, R extends ColumnOf<T> = never>(spec: {
    table: T;
    columns: ReadonlyArray<Column<T>>;
    constants?: ReadonlyArray<Column<T>>;
    returning?: readonly R[];
  }): InsertStatement<Pick<Selectable<Database[T]>, R & keyof Selectable<Database[T]>>>;
  update<T extends Table>(spec: {
    table: T;
    key: Column<T>;
    columns: ReadonlyArray<Column<T>>;
    constants?: ReadonlyArray<Column<T>>;
  }): UpdateStatement;
  deleteIn<T extends Table>(spec: { table: T; key: Column<T> }): DeleteInStatement;
  appender<T extends Table>(trx: Trx, spec: { table: T; columns: ReadonlyArray<Column<T>>; orderBy: ReadonlyArray<ColumnOf<T>> }): Appender;
  /** What a writer of customers gathers for the search blocks (PostgreSQL; nothing on SQLite): search-blocks.ts. */
  searchBlocks(): SearchBlockWriter;
}

async function run<R>(trx: Trx, text: string, parameters: readonly unknown[]): Promise<R[]> {
  return (await trx.executeQuery<R>(CompiledQuery.raw(text, parameters as unknown[]))).rows;
}

const names = <T extends Table>(columns: ReadonlyArray<Column<T>>) => columns.map(([name]) => name);

// ---------------------------------------------------------------- SQLite

/** Rows per multi-row statement on SQLite: more saves little and makes a larger statement to bind. */
const SQLITE_ROWS = 100;
/** Keys per lookup on SQLite: `key in (…)`, padded with nulls. */
const SQLITE_LOOKUP = 500;

const placeholders = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;
const valuesOf = (columns: readonly string[], rows: number) =>
  `(${columns.join(', ')}) values ${Array.from({ length: rows }, () => placeholders(columns.length)).join(', ')}`;

/**
 * Runs `statement(SQLITE_ROWS)` for every full group of rows, `statement(1)` for each other row,
 * `width` values a row; `each` receives each statement's rows.
 */
async function insertInGroups<R>(
  trx: Trx,
  statements: ReadonlyMap<number, string>,
  width: number,
  values: readonly unknown[],
  each?: (rows: R[]) => void,
): Promise<void> {
  const rows = values.length / width;
  const full = rows - (rows % SQLITE_ROWS);
  for (let row = 0; row < rows; ) {
    const n = row < full ? SQLITE_ROWS : 1;
    const result = await run<R>(trx, statements.get(n) as string, values.slice(row * width, (row + n) * width));
    each?.(result);
    row += n;
  }
}

const insertTexts = (table: string, columns: readonly string[], returning: readonly string[]) =>
  new Map(
    [SQLITE_ROWS, 1].map((n) => [
      n,
      `insert or fail into ${table} ${valuesOf(columns, n)}${returning.length > 0 ? ` returning ${returning.join(', ')}` : ''}`,
    ]),
  );

/** Each row of `values` (`width` values) followed by `constants`. */
function withConstants(values: readonly unknown[], width: number, constants: readonly unknown[]): readonly unknown[] {
  if (constants.length === 0) return values;
  const out: unknown[] = [];
  for (let i = 0; i < values.length; i += width) {
    for (let c = i; c < i + width; c++) out.push(values[c]);
    out.push(...constants);
  }
  return out;
}

export const sqliteBulk: BulkStatements = {
  searchBlocks: () => NO_SEARCH_BLOCKS,

  selectIn({ table, columns, key }) {
    const text = `select ${columns.join(', ')} from ${table} where ${key[0]} in ${placeholders(SQLITE_LOOKUP)}`;
    return {
      async run(trx, keys) {
        const found: never[] = [];
        for (let i = 0; i < keys.length; i += SQLITE_LOOKUP) {
          const chunk: unknown[] = keys.slice(i, i + SQLITE_LOOKUP);
          while (chunk.length < SQLITE_LOOKUP) chunk.push(null);
          found.push(...(await run<never>(trx, text, chunk)));
        }
        return found;
      },
    };
  },

  insert({ table, columns, constants = [], returning = [] }) {
    const texts = insertTexts(table, [...names(columns), ...names(constants)], returning);
    const width = columns.length;
    return {
      async run(trx, values, constantValues = []) {
        const rows: never[] = [];
        await insertInGroups<never>(trx, texts, width + constants.length, withConstants(values, width, constantValues), (r) =>
          rows.push(...r),
        );
        return rows;
      },
    };
  },

  update({ table, key, columns, constants = [] }) {
    const set = [...names(columns), ...names(constants)].map((c) => `${c} = ?`).join(', ');
    const text = `update ${table} set ${set} where ${key[0]} = ?`;
    const width = columns.length;
    return {
      async run(trx, keys, values, constantValues = []) {
        for (let i = 0; i < keys.length; i++) {
          const parameters = values.slice(i * width, (i + 1) * width);
          parameters.push(...constantValues, keys[i]);
          await run(trx, text, parameters);
        }
      },
    };
  },

  deleteIn({ table, key }) {
    const text = `delete from ${table} where ${key[0]} = ?`;
    return {
      async run(trx, keys) {
        for (const k of keys) await run(trx, text, [k]);
      },
    };
  },

  appender(trx, { table, columns, orderBy }) {
    const list = names(columns).join(', ');
    const stage = `stage_${table}`;
    const texts = insertTexts(`temp.${stage}`, names(columns), []);
    let staged = false;
    return {
      async add(values) {
        if (!staged) {
          await run(trx, `create temp table ${stage} (${list})`, []);
          staged = true;
        }
        await insertInGroups(trx, texts, columns.length, values);
      },
      async finish() {
        if (!staged) return;
        await run(trx, `insert or fail into ${table} (${list}) select ${list} from temp.${stage} order by ${orderBy.join(', ')}`, []);
        await run(trx, `drop table temp.${stage}`, []);
        staged = false;
      },
    };
  },
};

// ---------------------------------------------------------------- PostgreSQL

/** `values` (rows one after the other, `width` values each) as one array per column. */
function columnArrays(values: readonly unknown[], width: number): unknown[][] {
  const arrays = Array.from({ length: width }, () => new Array<unknown>(values.length / width));
  for (let i = 0; i < values.length; i++) (arrays[i % width] as unknown[])[Math.floor(i / width)] = values[i];
  return arrays;
}

/** `unnest($from::type[], …)` over `types`, numbering placeholders from `from`. */
const unnest = (types: readonly SqlType[], from = 1) => `unnest(${types.map((t, i) => `$${from + i}::${t}[]`).join(', ')})`;
/** `$n::type, …` for scalar parameters numbered from `from`. */
const scalars = (columns: ReadonlyArray<Column<Table>>, from: number) =>
  columns.map(([name, type], i) => `$${from + i}::${type} as ${name}`).join(', ');

export const postgresBulk: BulkStatements = {
  searchBlocks: postgresSearchBlocks,

  selectIn({ table, columns, key }) {
    const text = `select ${columns.join(', ')} from ${table} where ${key[0]} = any($1::${key[1]}[])`;
    return { run: (trx, keys) => run(trx, text, [keys]) };
  },

  insert({ table, columns, constants = [], returning = [] }) {
    const all = [...names(columns), ...names(constants)];
    const extra = constants.length > 0 ? `, ${scalars(constants as ReadonlyArray<Column<Table>>, columns.length + 1)}` : '';
    const text =
      `insert into ${table} (${all.join(', ')}) ` +
      `select *${extra} from ${unnest(columns.map(([, type]) => type))}` +
      (returning.length > 0 ? ` returning ${returning.join(', ')}` : '');
    const width = columns.length;
    return { run: (trx, values, constantValues = []) => run(trx, text, [...columnArrays(values, width), ...constantValues]) };
  },

  update({ table, key, columns, constants = [] }) {
    const set = [...names(columns), ...names(constants)].map((c) => `${c} = u.${c}`).join(', ');
    const extra = constants.length > 0 ? `, ${scalars(constants as ReadonlyArray<Column<Table>>, columns.length + 2)}` : '';
    const text =
      `update ${table} as t set ${set} ` +
      `from (select *${extra} from ${unnest([key[1], ...columns.map(([, type]) => type)])} ` +
      `as u(${[key[0], ...names(columns)].join(', ')})) as u where t.${key[0]} = u.${key[0]}`;
    const width = columns.length;
    return {
      async run(trx, keys, values, constantValues = []) {
        await run(trx, text, [keys, ...columnArrays(values, width), ...constantValues]);
      },
    };
  },

  deleteIn({ table, key }) {
    const text = `delete from ${table} where ${key[0]} = any($1::${key[1]}[])`;
    return {
      async run(trx, keys) {
        await run(trx, text, [keys]);
      },
    };
  },

  appender(trx, { table, columns }) {
    const text = `insert into ${table} (${names(columns).join(', ')}) select * from ${unnest(columns.map(([, type]) => type))}`;
    return {
      async add(values) {
        await run(trx, text, columnArrays(values, columns.length));
      },
      async finish() {},
    };
  },
};
