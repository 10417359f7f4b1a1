/**
 * The hot reads as typed statements: queries built with Kysely and compiled
 * once per store, then run straight on the driver with new values.
 *
 * Kysely builds and compiles a query on every call; for the CRM callback's
 * small indexed reads that was about half of a request's cost. A statement is
 * declared once, beside its query, with the values it takes (`P`) and the
 * builder; the columns it returns are the builder's own result type (`R`),
 * which Kysely infers from the select list. So what a caller binds and what it
 * reads back are both checked by the compiler, by name: no column order or
 * parameter list is kept in step by hand.
 *
 * On first use in a store the builder runs once with placeholders where the
 * values go, the SQL is prepared (better-sqlite3 statement on the read-only
 * connection; a named prepared statement on pg), and each run only binds the
 * values. A builder must not branch on the values: everything that changes the
 * query's clauses is a separate statement.
 */
import type { Compilable, CompiledQuery, Expression, Kysely, SqlBool } from 'kysely';
import { sql } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Store } from './connect.js';
import type { Database } from './database.js';

/** Stands in for a named value while the query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

/** What a builder may use besides Kysely: the few constructs whose SQL differs by dialect. */
export interface StatementKit {
  readonly db: Kysely<Database>;
  /** `column` is one of the integers of `list` (bound as one value: a JSON array on SQLite, int[] on pg). */
  inIntegers(column: Expression<number>, list: IntegerList): Expression<SqlBool>;
  /**
   * A LIKE pattern bound as a value: `column like ${kit.pattern(value)}`, and a LIMIT or OFFSET:
   * `.limit(kit.rows(v.limit))`. SQLite prepares a statement again every time a value is bound to a
   * parameter its planner may read (`sqlite3VdbeSetVarmask`): a bare LIKE pattern (for the LIKE
   * optimization, which needs a NOCASE index or case_sensitive_like: none of our columns can use it)
   * and, since SQLite 3.46, a bare LIMIT (a bare OFFSET measured no dearer; it goes the same way, so that
   * one rule covers both). better-sqlite3 binds every value on every run, so
   * each search statement was parsed and planned again on each run (sqlite3Reprepare: 8% of a loaded
   * service's CPU, perf, heavy reps' searches). Bound as expressions (`? || ''`, `? + 0`), they are
   * bound like any value: a one-row probe with a LIKE 3.0 µs instead of 6–7.5, one with LIMIT ? 3.5 µs
   * instead of 7.8; searches in heavy books 12–25% less CPU, list pages 23% (in-process, alternating).
   * PostgreSQL's SQL is unchanged.
   */
  pattern(value: unknown): Expression<string>;
  rows(value: number): Expression<number>;
}

/**
 * Whether each statement is a round trip to a server (PostgreSQL), so that two reads are cheaper as one
 * statement; on SQLite a statement is a call into the library, and two simple ones cost less than a
 * compound one (measured: rank 0 of a search, 174 µs as two against 267 µs as a UNION ALL).
 */
export function statementsAreRoundTrips(store: Store): boolean {
  return store.driver.kind === 'postgres';
}

/** A list of integers bound as one value (see StatementKit.inIntegers). */
export type IntegerList = readonly number[] & { readonly __integerList?: never };

interface Entry {
  readonly query: CompiledQuery;
  /** For each compiled parameter: the value's name, or undefined for a constant of the query. */
  readonly names: ReadonlyArray<string | undefined>;
  /** SQLite: the prepared statement (rows as arrays) and what turns one of its rows into the row object. */
  readonly sqlite: { readonly statement: SqliteDatabase.Statement; readonly toRow: (values: unknown[]) => unknown } | undefined;
}

let statements = 0;
/** Every statement declared (module constants, all of them): what the tests check every statement's SQL by. */
const declared: Array<ReadStatement<never, unknown>> = [];

/** Every read statement declared so far (those of the modules imported). */
export function declaredStatements(): ReadonlyArray<{ sqlFor(store: Store): string }> {
  return declared;
}

