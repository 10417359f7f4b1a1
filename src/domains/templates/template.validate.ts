/** Validation of a templates file (`fis templates import`), with the kernel's rules. Pure. */
import { checkKeys, isObject, type Problem, topLevelList } from '../../kernel/problems.js';
import { multiLine, singleLine } from '../../kernel/rules.js';
import { parseTemplate } from './placeholders.js';
import type { CategoryRecord } from './template.types.js';

export const LIMITS = {
  categories: 100,
  templatesPerCategory: 200,
  categoryName: 200,
  // A long SMS is up to 10 segments; WhatsApp allows more, but a template is a short message.
  content: 1600,
} as const;

export type TemplatesResult = { ok: true; categories: CategoryRecord[] } | { ok: false; problems: Problem[] };

export function validateTemplates(doc: unknown): TemplatesResult {
  const problems: Problem[] = [];
  const list = topLevelList(doc, 'categories', problems);
  const categories: CategoryRecord[] = [];
  const names = new Map<string, number>();
  if (list && list.length > LIMITS.categories) {
    problems.push({ path: ['categories'], message: `at most ${LIMITS.categories} categories` });
    return { ok: false, problems };
  }
  list?.forEach((item, i) => {
    const path = ['categories', i];
    if (!isObject(item)) {
      problems.push({ path, message: 'must be an object {display_name, templates}' });
      return;
    }
    checkKeys(item, ['display_name', 'templates'], path, problems);
    const name = singleLine(item.display_name, [...path, 'display_name'], problems, LIMITS.categoryName);
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        problems.push({ path: [...path, 'display_name'], message: `"${name}" is also the name of categories[${first}]` });
      } else names.set(name, i);
    }
    const category: CategoryRecord = { display_name: name ?? '', templates: [] };
    const templates = item.templates;
    if (!Array.isArray(templates) || templates.length === 0) {
      problems.push({ path: [...path, 'templates'], message: 'must be a non-empty list of {content, whatsAppApproved}' });
    } else if (templates.length > LIMITS.templatesPerCategory) {
      problems.push({ path: [...path, 'templates'], message: `at most ${LIMITS.templatesPerCategory} templates per category` });
    } else {
      templates.forEach((t, j) => {
        const tpath = [...path, 'templates', j];
        if (!isObject(t)) {
          problems.push({ path: tpath, message: 'must be an object {content, whatsAppApproved}' });
          return;
        }
        checkKeys(t, ['content', 'whatsAppApproved'], tpath, problems);
        const content = multiLine(t.content, [...tpath, 'content'], problems, LIMITS.content);
        if (content !== undefined) {
          const parsed = parseTemplate(content);
          if (!parsed.ok) for (const message of parsed.errors) problems.push({ path: [...tpath, 'content'], message });
        }
        let approved = false;
        if (t.whatsAppApproved !== undefined) {
          if (typeof t.whatsAppApproved === 'boolean') approved = t.whatsAppApproved;
          else problems.push({ path: [...tpath, 'whatsAppApproved'], message: 'must be true or false (a boolean, not a string)' });
        }
        if (content !== undefined) category.templates.push({ content, whatsAppApproved: approved });
      });
    }
    categories.push(category);
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, categories };
}
