/** Loads settings documents (senders, templates, workers) into a test store, as the CLI does. */
import type { Store } from '../../src/platform/db/connect.js';
import { importSenders, importTemplates, importWorkers } from '../../src/application/files/settings.service.js';

export const loadSenders = (store: Store, senders: unknown[]) =>
  importSenders(store, { text: JSON.stringify({ senders }), format: 'json' }, { defaultCountry: 'US' });

export const loadTemplates = (store: Store, categories: unknown[]) =>
  importTemplates(store, { text: JSON.stringify({ categories }), format: 'json' });

export const loadWorkers = (store: Store, workers: unknown[], prune = false) =>
  importWorkers(store, { text: JSON.stringify({ workers }), format: 'json' }, { prune });
