import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Routing state shared by every instance:
 * - `routing_cursors`: the round-robin position over a configured team, advanced
 *   by one atomic upsert so two instances never hand out the same slot;
 * - `routing_claims`: one row per routed conversation, so a redelivered routing
 *   callback (same `I-Twilio-Idempotency-Token`, or the same conversation) never
 *   picks a second worker, and an instance that died mid-way is taken over once
 *   its lease has expired.
 */
export const routing = (dialect: Dialect): Migration => {
  const key = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('routing_cursors')
        .addColumn('name', key, (c) => c.primaryKey())
        .addColumn('next', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('routing_claims')
        .addColumn('conversation_sid', key, (c) => c.primaryKey())
        // The chosen worker, kept so that a retry adds the same one; null until chosen or when unrouted.
        .addColumn('worker', key)
        // pending | routed | unrouted | failed
        .addColumn('state', 'text', (c) => c.notNull())
        // Milliseconds since the epoch: while a pending claim's lease runs, other deliveries leave it alone.
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('routing_claims').execute();
      await db.schema.dropTable('routing_cursors').execute();
    },
  };
};
