/**
 * A reader thread (see reader-threads.ts): opens its own read-only store and
 * runs the tasks it is sent, one at a time, as `fn(store, ...args)`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from './connect.js';
import type { FromThread, ReaderThreadData, ToThread } from './reader-threads.js';
import { forgetTrigramCounts } from './search-index.js';

const port = parentPort;
if (!port) throw new Error('reader-thread.ts runs as a worker thread only');
const { options } = workerData as ReaderThreadData;
const store = openStore(options);
const modules = new Map<string, Promise<Record<string, unknown>>>();
// From here on, the tasks' time counts (see the deadline in reader-threads.ts).
port.postMessage({ kind: 'ready' } satisfies FromThread);

port.on('message', async (message: ToThread) => {
  if (message.kind === 'forget-counts') {
    forgetTrigramCounts(store);
    return;
  }
  let reply: FromThread;
  try {
    let loading = modules.get(message.module);
    if (!loading) modules.set(message.module, (loading = import(message.module) as Promise<Record<string, unknown>>));
    const fn = (await loading)[message.name];
    if (typeof fn !== 'function') throw new Error(`${message.module} exports no function ${message.name}`);
    reply = { id: message.id, ok: true, value: await fn(store, ...message.args) };
  } catch (err) {
    const { name = 'Error', message: text = String(err), code } = err as { name?: string; message?: string; code?: unknown };
    reply = { id: message.id, ok: false, error: { name, message: text, ...(typeof code === 'string' ? { code } : {}) } };
  }
  port.postMessage(reply);
});
