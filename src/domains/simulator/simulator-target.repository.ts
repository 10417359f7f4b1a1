/**
 * Reads and writes of `simulator_target`: at most one row, id 1. Its auth token is stored sealed
 * (kernel/sealed-secret.ts); one stored in clear before sealing existed is read as it is.
 */
import type { Kysely } from 'kysely';
import type { SecretBox } from '../../kernel/sealed-secret.js';
import type { Database } from '../../platform/db/database.js';
import type { RemoteTarget, RemoteTargetInput } from './simulator-target.js';

type Db = Kysely<Database>;

export async function findRemoteTarget(db: Db, box: SecretBox): Promise<RemoteTarget | undefined> {
  const row = await db.selectFrom('simulator_target').selectAll().where('id', '=', 1).executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    baseUrl: row.base_url,
    authToken: box.open(row.auth_token),
    paths: { crm: row.crm_path, outgoing: row.outgoing_path, templates: row.templates_path },
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

export async function saveRemoteTarget(
  db: Db,
  box: SecretBox,
  target: RemoteTargetInput,
  updatedBy: string | null,
  now: Date,
): Promise<void> {
  const values = {
    base_url: target.baseUrl,
    auth_token: box.seal(target.authToken),
    crm_path: target.paths.crm,
    outgoing_path: target.paths.outgoing,
    templates_path: target.paths.templates,
    updated_at: now.toISOString(),
    updated_by: updatedBy,
  };
  await db
    .insertInto('simulator_target')
    .values({ id: 1, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
}

/** Returns whether there was one. */
export async function deleteRemoteTarget(db: Db): Promise<boolean> {
  const result = await db.deleteFrom('simulator_target').where('id', '=', 1).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
