/**
 * The validation rules, one per concept, shared by every validator: customer
 * records, settings files (workers, senders, templates) and configuration.
 *
 * Each rule takes the raw value, the path of the field and the list problems
 * go to; it returns the value to keep (trimmed or normalised where the rule says
 * so), or undefined after reporting why not. Pure: no I/O.
 */
import { isSupportedCountry } from 'libphonenumber-js/min';
import { conversationsIdentityProblem } from './frontline.js';
import { toE164 } from './phone.js';
import type { FieldPath, Problem } from './problems.js';

// C0/C1 controls other than tab and newline have no place in any field.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\u2028\u2029]/;
/** What a key or an identity must not hold: any control character (tab included), a line break, U+FFFD. */
const NOT_IN_TOKEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\uFFFD]/;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ANY_SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE_REFUSED = 'must be Unicode text: a lone surrogate (such as \\ud800) cannot be stored';

/** Whether `text` holds a lone surrogate (most text has no surrogate at all: one quick scan). */
function hasLoneSurrogate(text: string): boolean {
  return ANY_SURROGATE.test(text) && LONE_SURROGATE.test(text);
}

/**
 * Why no store can hold `text`, or undefined: a NUL (PostgreSQL refuses it in
 * text), or a lone surrogate (not Unicode: a driver writes U+FFFD in its place,
 * so what is stored is not what was validated, and an id could not be found again).
 */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'holds a NUL character (U+0000), which no field may hold';
  if (hasLoneSurrogate(text)) return 'holds a lone surrogate (such as \\ud800), which is not Unicode text';
  return undefined;
}

/** A worker identity as the callbacks carry it (their `Worker` field holds at most 255 characters). */
export const MAX_IDENTITY = 255;
export const MAX_URL = 2048;

function report(problems: Problem[], path: FieldPath, message: string): undefined {
  problems.push({ path, message });
  return undefined;
}

/** A string, or a problem: `is required` when absent, `must be a string` otherwise. */
function string(value: unknown, path: FieldPath, problems: Problem[]): value is string {
  if (typeof value === 'string') {
    // Every rule's text goes to a store: text a store cannot write as it is (NUL: see CONTROL) is refused.
    if (!hasLoneSurrogate(value)) return true;
    report(problems, path, LONE_SURROGATE_REFUSED);
    return false;
  }
  report(problems, path, value === undefined ? 'is required' : 'must be a string');
  return false;
}

/** A required single line of text (a name, a title), trimmed. */
export function singleLine(value: unknown, path: FieldPath, problems: Problem[], max: number): string | undefined {
  if (!string(value, path, problems)) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return report(problems, path, 'must not be empty');
  if (trimmed.length > max) return report(problems, path, `must be at most ${max} characters`);
  if (CONTROL.test(trimmed) || LINE_BREAK.test(trimmed)) return report(problems, path, 'must be a single line of text');
  return trimmed;
}

/** A required text that may span lines (a message, details), kept as written. */
export function multiLine(value: unknown, path: FieldPath, problems: Problem[], max: number): string | undefined {
  if (!string(value, path, problems)) return undefined;
  if (value.trim() === '') return report(problems, path, 'must not be empty');
  if (value.length > max) return report(problems, path, `must be at most ${max} characters`);
  if (CONTROL.test(value)) return report(problems, path, 'must not contain control characters');
  return value;
}

/**
 * What a key and an identity share: compared byte-wise, so never trimmed; white
 * space around it, control characters (tab included), line breaks and U+FFFD
 * (the mark of text that was not valid UTF-8 somewhere on its way) are refused.
 */
function token(value: string, path: FieldPath, problems: Problem[], max: number): string | undefined {
  if (value.trim() === '') return report(problems, path, 'must not be empty');
  if (value !== value.trim()) return report(problems, path, 'must not start or end with white space');
  if (value.length > max) return report(problems, path, `must be at most ${max} characters`);
  if (NOT_IN_TOKEN.test(value)) {
    return report(problems, path, 'must not contain control characters, line breaks or U+FFFD');
  }
  return value;
}

/**
 * A record's key (a customer id): a string, or a whole number as a JSON export
 * from a CRM may write it (`7` is the key "7"). A number JSON cannot hold exactly
 * (beyond 2^53) has already lost digits when it was read, so it is refused.
 */
export function key(value: unknown, path: FieldPath, problems: Problem[], max: number): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      return report(problems, path, `is a number (${value}) that is not a whole number JSON holds exactly; write it as a string`);
    }
    value = String(value);
  }
  if (!string(value, path, problems)) return undefined;
  return token(value, path, problems, max);
}

