/**
 * What the Frontline app accepts in a reply, checked field by field
 * (../shared docs: frontline-protocol.md §4, Twilio errors 48003, 48025, 48033).
 * Each problem is a finding: `fail` when the app rejects or loses the data,
 * `warn` when it is unusual but tolerated.
 */
import { toE164 } from '../../kernel/phone.js';

export interface Finding {
  readonly level: 'fail' | 'warn';
  readonly message: string;
}

const fail = (message: string): Finding => ({ level: 'fail', message });
const warn = (message: string): Finding => ({ level: 'warn', message });

const E164 = /^\+[1-9]\d{6,14}$/;
/** Conversations identities Frontline refuses for a chat contact (48033). */
const RESERVED_IDENTITIES = new Set(['system', 'private', 'unique']);
const USER_SID = /^US[0-9a-f]{32}$/i;
const CHANNEL_TYPES = new Set(['sms', 'whatsapp', 'chat']);
/** Sent by the reference and most samples and shown by the app, though not in the documented enum. */
const TOLERATED_CHANNEL_TYPES = new Set(['email']);

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);
const show = (v: unknown) => JSON.stringify(v)?.slice(0, 60) ?? String(v);

/** An E.164 number (`+14155550100`); a warning when it is well-formed but not a possible number. */
export function phoneFindings(value: string, what: string): Finding[] {
  if (!E164.test(value)) return [fail(`${what} ${show(value)} is not an E.164 number (48025)`)];
  if (toE164(value, 'US') !== value) return [warn(`${what} ${show(value)} is not a possible number for its country`)];
  return [];
}

/** A channel address Frontline accepts for its type (48025, 48033). */
export function addressFindings(type: string, value: string, what: string): Finding[] {
  switch (type) {
    case 'sms':
      if (value.startsWith('whatsapp:')) return [fail(`${what} ${show(value)} carries the whatsapp: prefix on an sms channel (48025)`)];
      return phoneFindings(value, what);
    case 'whatsapp':
      if (!value.startsWith('whatsapp:')) return [fail(`${what} ${show(value)} lacks the whatsapp: prefix (48025)`)];
      return phoneFindings(value.slice('whatsapp:'.length), what);
    case 'chat':
      if (value === '' || value.length > 256) return [fail(`${what} is not a chat identity: 1 to 256 characters (48033)`)];
      if (RESERVED_IDENTITIES.has(value) || USER_SID.test(value)) return [fail(`${what} ${show(value)} is a reserved chat identity (48033)`)];
      return [];
    case 'email':
      return /^[^\s@]+@[^\s@]+$/.test(value) ? [] : [warn(`${what} ${show(value)} does not look like an e-mail address`)];
    default:
      return value === '' ? [warn(`${what} is empty`)] : [];
  }
}

function absoluteUrl(value: string, schemes: readonly string[]): URL | undefined {
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}

function stringField(obj: Record<string, unknown>, key: string, what: string, required: boolean, out: Finding[]): string | undefined {
  const v = obj[key];
  if (v === undefined) {
    if (required) out.push(fail(`${what} has no ${key}`));
    return undefined;
  }
  if (typeof v !== 'string') {
    out.push(fail(`${what}.${key} is ${typeName(v)}, not a string${typeof v === 'number' ? ' (numbers break the templates callback)' : ''}`));
    return undefined;
  }
  return v;
}

function avatarFindings(obj: Record<string, unknown>, what: string, out: Finding[]): void {
  const avatar = stringField(obj, 'avatar', what, false, out);
  if (avatar !== undefined && avatar !== '' && !absoluteUrl(avatar, ['https:', 'http:'])) {
    out.push(fail(`${what}.avatar ${show(avatar)} is not an absolute http(s) URL`));
  }
}

/** One item of `objects.customers` in a GetCustomersList reply. */
export function listItemFindings(item: unknown, what: string): Finding[] {
  const out: Finding[] = [];
  if (!isObject(item)) return [fail(`${what} is ${typeName(item)}, not a customer object`)];
  const id = stringField(item, 'customer_id', what, true, out);
  if (id === '') out.push(fail(`${what}.customer_id is empty`));
  const name = stringField(item, 'display_name', what, true, out);
  if (name === '') out.push(warn(`${what}.display_name is empty`));
  if (name !== undefined && /[\r\n]/.test(name)) out.push(warn(`${what}.display_name has a line break (list rows are one line)`));
  avatarFindings(item, what, out);
  return out;
}

