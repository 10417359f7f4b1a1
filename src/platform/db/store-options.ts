/** How a store is opened (connect.ts), also by a reader thread (reader-threads.ts). */
import type { StoreUrl } from '../config.js';

export interface StoreOptions {
  readonly store: StoreUrl;
  readonly databasePoolSize: number;
  readonly databaseTimeoutMs: number;
  /**
   * SQLite: page cache per connection and the read connection's memory map, in MB (SQLITE_CACHE_MB,
   * SQLITE_MMAP_MB), and how many threads run the long reads (SQLITE_READ_THREADS, see reader-threads.ts).
   */
  readonly sqlite?: { readonly cacheMb: number; readonly mmapMb: number; readonly readThreads: number };
  /** SQLite: open only a read-only connection (a reader thread's store); writing fails. */
  readonly readOnly?: boolean;
  /** Called when an idle pooled connection dies (the pool replaces it by itself). */
  readonly onIdleError?: (err: Error) => void;
}