/**
 * An identity: a worker's as Frontline sends it, or a chat address. It is a
 * Twilio Conversations identity, so Frontline's rules apply too (not `system`,
 * `private` or `unique`, not a user SID; Twilio error 48033). Never a number:
 * a YAML or JSON number has lost what made it an identity (`007`, `+1…`).
 */
export function identity(value: unknown, path: FieldPath, problems: Problem[], max: number = MAX_IDENTITY): string | undefined {
  if (typeof value === 'number') {
    return report(problems, path, `is a number (${value}); write the identity as a quoted string`);
  }
  if (!string(value, path, problems)) return undefined;
  if (token(value, path, problems, max) === undefined) return undefined;
  const refused = conversationsIdentityProblem(value);
  return refused === undefined ? value : report(problems, path, refused);
}

export type UrlScheme = 'https' | 'http' | 'mailto' | 'tel';

/** An absolute URL of one of `schemes`, at most MAX_URL characters; an http(s) URL names a host. Kept as written. */
export function url(value: unknown, path: FieldPath, problems: Problem[], schemes: readonly UrlScheme[]): string | undefined {
  if (typeof value !== 'string') return report(problems, path, 'must be a string URL');
  if (hasLoneSurrogate(value)) return report(problems, path, LONE_SURROGATE_REFUSED);
  if (value.length > MAX_URL) return report(problems, path, `must be at most ${MAX_URL} characters`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return report(problems, path, `must be an absolute URL (${schemes.join(', ')})`);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!(schemes as readonly string[]).includes(scheme)) return report(problems, path, `must use ${schemes.join(', ')}, not ${scheme}`);
  if ((scheme === 'https' || scheme === 'http') && parsed.hostname === '') return report(problems, path, 'must name a host');
  return value;
}

export interface PhoneOptions {
  /** The country national numbers are read in; without it, only international (E.164) numbers are accepted. */
  readonly defaultCountry?: string;
  /** `sms` refuses a `whatsapp:` address; `whatsapp` accepts it (the prefix is dropped). */
  readonly channel?: 'sms' | 'whatsapp';
}

/** A phone number, returned in E.164 without any `whatsapp:` prefix. */
export function phoneNumber(value: unknown, path: FieldPath, problems: Problem[], options: PhoneOptions = {}): string | undefined {
  if (typeof value === 'number') {
    // YAML reads an unquoted +14155550100 as the integer 14155550100, dropping the "+".
    return report(problems, path, `is a number (${value}); write the phone number as a quoted string such as "+14155550100"`);
  }
  if (typeof value !== 'string' || value.trim() === '') {
    return report(problems, path, value === undefined ? 'is required' : 'must be a phone number as a string');
  }
  const raw = value.trim();
  const prefixed = /^whatsapp:/i.test(raw);
  if (prefixed && options.channel === 'sms') {
    return report(problems, path, `"${raw}" is a WhatsApp address; an sms address is a plain number such as +14155550100`);
  }
  const bare = prefixed ? raw.slice('whatsapp:'.length) : raw;
  const e164 = options.defaultCountry !== undefined || bare.startsWith('+') ? toE164(bare, options.defaultCountry ?? 'US') : undefined;
  if (e164 === undefined) {
    const accepted = options.defaultCountry === undefined ? 'in international (E.164) form' : `(E.164 such as +14155550100, or national in ${options.defaultCountry})`;
    return report(problems, path, `"${raw}" is not a phone number ${accepted}`);
  }
  return e164;
}

/** An ISO 3166 two-letter country code libphonenumber knows, in either case; returned in capitals. */
export function countryCode(value: unknown, path: FieldPath, problems: Problem[]): string | undefined {
  if (typeof value === 'string' && /^[A-Za-z]{2}$/.test(value)) {
    const code = value.toUpperCase();
    if (isSupportedCountry(code)) return code;
    if (code === 'UK') return report(problems, path, '"UK" is not an ISO 3166 code; the United Kingdom is GB');
  }
  return report(problems, path, `${JSON.stringify(value)} is not an ISO 3166 two-letter country code such as US or GB`);
}

/** One of a closed list of strings. */
export function oneOf<T extends string>(value: unknown, path: FieldPath, problems: Problem[], values: readonly T[]): T | undefined {
  if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
  return report(problems, path, `must be one of ${values.join(', ')}`);
}
