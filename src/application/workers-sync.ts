/**
 * Keeps Frontline's User resource in step with the reps in the store: each
 * rep's display name, avatar, state and availability (docs/workers.md).
 *
 * For each rep: read the Frontline user (by identity), compare, and write only
 * the fields that differ, in one POST; nothing when all agree. A rep who has
 * never signed in to the app has no user yet (404): reported, and tried again
 * at the next sync, never a failure. An API error fails that rep only, after
 * the retries its budget allows (FRONTLINE_USER_SYNC_BUDGET_MS per rep).
 *
 * Fields the store leaves empty (no display name, no avatar) are left as
 * Frontline has them (what the identity provider sent at sign-in): the store
 * has nothing better to say, and clearing them would blank the app.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../platform/db/database.js';
import { findWorkers, listWorkerRows, type WorkerRow } from '../domains/workers/worker.repository.js';
import { FrontlineClient, type FrontlineUser, type FrontlineUserUpdate } from '../platform/twilio/frontline-client.js';
import type { Config } from '../platform/config.js';
import type { Store } from '../platform/db/connect.js';
import { TwilioApiError } from '../platform/twilio/conversations-client.js';
import { METRIC, type Metrics } from '../platform/metrics.js';
import type { Log } from '../domains/routing/routing.service.js';

export type RepSyncOutcome =
  /** The differing fields were written. */
  | 'updated'
  /** Dry run: these fields differ and would be written. */
  | 'would_update'
  | 'unchanged'
  /** No Frontline user yet (404): the rep has never signed in to the app. */
  | 'not_signed_in'
  /** Named for a sync but not in the store (deleted meanwhile): nothing to write. */
  | 'unknown'
  | 'failed';

export interface RepSyncResult {
  identity: string;
  display_name: string | null;
  outcome: RepSyncOutcome;
  /** The form fields written (or that would be), for `updated` and `would_update`. */
  fields?: Array<keyof FrontlineUserUpdate>;
  /** For `failed`: the last API error. */
  error?: string;
}

export interface SyncReport {
  dryRun: boolean;
  results: RepSyncResult[];
  counts: Record<RepSyncOutcome, number>;
  /** True when no API error remains: every rep that exists in Frontline is (or, dry, could be made) in step. */
  ok: boolean;
}

export interface WorkerSyncOptions {
  /** Time one rep may take: read, write and their retries. */
  readonly budgetMs: number;
  /** FRONTLINE_USER_SYNC: sync after every change of a rep. */
  readonly syncOnChange: boolean;
  /** Reps synced at once (each is one or two calls). */
  readonly concurrency?: number;
}

/** What a rep's Frontline user needs to match the store; empty when in step. */
export function userUpdateFor(worker: WorkerRow, user: FrontlineUser): FrontlineUserUpdate {
  const update: FrontlineUserUpdate = {};
  if (worker.display_name !== null && user.friendly_name !== worker.display_name) update.FriendlyName = worker.display_name;
  if (worker.avatar !== null && user.avatar !== worker.avatar) update.Avatar = worker.avatar;
  // The API's defaults when a value is absent: state active, is_available false.
  if ((user.state ?? 'active') !== worker.state) update.State = worker.state;
  if ((user.is_available ?? false) !== worker.available) update.IsAvailable = worker.available;
  return update;
}

export class WorkerSync {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly client: FrontlineClient,
    private readonly options: WorkerSyncOptions,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * The automatic sync after a change of these reps (a workers file import,
   * the admin API). Does nothing unless FRONTLINE_USER_SYNC=true. Never
   * throws: the change is already made, and a Frontline outage must not undo
   * or fail it; failures are logged and returned for the caller to report.
   */
  async syncWorkers(identities: readonly string[], log?: Log): Promise<SyncReport | undefined> {
    if (!this.options.syncOnChange || identities.length === 0) return undefined;
    try {
      const report = await this.sync(identities);
      const failed = report.results.filter((r) => r.outcome === 'failed');
      if (failed.length > 0) {
        log?.warn(
          { failed: failed.map((r) => ({ identity: r.identity, error: r.error })) },
          'frontline user sync: some reps could not be written; `fis workers sync` retries them',
        );
      } else log?.info({ counts: report.counts }, 'frontline user sync done');
      return report;
    } catch (err) {
      // The store itself failing mid-sync: still not the change's failure.
      log?.error({ err }, 'frontline user sync failed; `fis workers sync` retries it');
      return undefined;
    }
  }

