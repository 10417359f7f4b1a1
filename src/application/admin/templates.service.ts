/**
 * Templates and their categories through the admin API. The company's
 * templates are a small ordered document (at most 100 categories of 200), so
 * every change is made to the whole of it, in one transaction under the
 * templates' lock: read it, apply the change, validate the result with the
 * file loader's own validator, write it back with its ids. A change the file
 * could not hold (a second category of the same name, a category left without
 * templates) is refused exactly as the file would be.
 */
import type { Store } from '../../platform/db/connect.js';
import { AppError, type ReportedProblem as Problem } from '../../kernel/errors.js';
import { recordAudit } from '../../domains/audit/audit.repository.js';
import { listStoredCategories, replaceTemplates, TEMPLATES_WRITE_LOCK } from '../../domains/templates/template.repository.js';
import type { TemplateService, TemplatesResult } from '../../domains/templates/template.service.js';
import type { StoredCategory } from '../../domains/templates/template.types.js';
import { validateTemplates } from '../../domains/templates/template.validate.js';
import { formatPath } from '../../kernel/problems.js';
import { randomUUID } from 'node:crypto';
import { bodyProblems, changedFields, checkIfMatch, etagOf, invalidFields, notFound, reorder, type Tagged, tagged, type WriteContext } from './common.js';

export interface TemplateView {
  id: string;
  category_id: string;
  content: string;
  whatsAppApproved: boolean;
}

export type CategoryView = StoredCategory;

const categoryWhat = (id: string) => `template category "${id}"`;
const templateWhat = (id: string) => `template "${id}"`;

type Categories = StoredCategory[];

function findTemplate(categories: Categories, id: string): { category: StoredCategory; index: number } | undefined {
  for (const category of categories) {
    const index = category.templates.findIndex((t) => t.id === id);
    if (index >= 0) return { category, index };
  }
  return undefined;
}

const templateView = (category: StoredCategory, index: number): TemplateView => {
  const t = category.templates[index] as StoredCategory['templates'][number];
  return { id: t.id, category_id: category.id, content: t.content, whatsAppApproved: t.whatsAppApproved };
};

/** A category body's problems, validated as the only category of a templates file. */
export function categoryProblems(body: unknown): Problem[] {
  const result = validateTemplates({ categories: [body] });
  return result.ok ? [] : bodyProblems(result.problems, 2);
}

/** A template body's problems, validated as the only template of a file (category_id and position aside). */
export function templateProblems(body: unknown): Problem[] {
  const { category_id: _c, position: _p, ...template } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const doc = typeof body === 'object' && body !== null && !Array.isArray(body) ? template : body;
  const result = validateTemplates({ categories: [{ display_name: 'x', templates: [doc] }] });
  return result.ok ? [] : bodyProblems(result.problems, 4);
}

export class AdminTemplates {
  constructor(
    private readonly store: Store,
    private readonly templates: TemplateService,
  ) {}

  async list(): Promise<Tagged<{ categories: Categories }>> {
    return tagged({ categories: await listStoredCategories(this.store.db) });
  }

  async getCategory(id: string): Promise<Tagged<StoredCategory>> {
    const category = (await listStoredCategories(this.store.db)).find((c) => c.id === id);
    if (!category) throw notFound(categoryWhat(id));
    return tagged(category);
  }

  async getTemplate(id: string): Promise<Tagged<TemplateView>> {
    const found = findTemplate(await listStoredCategories(this.store.db), id);
    if (!found) throw notFound(templateWhat(id));
    return tagged(templateView(found.category, found.index));
  }

  createCategory(body: { display_name: string; templates: Array<{ content: string; whatsAppApproved?: boolean }>; position?: number }, ctx: WriteContext) {
    throwIfInvalid(categoryProblems({ display_name: body.display_name, templates: body.templates }), 'The category');
    return this.change(ctx, 'template-category.create', (categories) => {
      const category: StoredCategory = {
        id: randomUUID(),
        display_name: body.display_name.trim(),
        templates: body.templates.map((t) => ({ id: randomUUID(), content: t.content, whatsAppApproved: t.whatsAppApproved ?? false })),
      };
      categories.splice(clampPosition(body.position, categories.length), 0, category);
      return { id: category.id, before: undefined, after: category, result: () => category };
    });
  }

