/**
 * Queries built and compiled once per shape, then run with new values.
 *
 * Kysely builds and compiles a query on every call; for the CRM callback's
 * small indexed reads that costs about a tenth of a request. Each hot query
 * has a handful of shapes (worker or everyone, first page or after a cursor,
 * with or without phone digits), so it is compiled once per shape and store,
 * with placeholders where the values go, and each run only binds the values.
 */
import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/** Stands in for a named value while the query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

interface Entry {
  readonly query: CompiledQuery;
  /** For each compiled parameter: the value's name, or undefined for a constant of the query. */
  readonly names: ReadonlyArray<string | undefined>;
}

const compiledByStore = new WeakMap<object, Map<string, Entry>>();

/**
 * Runs the query `build` makes, compiled once per `shape` and store. `build`
 * receives placeholders, not the values: everything that changes the query's
 * structure (which clauses it has) must be part of `shape`.
 */
export async function runPrecompiled<P extends object, R>(
  db: Kysely<any>,
  shape: string,
  values: P,
  build: (slots: P) => Compilable<R>,
): Promise<R[]> {
  let cache = compiledByStore.get(db);
  if (!cache) compiledByStore.set(db, (cache = new Map()));
  let entry = cache.get(shape);
  if (!entry) {
    const slots = new Proxy({}, { get: (_, name) => new Slot(String(name)) }) as P;
    const query = build(slots).compile();
    entry = { query, names: query.parameters.map((p) => (p instanceof Slot ? p.name : undefined)) };
    cache.set(shape, entry);
  }
  const { query, names } = entry;
  const parameters = names.map((name, i) => {
    if (name === undefined) return query.parameters[i];
    const value = (values as Record<string, unknown>)[name];
    if (value === undefined) throw new Error(`precompiled query ${shape}: no value for ${name}`);
    return value;
  });
  const result = await db.executeQuery<R>({ ...query, parameters });
  return result.rows;
}
