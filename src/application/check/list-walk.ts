/**
 * Walks a worker's My Customers list the way the app pages it, and compares walks.
 *
 * The app sends `PageSize` (30) and, for the next page, `NextPageToken` when the
 * previous reply carried `next_page_token`, else `Anchor` = the last customer_id
 * it has; an empty page, or a reply without a token once the service has given
 * tokens, ends the list (frontline-protocol.md §1.2).
 */
import { type CallbackClient, describe, type Exchange, excerpt, type Fields } from './callback-client.js';
import { type Finding, isObject, listItemFindings } from './dto.js';

export interface WalkRequest {
  worker: string;
  pageSize: number;
  /** `app`: tokens when given, else Anchor; `anchor`: Anchor only, tokens ignored. */
  by: 'app' | 'anchor';
  /** Stop after this many customers. */
  limit: number;
  query?: string;
  label: string;
}

export interface Walk {
  readonly request: WalkRequest;
  /** Customer ids in the order walked, each once. */
  readonly ids: string[];
  readonly names: Map<string, string>;
  pages: number;
  /** Whether the service gave a next_page_token at least once. */
  tokens: boolean;
  /** `end`: the list ended as the protocol says; `limit`: stopped at the limit; `loop`/`error`: broken off. */
  ended: 'end' | 'limit' | 'loop' | 'error';
  /** Breaks of the protocol seen on the way (duplicates, loops, oversize pages, errors). */
  readonly failures: string[];
  readonly warnings: string[];
  /** Shape findings on every list reply (envelope, items, searchable, token type). */
  readonly shape: Array<{ findings: Finding[]; where: string }>;
  /** `searchable` of the first reply, as sent. */
  searchable?: unknown;
  readonly exchanges: Exchange[];
}

const MAX_EMPTY_PAGES_WITH_TOKEN = 3;

/** The customers of a GetCustomersList reply, or why there are none. */
function customersOf(ex: Exchange, walk: Walk): { customers: unknown[]; token: unknown } | undefined {
  if (ex.failure || ex.status !== 200) {
    walk.failures.push(`${ex.label}: ${describe(ex)}${ex.text ? ` ${excerpt(ex.text)}` : ''}`);
    return undefined;
  }
  if (ex.jsonError !== undefined) {
    walk.failures.push(`${ex.label}: the reply is not JSON (48003): ${excerpt(ex.text)}`);
    return undefined;
  }
  const body = ex.json;
  if (Array.isArray(body)) {
    walk.shape.push({
      where: ex.label,
      findings: [{ level: 'warn', message: 'a bare array instead of {"objects": {"customers": […]}} (whether the app accepts it is unconfirmed)' }],
    });
    return { customers: body, token: undefined };
  }
  if (!isObject(body) || !isObject(body.objects) || !Array.isArray(body.objects.customers)) {
    walk.shape.push({ where: ex.label, findings: [{ level: 'fail', message: `no objects.customers array: ${excerpt(ex.text)}` }] });
    walk.failures.push(`${ex.label}: no objects.customers array`);
    return undefined;
  }
  const token = body.objects.next_page_token;
  if (token !== undefined && token !== null && typeof token !== 'string') {
    walk.shape.push({ where: ex.label, findings: [{ level: 'fail', message: `next_page_token is ${typeof token}, not a string` }] });
  }
  return { customers: body.objects.customers, token };
}

