/**
 * Log settings: JSON lines (pino), one line per request with its id, secrets
 * redacted. Phone numbers are masked in every line as it is written, whatever
 * field carries them (an id like `inbound:+E164`, a message, an error, a URL):
 * see `maskPhoneNumbersIn`. Code still masks what it knows is an address
 * (`maskAddress`); the line-level pass catches the rest.
 */
import { type FastifyReply, type FastifyRequest, type FastifyServerOptions, LogController } from 'fastify';
import { maskPhoneNumbersIn } from '../kernel/phone.js';
import type { Config } from './config.js';

export const REDACTED_PATHS = [
  'req.headers["x-twilio-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-twilio-signature"]',
  'headers.authorization',
];

/**
 * The service's pino options. `stream` replaces stdout (tests capture lines);
 * anything it gets has passed the phone-number mask.
 */
export function loggerOptions(
  config: Pick<Config, 'logLevel'>,
  stream?: { write(line: string): void },
): NonNullable<Exclude<FastifyServerOptions['logger'], boolean>> {
  return {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    hooks: { streamWrite: maskPhoneNumbersIn },
    ...(stream ? { stream } : {}),
  };
}

const LEVELS_WITH_INFO = new Set(['trace', 'debug', 'info']);

/** One log line per request, when it completes, with its id, status and duration. */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    // Most production logs run at warn: skip building a line nobody writes.
    if (!error && !LEVELS_WITH_INFO.has(reply.log.level)) return;
    const line = {
      method: request.method,
      url: request.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
