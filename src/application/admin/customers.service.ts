/**
 * Customers through the admin API: the same record as one line of the import
 * (the Customer DTO plus `workers`), the same validation, and the same writer,
 * so that a customer written here is exactly what `fis import` would have
 * written. Every write runs in one transaction with its audit record, under
 * the customers' write lock, and is visible to the callbacks as soon as it
 * returns (there is no cache anywhere).
 */
import type { Readable } from 'node:stream';
import type { Store } from '../../platform/db/connect.js';
import { AppError, type Problem } from '../../kernel/errors.js';
import type { CustomerService } from '../../domains/customers/customer.service.js';
import { nextImportSeq, upsertCustomers } from '../../domains/customers/customer-write.repository.js';
import {
  deleteCustomer,
  findCustomerRecord,
  findCustomerRecords,
  lockCustomers,
} from '../../domains/customers/customer-record.repository.js';
import type { CustomerRecord } from '../../domains/customers/customer.types.js';
import { type NormalizedCustomer, validateCustomer } from '../../domains/customers/customer.validate.js';
import { recordAudit } from '../../domains/audit/audit.repository.js';
import { exportCustomers } from '../files/export.service.js';
import { ImportRejected, type ImportReport, importCustomers } from '../files/import.service.js';
import { readNdjson } from '../files/readers.js';
import {
  applyMergePatch,
  changedFields,
  checkIfMatch,
  invalidFields,
  notFound,
  type Tagged,
  tagged,
  type WriteContext,
} from './common.js';

export interface CustomerListRequest {
  query?: string | undefined;
  owner?: string | undefined;
  pageSize: number;
  pageToken?: string | undefined;
}

export interface CustomerPage {
  customers: CustomerRecord[];
  next_page_token?: string;
}

const what = (id: string) => `customer "${id}"`;

export class AdminCustomers {
  constructor(
    private readonly store: Store,
    private readonly customers: CustomerService,
    private readonly options: {
      readonly defaultCountry: string;
      /**
       * A store of its own for bulk imports, when the main one would be held for the import's
       * whole transaction (SQLite: one connection per store); closed after the import.
       */
      readonly openImportStore?: (() => Store) | undefined;
    },
  ) {}

  async list(request: CustomerListRequest): Promise<CustomerPage> {
    const page = await this.customers.listIds({
      owner: request.owner,
      pageSize: request.pageSize,
      nextPageToken: request.pageToken,
      query: request.query,
    });
    const records = await findCustomerRecords(this.store.db, page.ids);
    const customers = page.ids.flatMap((id) => {
      const record = records.get(id);
      return record ? [record] : [];
    });
    return page.nextPageToken ? { customers, next_page_token: page.nextPageToken } : { customers };
  }

  async get(id: string): Promise<Tagged<CustomerRecord>> {
    const record = await findCustomerRecord(this.store.db, id);
    if (!record) throw notFound(what(id));
    return tagged(record);
  }

  /** POST: a new customer; 409 when the id is taken. */
  create(body: unknown, ctx: WriteContext): Promise<Tagged<CustomerRecord>> {
    const customer = this.validate(body);
    const id = customer.record.customer_id;
    return this.write(id, ctx, 'customer.create', (current) => {
      if (current) throw new AppError('CONFLICT', `${what(id)} already exists; PUT or PATCH it to change it`);
      return customer;
    });
  }

  /** PUT: replaces a customer that exists; the body's customer_id, if any, must be the path's. */
  replace(id: string, body: unknown, ctx: WriteContext): Promise<Tagged<CustomerRecord>> {
    const customer = this.validate(withPathId(body, id));
    return this.write(id, ctx, 'customer.replace', (current) => {
      if (!current) throw notFound(what(id));
      return customer;
    });
  }

