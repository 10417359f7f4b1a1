/**
 * Closing an HTTP server without failing a request (issue 14 item 5).
 * 1. stop accepting connections, but leave open ones alone (http.Server#close
 *    would drop idle keep-alive connections at once, racing requests already
 *    on the wire: the client sees a reset);
 * 2. every request from then on is answered normally, with `Connection: close`,
 *    so a keep-alive client gets its answer and then a clean close;
 * 3. after DRAIN_IDLE_GRACE_MS, connections still idle (nobody is sending on
 *    them) are closed; busy ones close after their answer;
 * 4. after DRAIN_BOUND_MS, whatever is left is cut, so the process always exits.
 */
import type { Server } from 'node:http';
import net from 'node:net';

/** How long keep-alive connections may stay idle after a close begins, before they are closed. */
export const DRAIN_IDLE_GRACE_MS = 1000;
/** Longest a close waits for requests to finish before cutting the connections. */
export const DRAIN_BOUND_MS = 10_000;
/** After this, a close that is still not done exits the process with 1. */
export const EXIT_BOUND_MS = DRAIN_BOUND_MS + 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Steps 1 to 4 above; resolves once every connection is closed. */
export async function drainConnections(
  server: Server,
  bounds: { idleGraceMs: number; boundMs: number } = { idleGraceMs: DRAIN_IDLE_GRACE_MS, boundMs: DRAIN_BOUND_MS },
): Promise<void> {
  const started = Date.now();
  server.on('request', (_request, response) => {
    response.shouldKeepAlive = false;
  });
  if (!server.listening) return;
  // net.Server's close: stop accepting, keep the open connections (in a cluster worker, the primary stops sending any).
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  const done = await Promise.race([closed.then(() => true), sleep(bounds.idleGraceMs).then(() => false)]);
  if (done) return;
  server.closeIdleConnections();
  const drained = await Promise.race([closed.then(() => true), sleep(Math.max(0, bounds.boundMs - (Date.now() - started))).then(() => false)]);
  if (!drained) server.closeAllConnections();
  await closed;
}

