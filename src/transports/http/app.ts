/**
 * Builds the HTTP application. It never listens: `server.ts` does, and the
 * tests and the CLI reuse this builder.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../../platform/config.js';
import type { Store } from '../../platform/db/connect.js';
import { callbacks } from './callbacks.js';
import { installErrorHandling } from './error-handler.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { loggerOptions, RequestLogController } from '../../platform/logging.js';
import { createServices, type Services } from '../../application/services.js';

export interface AppOptions {
  config: Config;
  store: Store;
  /** Overrides the configured logger (tests pass `false`). */
  logger?: FastifyServerOptions['logger'];
  /** The configured logger, writing to this stream instead of stdout (tests capture lines). */
  logStream?: { write(line: string): void };
}

export interface App {
  readonly http: FastifyInstance;
  readonly services: Services;
}

export async function buildApp({ config, store, logger, logStream }: AppOptions): Promise<App> {
  const http = Fastify({
    logger: logger ?? loggerOptions(config, logStream),
    logController: new RequestLogController(),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // X-Forwarded-* only from the proxies the operator names (TRUSTED_PROXIES); from anyone else they are ignored.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true },
  });
  const services = createServices(config, store);

  installErrorHandling(http, services.metrics);
  // Request count, latency and reply size per route and Location (src/platform/metrics.ts).
  http.addHook('onResponse', (request, reply, done) => {
    const body = request.body as { Location?: unknown } | undefined;
    const location = typeof body?.Location === 'string' ? body.Location : undefined;
    const length = reply.getHeader('content-length');
    services.metrics.request(
      request.routeOptions.url ?? 'unmatched',
      location,
      reply.statusCode,
      reply.elapsedTime / 1000,
      length === undefined ? undefined : Number(length),
    );
    done();
  });
  http.addHook('onClose', async () => services.routing.close());
  http.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  healthRoutes(http, store, config.databaseTimeoutMs);
  metricsRoutes(http, services.metrics);
  await http.register(callbacks, {
    services,
    signature: {
      authToken: config.insecureDevMode ? undefined : config.twilioAuthToken,
      publicUrl: config.publicUrl,
      trustedProxies: config.trustedProxies,
    },
  });
  return { http, services };
}
