/**
 * The CRM callback's logic: which customers a worker sees, in what order, how
 * pages continue, and what a search matches. No HTTP here.
 */
import type { Store } from '../../platform/db/connect.js';
import { AppError, customerNotFound } from '../../kernel/errors.js';
import {
  type ListRow,
  type Scope,
  type SearchTerms,
  findPosition,
  findVisibleCustomer,
  listPage,
  searchPage,
  warmSearch,
} from './customer.repository.js';
import { customerFromRow } from './customer.row.js';
import type { Customer, CustomerListItem } from './customer.types.js';
import { type Cursor, PageTokens } from './page-token.js';
import { nationalNumberOf, toE164 } from '../../kernel/phone.js';
import { digitsOf, fold, looksLikePhoneNumber } from '../../kernel/text.js';

export const PAGE_SIZE = { default: 30, min: 1, max: 200 } as const;
export const MAX_QUERY_LENGTH = 200;
/** A phone-number query needs at least this many digits to be matched against numbers. */
export const MIN_PHONE_DIGITS = 3;
/** Frontline rejects a callback reply over 64 KB (Twilio error 48003). */
export const MAX_REPLY_BYTES = 65_536;
/**
 * What a list reply holds besides its customers:
 * `{"objects":{"customers":[…],"searchable":true,"next_page_token":"…"}}`, with room to spare.
 */
const LIST_ENVELOPE_BYTES = 256;

export interface ListRequest {
  worker: string;
  pageSize: number;
  anchor?: string | undefined;
  nextPageToken?: string | undefined;
  query?: string | undefined;
}

export interface ListResult {
  customers: CustomerListItem[];
  nextPageToken?: string;
}

export class CustomerService {
  private readonly tokens: PageTokens;

  constructor(
    private readonly store: Store,
    options: { pageTokenSecret: string; visibility: 'owner' | 'all'; defaultCountry: string },
  ) {
    this.tokens = new PageTokens(options.pageTokenSecret);
    this.visibility = options.visibility;
    this.defaultCountry = options.defaultCountry;
  }

  private readonly visibility: 'owner' | 'all';
  private readonly defaultCountry: string;

  private scope(worker: string): Scope {
    return this.visibility === 'all' ? { kind: 'all' } : { kind: 'worker', worker };
  }

  /** Makes the first searches after a start as quick as the rest (see warmSearch). */
  async warm(): Promise<void> {
    await warmSearch(this.store);
  }

  async listCustomers(request: ListRequest): Promise<ListResult> {
    const page = await this.page(this.scope(request.worker), request.worker, request);
    const customers = page.rows.map(toListItem);
    return page.nextPageToken === undefined ? { customers } : { customers, nextPageToken: page.nextPageToken };
  }

