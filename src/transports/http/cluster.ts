/**
 * `fis serve` in several processes (SERVE_PROCESSES): how one machine's cores
 * serve one port. Node 20 cannot share a port between unrelated processes, so
 * a primary forks the workers with node:cluster, which accepts the connections
 * and hands them out in turn.
 *
 * Each worker is a whole service (its own app and store connections), exactly
 * what a second instance behind a load balancer would be: everything shared
 * lives in the store, so nothing else changes. The primary only:
 * - checks the store's schema once (or migrates it), before any worker starts;
 * - replaces a worker that dies after it was serving, and stops everything if
 *   one dies before it ever listened (bad configuration, port taken), rather
 *   than forking in a loop;
 * - on SIGTERM/SIGINT, asks every worker to stop (each drains its connections,
 *   see server.ts), waits for them within a bound, and exits 0 (1 if one had
 *   to be killed);
 * - answers `GET /metrics` for the instance: the worker that got the scrape
 *   asks the primary, which sums every worker's counters.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../../platform/config.js';
import { EXIT_BOUND_MS } from './drain.js';
import type { Metrics, MetricsSnapshot } from '../../platform/metrics.js';

/** What the primary and its workers say to each other over the cluster's IPC channel. */
type Message =
  | { fis: 'join' }
  | { fis: 'joined' }
  | { fis: 'shutdown' }
  | { fis: 'metrics-request'; id: number }
  | { fis: 'metrics-collect'; id: number }
  | { fis: 'metrics-snapshot'; id: number; snapshot: MetricsSnapshot }
  | { fis: 'metrics-total'; id: number; snapshots: MetricsSnapshot[] };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && 'fis' in m;

/** How long the primary waits for every worker's counters before answering with those it has. */
const COLLECT_TIMEOUT_MS = 1000;
/** How long the primary waits for its workers to exit once asked to stop; then it kills them. */
const WORKER_EXIT_BOUND_MS = EXIT_BOUND_MS + 2000;

export interface PrimaryOptions {
  readonly processes: number;
  readonly log: (message: string) => void;
}

/** Runs the primary: forks the workers and looks after them until a signal stops them. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { processes, log } = options;
  let stopping = false;
  let exitCode = 0;
  const listened = new WeakSet<Worker>();
  let nextCollect = 0;

  return new Promise((resolve) => {
    const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const stop = (code: number) => {
      exitCode = Math.max(exitCode, code);
      if (stopping) return;
      stopping = true;
      // Each worker drains its connections, closes its store and exits. Not worker.disconnect(): in the
      // worker, that closes the server at once, dropping idle keep-alive connections as requests arrive on them.
      for (const worker of live()) {
        if (worker.isConnected()) worker.send({ fis: 'shutdown' } satisfies Message);
        else worker.process.kill('SIGTERM');
      }
      if (live().length === 0) {
        resolve(exitCode);
        return;
      }
      setTimeout(() => {
        const left = live();
        if (left.length === 0) return;
        log(`${left.length} worker(s) still running after ${WORKER_EXIT_BOUND_MS} ms; killing them`);
        exitCode = Math.max(exitCode, 1);
        for (const worker of left) worker.process.kill('SIGKILL');
      }, WORKER_EXIT_BOUND_MS).unref();
    };

    const fork = () => {
      const worker = cluster.fork();
      worker.on('listening', () => listened.add(worker));
      worker.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.fis === 'join') worker.send({ fis: 'joined' } satisfies Message);
        if (m.fis === 'metrics-request') collectMetrics(worker, m.id);
      });
    };

    /** Asks every worker for its counters and sends them all to the one that got the scrape. */
    const collectMetrics = (requester: Worker, requestId: number) => {
      const id = ++nextCollect;
      const workers = live().filter((w) => w.isConnected());
      const snapshots: MetricsSnapshot[] = [];
      const finish = () => {
        clearTimeout(timer);
        for (const w of workers) w.off('message', onSnapshot);
        if (requester.isConnected()) requester.send({ fis: 'metrics-total', id: requestId, snapshots } satisfies Message);
      };
      const onSnapshot = (m: unknown) => {
        if (isMessage(m) && m.fis === 'metrics-snapshot' && m.id === id) {
          snapshots.push(m.snapshot);
          if (snapshots.length === workers.length) finish();
        }
      };
      const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
      for (const w of workers) {
        w.on('message', onSnapshot);
        w.send({ fis: 'metrics-collect', id } satisfies Message);
      }
    };

    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (live().length === 0) resolve(exitCode);
        return;
      }
      if (!listened.has(worker)) {
        log(`a worker exited (${signal ?? `code ${code}`}) before it was serving; stopping`);
        stop(1);
        return;
      }
      log(`worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
      fork();
    });

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(1);
      log(`received ${signal}, closing ${live().length} worker(s)`);
      stop(0);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);

    log(`starting ${processes} worker processes`);
    for (let i = 0; i < processes; i++) fork();
  });
}

/** In a worker: set once it has joined its primary (see `joinPrimary`). */
let primaryLink: { metrics: Metrics; pending: Map<number, (snapshots: MetricsSnapshot[]) => void> } | undefined;
let nextRequest = 0;

/**
 * Called by a worker once it serves: closes the server when the primary asks
 * (shutdown) or goes away, and, once the primary answers, serves `/metrics`
 * for the whole instance. A process forked by some other cluster manager never
 * gets the answer and keeps its own counters.
 */
export function joinPrimary(metrics: Metrics, close: (reason: string) => void): void {
  if (!cluster.isWorker || !process.send) return;
  process.on('disconnect', () => close('the primary disconnected this worker'));
  process.on('message', (m: unknown) => {
    if (!isMessage(m)) return;
    if (m.fis === 'joined') primaryLink = { metrics, pending: new Map() };
    if (m.fis === 'shutdown') close('the primary asked this worker to stop');
    if (m.fis === 'metrics-collect') {
      const id = m.id;
      void metrics.snapshot().then((snapshot) => process.send?.({ fis: 'metrics-snapshot', id, snapshot } satisfies Message));
    }
    if (m.fis === 'metrics-total') {
      primaryLink?.pending.get(m.id)?.(m.snapshots);
      primaryLink?.pending.delete(m.id);
    }
  });
  process.send({ fis: 'join' } satisfies Message);
}

/** `/metrics` text: this process's counters, or the sum over the instance's processes. */
export function renderMetrics(metrics: Metrics): Promise<string> | string {
  const link = primaryLink;
  if (link === undefined || !process.connected) return metrics.render();
  const id = ++nextRequest;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      link.pending.delete(id);
      resolve(metrics.render());
    }, COLLECT_TIMEOUT_MS * 2);
    link.pending.set(id, (snapshots) => {
      clearTimeout(timer);
      resolve(metrics.render(snapshots));
    });
    process.send?.({ fis: 'metrics-request', id } satisfies Message);
  });
}

/** Whether `fis serve` should start a primary here rather than serve in this process. */
export function servesAsPrimary(config: Pick<Config, 'serveProcesses'>): boolean {
  return config.serveProcesses > 1 && cluster.isPrimary;
}
