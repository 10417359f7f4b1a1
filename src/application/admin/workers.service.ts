/**
 * Reps through the admin API. A rep's record is exactly a line of the workers
 * file (`fis workers import`): validated by the same function, written by the
 * same upsert, so fields added to the file (issue 15's `state`, `available`)
 * reach the API by being added there (worker.validate.ts, worker.repository.ts),
 * to the record's columns (worker-record.repository.ts) and to WorkerFieldsSchema.
 */
import type { Store } from '../../platform/db/connect.js';
import { AppError } from '../../kernel/errors.js';
import { recordAudit } from '../../domains/audit/audit.repository.js';
import { bookIds, countBooks, findCustomerRecords } from '../../domains/customers/customer-record.repository.js';
import { CUSTOMERS_WRITE_LOCK, nextImportSeq, upsertCustomers } from '../../domains/customers/customer-import.repository.js';
import { type NormalizedCustomer, validateCustomer } from '../../domains/customers/customer.validate.js';
import { deleteWorker, findWorkerRecord, listWorkerPage } from '../../domains/workers/worker-record.repository.js';
import { upsertWorkers, WORKERS_WRITE_LOCK } from '../../domains/workers/worker.repository.js';
import { validateWorkers, type WorkerRecord } from '../../domains/workers/worker.validate.js';
import {
  applyMergePatch,
  bodyProblems,
  changedFields,
  checkIfMatch,
  invalidFields,
  notFound,
  type Tagged,
  tagged,
  type WriteContext,
} from './common.js';

const what = (identity: string) => `worker "${identity}"`;

export interface WorkerPage {
  workers: WorkerRecord[];
  /** Pass as `after` for the next page. */
  next_after?: string;
}

export class AdminWorkers {
  constructor(
    private readonly store: Store,
    private readonly options: {
      readonly defaultCountry: string;
      /** After a rep changed: Frontline's User resource brought in step (FRONTLINE_USER_SYNC); never throws. */
      readonly onChanged?: (identities: string[]) => Promise<unknown>;
    },
  ) {}

  async list(request: { after?: string | undefined; limit: number }): Promise<WorkerPage> {
    const rows = await listWorkerPage(this.store.db, request.after, request.limit + 1);
    const workers = rows.slice(0, request.limit);
    const last = workers.at(-1);
    return rows.length > request.limit && last ? { workers, next_after: last.identity } : { workers };
  }

  async get(identity: string): Promise<Tagged<WorkerRecord>> {
    const record = await findWorkerRecord(this.store.db, identity);
    if (!record) throw notFound(what(identity));
    return tagged(record);
  }

  /** How many customers the rep owns (their book). */
  async bookSize(identity: string): Promise<number> {
    return (await countBooks(this.store.db, [identity])).get(identity) ?? 0;
  }

  create(body: unknown, ctx: WriteContext): Promise<Tagged<WorkerRecord>> {
    const record = validateWorker(body);
    return this.write(record.identity, ctx, 'worker.create', (current) => {
      if (current) throw new AppError('CONFLICT', `${what(record.identity)} already exists; PUT or PATCH it to change it`);
      return record;
    });
  }

  replace(identity: string, body: unknown, ctx: WriteContext): Promise<Tagged<WorkerRecord>> {
    const record = validateWorker(withPathIdentity(body, identity));
    return this.write(identity, ctx, 'worker.replace', (current) => {
      if (!current) throw notFound(what(identity));
      return record;
    });
  }

  patch(identity: string, patch: unknown, ctx: WriteContext): Promise<Tagged<WorkerRecord>> {
    return this.write(identity, ctx, 'worker.update', (current) => {
      if (!current) throw notFound(what(identity));
      return validateWorker(withPathIdentity(applyMergePatch(current, patch), identity));
    });
  }

