/**
 * Versioned migrations, applied in name order by Kysely's Migrator, which
 * holds a lock while it runs (a PostgreSQL advisory lock; SQLite's write lock),
 * so two instances starting at once apply each migration exactly once.
 */
import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator, sql } from 'kysely';
import type { Store } from './connect.js';
import type { Dialect } from './dialect.js';
import { restoreDeferredIndexes } from './deferred-indexes.js';
import { customers } from './migrations/20261122T0001-customers.js';
import { workersAndSenders } from './migrations/20261122T0002-workers-senders.js';
import { templates } from './migrations/20261122T0100-templates.js';
import { routing } from './migrations/20261122T0200-routing.js';
import { searchIndex } from './migrations/20261202T0100-search-index.js';
import { workerState } from './migrations/20261202T0300-worker-state.js';
import { admin } from './migrations/20261202T0201-admin.js';
import { templateIds } from './migrations/20261202T0202-template-ids.js';
import { simulatorTarget } from './migrations/20261202T0500-simulator-target.js';
import { searchDigitsPositions } from './migrations/20261202T0600-search-digits-positions.js';
import { searchCoveringIndexes } from './migrations/20261202T1700-search-covering-indexes.js';
import { searchTextEnds } from './migrations/20261203T0100-search-text-ends.js';
import { searchListOrder } from './migrations/20261203T1900-search-list-order.js';
import { searchDigitsMerged } from './migrations/20261204T2000-search-digits-merged.js';
import { searchBlocks } from './migrations/20261205T0100-search-blocks.js';
import { deferredIndexes } from './migrations/20261206T0100-deferred-indexes.js';
import { sqliteOneListIndex } from './migrations/20261206T0300-sqlite-one-list-index.js';
import { searchBlocksCut } from './migrations/20261206T0500-search-blocks-cut.js';
import { phoneWindows } from './migrations/20261206T0700-phone-windows.js';
import { sqlitePhoneWindows } from './migrations/20261206T0900-sqlite-phone-windows.js';
import { searchBlocksVersion } from './migrations/20261206T1300-search-blocks-version.js';
import { sqliteTextWindows } from './migrations/20261206T1500-sqlite-text-windows.js';
import { searchBlocksCharacters } from './migrations/20261206T1700-search-blocks-characters.js';
import { sqliteDigitsListOrder } from './migrations/20261206T1900-sqlite-digits-list-order.js';
import { pgSearchListBuckets } from './migrations/20261207T0500-pg-search-list-buckets.js';
import { pgBookDigitsIndex } from './migrations/20261207T1000-pg-book-digits-index.js';
import { sqliteListPosPlaces } from './migrations/20261207T1400-sqlite-list-pos-places.js';
import { sqliteTrigramCounts } from './migrations/20261207T1500-sqlite-trigram-counts.js';

/** Every migration, by name. Names sort in the order they apply; never rename or edit a released one. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '20261122T0001-customers': customers(dialect),
    '20261122T0002-workers-senders': workersAndSenders(dialect),
    '20261122T0100-templates': templates(dialect),
    '20261122T0200-routing': routing(dialect),
    '20261202T0100-search-index': searchIndex(dialect),
    '20261202T0201-admin': admin(dialect),
    '20261202T0202-template-ids': templateIds(dialect),
    '20261202T0300-worker-state': workerState(dialect),
    '20261202T0500-simulator-target': simulatorTarget(dialect),
    '20261202T0600-search-digits-positions': searchDigitsPositions(dialect),
    '20261202T1700-search-covering-indexes': searchCoveringIndexes(dialect),
    '20261203T0100-search-text-ends': searchTextEnds(dialect),
    '20261203T1900-search-list-order': searchListOrder(dialect),
    '20261204T2000-search-digits-merged': searchDigitsMerged(dialect),
    '20261205T0100-search-blocks': searchBlocks(dialect),
    '20261206T0100-deferred-indexes': deferredIndexes(dialect),
    '20261206T0300-sqlite-one-list-index': sqliteOneListIndex(dialect),
    '20261206T0500-search-blocks-cut': searchBlocksCut(dialect),
    '20261206T0700-phone-windows': phoneWindows(dialect),
    '20261206T0900-sqlite-phone-windows': sqlitePhoneWindows(dialect),
    '20261206T1300-search-blocks-version': searchBlocksVersion(dialect),
    '20261206T1500-sqlite-text-windows': sqliteTextWindows(dialect),
    '20261206T1700-search-blocks-characters': searchBlocksCharacters(dialect),
    '20261206T1900-sqlite-digits-list-order': sqliteDigitsListOrder(dialect),
    '20261207T0500-pg-search-list-buckets': pgSearchListBuckets(dialect),
    '20261207T1000-pg-book-digits-index': pgBookDigitsIndex(dialect),
    '20261207T1400-sqlite-list-pos-places': sqliteListPosPlaces(dialect),
    '20261207T1500-sqlite-trigram-counts': sqliteTrigramCounts(dialect),
  };
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly all: Record<string, Migration>) {}
  async getMigrations() {
    return this.all;
  }
}

function migrator(store: Store, db = store.db): Migrator {
  return new Migrator({
    db,
    provider: new StaticProvider(migrations(store.dialect)),
    ...(store.dialect === 'postgres'
      ? { migrationTableSchema: store.schema }
      : // SQLite: we hold the write lock ourselves (see migrateToLatest), so Kysely must not open its own transaction.
        { disableTransactions: true }),
  });
}

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Applies every pending migration; returns the names applied. */
export async function migrateToLatest(store: Store): Promise<string[]> {
  if (store.dialect === 'postgres') {
    await ensureSchema(store);
    // Without a statement timeout: a migration that builds an index on a large store takes longer than a request may.
    const applied = report(await store.maintenance((db) => migrator(store, db).migrateToLatest()));
    // The indexes a killed first import left listed (deferred-indexes.ts).
    await restoreDeferredIndexes(store);
    return applied;
  }
  // Usually nothing is pending: then take no lock at all (a reader never waits for a writer in WAL mode,
  // so an import does not wait here for another process's import to finish).
  if ((await pendingMigrations(store)).length === 0) return [];
  // Kysely's SQLite lock only guards one connection. Two processes sharing the file would both read
  // "not applied" inside deferred transactions; BEGIN IMMEDIATE takes the file's write lock first,
  // so the second process waits (busy timeout), then finds the migrations applied.
  await sql`begin immediate`.execute(store.db);
  try {
    const result = await migrator(store).migrateToLatest();
    await sql`${sql.raw(result.error ? 'rollback' : 'commit')}`.execute(store.db);
    return report(result);
  } catch (err) {
    await sql`rollback`.execute(store.db).catch(() => undefined);
    throw err;
  }
}

function report(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${String((result.error as Error).message ?? result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of the migrations this release knows but the database has not applied yet. */
export async function pendingMigrations(store: Store): Promise<string[]> {
  const all = await migrator(store).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

async function ensureSchema(store: Store): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(store.schema)}`.execute(store.db);
  } catch (err) {
    // Two instances creating the schema at the same moment: the loser sees a unique violation.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}
