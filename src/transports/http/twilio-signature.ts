/**
 * Checks `X-Twilio-Signature` before a callback's input is validated or used.
 *
 * The signed URL is the one Twilio called: the configured PUBLIC_URL (the
 * service usually sits behind a TLS-terminating proxy) plus the path and query
 * as received. Without PUBLIC_URL (allowed only when TRUSTED_PROXIES names the
 * proxies), the base is rebuilt from the X-Forwarded-Proto/Host those proxies
 * send, and a request that did not come through one of them is refused: its
 * Host header is the caller's to choose, so any URL of the same Twilio account
 * could be made to match.
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
import { BlockList, isIPv4 } from 'node:net';
import twilio from 'twilio';
import { AppError } from '../../kernel/errors.js';
import { KeyedHmac } from '../../kernel/keyed-hmac.js';
import type { FormFields } from './form-body.js';

export interface SignatureOptions {
  /** `undefined` disables the check (insecure development mode only). */
  readonly authToken: string | undefined;
  readonly publicUrl: string | undefined;
  /** CIDR blocks of the trusted proxies (TRUSTED_PROXIES); used only without PUBLIC_URL. */
  readonly trustedProxies?: readonly string[];
}

/** Whether a peer address is one of the CIDR blocks (IPv4-mapped IPv6 addresses count as IPv4). */
export function addressMatcher(blocks: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const block of blocks) {
    const [net, prefix] = block.split('/') as [string, string];
    list.addSubnet(net, Number(prefix), isIPv4(net) ? 'ipv4' : 'ipv6');
  }
  return (address) => {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const v4 = mapped ?? (isIPv4(address) ? address : undefined);
    return v4 ? list.check(v4, 'ipv4') : list.check(address, 'ipv6');
  };
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
  const fromTrustedProxy = addressMatcher(options.trustedProxies ?? []);
  return function verify(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (signatures === undefined) return done();
    if (options.publicUrl === undefined && !fromTrustedProxy(request.socket.remoteAddress)) {
      request.log.warn({ reason: 'untrusted_peer' }, 'rejected callback: no PUBLIC_URL and not from a TRUSTED_PROXIES address');
      return done(
        new AppError(
          'INVALID_SIGNATURE',
          'This request did not come through a trusted proxy (TRUSTED_PROXIES), so the URL it was signed for cannot be known; set PUBLIC_URL',
        ),
      );
    }
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
