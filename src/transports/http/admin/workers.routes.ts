/** `/api/v1/workers`: reps (display name, avatar) and who owns which customer. */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { Type, type Static } from 'typebox';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { workerProblems } from '../../../application/admin/workers.service.js';
import {
  customerRef,
  errors,
  IfMatchHeaders,
  WorkerCreateSchema,
  WorkerCustomerParams,
  WorkerParams,
  WorkerReplaceSchema,
  workerRef,
} from './schemas.js';
import { sendTagged, writeContext } from './reply.js';

const TAG = ['workers'];

const WorkerListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(Type.String({ maxLength: 255, description: 'next_after of the previous page' })),
  },
  { additionalProperties: false },
);
const WorkerPageSchema = Type.Object({ workers: Type.Array(workerRef), next_after: Type.Optional(Type.String()) });
const DeleteQuery = Type.Object(
  { unassign: Type.Optional(Type.Boolean({ description: 'also take the rep off every customer they own' })) },
  { additionalProperties: false },
);

export function workerRoutes(app: FastifyInstance, admin: AdminServices): void {
  const problemsOf = workerProblems;

  app.get<{ Querystring: Static<typeof WorkerListQuery> }>(
    '/workers',
    {
      schema: {
        tags: TAG,
        summary: 'List reps in identity order (their books: GET /customers?owner=IDENTITY)',
        querystring: WorkerListQuery,
        response: { 200: WorkerPageSchema, ...errors(400) },
      },
    },
    async (request) => admin.workers.list({ after: request.query.after, limit: request.query.limit ?? 100 }),
  );

  app.post<{ Body: Static<typeof WorkerCreateSchema> }>(
    '/workers',
    {
      schema: { tags: TAG, summary: 'Create a rep (409 when the identity exists)', body: WorkerCreateSchema, response: { 201: workerRef, ...errors(400, 403, 409, 413, 415) } },
      config: { problemsOf },
    },
    async (request, reply) => {
      const created = await admin.workers.create(request.body, writeContext(request));
      reply.header('location', `${request.url.split('?')[0]}/${encodeURIComponent(created.value.identity)}`);
      return sendTagged(request, reply, created, 201);
    },
  );

  app.get<{ Params: Static<typeof WorkerParams> }>(
    '/workers/:identity',
    { schema: { tags: TAG, summary: 'Read a rep (with its ETag)', params: WorkerParams, response: { 200: workerRef, ...errors(404) } } },
    async (request, reply) => sendTagged(request, reply, await admin.workers.get(request.params.identity)),
  );

  app.put<{ Params: Static<typeof WorkerParams>; Body: Static<typeof WorkerReplaceSchema> }>(
    '/workers/:identity',
    {
      schema: {
        tags: TAG,
        summary: 'Replace a rep’s display name and avatar (If-Match: its ETag)',
        params: WorkerParams,
        headers: IfMatchHeaders,
        body: WorkerReplaceSchema,
        response: { 200: workerRef, ...errors(400, 403, 404, 412, 413, 415) },
      },
      config: { problemsOf },
    },
    async (request, reply) => sendTagged(request, reply, await admin.workers.replace(request.params.identity, request.body, writeContext(request))),
  );

  app.patch<{ Params: Static<typeof WorkerParams>; Body: Static<typeof WorkerReplaceSchema> }>(
    '/workers/:identity',
    {
      schema: {
        tags: TAG,
        summary: 'Change a rep’s display name or avatar: JSON Merge Patch (If-Match: its ETag)',
        params: WorkerParams,
        headers: IfMatchHeaders,
        body: WorkerReplaceSchema,
        response: { 200: workerRef, ...errors(400, 403, 404, 412, 413, 415) },
      },
    },
    async (request, reply) => sendTagged(request, reply, await admin.workers.patch(request.params.identity, request.body, writeContext(request))),
  );

  app.delete<{ Params: Static<typeof WorkerParams>; Querystring: Static<typeof DeleteQuery> }>(
    '/workers/:identity',
    {
      schema: {
        tags: TAG,
        summary: 'Delete a rep (409 while they own customers, unless ?unassign=true)',
        params: WorkerParams,
        querystring: DeleteQuery,
        headers: IfMatchHeaders,
        response: { 204: { type: 'null', description: 'deleted' }, ...errors(400, 403, 404, 409, 412) },
      },
    },
    async (request, reply) => {
      await admin.workers.delete(request.params.identity, { unassign: request.query.unassign ?? false }, writeContext(request));
      return reply.status(204).send();
    },
  );

  app.put<{ Params: Static<typeof WorkerCustomerParams> }>(
    '/workers/:identity/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Make the rep an owner of the customer (idempotent; If-Match: the customer’s ETag)',
        params: WorkerCustomerParams,
        headers: IfMatchHeaders,
        response: { 200: customerRef, ...errors(400, 403, 404, 412) },
      },
    },
    async (request, reply) => {
      await admin.workers.mustExist(request.params.identity);
      const customer = await admin.customers.setOwner(request.params.identity, request.params.customer_id, true, writeContext(request));
      return sendTagged(request, reply, customer);
    },
  );

  app.delete<{ Params: Static<typeof WorkerCustomerParams> }>(
    '/workers/:identity/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Take the rep off the customer’s owners (idempotent; If-Match: the customer’s ETag)',
        params: WorkerCustomerParams,
        headers: IfMatchHeaders,
        response: { 200: customerRef, ...errors(400, 403, 404, 412) },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await admin.customers.setOwner(request.params.identity, request.params.customer_id, false, writeContext(request))),
  );
}
