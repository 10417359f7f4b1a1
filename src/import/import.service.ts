/**
 * Customer import: streams records, validates each against the DTO, and
 * writes them in batches inside one transaction. Any bad record rejects the
 * whole file (every problem reported with its position) and leaves the store
 * exactly as it was; memory does not grow with the file.
 */
import type { Store } from '../db/connect.js';
import {
  countCustomers,
  customerWriter,
  lockForImport,
  nextImportSeq,
  pruneCustomersNotIn,
} from '../customers/customer-write.repository.js';
import { type NormalizedCustomer, validateCustomer } from '../customers/customer.validate.js';
import type { SourceRecord } from './readers.js';

export interface ImportOptions {
  /** Remove customers that are not in the file. */
  readonly prune: boolean;
  readonly defaultCountry: string;
  /** How many problems to keep for the report (all are counted). */
  readonly maxReportedErrors?: number;
}

export interface ImportReport {
  records: number;
  created: number;
  updated: number;
  pruned: number;
}

export interface RecordProblem {
  position: string;
  field?: string;
  message: string;
}

export class ImportRejected extends Error {
  constructor(
    readonly problems: RecordProblem[],
    readonly totalProblems: number,
    readonly records: number,
  ) {
    super(`import rejected: ${totalProblems} problem(s) in ${records} record(s); nothing was changed`);
    this.name = 'ImportRejected';
  }
}

const BATCH = 500;

const repeatedMessage = (id: string, first: string | undefined) =>
  `"${id}" appears more than once in the file (also at ${first ?? 'an earlier line'})`;

/** Rolls the transaction back: thrown inside it when the file had problems. */
class Rollback extends Error {}

export async function importCustomers(
  store: Store,
  source: AsyncIterable<SourceRecord>,
  options: ImportOptions,
): Promise<ImportReport> {
  const maxReported = options.maxReportedErrors ?? 1000;
  const problems: RecordProblem[] = [];
  let totalProblems = 0;
  const report = (problem: RecordProblem) => {
    totalProblems++;
    if (problems.length < maxReported) problems.push(problem);
  };
  let records = 0;

  try {
    return await store.db.transaction().execute(async (trx) => {
      await lockForImport(trx, store.dialect);
      const before = await countCustomers(trx);
      const seq = await nextImportSeq(trx);
      const writer = customerWriter(trx, store.dialect, seq);

      let batch: Array<{ position: string; customer: NormalizedCustomer }> = [];
      const flush = async () => {
        const positions = new Map<string, string>();
        const unique: NormalizedCustomer[] = [];
        // Repeats, by their index in the batch, so that they are reported in file order.
        const repeats: Array<{ index: number; problem: RecordProblem }> = [];
        batch.forEach(({ position, customer }, index) => {
          const id = customer.record.customer_id;
          const first = positions.get(id);
          if (first !== undefined) {
            repeats.push({ index, problem: { position, field: 'customer_id', message: repeatedMessage(id, first) } });
            return;
          }
          positions.set(id, position);
          unique.push(customer);
        });
        // Ids an earlier batch of this file already wrote come back from the upsert, left untouched.
        const repeatedEarlier = await writer.write(unique);
        if (repeatedEarlier.size > 0) {
          batch.forEach(({ position, customer }, index) => {
            const id = customer.record.customer_id;
            if (repeatedEarlier.has(id) && positions.get(id) === position) {
              repeats.push({ index, problem: { position, field: 'customer_id', message: repeatedMessage(id, undefined) } });
            }
          });
        }
        for (const { problem } of repeats.sort((a, b) => a.index - b.index)) report(problem);
        batch = [];
      };

      for await (const item of source) {
        records++;
        if (item.error !== undefined) {
          report({ position: item.position, message: item.error });
          continue;
        }
        const result = validateCustomer(item.value, { defaultCountry: options.defaultCountry });
        if (!result.ok) {
          for (const e of result.errors) report({ position: item.position, field: e.field, message: e.message });
          continue;
        }
        batch.push({ position: item.position, customer: result.value });
        if (batch.length >= BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      if (totalProblems > 0) throw new Rollback();

      const pruned = options.prune ? await pruneCustomersNotIn(trx, seq) : 0;
      const after = await countCustomers(trx);
      const created = after - (before - pruned);
      return { records, created, updated: records - created, pruned };
    });
  } catch (err) {
    if (err instanceof Rollback) throw new ImportRejected(problems, totalProblems, records);
    throw err;
  }
}
