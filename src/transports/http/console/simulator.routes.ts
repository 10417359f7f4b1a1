/**
 * The simulator's endpoints, inside the admin API (its bearer tokens, its error shape):
 *
 *   POST   /api/v1/simulator/callback   send one signed callback, answer the exchange (any admin token)
 *   GET    /api/v1/simulator/target     where the callbacks go (any admin token)
 *   PUT    /api/v1/simulator/target     point the simulator at another integration service (write token)
 *   DELETE /api/v1/simulator/target     back to this service (write token)
 *
 * A read-only token may drive the simulator (a callback only reads), but not change its target.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type {} from '@fastify/swagger';
import { Type, type Static } from 'typebox';
import { AppError } from '../../../kernel/errors.js';
import { formatPath } from '../../../kernel/problems.js';
import { SIMULATOR_CALLBACKS, validateRemoteTarget } from '../../../domains/simulator/simulator-target.js';
import type { SimulatorService } from '../../../application/simulator/simulator.service.js';
import { errors } from '../admin/schemas.js';
import { writeContext } from '../admin/reply.js';

const Paths = Type.Object({ crm: Type.String(), outgoing: Type.String(), templates: Type.String() });

export const SimulatorCallbackSchema = Type.Object(
  {
    callback: Type.Union(SIMULATOR_CALLBACKS.map((c) => Type.Literal(c))),
    /** The form fields, as the app would send them (`Location`, `Worker`, …). */
    params: Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.String({ maxLength: 4096 }), { maxProperties: 50 }),
  },
  { additionalProperties: false },
);

const Headers = Type.Record(Type.String(), Type.String());

export const ExchangeSchema = Type.Object({
  callback: Type.String(),
  target: Type.Union([Type.Literal('self'), Type.Literal('remote')]),
  request: Type.Object({ method: Type.String(), url: Type.String(), headers: Headers, body: Type.String() }),
  response: Type.Optional(
    Type.Object({
      status: Type.Integer(),
      headers: Headers,
      body: Type.String(),
      size_bytes: Type.Integer(),
      truncated: Type.Boolean(),
    }),
  ),
  error: Type.Optional(Type.Object({ message: Type.String() })),
  duration_ms: Type.Number(),
  budget_ms: Type.Integer(),
  size_limit_bytes: Type.Integer(),
});

export const SimulatorTargetSchema = Type.Object({
  mode: Type.Union([Type.Literal('self'), Type.Literal('remote')]),
  base_url: Type.String(),
  paths: Paths,
  signed: Type.Boolean(),
  auth_token_hint: Type.Optional(Type.String()),
  problem: Type.Optional(Type.String()),
  updated_at: Type.Optional(Type.String()),
  updated_by: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

/** The body of PUT /simulator/target; checked field by field by validateRemoteTarget (400 with every problem). */
export const SetSimulatorTargetSchema = Type.Object(
  {
    base_url: Type.String({ description: 'The other service’s base URL, exactly as its Twilio callbacks are configured (it signs for it)' }),
    auth_token: Type.String({ description: 'The Twilio auth token the other service checks X-Twilio-Signature with' }),
    paths: Type.Optional(
      Type.Object(
        { crm: Type.Optional(Type.String()), outgoing: Type.Optional(Type.String()), templates: Type.Optional(Type.String()) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** How this process reaches itself: the address and port the request came in on. */
export function selfBaseUrl(request: FastifyRequest): string {
  const socket = request.raw.socket;
  let host = socket.localAddress ?? '127.0.0.1';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  if (host === '::' || host === '0.0.0.0') host = '127.0.0.1';
  const port = socket.localPort;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Registered inside the admin API's authenticated scope (transports/http/admin/index.ts). */
export function simulatorRoutes(app: FastifyInstance, simulator: SimulatorService): void {
  app.post<{ Body: Static<typeof SimulatorCallbackSchema> }>(
    '/simulator/callback',
    {
      // Sending a callback only reads: a read-only token may drive the simulator.
      config: { readOnly: true },
      schema: {
        summary: 'Send one Frontline callback, signed as Twilio signs it, and answer the exchange as it went on the wire',
        tags: ['simulator'],
        body: SimulatorCallbackSchema,
        response: { 200: ExchangeSchema, ...errors(400) },
      },
    },
    async (request) => simulator.send(request.body.callback, request.body.params, selfBaseUrl(request)),
  );

  app.get(
    '/simulator/target',
    {
      schema: {
        summary: 'Where the simulator sends its callbacks (never the token)',
        tags: ['simulator'],
        response: { 200: SimulatorTargetSchema, ...errors() },
      },
    },
    async (request) => simulator.target(selfBaseUrl(request)),
  );

  app.put<{ Body: Static<typeof SetSimulatorTargetSchema> }>(
    '/simulator/target',
    {
      schema: {
        summary: 'Point the simulator at another integration service',
        tags: ['simulator'],
        body: SetSimulatorTargetSchema,
        response: { 200: SimulatorTargetSchema, ...errors(400, 403) },
      },
    },
    async (request) => {
      const result = validateRemoteTarget(request.body);
      if (!result.ok) {
        const problems = result.problems.map((p) =>
          p.path.length === 0 ? { position: 'body', message: p.message } : { position: 'body', field: formatPath(p.path), message: p.message },
        );
        throw new AppError('INVALID_FIELDS', `The simulator target has ${problems.length} problem(s); nothing was changed`, { problems });
      }
      return simulator.setRemote(result.target, writeContext(request));
    },
  );

  app.delete(
    '/simulator/target',
    {
      schema: {
        summary: 'Send the simulator’s callbacks to this service again',
        tags: ['simulator'],
        response: { 204: Type.Null({ description: 'done' }), ...errors(403) },
      },
    },
    async (request, reply) => {
      await simulator.clearRemote(writeContext(request));
      return reply.status(204).send();
    },
  );
}
