/**
 * Template placeholders: `{{customer.first_name}}`, `{{worker.display_name}}`, …
 * and the reference implementation's `{{Name}}` and `{{Author}}`.
 *
 * Pure. A template is parsed when it is loaded (an unknown placeholder rejects
 * the file) and again when it is filled; a template whose placeholder has no
 * value for a customer is left out of that customer's list rather than sent
 * with a hole in it.
 */
import type { Customer } from '../customers/customer.types.js';
import { stripChannelPrefix } from '../../kernel/phone.js';

/** What a template is filled from. */
export interface PlaceholderContext {
  readonly customer: Customer;
  readonly worker: { readonly identity: string; readonly displayName: string | null };
}

type Resolver = (context: PlaceholderContext) => string | undefined;

const firstWord = (name: string) => name.trim().split(/\s+/)[0];
const lastWord = (name: string) => {
  const words = name.trim().split(/\s+/);
  return words.length > 1 ? words[words.length - 1] : undefined;
};
const channel = (type: string, customer: Customer) => customer.channels?.find((c) => c.type === type)?.value;
const workerName = (context: PlaceholderContext) => context.worker.displayName ?? context.worker.identity;

/** Every placeholder and where its value comes from. Documented in docs/outgoing-and-templates.md. */
export const PLACEHOLDERS: Readonly<Record<string, Resolver>> = {
  'customer.customer_id': (c) => c.customer.customer_id,
  'customer.display_name': (c) => c.customer.display_name,
  'customer.first_name': (c) => firstWord(c.customer.display_name),
  'customer.last_name': (c) => lastWord(c.customer.display_name),
  'customer.avatar': (c) => c.customer.avatar,
  // The first SMS number, else the WhatsApp number (bare E.164 either way).
  'customer.phone': (c) => channel('sms', c.customer) ?? stripOrUndefined(channel('whatsapp', c.customer)),
  'customer.whatsapp': (c) => stripOrUndefined(channel('whatsapp', c.customer)),
  'customer.email': (c) => channel('email', c.customer),
  'customer.chat': (c) => channel('chat', c.customer),
  'customer.details_title': (c) => c.customer.details?.title,
  'customer.details_content': (c) => c.customer.details?.content,
  'worker.identity': (c) => c.worker.identity,
  // A worker not in the store, or stored without a display name, is named by their identity.
  'worker.display_name': workerName,
  'worker.first_name': (c) => (c.worker.displayName ? firstWord(c.worker.displayName) : c.worker.identity),
  // The reference implementation's names, so that its templates load unchanged.
  Name: (c) => c.customer.display_name,
  Author: workerName,
};

/** `{{customer.link.<type>}}`: the URL of the customer's first link of that type (e.g. `CRM`). */
const LINK_PREFIX = 'customer.link.';

function stripOrUndefined(value: string | undefined): string | undefined {
  return value === undefined ? undefined : stripChannelPrefix(value);
}

export type Segment = { readonly text: string } | { readonly placeholder: string };

export type ParseResult = { ok: true; segments: Segment[] } | { ok: false; errors: string[] };

const TOKEN = /\{\{([^{}]*)\}\}/g;

function resolverOf(name: string): Resolver | undefined {
  if (Object.hasOwn(PLACEHOLDERS, name)) return PLACEHOLDERS[name];
  if (name.startsWith(LINK_PREFIX) && name.length > LINK_PREFIX.length) {
    const type = name.slice(LINK_PREFIX.length);
    return (c) => c.customer.links?.find((l) => l.type === type)?.value;
  }
  return undefined;
}

/** Splits a template into text and placeholders; every problem is reported. */
export function parseTemplate(content: string): ParseResult {
  const segments: Segment[] = [];
  const errors: string[] = [];
  let last = 0;
  for (const match of content.matchAll(TOKEN)) {
    const index = match.index;
    pushText(content.slice(last, index), segments, errors);
    const name = (match[1] ?? '').trim();
    if (resolverOf(name) === undefined) {
      errors.push(
        name === ''
          ? 'has an empty placeholder {{}}'
          : `names an unknown placeholder {{${name}}}${suggestion(name)}; known placeholders: ${knownPlaceholders().join(', ')}`,
      );
    } else {
      segments.push({ placeholder: name });
    }
    last = index + match[0].length;
  }
  pushText(content.slice(last), segments, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, segments };
}

/** Text between placeholders may not hold a stray `{{` or `}}`: it would be a half-written placeholder. */
function pushText(text: string, segments: Segment[], errors: string[]): void {
  if (text === '') return;
  if (text.includes('{{') || text.includes('}}')) {
    errors.push(`has an unclosed or malformed placeholder near "${excerpt(text)}"`);
    return;
  }
  segments.push({ text });
}

const excerpt = (text: string) => {
  const at = Math.max(0, Math.min(...['{{', '}}'].map((t) => text.indexOf(t)).filter((i) => i >= 0)));
  return text.slice(Math.max(0, at - 10), at + 20);
};

/** `, did you mean {{customer.first_name}}?` for a near miss (a typo, a wrong case). */
function suggestion(name: string): string {
  let best: { name: string; distance: number } | undefined;
  for (const known of Object.keys(PLACEHOLDERS)) {
    const distance = editDistance(name.toLowerCase(), known.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: known, distance };
  }
  return best ? ` (did you mean {{${best.name}}}?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitute);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

export function knownPlaceholders(): string[] {
  return [...Object.keys(PLACEHOLDERS).map((n) => `{{${n}}}`), `{{${LINK_PREFIX}<type>}}`];
}

/** Fills a parsed template; undefined when a placeholder has no value for this customer. */
export function fill(segments: readonly Segment[], context: PlaceholderContext): string | undefined {
  let out = '';
  for (const segment of segments) {
    if ('text' in segment) {
      out += segment.text;
      continue;
    }
    const value = resolverOf(segment.placeholder)?.(context);
    if (value === undefined || value.trim() === '') return undefined;
    out += value;
  }
  return out;
}
