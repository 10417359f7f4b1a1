/** How a store is opened (connect.ts), also by a reader thread (reader-threads.ts). */
import { SQLITE_DEFAULTS, type StoreUrl } from '../config.js';

export interface StoreOptions {
  readonly store: StoreUrl;
  readonly databasePoolSize: number;
  readonly databaseTimeoutMs: number;
  /**
   * SQLite: page cache per connection and the read connection's memory map, in MB (SQLITE_CACHE_MB,
   * SQLITE_MMAP_MB), and how many threads run the long reads (SQLITE_READ_THREADS, see reader-threads.ts).
   */
  readonly sqlite?: {
    readonly cacheMb: number;
    readonly mmapMb: number;
    readonly readThreads: number;
    /** Threads SQLite may add to a sort (`pragma threads`): building an index, `order by` of many rows. Default 0. */
    readonly sortThreads?: number;
  };
  /**
   * SQLite: how long opening the file may wait while a first import holds it alone (first-import-alone.ts).
   * Default databaseTimeoutMs; `fis import` waits its --wait.
   */
  readonly openWaitMs?: number;
  /** SQLite: open only a read-only connection (a reader thread's store); writing fails. */
  readonly readOnly?: boolean;
  /** Called when an idle pooled connection dies (the pool replaces it by itself). */
  readonly onIdleError?: (err: Error) => void;
}

/** A bulk import's SQLite page cache, at least (see forBulkImport). */
export const IMPORT_CACHE_MB = 64;

/** The sorts' helper threads of `fis import` on SQLite (see forBulkImport). */
export const IMPORT_SORT_THREADS = 2;

/**
 * The options of a store opened for a bulk import (`fis import`, the admin API's import, each on a
 * connection of its own): on SQLite a page cache of at least IMPORT_CACHE_MB. An import writes every page
 * of the store's indexes and goes faster with one (at 1,000,000 customers: 2–4% with 64 MB against 16,
 * 10% against 8), where serving gains nothing from it (BENCHMARKS.md, issue 11, seventh round); the
 * connection is closed when the import ends.
 *
 * `sortThreads`: threads SQLite may add to the import's sorts (the indexes a first import builds, its
 * staged rows copied in key order). `fis import`, a process of its own, gives IMPORT_SORT_THREADS: a
 * first import of 1,000,000 customers 3.5% faster here (28.7 s against 29.7), its peak RSS 376 MB
 * against 275 (each thread sorts in memory of its own). The admin API's import runs in the serving
 * process, whose memory serves the callbacks: none.
 */
export function forBulkImport<T extends StoreOptions>(options: T, { sortThreads = 0 }: { sortThreads?: number } = {}): T {
  const sqlite = options.sqlite ?? SQLITE_DEFAULTS;
  return { ...options, sqlite: { ...sqlite, cacheMb: Math.max(sqlite.cacheMb, IMPORT_CACHE_MB), sortThreads } };
}