  updateCategory(id: string, body: { display_name?: string | undefined; position?: number | undefined }, ctx: WriteContext) {
    if (body.display_name !== undefined) {
      throwIfInvalid(categoryProblems({ display_name: body.display_name, templates: [{ content: 'x' }] }), 'The category');
    }
    return this.change(ctx, 'template-category.update', (categories) => {
      const index = categories.findIndex((c) => c.id === id);
      const current = categories[index];
      if (!current) throw notFound(categoryWhat(id));
      checkIfMatch(ctx.ifMatch, current, categoryWhat(id));
      const before = { ...current, position: index };
      const next: StoredCategory = { ...current, display_name: body.display_name?.trim() ?? current.display_name };
      categories.splice(index, 1);
      const position = body.position === undefined ? index : clampPosition(body.position, categories.length);
      categories.splice(position, 0, next);
      return { id, before, after: { ...next, position }, result: () => next };
    });
  }

  deleteCategory(id: string, ctx: WriteContext) {
    return this.change(ctx, 'template-category.delete', (categories) => {
      const index = categories.findIndex((c) => c.id === id);
      const current = categories[index];
      if (!current) throw notFound(categoryWhat(id));
      checkIfMatch(ctx.ifMatch, current, categoryWhat(id));
      categories.splice(index, 1);
      return { id, before: undefined, after: undefined, result: () => undefined };
    });
  }

  /** Sets the categories' order: `ids` must list every category once. If-Match: the list's ETag. */
  orderCategories(ids: string[], ctx: WriteContext) {
    return this.change(ctx, 'template-categories.order', (categories) => {
      checkIfMatch(ctx.ifMatch, { categories: [...categories] }, 'the template categories');
      const reordered = reorder(categories, ids, (c) => c.id, { one: 'category', many: 'categories', field: 'ids' });
      categories.splice(0, categories.length, ...reordered);
      return { id: null, before: undefined, after: undefined, fields: ['order'], result: () => ({ categories }) };
    });
  }

  /** Sets the order of one category's templates: `ids` must list each of them once. If-Match: the category's ETag. */
  orderTemplates(categoryId: string, ids: string[], ctx: WriteContext) {
    return this.change(ctx, 'template-category.order', (categories) => {
      const index = categories.findIndex((c) => c.id === categoryId);
      const current = categories[index];
      if (!current) throw notFound(categoryWhat(categoryId));
      checkIfMatch(ctx.ifMatch, current, categoryWhat(categoryId));
      const next = { ...current, templates: reorder(current.templates, ids, (t) => t.id, { one: 'template', many: 'templates', field: 'ids' }) };
      categories[index] = next;
      return { id: categoryId, before: undefined, after: undefined, fields: ['templates'], result: () => next };
    });
  }

  createTemplate(categoryId: string, body: { content: string; whatsAppApproved?: boolean; position?: number }, ctx: WriteContext) {
    throwIfInvalid(templateProblems(body), 'The template');
    return this.change(ctx, 'template.create', (categories) => {
      const index = categories.findIndex((c) => c.id === categoryId);
      const category = categories[index];
      if (!category) throw notFound(categoryWhat(categoryId));
      const template = { id: randomUUID(), content: body.content, whatsAppApproved: body.whatsAppApproved ?? false };
      const templates = [...category.templates];
      templates.splice(clampPosition(body.position, templates.length), 0, template);
      const next = { ...category, templates };
      categories[index] = next;
      const view = { id: template.id, category_id: categoryId, content: template.content, whatsAppApproved: template.whatsAppApproved };
      return { id: template.id, before: undefined, after: view, result: () => view };
    });
  }

