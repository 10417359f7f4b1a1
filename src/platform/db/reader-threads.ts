/**
 * Reads that take as long as the data is large (a search), run off the event
 * loop. On SQLite every read is synchronous: while one rep's search reads a
 * book, every other request of the process waits, list pages and Customer
 * Details included. A SQLite file store therefore runs such reads on threads
 * of their own (SQLITE_READ_THREADS, default 1), each with its own read-only
 * connection to the same file (WAL: it sees the last committed state, as the
 * main read connection does), and the event loop stays free for the others.
 *
 * A task is a module's exported function, called on the thread as
 * `fn(store, ...args)` with the thread's own store, so the code that runs
 * there is the code that would run here: arguments and results must be plain
 * data (structured clone). Threads start on the first task; one that dies
 * fails the tasks it held (as a failed query would) and is replaced on the
 * next one.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SQLITE_DEFAULTS } from '../config.js';
import { ReadTimeout } from './errors.js';
import type { StoreOptions } from './store-options.js';

/** A function `name` exported by the module at `module` (a file URL), taking the store first. */
export interface ReaderTask {
  readonly module: string;
  readonly name: string;
}

export interface ReaderThreads {
  /** How many threads there are (each started by the first task it gets)… */
  readonly size: number;
  /** …and how many are running now. */
  readonly started: number;
  /** Tasks sent and not answered yet: running or waiting for a thread. */
  readonly tasks: number;
  /** Runs the task on the least busy thread; resolves with what it returned, rejects with what it threw. */
  run<T>(task: ReaderTask, args: readonly unknown[]): Promise<T>;
  /** Tells every running thread that a large write changed the store (see search-index.ts). */
  forgetCounts(): void;
  close(): Promise<void>;
}

/** What a thread is started with. */
export interface ReaderThreadData {
  readonly options: StoreOptions;
}

/** A message to a thread. */
export type ToThread =
  | { readonly kind: 'run'; readonly id: number; readonly module: string; readonly name: string; readonly args: readonly unknown[] }
  | { readonly kind: 'forget-counts' };

/** A thread's answer to `run`, or its word that it is ready. */
export type FromThread =
  | { readonly kind: 'ready' }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { name: string; message: string; code?: string } };

interface Pending {
  readonly message: ToThread;
  /** Set once the thread is ready: its start-up is not the task's time. */
  timer?: ReturnType<typeof setTimeout>;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly slot: number;
  /** Whether it has opened its store (and counts its tasks' time). */
  ready: boolean;
  /** Tasks sent and not answered, oldest first: the first is the one running. */
  readonly pending: Map<number, Pending>;
}

