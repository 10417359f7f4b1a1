/** Small helpers the admin routes share: the write context of a request, and tagged replies. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tagged, WriteContext } from '../../../application/admin/common.js';

export function writeContext(request: FastifyRequest): WriteContext {
  const ifMatch = request.headers['if-match'];
  return {
    token: request.adminPrincipal?.name ?? '(unknown)',
    requestId: request.id,
    ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined,
  };
}

/** Sends a resource with its ETag; a GET whose If-None-Match names it gets a 304. */
export function sendTagged<T>(request: FastifyRequest, reply: FastifyReply, tagged: Tagged<T>, status = 200) {
  reply.header('etag', tagged.etag);
  const ifNoneMatch = request.headers['if-none-match'];
  if (request.method === 'GET' && typeof ifNoneMatch === 'string' && ifNoneMatch.split(',').some((t) => t.trim() === tagged.etag || t.trim() === '*')) {
    return reply.status(304).send();
  }
  return reply.status(status).send(tagged.value);
}
