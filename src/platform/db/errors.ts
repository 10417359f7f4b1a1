/**
 * Driver errors mapped to what they mean for a caller, in one place, so the
 * rest of the code never looks at SQLSTATEs or SQLite result codes.
 *
 * "Unavailable" means: the store could not be reached, refused us, or could
 * not do the work now, and the same request may well succeed shortly. HTTP
 * answers it with 503 (`STORE_UNAVAILABLE`); anything else a driver throws is
 * a bug or bad data, and stays a 500.
 *
 * PostgreSQL SQLSTATEs, audited class by class
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 *
 * | SQLSTATE            | name                                   | 503? | why |
 * |---------------------|----------------------------------------|------|-----|
 * | 08xxx (whole class) | connection_exception                   | yes  | the connection failed or was lost |
 * | 53xxx (whole class) | insufficient_resources                 | yes  | disk full, out of memory, too many connections, configuration limit |
 * | 57P01               | admin_shutdown                         | yes  | backend terminated (pg_terminate_backend, fast shutdown) |
 * | 57P02               | crash_shutdown                         | yes  | another backend crashed, the server restarts |
 * | 57P03               | cannot_connect_now                     | yes  | the server is starting up, shutting down or in recovery |
 * | 57P04               | database_dropped                       | yes  | the database went away under the session |
 * | 57P05               | idle_session_timeout                   | yes  | the server closed an idle pooled session |
 * | 57014               | query_canceled                         | yes  | statement_timeout: the server did not finish in time |
 * | 55P03               | lock_not_available                     | yes  | lock_timeout: another writer holds the lock (see write.ts) |
 * | 40001, 40P01        | serialization_failure, deadlock        | yes  | a transient conflict: the same request can be retried |
 * | 25006               | read_only_sql_transaction              | yes  | connected to a standby (a failover in progress): no writes now |
 * | 58000, 58030        | system_error, io_error                 | yes  | errors outside PostgreSQL (the disk, the OS) |
 * | any, severity FATAL or PANIC | (session-ending)              | yes  | the server ended or refused the session: notably 55000 "database is not currently accepting connections" (ALLOW_CONNECTIONS false), 3D000 database does not exist, 28000/28P01 authentication: the store cannot be used with this configuration now |
 * | 55000 otherwise     | object_not_in_prerequisite_state       | no   | inside a session it means a bug (e.g. currval before nextval) |
 * | 57000, 57P0x others | operator_intervention                  | no   | none of the others applies to us |
 * | 22, 23, 42, XX, …   | data, integrity, syntax, internal      | no   | a bug, bad data or a damaged database: needs a person, not a retry |
 *
 * Severity is the server's (possibly localised) `S` field; with English or
 * untranslated messages it reads FATAL/PANIC. The codes above do not depend on it.
 *
 * SQLite (better-sqlite3 `code`, extended codes included): SQLITE_BUSY* and
 * SQLITE_LOCKED* (another connection holds the lock past the busy timeout),
 * SQLITE_CANTOPEN (the file cannot be opened), SQLITE_FULL (disk full) and
 * SQLITE_IOERR* (the disk or the OS failed) are 503; every other SQLite code is a 500.
 * Node network codes (ECONNREFUSED, ECONNRESET, …) and the pg client's own
 * connection messages are 503; so are StoreBusy (the bounded wait for the
 * write lock ran out), StoreUnreachable (a pipelined reads' connection could
 * not be made) and any error whose `cause` is one of these.
 */

const PG_UNAVAILABLE_CLASSES = ['08', '53'];

const PG_UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P04', // database_dropped
  '57P05', // idle_session_timeout
  '57014', // query_canceled: statement_timeout hit
  '55P03', // lock_not_available: lock_timeout hit
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '25006', // read_only_sql_transaction: a standby
  '58000', // system_error
  '58030', // io_error
]);

/** Severities with which the server ends (or refuses to start) the session. */
const PG_SESSION_ENDING = new Set(['FATAL', 'PANIC']);

const NODE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** SQLite result codes (better-sqlite3 `code`, extended codes included) that mean "not now". */
const SQLITE_UNAVAILABLE_PREFIXES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_FULL', 'SQLITE_IOERR'];

const PG_CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Client was closed and is not queryable',
];

/**
 * The store's write lock was not free within the wait allowed for it: another
 * writer (an import, a settings load) held it. Nothing was changed.
 */
export class StoreBusy extends Error {
  readonly code = 'STORE_BUSY';
  constructor(
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `the store is busy: another writer held its write lock for the ${formatWait(waitedMs)} this command waits; ` +
        'nothing was changed, try again once it has finished',
      options,
    );
    this.name = 'StoreBusy';
  }
}

/**
 * SQLite: opening the store's file waited past its bound while another process held the file alone:
 * a first import writing without the write-ahead log (first-import-alone.ts), until it commits.
 */
export class StoreHeldAlone extends StoreBusy {
  constructor(waitedMs: number, options?: { cause?: unknown }) {
    super(waitedMs, options);
    this.message =
      `the store's file is held by another process alone (a first import into an empty store holds it until it commits) ` +
      `past the ${formatWait(waitedMs)} this command waits; try again once the import has finished`;
    this.name = 'StoreHeldAlone';
  }
}

/**
 * A read on a reader thread (reader-threads.ts) did not finish within the store's timeout
 * (DATABASE_TIMEOUT_MS), as a PostgreSQL statement past its statement_timeout: a 503.
 */
export class ReadTimeout extends Error {
  readonly code = 'STORE_TIMEOUT';
  constructor(readonly waitedMs: number) {
    super(`the store did not answer within ${formatWait(waitedMs)}; try again`);
    this.name = 'ReadTimeout';
  }
}

/** A connection to the server could not be made (pipelined-reads.ts): refused, timed out, or cut while opening. */
export class StoreUnreachable extends Error {
  constructor(options: { cause: unknown }) {
    super(`could not connect to the database: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
    this.name = 'StoreUnreachable';
  }
}

const formatWait = (ms: number) => (ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`);

/** True when a PostgreSQL error (`code` its SQLSTATE) means the database is not available now. */
export function isUnavailableSqlState(code: string, severity?: string): boolean {
  if (PG_UNAVAILABLE_CLASSES.includes(code.slice(0, 2)) || PG_UNAVAILABLE_STATES.has(code)) return true;
  return severity !== undefined && PG_SESSION_ENDING.has(severity);
}

/** True when the store could not be reached or did not answer in time: a 503, not a bug. */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof StoreBusy || err instanceof ReadTimeout || err instanceof StoreUnreachable) return true;
  const { code, severity } = err as { code?: unknown; severity?: unknown };
  if (typeof code === 'string') {
    if (NODE_NETWORK_CODES.has(code)) return true;
    if (code.startsWith('SQLITE_')) return SQLITE_UNAVAILABLE_PREFIXES.some((p) => code.startsWith(p));
    if (/^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code, typeof severity === 'string' ? severity : undefined)) return true;
  }
  if (PG_CLIENT_MESSAGES.some((m) => err.message.includes(m))) return true;
  return err.cause !== undefined && err.cause !== err && isStoreUnavailable(err.cause);
}

/** True when a SQLite error means another connection holds the lock (the caller may wait and retry). */
export function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** True when a PostgreSQL error is lock_timeout expiring. */
export function isLockTimeout(err: unknown): boolean {
  return (err as { code?: unknown } | undefined)?.code === '55P03';
}
