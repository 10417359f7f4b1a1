/**
 * Validation and normalisation of one import record against the Customer DTO.
 * Pure: no I/O, so the CLI, the admin API and the tests share it.
 */
import { CHANNEL_TYPES, type Channel, type ChannelType, type CustomerRecord, type Detail, type Link } from './customer.types.js';
import { toE164 } from '../../kernel/phone.js';
import { digitsOf, fold } from '../../kernel/text.js';

export const LIMITS = {
  customerId: 255,
  displayName: 200,
  worker: 255,
  workers: 100,
  channels: 20,
  channelValue: 320,
  links: 20,
  linkType: 64,
  linkDisplayName: 200,
  url: 2048,
  detailsTitle: 200,
  detailsContent: 10_000,
} as const;

export interface FieldError {
  field: string;
  message: string;
}

/** A valid record, plus what the store derives from it for ordering, search and lookups. */
export interface NormalizedCustomer {
  record: CustomerRecord;
  sortKey: string;
  searchText: string;
  phoneDigits: string;
  /** E.164 numbers and lower-case e-mail addresses, de-duplicated. */
  addresses: string[];
}

export type ValidationResult = { ok: true; value: NormalizedCustomer } | { ok: false; errors: FieldError[] };

const RECORD_KEYS = new Set(['customer_id', 'display_name', 'workers', 'channels', 'links', 'details', 'avatar']);
const LINK_PROTOCOLS = new Set(['https:', 'http:', 'mailto:', 'tel:']);
const IMAGE_PROTOCOLS = new Set(['https:', 'http:']);
// C0/C1 controls other than tab and newline have no place in any field.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const LINE_BREAK = /[\r\n\u2028\u2029]/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function validateCustomer(input: unknown, options: { defaultCountry: string }): ValidationResult {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => {
    errors.push({ field, message });
    return undefined;
  };

  if (!isObject(input)) return { ok: false, errors: [{ field: '(record)', message: 'must be a JSON object' }] };
  for (const key of Object.keys(input)) {
    if (!RECORD_KEYS.has(key)) fail(key, `unknown field; expected one of ${[...RECORD_KEYS].join(', ')}`);
  }

  const customerId = identifier(input.customer_id, 'customer_id', LIMITS.customerId, fail);
  const displayName = singleLine(input.display_name, 'display_name', LIMITS.displayName, fail);

  const workers: string[] = [];
  if (input.workers !== undefined && input.workers !== null) {
    if (!Array.isArray(input.workers)) {
      fail('workers', 'must be an array of worker identities');
    } else if (input.workers.length > LIMITS.workers) {
      fail('workers', `at most ${LIMITS.workers} workers per customer`);
    } else {
      input.workers.forEach((w, i) => {
        const id = identifier(w, `workers[${i}]`, LIMITS.worker, fail);
        if (id !== undefined && !workers.includes(id)) workers.push(id);
      });
    }
  }

  const channels: Channel[] = [];
  if (input.channels !== undefined && input.channels !== null) {
    if (!Array.isArray(input.channels)) fail('channels', 'must be an array of {type, value}');
    else if (input.channels.length > LIMITS.channels) fail('channels', `at most ${LIMITS.channels} channels`);
    else
      input.channels.forEach((c, i) => {
        const channel = normalizeChannel(c, `channels[${i}]`, options.defaultCountry, fail);
        if (channel && !channels.some((x) => x.type === channel.type && x.value === channel.value)) channels.push(channel);
      });
  }

  const links: Link[] = [];
  if (input.links !== undefined && input.links !== null) {
    if (!Array.isArray(input.links)) fail('links', 'must be an array of {type, value, display_name}');
    else if (input.links.length > LIMITS.links) fail('links', `at most ${LIMITS.links} links`);
    else
      input.links.forEach((l, i) => {
        const link = normalizeLink(l, `links[${i}]`, fail);
        if (link) links.push(link);
      });
  }

  let details: Detail | undefined;
  if (input.details !== undefined && input.details !== null) {
    if (!isObject(input.details)) {
      fail('details', 'must be an object {title, content}');
    } else {
      for (const key of Object.keys(input.details)) {
        if (key !== 'title' && key !== 'content') fail(`details.${key}`, 'unknown field; expected title, content');
      }
      const title = singleLine(input.details.title, 'details.title', LIMITS.detailsTitle, fail);
      const content = multiLine(input.details.content, 'details.content', LIMITS.detailsContent, fail);
      if (title !== undefined && content !== undefined) details = { title, content };
    }
  }

  let avatar: string | undefined;
  if (input.avatar !== undefined && input.avatar !== null) {
    avatar = url(input.avatar, 'avatar', IMAGE_PROTOCOLS, fail);
  }

  if (errors.length > 0 || customerId === undefined || displayName === undefined) return { ok: false, errors };

  const record: CustomerRecord = { customer_id: customerId, display_name: displayName, workers };
  if (channels.length > 0) record.channels = channels;
  if (links.length > 0) record.links = links;
  if (details) record.details = details;
  if (avatar !== undefined) record.avatar = avatar;
  return { ok: true, value: derive(record) };
}

