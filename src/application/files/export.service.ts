/** Customer export: the import's NDJSON, so that export then import is the identity. */
import type { Writable } from 'node:stream';
import type { Store } from '../../platform/db/connect.js';
import { exportPage } from '../../domains/customers/customer-write.repository.js';
import { customerFromRow } from '../../domains/customers/customer.row.js';
import type { CustomerRecord } from '../../domains/customers/customer.types.js';

const PAGE = 1000;

export async function* exportCustomers(store: Store): AsyncGenerator<CustomerRecord> {
  let after: string | undefined;
  for (;;) {
    const rows = await exportPage(store.db, after, PAGE);
    for (const row of rows) {
      // The import's key order: workers right after the name.
      const { customer_id, display_name, ...rest } = customerFromRow(row);
      yield { customer_id, display_name, workers: row.workers, ...rest };
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]?.customer_id;
  }
}

/** Writes every customer as NDJSON, respecting back-pressure; returns how many. */
export async function writeNdjson(
  records: AsyncIterable<unknown> | Iterable<unknown>,
  out: Writable,
  onProgress?: (written: number) => void,
): Promise<number> {
  let n = 0;
  for await (const record of records) {
    n++;
    if (onProgress && n % 1000 === 0) onProgress(n);
    if (!out.write(`${JSON.stringify(record)}\n`)) await new Promise((resolve) => out.once('drain', resolve));
  }
  return n;
}
