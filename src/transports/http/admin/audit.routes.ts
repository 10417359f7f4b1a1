/** `GET /api/v1/audit`: every write made through the admin API, newest first. */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { Type, type Static } from 'typebox';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { errors } from './schemas.js';

const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    // Every id the trail hands out is a safe integer; past that, a number is no id (and beyond PostgreSQL's bigint).
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'next_before of the previous page' })),
    resource_id: Type.Optional(Type.String({ maxLength: 255, description: 'only changes of this customer, rep, template, …' })),
    action: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. customer.update' })),
  },
  { additionalProperties: false },
);

const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  token: Type.String({ description: 'the name of the token that made the change' }),
  action: Type.String(),
  resource_id: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Array(Type.String(), { description: 'names of the fields that changed (never their values)' }),
  summary: Type.Optional(Type.Record(Type.String(), Type.Integer())),
  request_id: Type.Optional(Type.String()),
});

const AuditPageSchema = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  next_before: Type.Optional(Type.Integer()),
});

export function auditRoutes(app: FastifyInstance, admin: AdminServices): void {
  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit trail: who changed what, and when (newest first, paged by `before`)',
        querystring: AuditQuery,
        response: { 200: AuditPageSchema, ...errors(400) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await admin.audit.list({ limit: q.limit ?? 50, before: q.before, resourceId: q.resource_id, action: q.action });
      return {
        entries: page.entries.map((e) => ({
          id: e.id,
          at: e.at,
          token: e.token,
          action: e.action,
          resource_id: e.resourceId,
          fields: e.fields,
          ...(e.summary ? { summary: e.summary } : {}),
          ...(e.requestId ? { request_id: e.requestId } : {}),
        })),
        ...(page.next_before !== undefined ? { next_before: page.next_before } : {}),
      };
    },
  );
}
