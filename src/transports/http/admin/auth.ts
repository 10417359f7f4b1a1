/**
 * Bearer-token authentication for the admin API: `Authorization: Bearer TOKEN`.
 *
 * - No token, a malformed header, an unknown or revoked token: 401. A read-only
 *   token on a write: 403. Nothing else is accepted (a Twilio signature is not
 *   a credential here; the callbacks, for their part, accept nothing but one).
 * - The token is looked up by its SHA-256 and compared in constant time (see
 *   TokenService); it never reaches a log (the authorization header is redacted).
 * - Repeated failures from one address are slowed down: after FREE_FAILURES in a
 *   window, each further failure is answered later and later (up to MAX_DELAY_MS),
 *   so guessing is hopeless even before the token's 256 bits come into it.
 *   Counted per process (SERVE_PROCESSES multiplies the allowance, not the delay).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Principal, TokenService } from '../../../domains/access/token.service.js';
import { AppError } from '../../../kernel/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin token's holder, once authenticated. */
    adminPrincipal: Principal | null;
  }
  interface FastifyContextConfig {
    /** A route that only reads although its method is not GET (a preview). */
    readOnly?: boolean;
  }
}

export interface ThrottleOptions {
  /** Failures from one address let through without delay, per window. */
  readonly freeFailures: number;
  readonly windowMs: number;
  /** Delay of the first slowed failure; each next one doubles it. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = { freeFailures: 10, windowMs: 10 * 60_000, baseDelayMs: 250, maxDelayMs: 10_000 };
/** Addresses remembered at most (the oldest are forgotten first): memory stays bounded under a spray of addresses. */
const MAX_ADDRESSES = 10_000;

export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly options: ThrottleOptions = DEFAULT_THROTTLE) {}

  /** Records a failure from `address`; returns how long to wait before answering it. */
  fail(address: string, now = Date.now()): number {
    let entry = this.failures.get(address);
    if (!entry || now - entry.since > this.options.windowMs) {
      this.failures.delete(address);
      entry = { count: 0, since: now };
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
      this.failures.set(address, entry);
    }
    entry.count++;
    const over = entry.count - this.options.freeFailures;
    if (over <= 0) return 0;
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 20));
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;

export function bearerAuth(tokens: TokenService, throttle: FailureThrottle) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? BEARER.exec(header) : null;
    const principal = match ? await tokens.verify(match[1] as string) : undefined;
    if (!principal) {
      const delay = throttle.fail(request.ip);
      if (delay > 0) {
        request.log.warn({ ip: request.ip, delayMs: delay }, 'repeated admin authentication failures: slowing down');
        await sleep(delay);
      }
      reply.header('www-authenticate', 'Bearer realm="fis-admin"');
      throw new AppError(
        'UNAUTHORIZED',
        header === undefined
          ? 'This API needs an admin token: Authorization: Bearer TOKEN (create one with "fis tokens create NAME")'
          : 'The admin token is not valid (unknown, revoked, or not of the form "Bearer TOKEN")',
      );
    }
    request.adminPrincipal = principal;
    if (principal.readOnly && !READ_METHODS.has(request.method) && request.routeOptions.config.readOnly !== true) {
      throw new AppError('READ_ONLY_TOKEN', `Token "${principal.name}" is read-only; this ${request.method} needs a token created without --read-only`);
    }
  };
}
