import { randomUUID } from 'node:crypto';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Stable ids for template categories and templates, so that the admin API can
 * name one while others are added, removed or reordered (positions change).
 * Existing rows get fresh ids.
 */
export const templateIds = (_dialect: Dialect): Migration => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('template_categories').addColumn('id', 'text').execute();
    await db.schema.alterTable('templates').addColumn('id', 'text').execute();
    const categories = await db.selectFrom('template_categories').select('position').execute();
    for (const c of categories) {
      await db.updateTable('template_categories').set({ id: randomUUID() }).where('position', '=', c.position).execute();
    }
    const templates = await db.selectFrom('templates').select(['category_position', 'position']).execute();
    for (const t of templates) {
      await db
        .updateTable('templates')
        .set({ id: randomUUID() })
        .where('category_position', '=', t.category_position)
        .where('position', '=', t.position)
        .execute();
    }
    await db.schema.createIndex('template_categories_id').on('template_categories').column('id').unique().execute();
    await db.schema.createIndex('templates_id').on('templates').column('id').unique().execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('templates_id').execute();
    await db.schema.dropIndex('template_categories_id').execute();
    await db.schema.alterTable('templates').dropColumn('id').execute();
    await db.schema.alterTable('template_categories').dropColumn('id').execute();
  },
});
