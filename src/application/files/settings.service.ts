/**
 * Loading and exporting the company's settings files: sender addresses,
 * templates and workers (docs/outgoing-and-templates.md). Like the customer
 * import, a load is all or nothing: the whole file is validated first, every
 * problem reported with its line, and the store written in one transaction
 * only when there is none.
 */
import type { Store } from '../../platform/db/connect.js';
import { listSenders, replaceSenders, SENDERS_WRITE_LOCK } from '../../domains/senders/sender.repository.js';
import { validateSenders } from '../../domains/senders/sender.validate.js';
import { listCategories, replaceTemplates, TEMPLATES_WRITE_LOCK } from '../../domains/templates/template.repository.js';
import { validateTemplates } from '../../domains/templates/template.validate.js';
import { listWorkers, upsertWorkers, WORKERS_WRITE_LOCK } from '../../domains/workers/worker.repository.js';
import { validateWorkers } from '../../domains/workers/worker.validate.js';
import type { Problem } from '../../kernel/problems.js';
import { type DocumentFormat, parseSettings, readSettings, type ReadResult } from './documents.js';
import { ImportRejected } from './import.service.js';

export type SettingsKind = 'senders' | 'templates' | 'workers';

/** Where a settings file comes from: a path, or text already read (tests, an upload). */
export type SettingsSource = { file: string; format: DocumentFormat } | { text: string; format: DocumentFormat };

async function read(source: SettingsSource): Promise<ReadResult> {
  return 'file' in source ? readSettings(source.file, source.format) : parseSettings(source.text, source.format);
}

function reject(problems: Problem[], records: number): never {
  throw new ImportRejected(problems, problems.length, records);
}

/** Parses and validates; throws ImportRejected with every located problem. */
async function load<T>(
  source: SettingsSource,
  /** The document's top-level list, e.g. `senders`: its length is the record count reported. */
  key: string,
  validate: (doc: unknown) => { ok: true; value: T } | { ok: false; problems: Problem[] },
): Promise<T> {
  const parsed = await read(source);
  if (!parsed.ok) reject(parsed.problems, 0);
  const result = validate(parsed.value);
  if (!result.ok) {
    const list = (parsed.value as Record<string, unknown> | null)?.[key];
    reject(parsed.locate(result.problems), Array.isArray(list) ? list.length : 0);
  }
  return result.value;
}

/** Replaces every sender address with the file's. */
export async function importSenders(store: Store, source: SettingsSource, options: { defaultCountry: string }) {
  const senders = await load(source, 'senders', (doc) => {
    const r = validateSenders(doc, options);
    return r.ok ? { ok: true, value: r.senders } : r;
  });
  await store.write((trx) => replaceSenders(trx, senders), { lock: SENDERS_WRITE_LOCK });
  return {
    senders: senders.length,
    own: senders.filter((s) => s.record.worker !== undefined).length,
    byCountry: senders.filter((s) => s.record.worker === undefined && (s.record.countries ?? []).length > 0).length,
    defaults: senders.filter((s) => s.record.worker === undefined && (s.record.countries ?? []).length === 0).length,
  };
}

/** Replaces every category and template with the file's. */
export async function importTemplates(store: Store, source: SettingsSource) {
  const categories = await load(source, 'categories', (doc) => {
    const r = validateTemplates(doc);
    return r.ok ? { ok: true, value: r.categories } : r;
  });
  await store.write((trx) => replaceTemplates(trx, categories), { lock: TEMPLATES_WRITE_LOCK });
  return { categories: categories.length, templates: categories.reduce((n, c) => n + c.templates.length, 0) };
}

/**
 * Upserts the file's workers by identity; with `prune`, deletes the others.
 * `sync` runs once the change is committed, with the reps whose fields
 * changed (the automatic Frontline user sync, WorkerSync.syncWorkers); it must
 * not throw, and its report is returned as `sync`.
 */
export async function importWorkers<S = never>(
  store: Store,
  source: SettingsSource,
  options: { prune: boolean; sync?: (changed: string[]) => Promise<S> },
) {
  const workers = await load(source, 'workers', (doc) => {
    const r = validateWorkers(doc);
    return r.ok ? { ok: true, value: r.workers } : r;
  });
  const counts = await store.write((trx) => upsertWorkers(trx, workers, options.prune), { lock: WORKERS_WRITE_LOCK });
  const result = { workers: workers.length, ...counts };
  return options.sync ? { ...result, sync: await options.sync(counts.changed) } : result;
}

/** The document `import` of the same kind reads back unchanged. */
export async function exportSettings(store: Store, kind: SettingsKind): Promise<Record<string, unknown[]>> {
  switch (kind) {
    case 'senders':
      return { senders: await listSenders(store.db) };
    case 'templates':
      return { categories: await listCategories(store.db) };
    case 'workers':
      return { workers: await listWorkers(store.db) };
  }
}
