/**
 * A strict `application/x-www-form-urlencoded` parser.
 *
 * Unlike `querystring`, it refuses what it cannot decode exactly: bytes that
 * are not UTF-8 and broken percent-escapes are a 400, never replaced by U+FFFD,
 * so a mangled identity or id can never match a stored one. Repeated names are
 * kept as arrays (the signature covers every value; schemas then refuse them).
 *
 * Characters no store can hold are refused here too, before any store sees
 * them: NUL (U+0000, `%00` or a raw 0 byte), which PostgreSQL rejects in text.
 * Lone surrogates cannot get through: the body must be UTF-8 and every
 * percent-escape must decode as UTF-8 (`%ED%A0%80`, an encoded surrogate, is
 * not), so a decoded value is always well-formed Unicode.
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../kernel/errors.js';

export type FormFields = Record<string, string | string[]>;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseForm(body: Buffer): FormFields {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new AppError('INVALID_ENCODING', 'The request body is not valid UTF-8');
  }
  if (text.includes('\u0000')) throw nulRefused();
  const fields: FormFields = Object.create(null);
  if (text === '') return fields;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const existing = fields[name];
    if (existing === undefined) fields[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else fields[name] = [existing, value];
  }
  return fields;
}

function decode(part: string): string {
  const spaced = part.includes('+') ? part.replace(/\+/g, ' ') : part;
  if (!spaced.includes('%')) return spaced;
  let decoded: string;
  try {
    // Throws URIError on a malformed escape and on escapes that are not UTF-8 (encoded surrogates included).
    decoded = decodeURIComponent(spaced);
  } catch {
    throw new AppError('INVALID_ENCODING', 'The request body has a malformed percent-encoding or non-UTF-8 bytes');
  }
  if (decoded.includes('\u0000')) throw nulRefused();
  return decoded;
}

const nulRefused = () =>
  new AppError('INVALID_ENCODING', 'The request body contains a NUL character (%00), which is not allowed in any field');

/** Makes form bodies the only bodies a scope accepts (anything else is a 415). */
export function acceptOnlyForms(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit },
    (request, body, done) => {
      const charset = /;\s*charset=("?)([^";]+)\1/i.exec(request.headers['content-type'] ?? '')?.[2];
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        done(new AppError('UNSUPPORTED_MEDIA_TYPE', `charset ${charset} is not supported; send UTF-8`), undefined);
        return;
      }
      try {
        done(null, parseForm(body as Buffer));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}
