/**
 * GetTemplatesByCustomerId: the company's templates, filled in for one
 * customer and one rep. No HTTP here.
 */
import type { Kysely } from 'kysely';
import type { CustomerService } from '../customers/customer.service.js';
import type { Database } from '../../platform/db/database.js';
import { findWorker } from '../workers/worker.repository.js';
import { fill, parseTemplate, type PlaceholderContext } from './placeholders.js';
import { listCategories } from './template.repository.js';
import type { TemplateCategory } from './template.types.js';

export interface TemplatesResult {
  categories: TemplateCategory[];
  /** Templates left out because a placeholder had no value for this customer (e.g. no e-mail address). */
  omitted: number;
}

export class TemplateService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly customers: CustomerService,
  ) {}

  async templatesFor(worker: string, customerId: string): Promise<TemplatesResult> {
    const [context, stored] = await Promise.all([this.context(worker, customerId), listCategories(this.db)]);
    let omitted = 0;
    const categories: TemplateCategory[] = [];
    for (const category of stored) {
      const templates: TemplateCategory['templates'] = [];
      for (const template of category.templates) {
        const parsed = parseTemplate(template.content);
        // Checked when loaded; a template that no longer parses (a placeholder retired by an upgrade) is skipped.
        const content = parsed.ok ? fill(parsed.segments, context) : undefined;
        if (content === undefined) omitted++;
        else templates.push({ content, whatsAppApproved: template.whatsAppApproved });
      }
      // A category whose every template was left out would be an empty heading in the app.
      if (templates.length > 0) categories.push({ display_name: category.display_name, templates });
    }
    return { categories, omitted };
  }

  /**
   * One template's content filled for a customer and a rep exactly as
   * templatesFor fills it; undefined when the callback would leave it out (a
   * placeholder without a value for this customer). A content that does not
   * parse is reported, as its file load would report it.
   */
  async preview(worker: string, customerId: string, content: string): Promise<{ content: string | undefined; errors: string[] }> {
    const parsed = parseTemplate(content);
    if (!parsed.ok) return { content: undefined, errors: parsed.errors };
    const context = await this.context(worker, customerId);
    return { content: fill(parsed.segments, context), errors: [] };
  }

  private async context(worker: string, customerId: string): Promise<PlaceholderContext> {
    // Same visibility as the CRM callback: unknown or someone else's customer is a 404.
    const [customer, workerRow] = await Promise.all([this.customers.getCustomer(worker, customerId), findWorker(this.db, worker)]);
    return { customer, worker: { identity: worker, displayName: workerRow?.display_name ?? null } };
  }
}