  /** PUT/PATCH of a template: content, whatsAppApproved, and its category (moved to the end of another one). */
  updateTemplate(id: string, body: { content?: string; whatsAppApproved?: boolean; category_id?: string }, replace: boolean, ctx: WriteContext) {
    throwIfInvalid(templateProblems(replace ? body : { content: 'x', ...body }), 'The template');
    return this.change(ctx, replace ? 'template.replace' : 'template.update', (categories) => {
      const found = findTemplate(categories, id);
      if (!found) throw notFound(templateWhat(id));
      const before = templateView(found.category, found.index);
      checkIfMatch(ctx.ifMatch, before, templateWhat(id));
      const template = {
        id,
        content: body.content ?? before.content,
        whatsAppApproved: body.whatsAppApproved ?? (replace ? false : before.whatsAppApproved),
      };
      const targetId = body.category_id ?? found.category.id;
      const sourceIndex = categories.indexOf(found.category);
      if (targetId === found.category.id) {
        const templates = [...found.category.templates];
        templates[found.index] = template;
        categories[sourceIndex] = { ...found.category, templates };
      } else {
        const targetIndex = categories.findIndex((c) => c.id === targetId);
        const target = categories[targetIndex];
        if (!target) {
          throw invalidFields([{ position: 'body', field: 'category_id', message: `there is no template category "${targetId}"` }], 'The template');
        }
        categories[sourceIndex] = { ...found.category, templates: found.category.templates.filter((t) => t.id !== id) };
        categories[targetIndex] = { ...target, templates: [...target.templates, template] };
      }
      const after = { id, category_id: targetId, content: template.content, whatsAppApproved: template.whatsAppApproved };
      return { id, before, after, result: () => after };
    });
  }

  deleteTemplate(id: string, ctx: WriteContext) {
    return this.change(ctx, 'template.delete', (categories) => {
      const found = findTemplate(categories, id);
      if (!found) throw notFound(templateWhat(id));
      checkIfMatch(ctx.ifMatch, templateView(found.category, found.index), templateWhat(id));
      const index = categories.indexOf(found.category);
      categories[index] = { ...found.category, templates: found.category.templates.filter((t) => t.id !== id) };
      return { id, before: undefined, after: undefined, result: () => undefined };
    });
  }

  /** Every template filled for a customer and a rep: the templates callback's answer, exactly. */
  previewAll(worker: string, customerId: string): Promise<TemplatesResult> {
    return this.templates.templatesFor(worker, customerId);
  }

  /** One content (stored or a draft) filled as the templates callback would fill it. */
  async preview(worker: string, customerId: string, content: string) {
    const result = await this.templates.preview(worker, customerId, content);
    if (result.errors.length > 0) {
      throw invalidFields(result.errors.map((message) => ({ position: 'body', field: 'content', message })), 'The template');
    }
    return result.content;
  }

  /**
   * Applies `edit` to the whole set under the lock, validates the result as the
   * file loader would, writes it, and records the change.
   */
  private async change<R>(
    ctx: WriteContext,
    action: string,
    edit: (categories: Categories) => {
      id: string | null;
      before: object | undefined;
      after: object | undefined;
      fields?: string[];
      result: () => R;
    },
  ): Promise<Tagged<R>> {
    return this.store.write(async (trx) => {
      const categories = await listStoredCategories(trx);
      const change = edit(categories);
      const doc = {
        categories: categories.map((c) => ({
          display_name: c.display_name,
          templates: c.templates.map((t) => ({ content: t.content, whatsAppApproved: t.whatsAppApproved })),
        })),
      };
      const validated = validateTemplates(doc);
      if (!validated.ok) {
        throw new AppError('CONFLICT', `The templates would not be valid after this change: ${validated.problems.map((p) => `${formatPath(p.path)} ${p.message}`).join('; ')}`);
      }
      await replaceTemplates(
        trx,
        categories.map((c, i) => ({
          id: c.id,
          display_name: validated.categories[i]?.display_name ?? c.display_name,
          templates: c.templates.map((t, j) => ({ ...t, content: validated.categories[i]?.templates[j]?.content ?? t.content })),
        })),
      );
      await recordAudit(trx, {
        token: ctx.token,
        action,
        resourceId: change.id,
        fields: change.fields ?? changedFields(change.before, change.after),
        requestId: ctx.requestId,
      });
      const value = change.result();
      return { value, etag: etagOf(value) };
    }, { lock: TEMPLATES_WRITE_LOCK });
  }
}

function throwIfInvalid(problems: Problem[], what: string): void {
  if (problems.length > 0) throw invalidFields(problems, what);
}

function clampPosition(position: number | undefined, length: number): number {
  return position === undefined ? length : Math.max(0, Math.min(position, length));
}

