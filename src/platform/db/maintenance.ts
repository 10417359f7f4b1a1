/**
 * Upkeep after a large write. PostgreSQL plans from statistics that ANALYZE
 * takes, and reads a book in list order from its covering index alone only
 * where VACUUM has marked the table's pages all-visible. Autovacuum does both
 * after large inserts, but only some time later; until it does, a fresh
 * 1,000,000-customer import is planned as an empty table and every list-order
 * read fetches table pages; and the next import's deletes of replaced
 * customers' addresses (`customer_pk = any(…)`, 500 keys a batch), planned
 * without statistics of `customer_addresses`, read that whole table once per
 * batch (a re-import of the million right after the first ran for more than
 * ten minutes). So an import that changed many customers runs both at once on
 * the three tables, after it committed (VACUUM cannot run in a transaction).
 * SQLite needs neither. On both, the trigram counts this process remembers
 * (search-index.ts) are forgotten.
 */
import { sql } from 'kysely';
import type { Store } from './connect.js';
import { forgetTrigramCounts } from './search-index.js';

/** Fewer changed customers than this leave the upkeep to autovacuum. */
export const LARGE_WRITE = 10_000;

export async function afterLargeWrite(store: Store, changed: number): Promise<void> {
  if (changed < LARGE_WRITE) return;
  // Both stores: the trigram counts this process remembers describe the store before the write.
  forgetTrigramCounts(store);
  if (store.dialect !== 'postgres') return;
  // The import has committed: a failure here only leaves the upkeep to autovacuum, as for a small import.
  await store.maintenance((db) => sql`vacuum (analyze) customers, customer_owners, customer_addresses`.execute(db)).catch(() => undefined);
}
