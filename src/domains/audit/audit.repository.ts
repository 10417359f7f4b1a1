/** Reads and writes of `admin_audit`: who changed what through the admin API, and when. */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../platform/db/database.js';

export interface AuditEntry {
  /** The token that made the change (its name, never the token). */
  token: string;
  /** `customer.create`, `customers.import`, `template.update`, … */
  action: string;
  /** The id of what changed (a customer_id, an identity, a template id, an address). */
  resourceId: string | null;
  /** The names of the fields that changed; never their values. */
  fields: string[];
  /** Counts, for bulk changes. */
  summary?: Record<string, number> | undefined;
  requestId?: string | undefined;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  /** ISO 8601. */
  at: string;
}

/** Records a change, in the transaction that makes it: the change and its record commit together. */
export async function recordAudit(trx: Transaction<Database>, entry: AuditEntry, now = Date.now()): Promise<void> {
  await trx
    .insertInto('admin_audit')
    .values({
      at: now,
      token_name: entry.token,
      action: entry.action,
      resource_id: entry.resourceId,
      fields: JSON.stringify(entry.fields),
      summary: entry.summary ? JSON.stringify(entry.summary) : null,
      request_id: entry.requestId ?? null,
    })
    .execute();
}

export interface AuditQuery {
  /** Entries older than this id (the previous page's last id). */
  before?: number | undefined;
  limit: number;
  resourceId?: string | undefined;
  action?: string | undefined;
}

/** Newest first. */
export async function listAudit(db: Kysely<Database>, query: AuditQuery): Promise<AuditRecord[]> {
  let q = db
    .selectFrom('admin_audit')
    .select(['id', 'at', 'token_name', 'action', 'resource_id', 'fields', 'summary', 'request_id'])
    .orderBy('id', 'desc')
    .limit(query.limit);
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  if (query.resourceId !== undefined) q = q.where('resource_id', '=', query.resourceId);
  if (query.action !== undefined) q = q.where('action', '=', query.action);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(Number(r.at)).toISOString(),
    token: r.token_name,
    action: r.action,
    resourceId: r.resource_id,
    fields: JSON.parse(r.fields) as string[],
    summary: r.summary === null ? undefined : (JSON.parse(r.summary) as Record<string, number>),
    requestId: r.request_id ?? undefined,
  }));
}
