/**
 * The import's first stage (prepare.ts) over a file, in a worker thread
 * (prepare.worker.ts), while the calling thread writes the batches it sends.
 */
import { Worker } from 'node:worker_threads';
import type { PreparedBatch, PrepareOptions, PrepareWorkerData, PrepareWorkerMessage } from './prepare.js';
import type { FileFormat } from './readers.js';

/** Batches the worker keeps ready ahead of the writer: enough to never wait, few enough to keep memory flat. */
const AHEAD = 4;

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
