/**
 * Customer import: streams records, validates each against the DTO, and
 * writes them in batches inside one transaction. Any bad record rejects the
 * whole file (every problem reported with its position) and leaves the store
 * exactly as it was; memory does not grow with the file.
 *
 * Two stages (see prepare.ts): reading and validating, then writing. For a
 * file the first runs in a worker thread, so that the two overlap.
 */
import { type FilePosition, positionText, type Problem } from '../../kernel/problems.js';
import { catchUpSearchIndex, countTrigramsIfDue, deferSearchIndex } from '../../platform/db/search-index.js';
import { holdAloneForFirstImport } from '../../platform/db/first-import-alone.js';
import { buildDeferredIndexes, deferIndexesOfFirstImport, restoreDeferredIndexes } from '../../platform/db/deferred-indexes.js';
import { afterLargeWrite } from '../../platform/db/maintenance.js';
import { cutSearchBlocksIfDue } from '../../platform/db/search-blocks.js';
import type { Transaction } from 'kysely';
import type { Store } from '../../platform/db/connect.js';
import type { Database } from '../../platform/db/database.js';
import {
  countCustomers,
  CUSTOMERS_WRITE_LOCK,
  customerWriter,
  nextImportSeq,
  pruneCustomersNotIn,
} from '../../domains/customers/customer-import.repository.js';
import { customerIdAt } from '../../domains/customers/customer-rows.js';
import { type PreparedBatch, prepareBatches } from './prepare.js';
import { prepareFileInWorker } from './prepare-in-worker.js';
import type { FileFormat, SourceRecord } from './readers.js';

export interface ImportOptions {
  /** Remove customers that are not in the file. */
  readonly prune: boolean;
  readonly defaultCountry: string;
  /** How many problems to keep for the report (all are counted). */
  readonly maxReportedErrors?: number;
  /**
   * How long to wait for the store's write lock while another writer holds it
   * (the service creating a customer, another import); default: the store's
   * DATABASE_TIMEOUT_MS. Past it the import fails with StoreBusy, nothing changed.
   */
  readonly lockWaitMs?: number;
  /** Called after each batch is written, with the records read so far (progress on a terminal). */
  readonly onProgress?: (records: number) => void;
  /** Runs inside the import's transaction once it has succeeded, before it commits (the admin API's audit record). */
  readonly beforeCommit?: (trx: Transaction<Database>, report: ImportReport) => Promise<void>;
}

export interface ImportReport {
  records: number;
  created: number;
  updated: number;
  pruned: number;
}

export class ImportRejected extends Error {
  constructor(
    /** The first problems found, each with its place in the file (see formatProblem). */
    readonly problems: Problem[],
    readonly totalProblems: number,
    readonly records: number,
  ) {
    super(`import rejected: ${totalProblems} problem(s) in ${records} record(s); nothing was changed`);
    this.name = 'ImportRejected';
  }
}

const repeatedMessage = (id: string, first: FilePosition | undefined) =>
  `"${id}" appears more than once in the file (also at ${(first && positionText(first)) ?? 'an earlier line'})`;

/** Rolls the transaction back: thrown inside it when the file had problems. */
class Rollback extends Error {}

const DEFAULT_MAX_REPORTED = 1000;

/** Imports records from any source (generated customers, tests), read and validated on this thread. */
export function importCustomers(store: Store, source: AsyncIterable<SourceRecord>, options: ImportOptions): Promise<ImportReport> {
  const maxReportedErrors = options.maxReportedErrors ?? DEFAULT_MAX_REPORTED;
  return importBatches(store, prepareBatches(source, { defaultCountry: options.defaultCountry, maxReportedErrors }), options);
}

/** Imports a customer file, read and validated in a worker thread while this one writes. */
export function importCustomerFile(store: Store, file: string, format: FileFormat, options: ImportOptions): Promise<ImportReport> {
  const maxReportedErrors = options.maxReportedErrors ?? DEFAULT_MAX_REPORTED;
  return importBatches(store, prepareFileInWorker(file, format, { defaultCountry: options.defaultCountry, maxReportedErrors }), options);
}

async function importBatches(store: Store, batches: AsyncIterable<PreparedBatch>, options: ImportOptions): Promise<ImportReport> {
  const maxReported = options.maxReportedErrors ?? DEFAULT_MAX_REPORTED;
  const problems: Problem[] = [];
  let totalProblems = 0;
  const report = (problem: Problem) => {
    totalProblems++;
    if (problems.length < maxReported) problems.push(problem);
  };
  let records = 0;

  try {
    // A first import builds its tables' indexes at its end (PostgreSQL: deferred-indexes.ts; SQLite: deferSearchIndex).
    await deferIndexesOfFirstImport(store, options.lockWaitMs);
    // Imports exclude each other (and the service's writes of customers) from the start: on SQLite the
    // transaction holds the file's write lock before its first read, so it never fails to upgrade.
    const lock = { lock: CUSTOMERS_WRITE_LOCK, waitMs: options.lockWaitMs, longRunning: true };
    // SQLite: into an empty store no one else has open, without the write-ahead log (first-import-alone.ts).
    const giveBack = holdAloneForFirstImport(store);
    const result = await store.write(async (trx) => {
      const before = await countCustomers(trx);
      // Into an empty store the search blocks are cut afresh at the end: the writer adds no bits.
      const first = before === 0;
      const seq = await nextImportSeq(trx);
      const insertedWindows = await deferSearchIndex(trx, store.dialect);
      const writer = customerWriter(trx, store.bulk, seq, { blocksCutAfter: first, insertedWindows });

      for await (const batch of batches) {
        records += batch.records;
        // Problems found reading and validating come first, as they were found before the batch was written.
        for (const problem of batch.problems) report(problem);
        totalProblems += batch.problemCount - batch.problems.length;
        // Repeats, in file order: an id written earlier in the file is left as it was.
        const repeats = await writer.write(batch.rows);
        options.onProgress?.(records);
        for (const [index, first] of [...repeats].sort((a, b) => a[0] - b[0])) {
          const id = customerIdAt(batch.rows, index);
          const at = batch.positions[index] as FilePosition;
          report({ ...at, path: ['customer_id'], message: repeatedMessage(id, first === undefined ? undefined : batch.positions[first]) });
        }
      }
      await writer.finish();
      await catchUpSearchIndex(trx, store.dialect);
      if (totalProblems > 0) throw new Rollback();
      await buildDeferredIndexes(trx, store.dialect);

      const pruned = options.prune ? await pruneCustomersNotIn(trx, seq) : 0;
      const after = await countCustomers(trx);
      // PostgreSQL's search blocks, cut afresh after an import that changed much (search-blocks.ts).
      const size = { customers: after, written: records + pruned, first };
      await cutSearchBlocksIfDue(trx, store.dialect, size);
      // SQLite's stored trigram counts, likewise (search-index.ts).
      await countTrigramsIfDue(trx, store.dialect, size);
      const created = after - (before - pruned);
      const result = { records, created, updated: records - created, pruned };
      await options.beforeCommit?.(trx, result);
      return result;
    }, lock).finally(giveBack);
    await afterLargeWrite(store, result.created + result.updated + result.pruned);
    return result;
  } catch (err) {
    // The tables are as they were before the import, without the indexes it may have dropped: built
    // again now, unless another import has the tables by now (it builds them at its end).
    await restoreDeferredIndexes(store).catch(() => undefined);
    if (err instanceof Rollback) throw new ImportRejected(problems, totalProblems, records);
    throw err;
  }
}
