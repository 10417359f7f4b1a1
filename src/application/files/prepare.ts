/**
 * The import's first stage, without I/O to the store: read records, validate
 * them, and turn the valid ones into the column values the writer binds, in
 * batches. For a file it runs in a worker thread (prepare.worker.ts, started by
 * prepare-in-worker.ts) while the main thread writes the previous batches:
 * parsing and validating cost about as much as writing, and the two overlap on
 * separate cores.
 */
import { type CustomerRows, customerRows } from '../../domains/customers/customer-rows.js';
import { type NormalizedCustomer, validateCustomer } from '../../domains/customers/customer.validate.js';
import type { FilePosition, Problem } from '../../kernel/problems.js';
import type { FileFormat, SourceRecord } from './readers.js';

/** Valid customers per batch. */
export const BATCH = 500;

export interface PrepareOptions {
  readonly defaultCountry: string;
  /** Problems kept (in `problems`) over all batches; the others are only counted. */
  readonly maxReportedErrors: number;
}

export interface PreparedBatch {
  /** Records read for this batch, valid or not. */
  records: number;
  /** The first problems found reading and validating, in file order (see PrepareOptions). */
  problems: Problem[];
  /** All of them, `problems` included. */
  problemCount: number;
  /** Where each valid customer of `rows` is in the file. */
  positions: FilePosition[];
  rows: CustomerRows;
}

/** Reads, validates and converts `source` in batches of BATCH valid customers. */
export async function* prepareBatches(source: AsyncIterable<SourceRecord>, options: PrepareOptions): AsyncGenerator<PreparedBatch> {
  let kept = 0;
  let records = 0;
  let problems: Problem[] = [];
  let problemCount = 0;
  let positions: FilePosition[] = [];
  let customers: NormalizedCustomer[] = [];
  const report = (problem: Problem) => {
    problemCount++;
    if (kept < options.maxReportedErrors) {
      kept++;
      problems.push(problem);
    }
  };
  const batch = (): PreparedBatch => {
    const prepared = { records, problems, problemCount, positions, rows: customerRows(customers) };
    records = 0;
    problems = [];
    problemCount = 0;
    positions = [];
    customers = [];
    return prepared;
  };

  for await (const item of source) {
    records++;
    if (item.error !== undefined) {
      report({ ...item.at, path: [], message: item.error });
      continue;
    }
    const result = validateCustomer(item.value, { defaultCountry: options.defaultCountry });
    if (!result.ok) {
      for (const problem of result.problems) report({ ...item.at, ...problem });
      continue;
    }
    positions.push(item.at);
    customers.push(result.value);
    if (customers.length >= BATCH) yield batch();
  }
  if (records > 0) yield batch();
}

/** What the worker is started with. */
export interface PrepareWorkerData extends PrepareOptions {
  readonly file: string;
  readonly format: FileFormat;
}

/** The worker's messages: a batch, or null when the file is done. */
export type PrepareWorkerMessage = PreparedBatch | null;