  /** Syncs these reps (every rep when undefined), or with `dryRun` only reads and reports. API errors are reported, not thrown. */
  async sync(identities?: readonly string[], options: { dryRun?: boolean } = {}): Promise<SyncReport> {
    const dryRun = options.dryRun ?? false;
    const workers = identities === undefined ? await listWorkerRows(this.db) : await findWorkers(this.db, identities);
    const known = new Set(workers.map((w) => w.identity));
    const results: RepSyncResult[] = [];
    for (const identity of new Set(identities ?? [])) {
      if (!known.has(identity)) results.push({ identity, display_name: null, outcome: 'unknown' });
    }
    let next = 0;
    const lane = async () => {
      while (next < workers.length) {
        const worker = workers[next++] as WorkerRow;
        results.push(await this.syncOne(worker, dryRun));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 4) }, lane));
    results.sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
    const counts: Record<RepSyncOutcome, number> = { updated: 0, would_update: 0, unchanged: 0, not_signed_in: 0, unknown: 0, failed: 0 };
    for (const r of results) {
      counts[r.outcome]++;
      if (!dryRun) this.metrics?.inc(METRIC.frontlineUserSync, { outcome: r.outcome });
    }
    return { dryRun, results, counts, ok: counts.failed === 0 };
  }

  private async syncOne(worker: WorkerRow, dryRun: boolean): Promise<RepSyncResult> {
    const base = { identity: worker.identity, display_name: worker.display_name };
    const call = { deadline: Date.now() + this.options.budgetMs };
    try {
      const user = await this.client.fetchUser(worker.identity, call);
      const update = userUpdateFor(worker, user);
      const fields = Object.keys(update) as Array<keyof FrontlineUserUpdate>;
      if (fields.length === 0) return { ...base, outcome: 'unchanged' };
      if (dryRun) return { ...base, outcome: 'would_update', fields };
      // The SID from the read when there is one: the identity then need not be resolved twice.
      await this.client.updateUser(user.sid || worker.identity, update, call);
      return { ...base, outcome: 'updated', fields };
    } catch (err) {
      if (!(err instanceof TwilioApiError)) throw err;
      if (err.status === 404) return { ...base, outcome: 'not_signed_in' };
      return { ...base, outcome: 'failed', error: err.message };
    }
  }
}

/** The sync as configured (FRONTLINE_USER_SYNC, TWILIO_FRONTLINE_API_BASE_URL, the Twilio credentials). */
export function createWorkerSync(config: Config, store: Store, metrics?: Metrics): WorkerSync {
  return new WorkerSync(
    store.db,
    new FrontlineClient(config.frontlineUsers.api),
    { budgetMs: config.frontlineUsers.api.budgetMs, syncOnChange: config.frontlineUsers.syncOnChange },
    metrics,
  );
}

const LABEL: Record<RepSyncOutcome, string> = {
  updated: 'updated',
  would_update: 'would update',
  unchanged: 'unchanged',
  not_signed_in: 'not yet signed in',
  unknown: 'not in the store',
  failed: 'failed',
};

/** One line per rep, as `fis workers sync` prints it. */
export function describeResult(r: RepSyncResult): string {
  const who = `${r.identity}${r.display_name ? ` (${r.display_name})` : ''}`;
  const detail =
    r.outcome === 'updated' || r.outcome === 'would_update'
      ? `: ${(r.fields ?? []).join(', ')}`
      : r.outcome === 'not_signed_in'
        ? ': no Frontline user until they sign in to the app; tried again at the next sync'
        : r.outcome === 'failed'
          ? `: ${r.error}`
          : '';
  return `${LABEL[r.outcome]} ${who}${detail}`;
}

/** The summary line: counts by outcome, the zero ones left out. */
export function describeReport(report: SyncReport): string {
  const parts = (Object.keys(LABEL) as RepSyncOutcome[])
    .filter((k) => report.counts[k] > 0)
    .map((k) => `${report.counts[k]} ${LABEL[k]}`);
  return `${report.dryRun ? 'dry run, nothing written: ' : ''}${report.results.length} rep(s)${parts.length ? `: ${parts.join(', ')}` : ''}`;
}