/** The thread's entry module, beside this one (`.ts` when run from the sources, `.js` when built). */
const ENTRY = new URL(`./reader-thread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Starts a thread on ENTRY. Run from the sources (tests, `npm run dev`), a worker does not inherit tsx's
 * loader from `--import tsx` on Node 20, so it registers it first (tsx is then installed: it runs us).
 */
function spawn(workerData: ReaderThreadData): Worker {
  if (!ENTRY.pathname.endsWith('.ts')) return new Worker(ENTRY, { workerData, resourceLimits: THREAD_LIMITS });
  // Resolved here: an evaluated worker resolves bare names from the working directory, which may hold no node_modules.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(ENTRY.href)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits: THREAD_LIMITS });
}

/**
 * A thread's young generation, in MB. A search allocates little that outlives it (its rows), but under
 * load V8 grows the young generation to its default maximum (48 MB on 64 bits) before collecting it,
 * and that memory stays in the process's RSS.
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 8 };

/**
 * `count` threads (at most the machine's cores) reading the SQLite file of `options`. A task not
 * answered within `deadlineMs` (0: no deadline) fails with ReadTimeout, as a PostgreSQL statement
 * does past its statement_timeout.
 */
export function readerThreads(options: StoreOptions, count: number, deadlineMs: number): ReaderThreads {
  const size = Math.max(1, Math.min(count, os.availableParallelism()));
  const threads: Array<Thread | undefined> = Array.from({ length: size }, () => undefined);
  // A thread's own store opens only a read connection and never starts threads of its own. It reads
  // with system calls, not a memory map: the main read connection maps the file already, and every
  // mapping of the same pages counts again in the process's RSS (measured at 1,000,000 customers:
  // 501 MB peak with both mapping, 358 MB with the thread reading by system calls).
  const { cacheMb } = options.sqlite ?? SQLITE_DEFAULTS;
  const data: ReaderThreadData = {
    options: {
      store: options.store,
      databasePoolSize: 1,
      databaseTimeoutMs: options.databaseTimeoutMs,
      readOnly: true,
      sqlite: { cacheMb, mmapMb: 0, readThreads: 0 },
    },
  };
  let nextId = 1;
  let closed = false;
  /** Which thread each task out is with (a task moves when its thread is stopped before reaching it). */
  const owners = new Map<number, Thread>();

  const start = (slot: number): Thread => {
    const worker = spawn(data);
    // A thread idle on its port does not keep the process alive; close() ends them.
    worker.unref();
    const thread: Thread = { worker, slot, ready: false, pending: new Map() };
    const failAll = (err: Error) => {
      if (threads[slot] === thread) threads[slot] = undefined;
      for (const id of [...thread.pending.keys()]) settle(thread, id)?.reject(err);
    };
    worker.on('message', (message: FromThread) => {
      if ('kind' in message) {
        thread.ready = true;
        for (const [id, waiting] of thread.pending) arm(id, waiting);
        return;
      }
      const waiting = settle(thread, message.id);
      if (!waiting) return;
      if (message.ok) waiting.resolve(message.value);
      else waiting.reject(Object.assign(new Error(message.error.message), message.error));
    });
    worker.on('error', (err) => failAll(new Error(`a reader thread failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => failAll(new Error(`a reader thread exited (code ${code})`)));
    threads[slot] = thread;
    return thread;
  };

  /** The task's entry, taken off its thread (undefined when it has been answered already). */
  const settle = (thread: Thread, id: number): Pending | undefined => {
    const waiting = thread.pending.get(id);
    if (!waiting) return undefined;
    thread.pending.delete(id);
    owners.delete(id);
    clearTimeout(waiting.timer);
    waiting.timer = undefined;
    if (thread.pending.size === 0) thread.worker.unref();
    return waiting;
  };

  const pick = (): Thread => {
    let best: { slot: number; load: number } | undefined;
    for (let slot = 0; slot < threads.length; slot++) {
      const thread = threads[slot];
      // An empty slot is started rather than queueing behind a busy thread.
      const load = thread ? thread.pending.size : 0;
      if (!best || load < best.load) best = { slot, load };
    }
    const slot = (best as { slot: number }).slot;
    return threads[slot] ?? start(slot);
  };

  const arm = (id: number, waiting: Pending) => {
    if (deadlineMs > 0 && waiting.timer === undefined) waiting.timer = setTimeout(() => expire(id), deadlineMs);
  };

  const dispatch = (id: number, waiting: Pending) => {
    const thread = pick();
    thread.pending.set(id, waiting);
    owners.set(id, thread);
    if (thread.ready) arm(id, waiting);
    // Only while a task is out does the thread keep the process alive (so a reply is never lost).
    if (thread.pending.size === 1) thread.worker.ref();
    thread.worker.postMessage(waiting.message);
  };

  /**
   * A task past its deadline fails with ReadTimeout. A thread runs its tasks one after the other, so
   * its oldest task out is the one running: that thread is stopped (SQLite cannot be interrupted from
   * here), and the tasks queued behind it go to another. A task still queued is only dropped (the
   * thread will run it, and its answer is ignored).
   */
  const expire = (id: number) => {
    const thread = owners.get(id);
    if (!thread) return;
    const running = thread.pending.keys().next().value === id;
    const waiting = settle(thread, id);
    if (!waiting) return;
    if (running) {
      if (threads[thread.slot] === thread) threads[thread.slot] = undefined;
      const queued = [...thread.pending.keys()].map((queuedId) => [queuedId, settle(thread, queuedId) as Pending] as const);
      void thread.worker.terminate();
      for (const [queuedId, next] of queued) dispatch(queuedId, next);
    }
    waiting.reject(new ReadTimeout(deadlineMs));
  };

  return {
    size,
    get started() {
      return threads.filter((thread) => thread !== undefined).length;
    },
    get tasks() {
      return owners.size;
    },
    run<T>(task: ReaderTask, args: readonly unknown[]): Promise<T> {
      if (closed) return Promise.reject(new Error('the store is closed'));
      const id = nextId++;
      const message: ToThread = { kind: 'run', id, module: task.module, name: task.name, args };
      return new Promise<T>((resolve, reject) => dispatch(id, { message, resolve: resolve as (value: unknown) => void, reject }));
    },
    forgetCounts() {
      const message: ToThread = { kind: 'forget-counts' };
      for (const thread of threads) thread?.worker.postMessage(message);
    },
    async close() {
      closed = true;
      await Promise.all(threads.map((thread) => thread?.worker.terminate()));
      threads.fill(undefined);
    },
  };
}
