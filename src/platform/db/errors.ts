/**
 * Driver errors mapped to what they mean for a caller, in one place, so the
 * rest of the code never looks at SQLSTATEs or SQLite result codes.
 */

const PG_UNAVAILABLE_STATES = new Set([
  '57P01', // admin_shutdown: backend terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '57014', // query_canceled: statement_timeout hit
  '53300', // too_many_connections
]);

const NODE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const PG_CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'Client was closed and is not queryable',
];

/** True when the store could not be reached or did not answer in time: a 503, not a bug. */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || PG_UNAVAILABLE_STATES.has(code) || NODE_NETWORK_CODES.has(code)) return true;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_CANTOPEN') return true;
  }
  if (PG_CLIENT_MESSAGES.some((m) => err.message.includes(m))) return true;
  return err.cause !== undefined && err.cause !== err && isStoreUnavailable(err.cause);
}
