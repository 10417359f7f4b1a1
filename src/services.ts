/** The domain services, built once from configuration and the store, shared by HTTP and the CLI. */
import type { Config } from './config.js';
import { CustomerService } from './customers/customer.service.js';
import type { Store } from './db/connect.js';

export interface Services {
  readonly customers: CustomerService;
}

export function createServices(config: Config, store: Store): Services {
  return {
    customers: new CustomerService(store.db, {
      pageTokenSecret: config.pageTokenSecret,
      visibility: config.customerVisibility,
      defaultCountry: config.defaultCountry,
    }),
  };
}