export class ReadStatement<P extends object, R> {
  private readonly entries = new WeakMap<Store, Entry>();
  /** The name pg prepares the statement under, once per connection. */
  private readonly name = `fis:${++statements}`;

  constructor(private readonly build: (kit: StatementKit, values: P) => Compilable<R>) {
    declared.push(this as unknown as ReadStatement<never, unknown>);
  }

  /** The rows, as objects of the columns the query selects. */
  async all(store: Store, values: P): Promise<R[]> {
    const entry = this.entryFor(store);
    const { query, names } = entry;
    const parameters = new Array<unknown>(names.length);
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === undefined) {
        parameters[i] = query.parameters[i];
        continue;
      }
      const value = (values as Record<string, unknown>)[name];
      if (value === undefined) throw new Error(`statement ${this.name}: no value for ${name}`);
      parameters[i] = Array.isArray(value) && store.dialect === 'sqlite' ? JSON.stringify(value) : value;
    }
    if (entry.sqlite) {
      const rows = entry.sqlite.statement.all(parameters) as unknown[][];
      const toRow = entry.sqlite.toRow as (values: unknown[]) => R;
      const out = new Array<R>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = toRow(rows[i] as unknown[]);
      return out;
    }
    const driver = store.driver;
    if (driver.kind !== 'postgres') throw new Error('unreachable: a SQLite entry always has its statement');
    const result = await driver.reads.query({ name: this.name, text: query.sql, values: parameters });
    return result.rows as R[];
  }

  /** The first row, or undefined. */
  async first(store: Store, values: P): Promise<R | undefined> {
    return (await this.all(store, values))[0];
  }

  /** The SQL this statement runs on `store` (for tests and EXPLAIN). */
  sqlFor(store: Store): string {
    return this.entryFor(store).query.sql;
  }

  private entryFor(store: Store): Entry {
    let entry = this.entries.get(store);
    if (!entry) {
      const slots = new Proxy({}, { get: (_, name) => new Slot(String(name)) }) as P;
      const query = this.build(kitFor(store), slots).compile();
      const driver = store.driver;
      const statement = driver.kind === 'sqlite' ? driver.reader.prepare(query.sql).raw(true) : undefined;
      entry = {
        query,
        names: query.parameters.map((p) => (p instanceof Slot ? p.name : undefined)),
        sqlite: statement && { statement, toRow: rowMaker(statement.columns().map((column) => column.name)) },
      };
      this.entries.set(store, entry);
    }
    return entry;
  }
}

/** Declares a read statement: its values `P` and its builder; the row type comes from the builder. */
export function readStatement<P extends object, R>(build: (kit: StatementKit, values: P) => Compilable<R>): ReadStatement<P, R> {
  return new ReadStatement(build);
}

/**
 * A function that makes a row object of fixed shape from a row array. better-sqlite3 builds row
 * objects property by property in C++, a third of a list page's read (10 µs of 44 for 31 rows at
 * 100,000 customers, measured); an object literal built in JavaScript costs almost nothing.
 * The column names come from SQLite itself (the select list's aliases), quoted as JSON strings.
 */
function rowMaker(columns: readonly string[]): (values: unknown[]) => unknown {
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: values[${i}]`);
  return new Function('values', `return { ${fields.join(', ')} };`) as (values: unknown[]) => unknown;
}

function kitFor(store: Store): StatementKit {
  const onSqlite = store.dialect === 'sqlite';
  return {
    db: store.db,
    inIntegers: onSqlite
      ? (column, list) => sql<SqlBool>`${column} in (select value from json_each(${list}))`
      : (column, list) => sql<SqlBool>`${column} = any(${list}::integer[])`,
    pattern: onSqlite ? (value) => sql<string>`(${value} || '')` : (value) => sql<string>`${value}`,
    rows: onSqlite ? (value) => sql<number>`(${value} + 0)` : (value) => sql<number>`${value}`,
  };
}
