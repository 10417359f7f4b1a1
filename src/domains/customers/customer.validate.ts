/**
 * Validation and normalisation of one customer record against the Customer DTO,
 * with the kernel's rules (src/kernel/rules.ts). Pure: no I/O, so the CLI import,
 * routing's auto-created records, the tests and any later way in share it.
 */
import { MAX_CONVERSATIONS_IDENTITY, MAX_REPLY_BYTES } from '../../kernel/frontline.js';
import { checkKeys, isObject, type FieldPath, type Problem } from '../../kernel/problems.js';
import { identity, key, multiLine, oneOf, phoneNumber, singleLine, url } from '../../kernel/rules.js';
import { digitsOf, fold } from '../../kernel/text.js';
import { CHANNEL_TYPES, type Channel, type Customer, type CustomerRecord, type Detail, type Link } from './customer.types.js';

export const LIMITS = {
  customerId: 255,
  displayName: 200,
  workers: 100,
  channels: 20,
  channelValue: 320,
  links: 20,
  linkType: 64,
  linkDisplayName: 200,
  detailsTitle: 200,
  detailsContent: 10_000,
} as const;

/** A valid record, plus what the store derives from it for ordering, search and lookups. */
export interface NormalizedCustomer {
  record: CustomerRecord;
  sortKey: string;
  searchText: string;
  phoneDigits: string;
  /** E.164 numbers and lower-case e-mail addresses, de-duplicated. */
  addresses: string[];
}

export type ValidationResult = { ok: true; value: NormalizedCustomer } | { ok: false; problems: Problem[] };

