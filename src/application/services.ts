/** The domain services, built once from configuration and the store, shared by HTTP and the CLI. */
import type { Config } from '../platform/config.js';
import { CustomerService } from '../domains/customers/customer.service.js';
import type { Store } from '../platform/db/connect.js';
import { createMetrics, METRIC, type Metrics } from '../platform/metrics.js';
import { RoutingService } from '../domains/routing/routing.service.js';
import { SenderService } from '../domains/senders/sender.service.js';
import { TemplateService } from '../domains/templates/template.service.js';
import { ConversationsClient } from '../platform/twilio/conversations-client.js';
import { createWorkerSync, type WorkerSync } from './workers-sync.js';

export interface Services {
  readonly customers: CustomerService;
  readonly senders: SenderService;
  readonly templates: TemplateService;
  readonly routing: RoutingService;
  readonly metrics: Metrics;
  /** Frontline's User resource kept in step with the reps: `workerSync.syncWorkers(identities)` after a change. */
  readonly workerSync: WorkerSync;
}

export function createServices(config: Config, store: Store): Services {
  const metrics = createMetrics();
  if (store.readerThreads) metrics.watchReaderThreads(store.readerThreads);
  const twilioApi = new ConversationsClient(config.twilioApi, {
    attempt: (outcome) => metrics.inc(METRIC.twilioApi, { outcome }),
  });
  const customers = new CustomerService(store, {
    pageTokenSecret: config.pageTokenSecret,
    visibility: config.customerVisibility,
    defaultCountry: config.defaultCountry,
  });
  return {
    customers,
    senders: new SenderService(store.db, customers, {
      defaultCountry: config.defaultCountry,
      defaults: config.defaultSenders,
    }),
    templates: new TemplateService(store.db, customers),
    metrics,
    workerSync: createWorkerSync(config, store, metrics),
    routing: new RoutingService(store, twilioApi, metrics, {
      ...config.routing,
      defaultCountry: config.defaultCountry,
      budgetMs: config.twilioApi.budgetMs,
    }),
  };
}

