/**
 * The admin API under `/api/v1`: an encapsulated context with its own body
 * parsers (JSON only; NDJSON for the bulk import), its own validation (every
 * bad field named), its own bearer-token hook, and an OpenAPI document
 * generated from the route schemas. Nothing here accepts a Twilio signature,
 * and the callbacks' context accepts nothing but one.
 */
import { isUtf8 } from 'node:buffer';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { AppError } from '../../../kernel/errors.js';
import { auditRoutes } from './audit.routes.js';
import { bearerAuth, FailureThrottle, type ThrottleOptions } from './auth.js';
import { customerRoutes } from './customers.routes.js';
import { CustomerSchema, ErrorSchema, WorkerSchema } from './schemas.js';
import { workerRoutes } from './workers.routes.js';
import { CategorySchema, TemplateSchema, templateRoutes } from './templates.routes.js';
import { SenderSchema, senderRoutes } from './senders.routes.js';
import { installEncodingCheck, installSerialization, installValidation } from './validation.js';
import { simulatorRoutes } from '../console/simulator.routes.js';
import { meRoutes } from '../console/me.routes.js';

export const ADMIN_PREFIX = '/api/v1';
/** JSON bodies are single records: a megabyte is plenty (bulk data goes through the NDJSON import). */
export const ADMIN_BODY_LIMIT = 1024 * 1024;

export interface AdminRoute {
  readonly method: string;
  readonly url: string;
}

export interface AdminApiOptions {
  readonly admin: AdminServices;
  readonly defaultCountry: string;
  readonly throttle?: ThrottleOptions | undefined;
  /** Filled with every documented admin route as it is registered (the OpenAPI coverage test reads it). */
  readonly routes?: AdminRoute[];
}

/** A strict policy for the docs page: its own scripts and styles only, nothing inline, no framing. */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function adminApi(app: FastifyInstance, opts: AdminApiOptions): Promise<void> {
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  // Read as bytes, so that a body that is not UTF-8 is refused (as the callbacks' form parser and the
  // NDJSON reader refuse one) instead of being decoded with U+FFFD in place of its bad bytes, which
  // would then be stored as if the client had sent them.
  app.addContentTypeParser(
    ['application/json', 'application/merge-patch+json'],
    { parseAs: 'buffer', bodyLimit: ADMIN_BODY_LIMIT },
    (request, body: Buffer, done) => {
      if (!isUtf8(body)) {
        done(new AppError('INVALID_ENCODING', 'The request body is not valid UTF-8; nothing was changed', { problems: [{ position: 'body', message: 'is not valid UTF-8' }] }));
        return;
      }
      jsonParser(request, body.toString('utf8'), done);
    },
  );
  installEncodingCheck(app);
  installValidation(app);
  const shared = [ErrorSchema, CustomerSchema, WorkerSchema, CategorySchema, TemplateSchema, SenderSchema];
  for (const schema of shared) app.addSchema(schema);
  installSerialization(app, shared);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    if (hidden || !opts.routes) return;
    for (const method of methods) if (method !== 'HEAD') opts.routes.push({ method, url: route.url });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Frontline Integration Service admin API',
        version: '1',
        description:
          'Customers, reps, templates and sender addresses, on the same rules and the same store as the import. ' +
          'Every request carries `Authorization: Bearer TOKEN` (`fis tokens create NAME`). See docs/admin-api.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(app.swagger()),
  );
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // The page's links to its assets are built from routePrefix alone: name the context's prefix too.
    indexPrefix: ADMIN_PREFIX,
    staticCSP: DOCS_CSP,
    // Its validator badge is off by default (validatorUrl null): the page calls nothing outside the service.
  });

  // Everything else needs a token.
  await app.register(async (api) => {
    api.decorateRequest('adminPrincipal', null);
    api.addHook('onRequest', bearerAuth(opts.admin.tokens, new FailureThrottle(opts.throttle)));
    api.addHook('onSend', async (_request, reply, payload) => {
      reply.header('cache-control', 'no-store');
      return payload;
    });
    customerRoutes(api, opts.admin, { defaultCountry: opts.defaultCountry });
    workerRoutes(api, opts.admin);
    templateRoutes(api, opts.admin);
    senderRoutes(api, opts.admin);
    auditRoutes(api, opts.admin);
    simulatorRoutes(api, opts.admin.simulator);
    meRoutes(api);
  });
}
