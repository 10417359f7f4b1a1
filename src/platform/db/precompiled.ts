/**
 * The hot reads: queries built with Kysely and compiled once per shape, then
 * run straight on the driver with new values, rows returned as arrays.
 *
 * Kysely builds and compiles a query on every call, and its drivers turn each
 * row into an object; for the CRM callback's small indexed reads that was
 * about half of a request's cost. Each hot query has a handful of shapes
 * (worker or everyone, first page or after a cursor, with or without phone
 * digits), so it is compiled once per shape and store with placeholders where
 * the values go, kept as a prepared statement (better-sqlite3) or a named
 * prepared statement (pg), and each run only binds the values.
 */
import type { Compilable, CompiledQuery } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Store } from './connect.js';

/** Stands in for a named value while the query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

interface Entry {
  readonly query: CompiledQuery;
  /** For each compiled parameter: the value's name, or undefined for a constant of the query. */
  readonly names: ReadonlyArray<string | undefined>;
  /** The prepared statement, on SQLite (rows as arrays). */
  readonly statement: SqliteDatabase.Statement | undefined;
  /** The name pg prepares the statement under, once per connection. */
  readonly name: string;
}

const compiledByStore = new WeakMap<Store, Map<string, Entry>>();

function entryFor<P extends object>(store: Store, shape: string, build: (slots: P) => Compilable<unknown>): Entry {
  let cache = compiledByStore.get(store);
  if (!cache) compiledByStore.set(store, (cache = new Map()));
  let entry = cache.get(shape);
  if (!entry) {
    const slots = new Proxy({}, { get: (_, name) => new Slot(String(name)) }) as P;
    const query = build(slots).compile();
    const driver = store.driver;
    entry = {
      query,
      names: query.parameters.map((p) => (p instanceof Slot ? p.name : undefined)),
      statement: driver.kind === 'sqlite' ? driver.reader.prepare(query.sql).raw(true) : undefined,
      name: `fis:${shape}`,
    };
    cache.set(shape, entry);
  }
  return entry;
}

/**
 * Runs the read query `build` makes, compiled once per `shape` and store, and
 * returns its rows as arrays of column values, in the order the query selects
 * them. `build` receives placeholders, not the values: everything that
 * changes the query's structure (which clauses it has) must be part of `shape`.
 */
export async function readPrecompiled<P extends object, Row extends unknown[]>(
  store: Store,
  shape: string,
  values: P,
  build: (slots: P) => Compilable<unknown>,
): Promise<Row[]> {
  const entry = entryFor(store, shape, build);
  const { query, names } = entry;
  const parameters = names.map((name, i) => {
    if (name === undefined) return query.parameters[i];
    const value = (values as Record<string, unknown>)[name];
    if (value === undefined) throw new Error(`precompiled query ${shape}: no value for ${name}`);
    return value;
  });
  const driver = store.driver;
  if (entry.statement) return entry.statement.all(parameters) as Row[];
  if (driver.kind !== 'postgres') throw new Error('unreachable: a SQLite entry always has its statement');
  const result = await driver.pool.query<Row>({ name: entry.name, text: query.sql, values: parameters, rowMode: 'array' });
  return result.rows;
}
