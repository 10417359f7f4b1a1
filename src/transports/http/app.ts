/**
 * Builds the HTTP application. It never listens: `server.ts` does, and the
 * tests and the CLI reuse this builder.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Config } from '../../platform/config.js';
import type { Store } from '../../platform/db/connect.js';
import { callbacks } from './callbacks.js';
import { answerClientError, installErrorHandling, toErrorResponse } from './error-handler.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { consoleRoutes } from './console/console-assets.js';
import { loggerOptions, RequestLogController } from '../../platform/logging.js';
import { createServices, type Services } from '../../application/services.js';
import { type AdminServices, createAdminServices } from '../../application/admin/admin.services.js';
import { ADMIN_PREFIX, adminApi, type AdminRoute } from './admin/index.js';
import type { ThrottleOptions } from './admin/auth.js';

export interface AppOptions {
  config: Config;
  store: Store;
  /** Overrides the configured logger (tests pass `false`). */
  logger?: FastifyServerOptions['logger'];
  /** The configured logger, writing to this stream instead of stdout (tests capture lines). */
  logStream?: { write(line: string): void };
  /** How the admin API slows down repeated authentication failures (tests shorten it). */
  adminThrottle?: ThrottleOptions;
}

export interface App {
  readonly http: FastifyInstance;
  readonly services: Services;
  readonly admin: AdminServices;
  /** Every documented admin API route, as registered. */
  readonly adminRoutes: readonly AdminRoute[];
}

export async function buildApp({ config, store, logger, logStream, adminThrottle }: AppOptions): Promise<App> {
  const http = Fastify({
    logger: logger ?? loggerOptions(config, logStream),
    logController: new RequestLogController(),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // X-Forwarded-* only from the proxies the operator names (TRUSTED_PROXIES); from anyone else they are ignored.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    // maxParamLength: an admin API path names a customer_id of up to 255 characters (percent-encoded, more).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // A malformed or oversized URL is a client error in the service's own shape, like every other.
    frameworkErrors: (err, _request, reply) => {
      const { status, body } = toErrorResponse(err);
      (reply as FastifyReply).status(status).type('application/json; charset=utf-8').send(body);
    },
    // And so is a request Node's HTTP parser refuses before routing (headers over 16 KB, not HTTP at all).
    clientErrorHandler: answerClientError,
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
  const admin = createAdminServices(config, store, services);
  const adminRoutes: AdminRoute[] = [];
  await http.register(adminApi, {
    prefix: ADMIN_PREFIX,
    admin,
    defaultCountry: config.defaultCountry,
    throttle: adminThrottle,
    routes: adminRoutes,
  });
  await http.register(consoleRoutes, {});
  return { http, services, admin, adminRoutes };
}
