import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../dialect.js';

/**
 * Message templates, grouped in categories, in the order the company set.
 * The whole set is replaced at once by `fis templates import`, so positions
 * are dense 0-based indexes from the loaded file.
 */
export const templates = (dialect: Dialect): Migration => {
  const key = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('template_categories')
        .addColumn('position', 'integer', (c) => c.primaryKey())
        .addColumn('display_name', key, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('templates')
        .addColumn('category_position', 'integer', (c) =>
          c.notNull().references('template_categories.position').onDelete('cascade'),
        )
        .addColumn('position', 'integer', (c) => c.notNull())
        // As written in the file, placeholders included; checked when loaded, filled per request.
        .addColumn('content', 'text', (c) => c.notNull())
        // 0 or 1 on both stores (SQLite has no boolean type), mapped to a boolean by the repository.
        .addColumn('whatsapp_approved', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('templates_pk', ['category_position', 'position'])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('templates').execute();
      await db.schema.dropTable('template_categories').execute();
    },
  };
};
