import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * A rep's state and availability, as Frontline's User resource has them
 * (`state`: active | deactivated; `is_available`). Existing reps become
 * active and available, which is how routing treated them until now.
 * `available` is 0 or 1 on both stores (SQLite has no boolean type), mapped to
 * a boolean by the repository.
 */
export const workerState = (_dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('workers')
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('active').check(sql`state in ('active', 'deactivated')`))
      .execute();
    await db.schema
      .alterTable('workers')
      .addColumn('available', 'integer', (c) => c.notNull().defaultTo(1).check(sql`available in (0, 1)`))
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable('workers').dropColumn('available').execute();
    await db.schema.alterTable('workers').dropColumn('state').execute();
  },
});
