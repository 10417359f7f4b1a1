/** Customer export: the import's NDJSON, so that export then import is the identity. */
import type { Writable } from 'node:stream';
import type { Store } from '../db/connect.js';
import { exportPage } from '../customers/customer-write.repository.js';
import type { CustomerRecord } from '../customers/customer.types.js';

const PAGE = 1000;

export async function* exportCustomers(store: Store): AsyncGenerator<CustomerRecord> {
  let after: string | undefined;
  for (;;) {
    const rows = await exportPage(store.db, after, PAGE);
    for (const row of rows) {
      const record: CustomerRecord = { customer_id: row.customer_id, display_name: row.display_name, workers: row.workers };
      const channels = JSON.parse(row.channels) as CustomerRecord['channels'];
      const links = JSON.parse(row.links) as CustomerRecord['links'];
      if (channels && channels.length > 0) record.channels = channels;
      if (links && links.length > 0) record.links = links;
      if (row.details !== null) record.details = JSON.parse(row.details) as CustomerRecord['details'];
      if (row.avatar !== null) record.avatar = row.avatar;
      yield record;
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]?.customer_id;
  }
}

/** Writes every customer as NDJSON, respecting back-pressure; returns how many. */
export async function writeNdjson(records: AsyncIterable<unknown> | Iterable<unknown>, out: Writable): Promise<number> {
  let n = 0;
  for await (const record of records) {
    n++;
    if (!out.write(`${JSON.stringify(record)}\n`)) await new Promise((resolve) => out.once('drain', resolve));
  }
  return n;
}
