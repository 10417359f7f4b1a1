/**
 * Checks `X-Twilio-Signature` before a callback's input is validated or used.
 *
 * The signed URL is the one Twilio called: the configured PUBLIC_URL (the
 * service usually sits behind a TLS-terminating proxy) plus the path and query
 * as received. twilio's `validateRequest` accepts the with- and without-port
 * forms Twilio produces.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { AppError } from '../errors.js';
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

export function verifyTwilioSignature(options: SignatureOptions) {
  return async function verify(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (options.authToken === undefined) return;
    const signature = request.headers['x-twilio-signature'];
    if (typeof signature !== 'string' || signature === '') {
      request.log.warn({ reason: 'missing' }, 'rejected callback without X-Twilio-Signature');
      throw new AppError('INVALID_SIGNATURE', 'Missing X-Twilio-Signature header');
    }
    const url = signedUrl(request, options.publicUrl);
    const params = (request.body ?? {}) as FormFields;
    if (!twilio.validateRequest(options.authToken, signature, url, params)) {
      request.log.warn({ reason: 'mismatch', url }, 'rejected callback with a wrong X-Twilio-Signature');
      throw new AppError(
        'INVALID_SIGNATURE',
        'X-Twilio-Signature does not match; check TWILIO_AUTH_TOKEN and that PUBLIC_URL is the URL configured in Twilio',
      );
    }
  };
}