/** A full Customer DTO (GetCustomerDetailsByCustomerId's `objects.customer`). */
export function customerFindings(customer: unknown, what: string): Finding[] {
  const out: Finding[] = listItemFindings(customer, what);
  if (!isObject(customer)) return out;
  const { channels, links, details } = customer;
  if (channels !== undefined) {
    if (!Array.isArray(channels)) out.push(fail(`${what}.channels is ${typeName(channels)}, not an array`));
    else
      channels.forEach((channel, i) => {
        const at = `${what}.channels[${i}]`;
        if (!isObject(channel)) return out.push(fail(`${at} is ${typeName(channel)}, not an object`));
        const type = stringField(channel, 'type', at, true, out);
        const value = stringField(channel, 'value', at, true, out);
        if (type !== undefined && !CHANNEL_TYPES.has(type) && !TOLERATED_CHANNEL_TYPES.has(type)) {
          out.push(warn(`${at}.type ${show(type)} is not one of sms, whatsapp, chat (or email)`));
        }
        if (type !== undefined && value !== undefined) out.push(...addressFindings(type, value, `${at}.value`));
        return undefined;
      });
  }
  if (links !== undefined) {
    if (!Array.isArray(links)) out.push(fail(`${what}.links is ${typeName(links)}, not an array`));
    else
      links.forEach((link, i) => {
        const at = `${what}.links[${i}]`;
        if (!isObject(link)) return out.push(fail(`${at} is ${typeName(link)}, not an object`));
        stringField(link, 'type', at, true, out);
        stringField(link, 'display_name', at, false, out);
        if (link.display_name === undefined) out.push(warn(`${at} has no display_name`));
        const value = stringField(link, 'value', at, true, out);
        if (value !== undefined) {
          const url = absoluteUrl(value, ['https:', 'http:', 'mailto:', 'tel:', 'sms:']);
          if (!url) out.push(fail(`${at}.value ${show(value)} is not an absolute URL`));
          else if (url.protocol === 'http:' || url.protocol === 'tel:' || url.protocol === 'sms:') {
            out.push(warn(`${at}.value is a ${url.protocol} link: the web app only opens https: and mailto:`));
          }
        }
        return undefined;
      });
  }
  if (details !== undefined) {
    if (!isObject(details)) out.push(fail(`${what}.details is ${typeName(details)}, not one {title, content} object`));
    else {
      stringField(details, 'title', `${what}.details`, true, out);
      stringField(details, 'content', `${what}.details`, true, out);
    }
  }
  return out;
}

/** Spellings of whatsAppApproved that the app does not read. */
const MISSPELT_APPROVED = /^whats_?app_?approved$/i;

/** GetTemplatesByCustomerId's reply: an array of categories of templates. */
export function templatesFindings(body: unknown): { findings: Finding[]; categories: number; templates: number; approved: number } {
  const out: Finding[] = [];
  let templates = 0;
  let approved = 0;
  if (!Array.isArray(body)) {
    return { findings: [fail(`the reply is ${typeName(body)}, not an array of categories`)], categories: 0, templates, approved };
  }
  body.forEach((category, i) => {
    const at = `category[${i}]`;
    if (!isObject(category)) return out.push(fail(`${at} is ${typeName(category)}, not an object`));
    stringField(category, 'display_name', at, true, out);
    const list = category.templates;
    if (!Array.isArray(list)) return out.push(fail(`${at}.templates is ${typeName(list)}, not an array`));
    list.forEach((template, j) => {
      const tat = `${at}.templates[${j}]`;
      if (!isObject(template)) return out.push(fail(`${tat} is ${typeName(template)}, not an object`));
      templates++;
      const content = stringField(template, 'content', tat, true, out);
      if (content === '') out.push(warn(`${tat}.content is empty`));
      if (content !== undefined && /\{\{[^}]*\}\}/.test(content)) {
        out.push(warn(`${tat}.content has an unrendered placeholder: ${show(/\{\{[^}]*\}\}/.exec(content)?.[0])}`));
      }
      const flag = template.whatsAppApproved;
      if (flag !== undefined && typeof flag !== 'boolean') {
        out.push(fail(`${tat}.whatsAppApproved is ${typeName(flag)} ${show(flag)}, not a boolean`));
      }
      if (flag === true) approved++;
      for (const key of Object.keys(template)) {
        if (key !== 'whatsAppApproved' && MISSPELT_APPROVED.test(key)) {
          out.push(fail(`${tat} spells the flag "${key}": the app reads only "whatsAppApproved"`));
        }
      }
      return undefined;
    });
    return undefined;
  });
  return { findings: out, categories: body.length, templates, approved };
}

/** GetProxyAddress's reply for a channel type, given the customer's own address. */
export function proxyFindings(body: unknown, channelType: string, customerAddress: string): Finding[] {
  if (!isObject(body)) return [fail(`the reply is ${typeName(body)}, not {"proxy_address": …}`)];
  const proxy = body.proxy_address;
  if (typeof proxy !== 'string') return [fail(`proxy_address is ${typeName(proxy)}, not a string`)];
  const out = addressFindings(channelType, proxy, `proxy_address`);
  if (proxy === customerAddress) out.push(fail(`proxy_address ${show(proxy)} is the customer's own address (48027)`));
  return out;
}

/** Findings grouped by message shape, for a short report: counts and a few examples. */
export class FindingTally {
  private readonly groups = new Map<string, { level: Finding['level']; count: number; examples: string[] }>();

  add(findings: readonly Finding[], example?: string): void {
    for (const f of findings) {
      // Group by the message with indices and quoted values taken out, so a problem on 50 customers is one line.
      const key = f.message.replace(/\[\d+\]/g, '[]').replace(/"[^"]*"/g, '"…"');
      const group = this.groups.get(key) ?? { level: f.level, count: 0, examples: [] };
      group.count++;
      if (group.examples.length < 3) group.examples.push(example ? `${example}: ${f.message}` : f.message);
      this.groups.set(key, group);
    }
  }

  get failures(): number {
    return [...this.groups.values()].filter((g) => g.level === 'fail').reduce((n, g) => n + g.count, 0);
  }

  get warnings(): number {
    return [...this.groups.values()].filter((g) => g.level === 'warn').reduce((n, g) => n + g.count, 0);
  }

  notes(): string[] {
    const sorted = [...this.groups.values()].sort((a, b) => (a.level === b.level ? 0 : a.level === 'fail' ? -1 : 1));
    return sorted.map((g) => `${g.level === 'fail' ? 'breaks' : 'warning'}: ${g.examples[0]}${g.count > 1 ? ` (and ${g.count - 1} more like it)` : ''}`);
  }
}