  /**
   * Deletes the rep. A rep who still owns customers is a 409 unless `unassign`,
   * which also takes them off every customer they own (in the same transaction).
   */
  async delete(identity: string, options: { unassign: boolean }, ctx: WriteContext): Promise<{ unassigned: number }> {
    return this.store.write(async (trx) => {
      const current = await findWorkerRecord(trx, identity);
      if (!current) throw notFound(what(identity));
      checkIfMatch(ctx.ifMatch, current, what(identity));
      const book = await bookIds(trx, identity);
      if (book.length > 0 && !options.unassign) {
        throw new AppError(
          'CONFLICT',
          `${what(identity)} still owns ${book.length} customer(s); reassign them first, or delete with ?unassign=true`,
        );
      }
      const seq = book.length > 0 ? await nextImportSeq(trx) : 0;
      for (let i = 0; i < book.length; i += 500) {
        const records = await findCustomerRecords(trx, book.slice(i, i + 500));
        const changed: NormalizedCustomer[] = [];
        for (const record of records.values()) {
          const result = validateCustomer(
            { ...record, workers: record.workers.filter((w) => w !== identity) },
            { defaultCountry: this.options.defaultCountry },
          );
          // Stored records are valid; one that no longer is (a rule tightened since) is left as it was.
          if (result.ok) changed.push(result.value);
        }
        await upsertCustomers(trx, this.store.bulk, changed, seq);
      }
      await deleteWorker(trx, identity);
      await recordAudit(trx, {
        token: ctx.token,
        action: 'worker.delete',
        resourceId: identity,
        fields: [],
        summary: book.length > 0 ? { unassigned: book.length } : undefined,
        requestId: ctx.requestId,
      });
      return { unassigned: book.length };
    }, { lock: [...CUSTOMERS_WRITE_LOCK, ...WORKERS_WRITE_LOCK] });
  }

  /** Fails with a 404 when the rep does not exist (before assigning them a customer). */
  async mustExist(identity: string): Promise<void> {
    if (!(await findWorkerRecord(this.store.db, identity))) throw notFound(what(identity));
  }

  private async write(
    identity: string,
    ctx: WriteContext,
    action: string,
    decide: (current: WorkerRecord | undefined) => WorkerRecord,
  ): Promise<Tagged<WorkerRecord>> {
    let changed = false;
    const result = await this.store.write(async (trx) => {
      const current = await findWorkerRecord(trx, identity);
      if (current || action !== 'worker.create') checkIfMatch(ctx.ifMatch, current, what(identity));
      const next = decide(current);
      const { changed: written } = await upsertWorkers(trx, [next], false);
      changed = written.length > 0;
      const stored = await findWorkerRecord(trx, identity);
      if (!stored) throw new Error(`worker ${identity} was written but cannot be read back`);
      await recordAudit(trx, { token: ctx.token, action, resourceId: identity, fields: changedFields(current, stored), requestId: ctx.requestId });
      return tagged(stored);
    }, { lock: WORKERS_WRITE_LOCK });
    // After the commit, and without holding the reply: a Frontline outage neither fails nor delays the change.
    if (changed && this.options.onChanged) void this.options.onChanged([identity]);
    return result;
  }
}

/** One rep, validated as a line of the workers file; problems named by field. */
export function validateWorker(body: unknown): WorkerRecord {
  const result = validateWorkers({ workers: [body] });
  if (!result.ok) throw invalidFields(bodyProblems(result.problems, 2), 'The worker');
  return result.workers[0] as WorkerRecord;
}

export function workerProblems(body: unknown) {
  const result = validateWorkers({ workers: [body] });
  return result.ok ? [] : bodyProblems(result.problems, 2);
}

function withPathIdentity(body: unknown, identity: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  if (record.identity === undefined) return { identity, ...record };
  if (record.identity !== identity) {
    throw invalidFields(
      [{ position: 'body', field: 'identity', message: `must be "${identity}", the identity in the path (an identity cannot change)` }],
      'The worker',
    );
  }
  return record;
}
