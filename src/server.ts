/**
 * Runs the service: opens the store, checks (or applies) migrations, listens,
 * and closes cleanly on SIGTERM/SIGINT.
 */
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { openStore, type Store } from './db/connect.js';
import { migrateToLatest, pendingMigrations } from './db/migrate.js';

export interface RunningServer {
  readonly url: string;
  readonly store: Store;
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  const store = openStore({
    ...config,
    onIdleError: (err) => app?.http.log.warn({ err }, 'an idle database connection was lost; the pool will reconnect'),
  });
  try {
    if (config.migrateOnStart) {
      await migrateToLatest(store);
    } else {
      const pending = await pendingMigrations(store);
      if (pending.length > 0) {
        throw new Error(
          `the database needs ${pending.length} migration(s) (${pending.join(', ')}): run "fis migrate" or start with MIGRATE_ON_START=true`,
        );
      }
    }
    app = await buildApp({ config, store });
    if (config.insecureDevMode) {
      app.http.log.warn('INSECURE DEVELOPMENT MODE: callbacks are accepted without checking X-Twilio-Signature');
    }
    const url = await app.http.listen({ port: config.port, host: config.host });
    const http = app.http;
    return {
      url,
      store,
      async close() {
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

/** Closes the server on the first SIGTERM or SIGINT; a second one exits at once. */
export function closeOnSignals(server: RunningServer, log: (msg: string) => void): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    log(`received ${signal}, closing`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
