/** `/api/v1/customers`: list, read, create, replace, patch, delete, bulk import and export. */
import type {} from '@fastify/swagger';
import { Readable, Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { validateCustomer } from '../../../domains/customers/customer.validate.js';
import { PAGE_SIZE } from '../../../domains/customers/customer.service.js';
import { AppError, type Problem } from '../../../kernel/errors.js';
import {
  CustomerBodySchema,
  CustomerIdParams,
  CustomerListQuery,
  CustomerPageSchema,
  CustomerPatchSchema,
  CustomerReplaceSchema,
  customerRef,
  errors,
  IfMatchHeaders,
  ImportQuery,
  ImportReportSchema,
} from './schemas.js';
import { sendTagged, writeContext } from './reply.js';

/** An NDJSON import's body may be large (a million customers is about 400 MB); past this it is a 413. */
export const IMPORT_BODY_LIMIT = 2 * 1024 * 1024 * 1024;

const TAG = ['customers'];

function customerProblems(defaultCountry: string) {
  return (body: unknown): Problem[] => {
    const result = validateCustomer(body, { defaultCountry });
    if (result.ok) return [];
    return result.errors.map((e) => (e.field === '(record)' ? { position: 'body', message: e.message } : { position: 'body', field: e.field, message: e.message }));
  };
}

export function customerRoutes(app: FastifyInstance, admin: AdminServices, options: { defaultCountry: string }): void {
  const problemsOf = customerProblems(options.defaultCountry);

  app.get<{ Querystring: Static<typeof CustomerListQuery> }>(
    '/customers',
    {
      schema: {
        tags: TAG,
        summary: 'List customers: everyone, or one rep’s book; searchable as in the CRM callback; cursor-paged',
        querystring: CustomerListQuery,
        response: { 200: CustomerPageSchema, ...errors(400) },
      },
    },
    async (request) => {
      const q = request.query;
      return admin.customers.list({ query: q.q, owner: q.owner, pageSize: q.page_size ?? PAGE_SIZE.default, pageToken: q.page_token });
    },
  );

  app.post<{ Body: Static<typeof CustomerBodySchema> }>(
    '/customers',
    {
      schema: {
        tags: TAG,
        summary: 'Create a customer (409 when the id is taken)',
        body: CustomerBodySchema,
        response: { 201: customerRef, ...errors(400, 403, 409, 413, 415) },
      },
      config: { problemsOf },
    },
    async (request, reply) => {
      const created = await admin.customers.create(request.body, writeContext(request));
      reply.header('location', `${request.url.split('?')[0]}/${encodeURIComponent(created.value.customer_id)}`);
      return sendTagged(request, reply, created, 201);
    },
  );

  app.get<{ Params: Static<typeof CustomerIdParams> }>(
    '/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Read a customer (with its ETag)',
        params: CustomerIdParams,
        response: { 200: customerRef, ...errors(404) },
      },
    },
    async (request, reply) => sendTagged(request, reply, await admin.customers.get(request.params.customer_id)),
  );

  app.put<{ Params: Static<typeof CustomerIdParams>; Body: Static<typeof CustomerReplaceSchema> }>(
    '/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Replace a customer (If-Match: its ETag)',
        params: CustomerIdParams,
        headers: IfMatchHeaders,
        body: CustomerReplaceSchema,
        response: { 200: customerRef, ...errors(400, 403, 404, 412, 413, 415) },
      },
      config: { problemsOf },
    },
    async (request, reply) =>
      sendTagged(request, reply, await admin.customers.replace(request.params.customer_id, request.body, writeContext(request))),
  );

  app.patch<{ Params: Static<typeof CustomerIdParams>; Body: Static<typeof CustomerPatchSchema> }>(
    '/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Change some fields of a customer: JSON Merge Patch, RFC 7396 (If-Match: its ETag)',
        params: CustomerIdParams,
        headers: IfMatchHeaders,
        body: CustomerPatchSchema,
        response: { 200: customerRef, ...errors(400, 403, 404, 412, 413, 415) },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await admin.customers.patch(request.params.customer_id, request.body, writeContext(request))),
  );

  app.delete<{ Params: Static<typeof CustomerIdParams> }>(
    '/customers/:customer_id',
    {
      schema: {
        tags: TAG,
        summary: 'Delete a customer (If-Match: its ETag)',
        params: CustomerIdParams,
        headers: IfMatchHeaders,
        response: { 204: { type: 'null', description: 'deleted' }, ...errors(403, 404, 412) },
      },
    },
    async (request, reply) => {
      await admin.customers.delete(request.params.customer_id, writeContext(request));
      return reply.status(204).send();
    },
  );

  app.get(
    '/customers/export',
    {
      schema: {
        tags: TAG,
        summary: 'Every customer as NDJSON, the import’s format, streamed in customer_id order',
        produces: ['application/x-ndjson'],
        response: { 200: { description: 'NDJSON: one customer record per line', type: 'string' }, ...errors() },
      },
    },
    async (_request, reply) => {
      async function* lines() {
        for await (const record of admin.customers.export()) yield `${JSON.stringify(record)}\n`;
      }
      return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
    },
  );

  // The bulk import takes NDJSON, and only NDJSON, as a stream: it is never held in memory whole.
  app.register(async (bulk) => {
    bulk.removeAllContentTypeParsers();
    bulk.addContentTypeParser(['application/x-ndjson', 'application/ndjson', 'application/jsonl'], (_request, payload, done) => {
      done(null, payload);
    });
    bulk.post<{ Querystring: Static<typeof ImportQuery> }>(
      '/customers/import',
      {
        schema: {
          tags: TAG,
          summary: 'Bulk upsert from NDJSON, as `fis import`: all or nothing, every problem reported by line',
          consumes: ['application/x-ndjson'],
          querystring: ImportQuery,
          body: { type: 'string', description: 'NDJSON: one customer record per line', 'x-stream': true },
          response: { 200: ImportReportSchema, ...errors(400, 403, 413, 415) },
        },
      },
      async (request) => {
        const body = request.body as unknown;
        if (!(body instanceof Readable)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the customers as application/x-ndjson');
        return admin.customers.importNdjson(limited(body, IMPORT_BODY_LIMIT), { prune: request.query.prune ?? false }, writeContext(request));
      },
    );
  });
}

/** The stream, failing with a 413 past `limit` bytes (the import then rolls back). */
function limited(input: Readable, limit: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) callback(new AppError('BODY_TOO_LARGE', `An import body may be at most ${limit} bytes`));
      else callback(null, chunk);
    },
  });
  input.on('error', (err) => counter.destroy(err));
  return input.pipe(counter);
}