const RECORD_KEYS = ['customer_id', 'display_name', 'workers', 'channels', 'links', 'details', 'avatar'] as const;
const CHANNEL_KEYS = ['type', 'value'] as const;
const LINK_KEYS = ['type', 'value', 'display_name'] as const;
const DETAIL_KEYS = ['title', 'content'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const present = (v: unknown) => v !== undefined && v !== null;

// The paths of a record's fields, made once (validation runs once per imported record).
const AT = {
  customerId: ['customer_id'],
  displayName: ['display_name'],
  workers: ['workers'],
  channels: ['channels'],
  links: ['links'],
  details: ['details'],
  title: ['details', 'title'],
  content: ['details', 'content'],
  avatar: ['avatar'],
} as const;

export function validateCustomer(input: unknown, options: { defaultCountry: string }): ValidationResult {
  const problems: Problem[] = [];
  const fail = (path: FieldPath, message: string) => {
    problems.push({ path, message });
    return undefined;
  };

  if (!isObject(input)) return { ok: false, problems: [{ path: [], message: 'must be a JSON object' }] };
  checkKeys(input, RECORD_KEYS, [], problems);

  const customerId = key(input.customer_id, AT.customerId, problems, LIMITS.customerId);
  const displayName = singleLine(input.display_name, AT.displayName, problems, LIMITS.displayName);

  const workers: string[] = [];
  if (present(input.workers)) {
    if (!Array.isArray(input.workers)) fail(AT.workers, 'must be an array of worker identities');
    else if (input.workers.length > LIMITS.workers) fail(AT.workers, `at most ${LIMITS.workers} workers per customer`);
    else
      input.workers.forEach((w, i) => {
        const id = identity(w, ['workers', i], problems);
        if (id !== undefined && !workers.includes(id)) workers.push(id);
      });
  }

  const channels: Channel[] = [];
  if (present(input.channels)) {
    if (!Array.isArray(input.channels)) fail(AT.channels, 'must be an array of {type, value}');
    else if (input.channels.length > LIMITS.channels) fail(AT.channels, `at most ${LIMITS.channels} channels`);
    else
      input.channels.forEach((c, i) => {
        const channel = normalizeChannel(c, ['channels', i], options.defaultCountry, problems);
        if (channel && !channels.some((x) => x.type === channel.type && x.value === channel.value)) channels.push(channel);
      });
  }

  const links: Link[] = [];
  if (present(input.links)) {
    if (!Array.isArray(input.links)) fail(AT.links, 'must be an array of {type, value, display_name}');
    else if (input.links.length > LIMITS.links) fail(AT.links, `at most ${LIMITS.links} links`);
    else
      input.links.forEach((l, i) => {
        const link = normalizeLink(l, ['links', i], problems);
        if (link) links.push(link);
      });
  }

  let details: Detail | undefined;
  if (present(input.details)) {
    if (!isObject(input.details)) {
      fail(AT.details, 'must be an object {title, content}');
    } else {
      checkKeys(input.details, DETAIL_KEYS, AT.details, problems);
      const title = singleLine(input.details.title, AT.title, problems, LIMITS.detailsTitle);
      const content = multiLine(input.details.content, AT.content, problems, LIMITS.detailsContent);
      if (title !== undefined && content !== undefined) details = { title, content };
    }
  }

  const avatar = present(input.avatar) ? url(input.avatar, AT.avatar, problems, ['https', 'http']) : undefined;

  if (problems.length > 0 || customerId === undefined || displayName === undefined) return { ok: false, problems };

  const record: CustomerRecord = { customer_id: customerId, display_name: displayName, workers };
  if (channels.length > 0) record.channels = channels;
  if (links.length > 0) record.links = links;
  if (details) record.details = details;
  if (avatar !== undefined) record.avatar = avatar;
  const tooLarge = detailsReplyProblem(record);
  if (tooLarge) return { ok: false, problems: [tooLarge] };
  return { ok: true, value: derive(record) };
}

/**
 * The size in bytes (UTF-8) of the Customer Details reply that serves `customer`:
 * `{"objects":{"customer":…}}`, as GetCustomerDetailsByCustomerId sends it.
 */
export function detailsReplyBytes(customer: Customer): number {
  const { customer_id, display_name, channels, links, details, avatar } = customer;
  const dto: Customer = { customer_id, display_name, channels, links, details, avatar };
  return Buffer.byteLength(JSON.stringify({ objects: { customer: dto } }), 'utf8');
}

/**
 * An upper bound of `detailsReplyBytes` that costs no serialising: no character
 * takes more than 6 bytes in the reply (`\uXXXX`), and the structure around the
 * strings is small. Most records are far below the limit and stop here.
 */
function replyBytesBound(customer: Customer): number {
  let chars = customer.customer_id.length + customer.display_name.length + (customer.avatar?.length ?? 0);
  let fields = 4;
  for (const c of customer.channels ?? []) {
    chars += c.type.length + c.value.length;
    fields += 2;
  }
  for (const l of customer.links ?? []) {
    chars += l.type.length + l.value.length + (l.display_name?.length ?? 0);
    fields += 3;
  }
  if (customer.details) {
    chars += customer.details.title.length + customer.details.content.length;
    fields += 2;
  }
  // Per field: its key (at most 12 characters), quotes, colon, comma and braces.
  return 6 * chars + 24 * fields + 64;
}

/**
 * The problem with `customer` when its Customer Details reply would be larger
 * than Frontline accepts (65,536 bytes; Twilio error 48003), naming the customer
 * and the size. Part of validateCustomer; exported for any way in that checks a stored customer.
 */
export function detailsReplyProblem(customer: Customer): Problem | undefined {
  if (replyBytesBound(customer) <= MAX_REPLY_BYTES) return undefined;
  const bytes = detailsReplyBytes(customer);
  if (bytes <= MAX_REPLY_BYTES) return undefined;
  const n = (x: number) => x.toLocaleString('en-US');
  return {
    path: [],
    message:
      `customer "${customer.customer_id}": its Customer Details reply would be ${n(bytes)} bytes, ` +
      `more than the ${n(MAX_REPLY_BYTES)} the Frontline app accepts (Twilio error 48003); shorten its details, links or channels`,
  };
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

function normalizeChannel(value: unknown, path: FieldPath, defaultCountry: string, problems: Problem[]): Channel | undefined {
  if (!isObject(value)) {
    problems.push({ path, message: 'must be an object {type, value}' });
    return undefined;
  }
  checkKeys(value, CHANNEL_KEYS, path, problems);
  const type = oneOf(value.type, [...path, 'type'], problems, CHANNEL_TYPES);
  if (type === undefined) return undefined;
  const valuePath = [...path, 'value'];
  const raw = value.value;
  if (typeof raw !== 'string' || raw.trim() === '') {
    problems.push({ path: valuePath, message: 'must be a non-empty string' });
    return undefined;
  }
  if (raw.length > LIMITS.channelValue) {
    problems.push({ path: valuePath, message: `must be at most ${LIMITS.channelValue} characters` });
    return undefined;
  }
  const address = raw.trim();
  switch (type) {
    case 'sms':
    case 'whatsapp': {
      const e164 = phoneNumber(address, valuePath, problems, { defaultCountry, channel: type });
      if (e164 === undefined) return undefined;
      return { type, value: type === 'whatsapp' ? `whatsapp:${e164}` : e164 };
    }
    case 'email':
      if (!EMAIL.test(address)) {
        problems.push({ path: valuePath, message: `"${address}" is not an e-mail address` });
        return undefined;
      }
      return { type, value: address };
    case 'chat': {
      // A chat address is a Conversations identity: Frontline refuses others (48033).
      const chat = identity(address, valuePath, problems, MAX_CONVERSATIONS_IDENTITY);
      return chat === undefined ? undefined : { type, value: chat };
    }
  }
}

function normalizeLink(value: unknown, path: FieldPath, problems: Problem[]): Link | undefined {
  if (!isObject(value)) {
    problems.push({ path, message: 'must be an object {type, value, display_name}' });
    return undefined;
  }
  checkKeys(value, LINK_KEYS, path, problems);
  const type = singleLine(value.type, [...path, 'type'], problems, LIMITS.linkType);
  const target = url(value.value, [...path, 'value'], problems, ['https', 'http', 'mailto', 'tel']);
  let displayName: string | undefined;
  if (present(value.display_name)) {
    displayName = singleLine(value.display_name, [...path, 'display_name'], problems, LIMITS.linkDisplayName);
    if (displayName === undefined) return undefined;
  }
  if (type === undefined || target === undefined) return undefined;
  return displayName === undefined ? { type, value: target } : { type, value: target, display_name: displayName };
}
