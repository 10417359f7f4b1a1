/** Reads and writes of `admin_tokens`: names, hashes and kinds; never a token. */
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.js';

type Db = Kysely<Database>;

export interface StoredToken {
  name: string;
  tokenHash: string;
  readOnly: boolean;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

const COLUMNS = ['name', 'token_hash', 'read_only', 'created_at', 'last_used_at', 'revoked_at'] as const;

type Row = { [K in (typeof COLUMNS)[number]]: Database['admin_tokens'][K] };

const fromRow = (r: Row): StoredToken => ({
  name: r.name,
  tokenHash: r.token_hash,
  readOnly: Number(r.read_only) === 1,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/**
 * Inserts a token; a revoked token of the same name is replaced. Returns false
 * when a live token already has the name.
 */
export async function insertToken(db: Db, token: { name: string; tokenHash: string; readOnly: boolean; now: number }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('admin_tokens').select(['revoked_at']).where('name', '=', token.name).executeTakeFirst();
    if (existing && existing.revoked_at === null) return false;
    if (existing) await trx.deleteFrom('admin_tokens').where('name', '=', token.name).execute();
    await trx
      .insertInto('admin_tokens')
      .values({ name: token.name, token_hash: token.tokenHash, read_only: token.readOnly ? 1 : 0, created_at: token.now })
      .execute();
    return true;
  });
}

/** The live (not revoked) token with this hash. */
export async function findLiveTokenByHash(db: Db, tokenHash: string): Promise<StoredToken | undefined> {
  const row = await db
    .selectFrom('admin_tokens')
    .select(COLUMNS)
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row && fromRow(row);
}

export async function listTokens(db: Db): Promise<StoredToken[]> {
  const rows = await db.selectFrom('admin_tokens').select(COLUMNS).orderBy('name').execute();
  return rows.map(fromRow);
}

/** Marks a live token revoked; false when there is none by that name. */
export async function revokeToken(db: Db, name: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('admin_tokens')
    .set({ revoked_at: now })
    .where('name', '=', name)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function touchToken(db: Db, name: string, now: number): Promise<void> {
  await db.updateTable('admin_tokens').set({ last_used_at: now }).where('name', '=', name).execute();
}
