/**
 * `GET /api/v1/me`: which admin token this request carries (its name and kind, never the token).
 * The console signs in with it: a token that answers here is valid, and `read_only` decides
 * whether the console offers to edit.
 */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { Type } from 'typebox';
import { errors } from '../admin/schemas.js';

export const MeSchema = Type.Object({
  name: Type.String({ description: 'the token’s name, as `fis tokens list` shows it' }),
  read_only: Type.Boolean({ description: 'true for a token created with --read-only: it may read but not write' }),
});

export function meRoutes(app: FastifyInstance): void {
  app.get(
    '/me',
    {
      schema: {
        tags: ['tokens'],
        summary: 'The admin token this request carries: its name and whether it is read-only',
        response: { 200: MeSchema, ...errors() },
      },
    },
    async (request) => ({ name: request.adminPrincipal?.name ?? '', read_only: request.adminPrincipal?.readOnly ?? true }),
  );
}
