/** Walks a worker's whole list through the CRM callback, by token or by anchor. */
import assert from 'node:assert/strict';
import type { Params, TestService } from './service.js';

export interface WalkOptions {
  worker: string;
  pageSize: number;
  by: 'token' | 'anchor';
  query?: string;
  /** Called after each page, before the next request (to change data mid-walk), with the ids listed so far. */
  between?: (pageIndex: number, listed: readonly string[]) => Promise<void>;
  maxPages?: number;
  /** Pages may end early (replies kept under 64 KB); each page's reply text is passed here. */
  onReply?: (text: string) => void;
  shortPages?: boolean;
}

export async function walk(service: TestService, options: WalkOptions): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  let anchor: string | undefined;
  for (let page = 0; page < (options.maxPages ?? 10_000); page++) {
    const params: Params = { Location: 'GetCustomersList', Worker: options.worker, PageSize: String(options.pageSize) };
    if (options.query !== undefined) params.Query = options.query;
    if (token) params.NextPageToken = token;
    if (anchor) params.Anchor = anchor;
    const res = await service.post('/callbacks/crm', params);
    assert.equal(res.status, 200, res.text);
    options.onReply?.(res.text);
    const { customers, next_page_token, searchable } = res.json.objects;
    assert.equal(searchable, true);
    assert.ok(customers.length <= options.pageSize);
    ids.push(...customers.map((c: { customer_id: string }) => c.customer_id));
    if (options.by === 'token') {
      if (!next_page_token) return ids;
      if (!options.shortPages) assert.equal(customers.length, options.pageSize, 'a page before the last is full');
      else assert.ok(customers.length > 0, 'a page before the last is not empty');
      token = next_page_token;
    } else {
      if (customers.length === 0) return ids;
      anchor = customers.at(-1).customer_id;
    }
    await options.between?.(page, ids);
  }
  throw new Error('walk did not end');
}
