/**
 * Admin API tokens: made here, shown once, kept only as a SHA-256 hash.
 *
 * A token is `fis_` and 32 random bytes (base64url): with 256 bits of entropy a
 * plain SHA-256 is as good as a slow password hash (nobody can guess a preimage),
 * and it lets a request find its token through an index on the hash. The hash
 * found is compared with the computed one in constant time as well, so neither
 * the index lookup nor the comparison reveals anything about a token's bytes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import { type DocProblem, singleLine } from '../../kernel/problems.js';
import { findLiveTokenByHash, insertToken, listTokens, revokeToken, type StoredToken, touchToken } from './token.repository.js';

export const TOKEN_PREFIX = 'fis_';
/** A token's name: letters, digits, `.`, `_`, `-`; it appears in the audit trail. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** last_used_at is written at most this often per token. */
const TOUCH_EVERY_MS = 60_000;

export interface Principal {
  readonly name: string;
  readonly readOnly: boolean;
}

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function tokenNameProblem(name: string): string | undefined {
  const problems: DocProblem[] = [];
  singleLine(name, ['name'], 64, problems);
  if (problems.length > 0) return `token name ${problems[0]?.message}`;
  if (!NAME.test(name)) return 'token name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';
  return undefined;
}

export class TokenService {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a token; returns it (the only time it exists outside the caller's hands). */
  async create(name: string, options: { readOnly: boolean }): Promise<{ ok: true; token: string } | { ok: false; reason: string }> {
    const problem = tokenNameProblem(name);
    if (problem) return { ok: false, reason: problem };
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const created = await insertToken(this.db, { name, tokenHash: hashToken(token), readOnly: options.readOnly, now: Date.now() });
    return created ? { ok: true, token } : { ok: false, reason: `a token named "${name}" already exists; revoke it first` };
  }

  list(): Promise<StoredToken[]> {
    return listTokens(this.db);
  }

  revoke(name: string): Promise<boolean> {
    return revokeToken(this.db, name, Date.now());
  }

  /** The principal a bearer token stands for, or undefined (unknown, malformed or revoked). */
  async verify(token: string): Promise<Principal | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return undefined;
    const computed = hashToken(token);
    const stored = await findLiveTokenByHash(this.db, computed);
    if (!stored || !timingSafeEqual(Buffer.from(stored.tokenHash, 'hex'), Buffer.from(computed, 'hex'))) return undefined;
    const now = Date.now();
    if (stored.lastUsedAt === null || now - stored.lastUsedAt > TOUCH_EVERY_MS) await touchToken(this.db, stored.name, now);
    return { name: stored.name, readOnly: stored.readOnly };
  }
}
