/**
 * The scenarios: each is a list of distinct, pre-signed CRM callbacks that the
 * load generator cycles through, spread over many workers and customers so
 * that no cache makes a scenario easy.
 */
import twilio from 'twilio';
import type { Sample } from './dataset.js';
import { addressPart } from '../src/application/files/seed.js';

export type Params = Record<string, string>;

export interface Scenario {
  name: string;
  description: string;
  params: Params[];
  /** What a correct answer must contain; checked once per request kind before the load. */
  check: (json: unknown) => boolean;
}

export interface SignedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export const CRM_PATH = '/callbacks/crm';

export function encode(params: Params): string {
  return new URLSearchParams(params).toString();
}

/** Signs as Twilio does: over the URL the service is configured to see (PUBLIC_URL) and the form fields. */
export function signed(authToken: string, publicUrl: string, params: Params): SignedRequest {
  return {
    method: 'POST',
    path: CRM_PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, `${publicUrl}${CRM_PATH}`, params),
    },
    body: encode(params),
  };
}

interface ListJson {
  objects?: { customers?: unknown[]; customer?: { customer_id?: string } };
}
const hasCustomers = (json: unknown) => ((json as ListJson).objects?.customers?.length ?? 0) > 0;

/** Up to `max` items, taking every k-th so the spread covers the whole list. */
function spread<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const every = items.length / max;
  return Array.from({ length: max }, (_, i) => items[Math.floor(i * every)] as T);
}

/** The name prefix a rep types: 3 to 5 letters of the first or of the last name. */
function namePrefix(sample: Sample, i: number): string {
  const words = sample.displayName.split(' ');
  const word = (i % 2 === 0 ? words[0] : words.at(-1)) ?? sample.displayName;
  return word.slice(0, 3 + (i % 3));
}

/**
 * The start of a sampled customer's address as `fis seed` writes them (`first.last<n>@…`): the first name,
 * the dot and two letters of the last name. Every customer of that first name holds the first part,
 * and names' first words start with it: the word-start rank (` noah.mu`) is where searches went wrong.
 */
function addressStart(sample: Sample): string {
  const words = sample.displayName.split(' ');
  return `${addressPart(words[0] ?? '')}.${addressPart(words.at(-1) ?? '').slice(0, 2)}`;
}

export interface DeepPoints {
  /** Heavy workers' page tokens and anchors about `deepAt` customers into their books. */
  tokens: Array<{ worker: string; token: string }>;
  anchors: Array<{ worker: string; anchor: string }>;
}

export function buildScenarios(samples: Sample[], deep: DeepPoints, perScenario = 1000): Scenario[] {
  const workers = [...new Set(samples.map((s) => s.worker))];
  const customers = spread(samples, perScenario);
  const list = (worker: string): Params => ({ Location: 'GetCustomersList', Worker: worker, PageSize: '30' });
  return [
    {
      name: 'list first page',
      description: `first page (30) of ${Math.min(workers.length, perScenario)} different workers`,
      params: spread(workers, perScenario).map(list),
      check: hasCustomers,
    },
    {
      name: 'deep page by token',
      description: `NextPageToken deep into ${new Set(deep.tokens.map((t) => t.worker)).size} heavy workers' books`,
      params: deep.tokens.map(({ worker, token }) => ({ ...list(worker), NextPageToken: token })),
      check: hasCustomers,
    },
    {
      name: 'deep page by anchor',
      description: 'Anchor deep into the heavy workers’ books',
      params: deep.anchors.map(({ worker, anchor }) => ({ ...list(worker), Anchor: anchor })),
      check: hasCustomers,
    },
    {
      name: 'search name prefix',
      description: 'Query = 3–5 letters of a first or last name the worker has',
      params: customers.map((s, i) => ({ ...list(s.worker), Query: namePrefix(s, i) })),
      check: hasCustomers,
    },
    {
      name: 'search phone digits',
      description: 'Query = the last 7 digits of a number the worker has',
      params: customers.map((s) => ({ ...list(s.worker), Query: s.phoneDigits.slice(-7) })),
      check: hasCustomers,
    },
    {
      name: 'details',
      description: 'GetCustomerDetailsByCustomerId of the worker’s customers',
      params: customers.map((s) => ({ Location: 'GetCustomerDetailsByCustomerId', Worker: s.worker, CustomerId: s.customerId })),
      check: (json) => typeof (json as ListJson).objects?.customer?.customer_id === 'string',
    },
  ];
}

/**
 * Issue 11's query mix, one scenario per form, searched by `workers` (the heavy
 * workers, whose books hold --heavy-size customers; or anyone, with
 * CUSTOMER_VISIBILITY=all). Queries come from the sampled customers' names,
 * numbers and addresses, which are drawn from the same lists as every book's.
 */
export function buildSearchScenarios(samples: Sample[], workers: string[], perScenario = 1000): Scenario[] {
  const customers = spread(samples, perScenario);
  const ask = (i: number, Query: string): Params => ({
    Location: 'GetCustomersList',
    Worker: workers[i % workers.length] as string,
    PageSize: '30',
    Query,
  });
  const any = () => true;
  const lastName = (s: Sample) => s.displayName.split(' ').at(-1) ?? s.displayName;
  const forms: Array<[string, string, (s: Sample, i: number) => string, Scenario['check']]> = [
    ['search mix: name prefix', '3–5 letters starting a first or last name', (s, i) => namePrefix(s, i), any],
    ['search mix: inside a name', '4 letters from inside a last name (`ohns`)', (s) => lastName(s).slice(1, 5).toLowerCase(), any],
    ['search mix: one letter', 'one letter of a name', (s, i) => (s.displayName[i % s.displayName.length] ?? 'a').toLowerCase(), any],
    ['search mix: two letters', 'two letters of a name', (s, i) => s.displayName.slice(i % 4, (i % 4) + 2).trim() || 'jo', any],
    ['search mix: phone digits', 'the last 7 digits of a number, spaced (`555 0134`)', (s) => `${s.phoneDigits.slice(-7, -4)} ${s.phoneDigits.slice(-4)}`, any],
    ['search mix: last four digits', 'the last 4 digits of a number (`0134`): about a thousand numbers per million hold them', (s) => s.phoneDigits.slice(-4), any],
    ['search mix: e-mail, rare', 'a customer’s own e-mail fragment (`1234@example`)', (s) => `${Number(s.customerId.slice(1))}@example`, any],
    ['search mix: e-mail, common', 'a fragment every address has (`mple.or`)', () => 'mple.or', hasCustomers],
    ['search mix: e-mail from its start', 'an address typed from its start, a first name and a dot (`noah.mu`)', (s) => addressStart(s), any],
    ['search mix: id', 'a whole customer_id', (s) => s.customerId, any],
    ['search mix: miss', 'a fragment nobody has', (_s, i) => `zqx${i % 97}`, (json) => !hasCustomers(json)],
  ];
  return forms.map(([name, description, query, check]) => ({
    name,
    description,
    params: customers.map((s, i) => ask(i, query(s, i))),
    check,
  }));
}
