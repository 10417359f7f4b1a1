/**
 * The import's first stage, without I/O to the store: read records, validate
 * them, and turn the valid ones into the column values the writer binds, in
 * batches. For a file it runs in a worker thread (prepare.worker.ts) while the
 * main thread writes the previous batches: parsing and validating cost about
 * as much as writing, and the two overlap on separate cores.
 */
import { Worker } from 'node:worker_threads';
import { type CustomerRows, customerRows } from '../../domains/customers/customer-rows.js';
import { type NormalizedCustomer, validateCustomer } from '../../domains/customers/customer.validate.js';
import type { RecordProblem } from './import.service.js';
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
  problems: RecordProblem[];
  /** All of them, `problems` included. */
  problemCount: number;
  /** Where each valid customer of `rows` is in the file. */
  positions: string[];
  rows: CustomerRows;
}

/** Reads, validates and converts `source` in batches of BATCH valid customers. */
export async function* prepareBatches(source: AsyncIterable<SourceRecord>, options: PrepareOptions): AsyncGenerator<PreparedBatch> {
  let kept = 0;
  let records = 0;
  let problems: RecordProblem[] = [];
  let problemCount = 0;
  let positions: string[] = [];
  let customers: NormalizedCustomer[] = [];
  const report = (problem: RecordProblem) => {
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
      report({ position: item.position, message: item.error });
      continue;
    }
    const result = validateCustomer(item.value, { defaultCountry: options.defaultCountry });
    if (!result.ok) {
      for (const e of result.errors) report({ position: item.position, field: e.field, message: e.message });
      continue;
    }
    positions.push(item.position);
    customers.push(result.value);
    if (customers.length >= BATCH) yield batch();
  }
  if (records > 0) yield batch();
}

/** Batches the worker keeps ready ahead of the writer: enough to never wait, few enough to keep memory flat. */
const AHEAD = 4;

/** What the worker is started with. */
export interface PrepareWorkerData extends PrepareOptions {
  readonly file: string;
  readonly format: FileFormat;
}

/** The worker's messages: a batch, or null when the file is done. */
export type PrepareWorkerMessage = PreparedBatch | null;

function startWorker(workerData: PrepareWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./prepare.worker.js', import.meta.url), { workerData });
  // Run from the sources (as the tests do, through tsx): Node 20 does not apply tsx's loader to a
  // worker by itself, so the worker registers it before loading its module.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./prepare.worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => tsx.register()).then(() => import(${JSON.stringify(entry)}))`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * prepareBatches over a file, in a worker thread. The worker runs at most
 * AHEAD batches ahead: it sends one per credit, and each batch taken returns one.
 */
export async function* prepareFileInWorker(file: string, format: FileFormat, options: PrepareOptions): AsyncGenerator<PreparedBatch> {
  const data: PrepareWorkerData = { file, format, defaultCountry: options.defaultCountry, maxReportedErrors: options.maxReportedErrors };
  const worker = startWorker(data);
  const ready: PreparedBatch[] = [];
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const wakeUp = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (message: PrepareWorkerMessage) => {
    if (message === null) done = true;
    else ready.push(message);
    wakeUp();
  });
  worker.on('error', (err) => {
    failure = err;
    wakeUp();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && failure === undefined) failure = new Error(`the import's reader stopped (exit code ${code})`);
    if (!done && failure === undefined) failure = new Error("the import's reader stopped before the end of the file");
    wakeUp();
  });
  worker.postMessage(AHEAD);
  try {
    for (;;) {
      const next = ready.shift();
      if (next !== undefined) {
        worker.postMessage(1);
        yield next;
      } else if (failure !== undefined) {
        throw failure;
      } else if (done) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    await worker.terminate();
  }
}
