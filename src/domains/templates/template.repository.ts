/** Reads and writes of `template_categories` and `templates`. */
import { randomUUID } from 'node:crypto';
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import type { Dialect } from '../../platform/db/dialect.js';
import type { CategoryRecord, StoredCategory } from './template.types.js';

/** Every category with its templates, in the company's order. */
export async function listCategories(db: Kysely<Database>): Promise<CategoryRecord[]> {
  const rows = await db
    .selectFrom('template_categories as c')
    .innerJoin('templates as t', 't.category_position', 'c.position')
    .select(['c.position as category', 'c.display_name', 't.content', 't.whatsapp_approved'])
    .orderBy('c.position')
    .orderBy('t.position')
    .execute();
  const categories: CategoryRecord[] = [];
  let current: { position: number; record: CategoryRecord } | undefined;
  for (const row of rows) {
    if (current?.position !== row.category) {
      current = { position: row.category, record: { display_name: row.display_name, templates: [] } };
      categories.push(current.record);
    }
    current.record.templates.push({ content: row.content, whatsAppApproved: Number(row.whatsapp_approved) === 1 });
  }
  return categories;
}

/** Every category with its templates and their ids, in the company's order (the admin API's view). */
export async function listStoredCategories(db: Kysely<Database> | Transaction<Database>): Promise<StoredCategory[]> {
  const [categories, templates] = await Promise.all([
    db.selectFrom('template_categories').select(['id', 'position', 'display_name']).orderBy('position').execute(),
    db
      .selectFrom('templates')
      .select(['id', 'category_position', 'content', 'whatsapp_approved'])
      .orderBy('category_position')
      .orderBy('position')
      .execute(),
  ]);
  const byPosition = new Map<number, StoredCategory>();
  const result = categories.map((c) => {
    const category: StoredCategory = { id: c.id, display_name: c.display_name, templates: [] };
    byPosition.set(Number(c.position), category);
    return category;
  });
  for (const t of templates) {
    byPosition.get(Number(t.category_position))?.templates.push({
      id: t.id,
      content: t.content,
      whatsAppApproved: Number(t.whatsapp_approved) === 1,
    });
  }
  return result;
}

/** Takes the templates' write lock for the rest of the transaction (other writers wait; readers do not). */
export async function lockTemplates(trx: Transaction<Database>, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') await sql`lock table template_categories in share row exclusive mode`.execute(trx);
  // SQLite: a write statement takes the file's write lock now, before anything is read.
  else await sql`delete from template_categories where 0`.execute(trx);
}

/**
 * Replaces every category and template with `categories`, in their order.
 * Ids given are kept (the admin API's edits); missing ones are made up (a file load).
 */
export async function replaceTemplates(
  trx: Transaction<Database>,
  dialect: Dialect,
  categories: Array<CategoryRecord & Partial<Pick<StoredCategory, 'id'>>>,
): Promise<void> {
  await lockTemplates(trx, dialect);
  await trx.deleteFrom('templates').execute();
  await trx.deleteFrom('template_categories').execute();
  if (categories.length === 0) return;
  await trx
    .insertInto('template_categories')
    .values(categories.map((c, position) => ({ id: c.id ?? randomUUID(), position, display_name: c.display_name })))
    .execute();
  const templates = categories.flatMap((c, category) =>
    c.templates.map((t: CategoryRecord['templates'][number] & { id?: string }, position) => ({
      id: t.id ?? randomUUID(),
      category_position: category,
      position,
      content: t.content,
      whatsapp_approved: t.whatsAppApproved ? 1 : 0,
    })),
  );
  for (let i = 0; i < templates.length; i += 1000) await trx.insertInto('templates').values(templates.slice(i, i + 1000)).execute();
}
