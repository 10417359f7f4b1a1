import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * The simulator's target (/console/simulator): another integration service's base URL and the
 * token its callbacks are signed with, set by an admin. At most one row (`id` = 1); no row means
 * the simulator drives this service itself.
 */
export const simulatorTarget = (_dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('simulator_target')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('base_url', 'text', (c) => c.notNull())
      // The other service's Twilio auth token: needed in clear to sign, never sent back to a browser.
      .addColumn('auth_token', 'text', (c) => c.notNull())
      .addColumn('crm_path', 'text', (c) => c.notNull())
      .addColumn('outgoing_path', 'text', (c) => c.notNull())
      .addColumn('templates_path', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('simulator_target').execute();
  },
});