  /** PATCH (RFC 7396) over the stored record, then validated whole. */
  patch(id: string, patch: unknown, ctx: WriteContext): Promise<Tagged<CustomerRecord>> {
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw invalidFields([{ position: 'body', message: 'a merge patch of a customer must be a JSON object' }], 'The patch');
    }
    return this.write(id, ctx, 'customer.update', (current) => {
      if (!current) throw notFound(what(id));
      return this.validate(withPathId(applyMergePatch(current, patch), id));
    });
  }

  async delete(id: string, ctx: WriteContext): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await lockCustomers(trx, this.store.dialect);
      const current = await findCustomerRecord(trx, id);
      if (!current) throw notFound(what(id));
      checkIfMatch(ctx.ifMatch, current, what(id));
      await deleteCustomer(trx, id);
      await recordAudit(trx, { token: ctx.token, action: 'customer.delete', resourceId: id, fields: [], requestId: ctx.requestId });
    });
  }

  /** Adds or removes one owner (`PUT`/`DELETE /workers/{identity}/customers/{id}`). */
  setOwner(identity: string, id: string, owned: boolean, ctx: WriteContext): Promise<Tagged<CustomerRecord>> {
    return this.write(id, ctx, owned ? 'customer.assign' : 'customer.unassign', (current) => {
      if (!current) throw notFound(what(id));
      const workers = owned
        ? [...new Set([...current.workers, identity])]
        : current.workers.filter((w) => w !== identity);
      return this.validate({ ...current, workers });
    });
  }

  /**
   * The import's whole contract over HTTP: an NDJSON body, validated line by
   * line, written in one transaction, rejected whole with every problem by line.
   */
  async importNdjson(body: Readable, options: { prune: boolean }, ctx: WriteContext): Promise<ImportReport> {
    const importStore = this.options.openImportStore?.();
    const store = importStore ?? this.store;
    try {
      const report = await importCustomers(store, readNdjson(body), {
        prune: options.prune,
        defaultCountry: this.options.defaultCountry,
        maxReportedErrors: 1000,
        beforeCommit: (trx, report) =>
          recordAudit(trx, {
            token: ctx.token,
            action: options.prune ? 'customers.import-prune' : 'customers.import',
            resourceId: null,
            fields: [],
            summary: { ...report },
            requestId: ctx.requestId,
          }),
      });
      return report;
    } catch (err) {
      if (err instanceof ImportRejected) {
        throw new AppError('IMPORT_REJECTED', err.message, { problems: err.problems, totalProblems: err.totalProblems });
      }
      throw err;
    } finally {
      await importStore?.close();
    }
  }

  export(): AsyncIterable<CustomerRecord> {
    return exportCustomers(this.store);
  }

  private validate(body: unknown): NormalizedCustomer {
    const result = validateCustomer(body, { defaultCountry: this.options.defaultCountry });
    if (!result.ok) {
      const problems: Problem[] = result.errors.map((e) =>
        e.field === '(record)' ? { position: 'body', message: e.message } : { position: 'body', field: e.field, message: e.message },
      );
      throw invalidFields(problems, 'The customer');
    }
    return result.value;
  }

  /**
   * One customer's write: lock, read the current record, check If-Match, let
   * `decide` produce the new record (or throw), write it through the import's
   * writer, record the change, and answer the stored record as a reader now sees it.
   */
  private write(
    id: string,
    ctx: WriteContext,
    action: string,
    decide: (current: CustomerRecord | undefined) => NormalizedCustomer,
  ): Promise<Tagged<CustomerRecord>> {
    return this.store.db.transaction().execute(async (trx) => {
      await lockCustomers(trx, this.store.dialect);
      const current = await findCustomerRecord(trx, id);
      if (current) checkIfMatch(ctx.ifMatch, current, what(id));
      else if (ctx.ifMatch !== undefined && action !== 'customer.create') checkIfMatch(ctx.ifMatch, undefined, what(id));
      const next = decide(current);
      // A run number of its own: the writer replaces rows written by any other run (an import, or an earlier write here).
      await upsertCustomers(trx, this.store.dialect, [next], await nextImportSeq(trx));
      const stored = await findCustomerRecord(trx, id);
      if (!stored) throw new Error(`customer ${id} was written but cannot be read back`);
      await recordAudit(trx, {
        token: ctx.token,
        action,
        resourceId: id,
        fields: changedFields(current, stored),
        requestId: ctx.requestId,
      });
      return tagged(stored);
    });
  }
}

/** The body with the path's customer_id; a different one in the body is a problem the validator reports. */
function withPathId(body: unknown, id: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  if (record.customer_id === undefined) return { customer_id: id, ...record };
  if (String(record.customer_id) !== id) {
    throw invalidFields(
      [{ position: 'body', field: 'customer_id', message: `must be "${id}", the id in the path (a customer's id cannot change)` }],
      'The customer',
    );
  }
  return record;
}