export async function walkList(client: CallbackClient, crmPath: string, request: WalkRequest): Promise<Walk> {
  const walk: Walk = {
    request,
    ids: [],
    names: new Map(),
    pages: 0,
    tokens: false,
    ended: 'end',
    failures: [],
    warnings: [],
    shape: [],
    exchanges: [],
  };
  const seen = new Set<string>();
  const tokensSeen = new Set<string>();
  const anchorsSeen = new Set<string>();
  let token: string | undefined;
  let anchor: string | undefined;
  let emptyWithToken = 0;
  let duplicates = 0;
  const duplicateExamples: string[] = [];
  let oversize = 0;
  const maxPages = Math.ceil(request.limit / request.pageSize) + MAX_EMPTY_PAGES_WITH_TOKEN + 2;

  for (;;) {
    const fields: Fields = { Location: 'GetCustomersList', Worker: request.worker, PageSize: String(request.pageSize) };
    if (request.query !== undefined) fields.Query = request.query;
    if (token !== undefined) fields.NextPageToken = token;
    else if (anchor !== undefined) fields.Anchor = anchor;
    const ex = await client.post(crmPath, fields, { label: `${request.label}, page ${walk.pages + 1}` });
    walk.exchanges.push(ex);
    walk.pages++;
    const page = customersOf(ex, walk);
    if (!page) {
      walk.ended = 'error';
      break;
    }
    if (walk.pages === 1 && !Array.isArray(ex.json) && isObject(ex.json) && isObject(ex.json.objects)) {
      walk.searchable = ex.json.objects.searchable;
    }
    if (page.customers.length > request.pageSize) oversize++;
    let fresh = 0;
    let last: string | undefined;
    page.customers.forEach((item, i) => {
      const findings = listItemFindings(item, `customers[${i}]`);
      if (findings.length > 0) walk.shape.push({ where: ex.label, findings });
      if (!isObject(item) || (typeof item.customer_id !== 'string' && typeof item.customer_id !== 'number')) return;
      const id = String(item.customer_id);
      last = id;
      if (seen.has(id)) {
        duplicates++;
        if (duplicateExamples.length < 3) duplicateExamples.push(`${id} again on page ${walk.pages}`);
        return;
      }
      seen.add(id);
      fresh++;
      walk.ids.push(id);
      walk.names.set(id, typeof item.display_name === 'string' ? item.display_name : '');
    });
    if (page.customers.length > 0 && fresh === 0) {
      walk.failures.push(`page ${walk.pages} repeats customers already listed: paging goes round in a loop`);
      walk.ended = 'loop';
      break;
    }
    const next = typeof page.token === 'string' && page.token !== '' ? page.token : undefined;
    if (next !== undefined) walk.tokens = true;
    if (request.by === 'app' && next !== undefined) {
      if (tokensSeen.has(next)) {
        walk.failures.push(`page ${walk.pages} gives a next_page_token already given: paging goes round in a loop`);
        walk.ended = 'loop';
        break;
      }
      tokensSeen.add(next);
      token = next;
      emptyWithToken = page.customers.length === 0 ? emptyWithToken + 1 : 0;
      if (emptyWithToken >= MAX_EMPTY_PAGES_WITH_TOKEN) {
        walk.failures.push(`${emptyWithToken} empty pages in a row, each with another next_page_token: the list never ends`);
        walk.ended = 'loop';
        break;
      }
    } else {
      token = undefined;
      if (request.by === 'app' && walk.tokens) break; // a token service ends its list by giving no token
      if (page.customers.length === 0 || last === undefined) break;
      if (anchorsSeen.has(last)) {
        walk.failures.push(`page ${walk.pages} ends on ${last} again: paging by Anchor goes round in a loop`);
        walk.ended = 'loop';
        break;
      }
      anchorsSeen.add(last);
      anchor = last;
    }
    if (walk.ids.length >= request.limit || walk.pages >= maxPages) {
      walk.ended = 'limit';
      break;
    }
  }
  if (duplicates > 0) {
    walk.failures.push(`${duplicates} customer(s) listed twice, e.g. ${duplicateExamples.join(', ')}`);
  }
  if (oversize > 0) {
    walk.failures.push(`${oversize} page(s) with more than the ${request.pageSize} customer(s) asked for`);
  }
  return walk;
}

/** A walk that went to the end of the list (not cut by a limit, a loop or an error). */
export const isComplete = (walk: Walk) => walk.ended === 'end';

/**
 * Customers one walk found and another did not. Two complete walks must list the
 * same customers. When one is cut short (limit, loop, error), it is held against the
 * other only as far as it went: its own customers must be in the other walk, and
 * the other walk's customers up to the last one they share must be in it.
 */
export function compareWalks(a: Walk, b: Walk): { missingFromB: string[]; missingFromA: string[]; compared: number } {
  if (isComplete(a) && isComplete(b)) {
    const inA = new Set(a.ids);
    const inB = new Set(b.ids);
    return {
      missingFromB: a.ids.filter((id) => !inB.has(id)),
      missingFromA: b.ids.filter((id) => !inA.has(id)),
      compared: Math.max(a.ids.length, b.ids.length),
    };
  }
  // The shorter (or cut) walk is compared with the stretch of the reference walk it covers.
  const aIsShort = !isComplete(a) && (isComplete(b) || a.ids.length <= b.ids.length);
  const [short, reference] = aIsShort ? [a, b] : [b, a];
  const inReference = new Map(reference.ids.map((id, i) => [id, i]));
  const inShort = new Set(short.ids);
  const missingFromReference = short.ids.filter((id) => !inReference.has(id));
  let reach = -1;
  for (const id of short.ids) reach = Math.max(reach, inReference.get(id) ?? -1);
  const missingFromShort = reference.ids.slice(0, reach + 1).filter((id) => !inShort.has(id));
  return aIsShort
    ? { missingFromB: missingFromReference, missingFromA: missingFromShort, compared: short.ids.length }
    : { missingFromB: missingFromShort, missingFromA: missingFromReference, compared: short.ids.length };
}
