/** The admin API's use cases, built once from configuration and the store. */
import type { Config } from '../../platform/config.js';
import { openStore, type Store } from '../../platform/db/connect.js';
import { forBulkImport } from '../../platform/db/store-options.js';
import { TokenService } from '../../domains/access/token.service.js';
import { SecretBox } from '../../kernel/sealed-secret.js';
import type { Services } from '../services.js';
import { AdminAudit } from './audit.service.js';
import { AdminCustomers } from './customers.service.js';
import { AdminWorkers } from './workers.service.js';
import { AdminTemplates } from './templates.service.js';
import { AdminSenders } from './senders.service.js';
import { SimulatorService } from '../simulator/simulator.service.js';

export interface AdminServices {
  readonly tokens: TokenService;
  readonly customers: AdminCustomers;
  readonly workers: AdminWorkers;
  readonly templates: AdminTemplates;
  readonly senders: AdminSenders;
  readonly audit: AdminAudit;
  /** The console's simulator: signed callbacks sent on an admin's behalf. */
  readonly simulator: SimulatorService;
}

export function createAdminServices(config: Config, store: Store, services: Services): AdminServices {
  // SQLite: one connection per store, and a transaction holds it; a bulk import gets a connection of its
  // own so that everything else (the templates callback, other admin requests) is not queued behind it.
  const sideStore = config.store.kind === 'sqlite' && config.store.file !== ':memory:';
  return {
    tokens: new TokenService(store.db),
    customers: new AdminCustomers(store, services.customers, {
      defaultCountry: config.defaultCountry,
      openImportStore: sideStore ? () => openStore(forBulkImport(config)) : undefined,
    }),
    workers: new AdminWorkers(store, {
      defaultCountry: config.defaultCountry,
      onChanged: (identities) => services.workerSync.syncWorkers(identities),
    }),
    templates: new AdminTemplates(store, services.templates),
    senders: new AdminSenders(store, { defaultCountry: config.defaultCountry }),
    audit: new AdminAudit(store),
    simulator: new SimulatorService(store.db, {
      publicUrl: config.publicUrl,
      authToken: config.insecureDevMode ? undefined : config.twilioAuthToken,
      sealing: new SecretBox(config.pageTokenSecret),
    }),
  };
}
