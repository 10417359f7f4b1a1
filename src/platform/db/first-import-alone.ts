/**
 * SQLite: a first import (into an empty store) that finds no other connection
 * to the file writes without the write-ahead log, holding the file alone until
 * it commits.
 *
 * In WAL mode every page an import writes goes to the log first and is copied
 * into the file again when the log is checkpointed, at the commit: a first
 * import of 1,000,000 customers writes its 1.2 GB twice. With a rollback
 * journal a transaction writes the file's pages in place and journals only
 * the pages the file had before it began, which in an empty store are a few
 * (the schema): the same import measured 42.7–42.9 s against 48.6–52.5 s
 * (BENCHMARKS.md, issue 11, twentieth round). It stays atomic and durable:
 * `synchronous = FULL` meanwhile, and a process killed mid-way leaves a hot
 * journal that the next connection to open the file for writing rolls back
 * (the service and every `fis` command open one first).
 *
 * The price: without the log, readers and writers exclude each other, so the
 * file is the import's alone until it commits. Hence only when nothing is
 * lost by it: the store is empty (nothing to read yet), and no other
 * connection has the file open, which SQLite itself checks (leaving WAL mode
 * needs every other connection closed; a running service, or the serving
 * process of the admin API's import, keeps its own open, and the import then
 * writes through the log as before). A process that opens the file meanwhile
 * waits for the commit as it opens (connect.ts, useWal: `fis import` its
 * --wait, the service and other commands DATABASE_TIMEOUT_MS), then fails
 * with StoreHeldAlone naming the reason.
 */
import type { Store } from './connect.js';
import { isSqliteBusy } from './errors.js';

const nothingToRelease = () => undefined;

/**
 * Takes the file alone for a first import when it can (see above); returns what gives it back, to
 * call once the import's transaction has ended, committed or not: WAL mode again, as the file had it.
 */
export function holdAloneForFirstImport(store: Store): () => void {
  const driver = store.driver;
  if (driver.kind !== 'sqlite' || driver.database.memory || driver.database.readonly) return nothingToRelease;
  const database = driver.database;
  const { empty } = database.prepare('select not exists (select 1 from customers) as empty').get() as { empty: number };
  if (!empty) return nothingToRelease;
  const busyTimeout = database.pragma('busy_timeout', { simple: true }) as number;
  // Another connection to the file refuses the change at once: no wait.
  database.pragma('busy_timeout = 0');
  try {
    if (database.pragma('journal_mode = DELETE', { simple: true }) !== 'delete') return nothingToRelease;
  } catch (err) {
    if (isSqliteBusy(err)) return nothingToRelease;
    throw err;
  } finally {
    database.pragma(`busy_timeout = ${busyTimeout}`);
  }
  database.pragma('synchronous = FULL');
  return () => {
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 0');
    try {
      database.pragma('journal_mode = WAL');
    } catch (err) {
      // A process opening the file meanwhile holds it now, and puts it in WAL mode itself (useWal).
      if (!isSqliteBusy(err)) throw err;
    } finally {
      database.pragma(`busy_timeout = ${busyTimeout}`);
    }
  };
}
