/**
 * Checks `X-Twilio-Signature` before a callback's input is validated or used.
 *
 * The signed URL is the one Twilio called: the configured PUBLIC_URL (the
 * service usually sits behind a TLS-terminating proxy) plus the path and query
 * as received.
 *
 * twilio's `validateRequest` is the authority: it accepts a signature made
 * over any of several spellings of the URL (with and without the port, as
 * received and as `new URL()` normalises it). The URL exactly as received is
 * always the first or the second of those, so a signature that matches it is
 * one `validateRequest` accepts: that common case is checked first with a
 * prepared HMAC (see support/keyed-hmac.ts), and every other request goes to
 * `validateRequest`. Under load this halves the cost of the check.
 */
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import { AppError } from '../../kernel/errors.js';
import { KeyedHmac } from '../../kernel/keyed-hmac.js';
import type { FormFields } from './form-body.js';

export interface SignatureOptions {
  /** `undefined` disables the check (insecure development mode only). */
  readonly authToken: string | undefined;
  readonly publicUrl: string | undefined;
}

export function signedUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  const base = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${base}${request.url}`;
}

/**
 * The string Twilio signs for a form POST: the URL, then each field name
 * followed by its value, in name order; a repeated field's distinct values in
 * order, each after the name (as twilio's `getExpectedTwilioSignature`).
 */
export function signedData(url: string, params: FormFields): string {
  let data = url;
  for (const name of Object.keys(params).sort()) {
    const value = params[name] as string | string[];
    if (typeof value === 'string') data += name + value;
    else for (const each of Array.from(new Set(value)).sort()) data += name + each;
  }
  return data;
}

export class TwilioSignatures {
  private readonly hmac: KeyedHmac;

  constructor(private readonly authToken: string) {
    this.hmac = new KeyedHmac('sha1', authToken);
  }

  /** The signature Twilio sends for these form fields posted to `url` (base64). */
  expected(url: string, params: FormFields): string {
    return this.hmac.digest(signedData(url, params)).toString('base64');
  }

  isValid(signature: string, url: string, params: FormFields): boolean {
    const given = Buffer.from(signature);
    const expected = Buffer.from(this.expected(url, params));
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    return twilio.validateRequest(this.authToken, signature, url, params as Record<string, string>);
  }
}

export function verifyTwilioSignature(options: SignatureOptions) {
  const signatures = options.authToken === undefined ? undefined : new TwilioSignatures(options.authToken);
  return function verify(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (signatures === undefined) return done();
    const signature = request.headers['x-twilio-signature'];
    if (typeof signature !== 'string' || signature === '') {
      request.log.warn({ reason: 'missing' }, 'rejected callback without X-Twilio-Signature');
      return done(new AppError('INVALID_SIGNATURE', 'Missing X-Twilio-Signature header'));
    }
    const url = signedUrl(request, options.publicUrl);
    const params = (request.body ?? {}) as FormFields;
    if (!signatures.isValid(signature, url, params)) {
      request.log.warn({ reason: 'mismatch', url }, 'rejected callback with a wrong X-Twilio-Signature');
      return done(
        new AppError(
          'INVALID_SIGNATURE',
          'X-Twilio-Signature does not match; check TWILIO_AUTH_TOKEN and that PUBLIC_URL is the URL configured in Twilio',
        ),
      );
    }
    done();
  };
}
