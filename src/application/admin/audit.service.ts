/** The audit trail, newest first, in pages. */
import type { Store } from '../../platform/db/connect.js';
import { type AuditRecord, listAudit } from '../../domains/audit/audit.repository.js';

export interface AuditPage {
  entries: AuditRecord[];
  /** Pass as `before` for the next (older) page. */
  next_before?: number;
}

export class AdminAudit {
  constructor(private readonly store: Store) {}

  async list(query: { before?: number | undefined; limit: number; resourceId?: string | undefined; action?: string | undefined }): Promise<AuditPage> {
    const rows = await listAudit(this.store.db, { ...query, limit: query.limit + 1 });
    const entries = rows.slice(0, query.limit);
    const last = entries.at(-1);
    return rows.length > query.limit && last ? { entries, next_before: last.id } : { entries };
  }
}