  /**
   * The admin API's list: every customer, or one owner's book, with the CRM
   * callback's search and ordering; the ids of one page, in order.
   */
  async listIds(request: { owner?: string | undefined; pageSize: number; nextPageToken?: string | undefined; query?: string | undefined }) {
    const scope: Scope = request.owner === undefined ? { kind: 'all' } : { kind: 'worker', worker: request.owner };
    // Its page tokens are bound to a scope no callback's Worker can spell (a NUL cannot come through the form parser).
    const page = await this.page(scope, `\u0000admin:${request.owner ?? ''}`, request);
    return { ids: page.rows.map((r) => r.customer_id), ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  private async page(
    scope: Scope,
    tokenWorker: string,
    request: { pageSize: number; anchor?: string | undefined; nextPageToken?: string | undefined; query?: string | undefined },
  ): Promise<{ rows: ListRow[]; nextPageToken?: string }> {
    const query = (request.query ?? '').trim();
    if (query.length > MAX_QUERY_LENGTH) {
      throw new AppError('BAD_REQUEST', `Query must be at most ${MAX_QUERY_LENGTH} characters`);
    }
    const search = query === '' ? undefined : searchTerms(query, this.defaultCountry);
    const tokenScope = { worker: tokenWorker, query };

    let after: Cursor | undefined;
    if (request.nextPageToken) {
      after = this.tokens.read(request.nextPageToken, tokenScope);
    } else if (request.anchor) {
      after = await findPosition(this.store, scope, request.anchor, search);
      // An anchor that is gone or not visible ends the list; restarting at page one would repeat it.
      if (!after) return { rows: [] };
    }

    const limit = request.pageSize + 1;
    const rows = search
      ? await searchPage(this.store, scope, search, after, limit)
      : await listPage(this.store, scope, after, limit);

    const page = rows.slice(0, request.pageSize);
    const fits = fitsInReply(page);
    const taken = fits === true ? page : page.slice(0, fits);
    const more = rows.length > request.pageSize || taken.length < page.length;
    const last = taken.at(-1);
    if (!more || !last) return { rows: taken };
    return {
      rows: taken,
      nextPageToken: this.tokens.issue({ rank: Number(last.rank), sortKey: last.sort_key, customerId: last.customer_id }, tokenScope),
    };
  }

  async getCustomer(worker: string, customerId: string): Promise<Customer> {
    const row = await findVisibleCustomer(this.store, this.scope(worker), customerId);
    if (!row) throw customerNotFound(customerId);
    return customerFromRow(row);
  }
}

/**
 * Parses a query. A phone-like query matches stored numbers by its digits; a complete
 * national number (`020 7183 8750` with DEFAULT_COUNTRY=GB) matches by its national
 * significant number, so the trunk prefix does not get in the way.
 */
export function searchTerms(query: string, defaultCountry: string): SearchTerms {
  let digits: string | undefined;
  if (looksLikePhoneNumber(query)) {
    digits = digitsOf(query);
    if (!query.startsWith('+') && digits.startsWith('0')) {
      const e164 = toE164(query, defaultCountry);
      if (e164 !== undefined) digits = digitsOf(nationalNumberOf(e164));
    }
    if (digits.length < MIN_PHONE_DIGITS) digits = undefined;
  }
  return { raw: query, folded: fold(query), digits };
}

/**
 * Whether a list reply of `page`, plus a next_page_token after its last row, stays within
 * Frontline's 64 KB limit: `true`, or how many rows from the start do (at least one: an item is a
 * few KB at most). A page that would pass the limit ends early and continues by token.
 *
 * A cheap bound decides the usual page: no UTF-16 code unit takes more than 6 bytes in JSON
 * (`\u001f`; UTF-8 needs at most 3), so 6 bytes a character is an upper bound on a row's share
 * of the reply. Only a page whose bound passes the limit is measured exactly, row by row.
 */
function fitsInReply(page: readonly ListRow[]): true | number {
  let bound = LIST_ENVELOPE_BYTES;
  for (const row of page) bound += itemBytesBound(row);
  const last = page.at(-1);
  if (!last || bound + tokenRoom(last, 6) <= MAX_REPLY_BYTES) return true;

  let bytes = LIST_ENVELOPE_BYTES;
  for (let i = 0; i < page.length; i++) {
    const row = page[i] as ListRow;
    const next = bytes + Buffer.byteLength(JSON.stringify(toListItem(row))) + 1;
    if (i > 0 && next + tokenRoom(row, 1) > MAX_REPLY_BYTES) return i;
    bytes = next;
  }
  return true;
}

/** An upper bound on the bytes of one list item and its comma: `{"customer_id":…,"display_name":…,"avatar":…},`. */
function itemBytesBound(row: ListRow): number {
  const chars = row.customer_id.length + row.display_name.length + (row.avatar === null ? 0 : row.avatar.length);
  return 6 * chars + 64;
}

/**
 * Bytes a next_page_token after `row` may take (base64 of the cursor's JSON and a MAC), rounded
 * up: exact when `perChar` is 1 (the cursor's JSON is measured), a bound when it is 6.
 */
function tokenRoom(row: ListRow, perChar: 1 | 6): number {
  const cursor =
    perChar === 1
      ? Buffer.byteLength(JSON.stringify([row.rank, row.sort_key, row.customer_id]))
      : 6 * (row.sort_key.length + row.customer_id.length) + 32;
  return Math.ceil((cursor * 4) / 3) + 64;
}

function toListItem({ customer_id, display_name, avatar }: ListRow): CustomerListItem {
  return avatar === null ? { customer_id, display_name } : { customer_id, display_name, avatar };
}