/** Computes the stored search and ordering columns of a valid record. */
export function derive(record: CustomerRecord): NormalizedCustomer {
  const sortKey = fold(record.display_name);
  const emails: string[] = [];
  const phones: string[] = [];
  const addresses = new Set<string>();
  for (const channel of record.channels ?? []) {
    if (channel.type === 'email') {
      const email = channel.value.toLowerCase();
      emails.push(fold(email));
      addresses.add(email);
    } else if (channel.type === 'sms' || channel.type === 'whatsapp') {
      const e164 = channel.value.replace(/^whatsapp:/, '');
      phones.push(digitsOf(e164));
      addresses.add(e164);
    }
  }
  return {
    record,
    sortKey,
    searchText: [sortKey, ...emails].join('\n'),
    phoneDigits: [...new Set(phones)].join(' '),
    addresses: [...addresses],
  };
}

type Fail = (field: string, message: string) => undefined;

function identifier(value: unknown, field: string, max: number, fail: Fail): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return fail(field, value === undefined ? 'is required' : 'must be a string');
  if (value.trim() === '') return fail(field, 'must not be empty');
  if (value !== value.trim()) return fail(field, 'must not start or end with white space');
  if (value.length > max) return fail(field, `must be at most ${max} characters`);
  if (CONTROL.test(value) || LINE_BREAK.test(value) || value.includes('\uFFFD')) {
    return fail(field, 'must not contain control characters, line breaks or U+FFFD');
  }
  return value;
}

function singleLine(value: unknown, field: string, max: number, fail: Fail): string | undefined {
  if (typeof value !== 'string') return fail(field, value === undefined ? 'is required' : 'must be a string');
  const trimmed = value.trim();
  if (trimmed === '') return fail(field, 'must not be empty');
  if (trimmed.length > max) return fail(field, `must be at most ${max} characters`);
  if (CONTROL.test(trimmed) || LINE_BREAK.test(trimmed)) return fail(field, 'must be a single line of text');
  return trimmed;
}

function multiLine(value: unknown, field: string, max: number, fail: Fail): string | undefined {
  if (typeof value !== 'string') return fail(field, value === undefined ? 'is required' : 'must be a string');
  if (value.trim() === '') return fail(field, 'must not be empty');
  if (value.length > max) return fail(field, `must be at most ${max} characters`);
  if (CONTROL.test(value)) return fail(field, 'must not contain control characters');
  return value;
}

function url(value: unknown, field: string, protocols: Set<string>, fail: Fail): string | undefined {
  if (typeof value !== 'string') return fail(field, 'must be a string URL');
  if (value.length > LIMITS.url) return fail(field, `must be at most ${LIMITS.url} characters`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return fail(field, `must be an absolute URL (${[...protocols].map((p) => p.slice(0, -1)).join(', ')})`);
  }
  if (!protocols.has(parsed.protocol)) {
    return fail(field, `must use ${[...protocols].map((p) => p.slice(0, -1)).join(', ')}, not ${parsed.protocol.slice(0, -1)}`);
  }
  if ((parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname === '') {
    return fail(field, 'must name a host');
  }
  return value;
}

function normalizeChannel(value: unknown, field: string, defaultCountry: string, fail: Fail): Channel | undefined {
  if (!isObject(value)) return fail(field, 'must be an object {type, value}');
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'value') fail(`${field}.${key}`, 'unknown field; expected type, value');
  }
  const type = value.type;
  if (typeof type !== 'string' || !(CHANNEL_TYPES as readonly string[]).includes(type)) {
    return fail(`${field}.type`, `must be one of ${CHANNEL_TYPES.join(', ')}`);
  }
  const raw = value.value;
  if (typeof raw !== 'string' || raw.trim() === '') return fail(`${field}.value`, 'must be a non-empty string');
  if (raw.length > LIMITS.channelValue) return fail(`${field}.value`, `must be at most ${LIMITS.channelValue} characters`);
  const address = raw.trim();
  switch (type as ChannelType) {
    case 'sms':
    case 'whatsapp': {
      const e164 = toE164(address.replace(/^whatsapp:/i, ''), defaultCountry);
      if (e164 === undefined) {
        return fail(`${field}.value`, `"${address}" is not a phone number (E.164, or national in ${defaultCountry})`);
      }
      return { type: type as ChannelType, value: type === 'whatsapp' ? `whatsapp:${e164}` : e164 };
    }
    case 'email':
      if (!EMAIL.test(address)) return fail(`${field}.value`, `"${address}" is not an e-mail address`);
      return { type: 'email', value: address };
    case 'chat':
      if (CONTROL.test(address) || LINE_BREAK.test(address)) return fail(`${field}.value`, 'must be a single line');
      return { type: 'chat', value: address };
  }
}

function normalizeLink(value: unknown, field: string, fail: Fail): Link | undefined {
  if (!isObject(value)) return fail(field, 'must be an object {type, value, display_name}');
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'value' && key !== 'display_name') {
      fail(`${field}.${key}`, 'unknown field; expected type, value, display_name');
    }
  }
  const type = singleLine(value.type, `${field}.type`, LIMITS.linkType, fail);
  const target = url(value.value, `${field}.value`, LINK_PROTOCOLS, fail);
  let displayName: string | undefined;
  if (value.display_name !== undefined && value.display_name !== null) {
    displayName = singleLine(value.display_name, `${field}.display_name`, LIMITS.linkDisplayName, fail);
    if (displayName === undefined) return undefined;
  }
  if (type === undefined || target === undefined) return undefined;
  return displayName === undefined ? { type, value: target } : { type, value: target, display_name: displayName };
}
