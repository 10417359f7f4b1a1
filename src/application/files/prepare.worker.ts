/**
 * Worker thread of `fis import`: reads and validates the file (prepareBatches)
 * and sends the batches to the main thread, which writes them. It sends one
 * batch per credit received, so it never runs far ahead (see prepareFileInWorker).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type PrepareWorkerData, type PrepareWorkerMessage, prepareBatches } from './prepare.js';
import { readRecords } from './readers.js';

const port = parentPort;
if (!port) throw new Error('prepare.worker runs as a worker thread');
const { file, format, ...options } = workerData as PrepareWorkerData;

let credit = 0;
let wake: (() => void) | undefined;
port.on('message', (n: number) => {
  credit += n;
  wake?.();
  wake = undefined;
});

for await (const batch of prepareBatches(readRecords(file, format), options)) {
  while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
  credit--;
  port.postMessage(batch satisfies PrepareWorkerMessage);
}
port.postMessage(null satisfies PrepareWorkerMessage);
// Credits may keep arriving until the main thread has taken the last batch.
port.unref();
