/**
 * The one place errors become responses: `{"error": {"code", "message"}}`.
 * Catalogue errors keep their status and message; validation and framework
 * client errors become 4xx; a lost store becomes 503; anything else is a
 * logged 500 whose details never reach the client.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnavailable } from '../../platform/db/errors.js';
import type { Metrics } from '../../platform/metrics.js';
import { AppError, type ErrorCode, ERROR_CODES, type ReportedProblem } from '../../kernel/errors.js';

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; problems?: ReportedProblem[]; total_problems?: number };
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof AppError) {
    const error: ErrorBody['error'] = { code: err.code, message: err.message };
    if (err.problems) error.problems = err.problems;
    if (err.totalProblems !== undefined) error.total_problems = err.totalProblems;
    return { status: err.statusCode, body: { error }, internal: false };
  }
  const fastifyError = err as Partial<FastifyError>;
  if (fastifyError.validation) {
    return {
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: fastifyError.message ?? 'Invalid request' } },
      internal: false,
    };
  }
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) {
    return { status: ERROR_CODES[mapped], body: { error: { code: mapped, message: fastifyError.message ?? mapped } }, internal: false };
  }
  if (isStoreUnavailable(err)) {
    return {
      status: 503,
      body: { error: { code: 'STORE_UNAVAILABLE', message: 'The customer store is not reachable; try again shortly' } },
      internal: false,
    };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = codeOfStatus(status);
    return { status, body: { error: { code, message: fastifyError.message ?? code } }, internal: false };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'Internal error' } }, internal: true };
}

/** Client errors the HTTP layer answers with its own status, by that status; BAD_REQUEST for any other 4xx. */
const HTTP_LAYER_CODES: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [404, 'NOT_FOUND'],
  [408, 'REQUEST_TIMEOUT'],
  [414, 'URL_TOO_LONG'],
  [431, 'HEADERS_TOO_LARGE'],
]);

const codeOfStatus = (status: number): ErrorCode => HTTP_LAYER_CODES.get(status) ?? 'BAD_REQUEST';

export function installErrorHandling(app: FastifyInstance, metrics?: Pick<Metrics, 'storeError'>): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body, internal } = toErrorResponse(err);
    if (status === 503) metrics?.storeError('unavailable');
    else if (internal) metrics?.storeError('error');
    if (internal) request.log.error({ err }, 'request failed');
    else if (status >= 500) request.log.warn({ code: body.error.code, err }, 'request failed: store unavailable');
    else request.log.info({ code: body.error.code, status }, body.error.message);
    return reply.status(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NOT_FOUND', message: `No route ${request.method} ${request.url.split('?')[0]}` } }),
  );
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them: a request line
 * and headers over Node's 16 KB (a very long URL: 431), a request that is not
 * HTTP (400), one too slow to arrive (408). Answered in the service's error
 * shape like every other client error (Fastify's default writes its own), then
 * the connection is closed, as Node does.
 */
export function answerClientError(this: FastifyInstance, err: Error & { code?: string }, socket: Duplex): void {
  // A connection reset or already gone: there is no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers are larger than 16 KB (a URL that long names nothing the service has)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive']
        : [400, 'The request is not valid HTTP'];
  this.log.debug({ code: err.code, status }, 'client error before routing');
  const body = JSON.stringify({ error: { code: codeOfStatus(status), message } satisfies ErrorBody['error'] });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
