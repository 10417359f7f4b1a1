/**
 * Runs the service: opens the store, checks (or applies) migrations, listens,
 * and closes cleanly on SIGTERM/SIGINT: the connections are drained first
 * (drain.ts), so no request fails, and the process exits within a bound.
 */
import { buildApp } from './app.js';
import { drainConnections, EXIT_BOUND_MS } from './drain.js';
import type { Config } from '../../platform/config.js';
import { openStore, type Store } from '../../platform/db/connect.js';
import { restoreDeferredIndexes } from '../../platform/db/deferred-indexes.js';
import { migrateToLatest, pendingMigrations } from '../../platform/db/migrate.js';
import type { Metrics } from '../../platform/metrics.js';

export interface RunningServer {
  readonly url: string;
  readonly store: Store;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** Applies pending migrations (MIGRATE_ON_START), or refuses a store that is behind. */
export async function prepareSchema(store: Store, config: Pick<Config, 'migrateOnStart'>): Promise<void> {
  if (config.migrateOnStart) {
    await migrateToLatest(store);
    return;
  }
  const pending = await pendingMigrations(store);
  if (pending.length > 0) {
    throw new Error(
      `the database needs ${pending.length} migration(s) (${pending.join(', ')}): run "fis migrate" or start with MIGRATE_ON_START=true`,
    );
  }
  // What migrateToLatest does besides migrating: the indexes a killed first import left to build.
  await restoreDeferredIndexes(store);
}

export async function startServer(config: Config): Promise<RunningServer> {
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  const store = openStore({
    ...config,
    onIdleError: (err) => app?.http.log.warn({ err }, 'an idle database connection was lost; the pool will reconnect'),
  });
  try {
    await prepareSchema(store, config);
    app = await buildApp({ config, store });
    const log = app.http.log;
    // A search still works if this fails: its thread is started again by the first search.
    await app.services.customers.warm().catch((err: unknown) => log.warn({ err }, 'the search did not warm up (it still works: the first searches do what was left)'));
    if (config.insecureDevMode) {
      app.http.log.warn('INSECURE DEVELOPMENT MODE: callbacks are accepted without checking X-Twilio-Signature');
    }
    const url = await app.http.listen({ port: config.port, host: config.host });
    const http = app.http;
    return {
      url,
      store,
      metrics: app.services.metrics,
      async close() {
        await drainConnections(http.server);
        await http.close();
        await store.close();
      },
    };
  } catch (err) {
    await app?.http.close();
    await store.close();
    throw err;
  }
}

/**
 * Closes the server on the first SIGTERM or SIGINT; a second signal exits at
 * once. Returns the same graceful close, for other reasons to stop (a cluster
 * worker's primary disconnecting it); it runs once whatever asks first.
 */
export function closeOnSignals(server: RunningServer, log: (msg: string) => void): (reason: string) => void {
  let closing = false;
  const close = (reason: string) => {
    if (closing) return;
    closing = true;
    log(`${reason}, closing`);
    // The drain is bounded; this bounds everything else (a store that does not close).
    setTimeout(() => {
      log(`not closed after ${EXIT_BOUND_MS} ms; exiting`);
      process.exit(1);
    }, EXIT_BOUND_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`closing failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    close(`received ${signal}`);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return close;
}
