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
    // Same visibility as the CRM callback: unknown or someone else's customer is a 404.
    const customer = await this.customers.getCustomer(worker, customerId);
    const [stored, workerRow] = await Promise.all([listCategories(this.db), findWorker(this.db, worker)]);
    const context: PlaceholderContext = {
      customer,
      worker: { identity: worker, displayName: workerRow?.display_name ?? null },
    };
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
}
