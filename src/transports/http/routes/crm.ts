/**
 * `POST /callbacks/crm`: the My Customers list and Customer Details screens.
 * Thin: validated input in, one service call, the reply shaped by schema.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { type CustomerService, PAGE_SIZE } from '../../../domains/customers/customer.service.js';
import { AppError } from '../../../kernel/errors.js';
import { CrmReplySchema, CrmRequestSchema } from '../schemas/crm.schema.js';

type CrmRequest = Static<typeof CrmRequestSchema>;
type CrmReply = Static<typeof CrmReplySchema>;

export function parsePageSize(raw: string | undefined): number {
  if (raw === undefined) return PAGE_SIZE.default;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= PAGE_SIZE.min && n <= PAGE_SIZE.max)) {
    throw new AppError(
      'INVALID_PAGE_SIZE',
      `PageSize must be a whole number from ${PAGE_SIZE.min} to ${PAGE_SIZE.max}, got "${raw.slice(0, 20)}"`,
    );
  }
  return n;
}

export function crmRoutes(app: FastifyInstance, customers: CustomerService): void {
  const schema = { body: CrmRequestSchema, response: { 200: CrmReplySchema } };
  app.post<{ Body: CrmRequest; Reply: CrmReply }>('/callbacks/crm', { schema }, async (request) => {
    const body = request.body;
    switch (body.Location) {
      case 'GetCustomersList': {
        const page = await customers.listCustomers({
          worker: body.Worker,
          pageSize: parsePageSize(body.PageSize),
          anchor: body.Anchor,
          nextPageToken: body.NextPageToken,
          query: body.Query,
        });
        return { objects: { customers: page.customers, searchable: true, next_page_token: page.nextPageToken } };
      }
      case 'GetCustomerDetailsByCustomerId': {
        if (!body.CustomerId) throw new AppError('BAD_REQUEST', 'CustomerId is required for GetCustomerDetailsByCustomerId');
        return { objects: { customer: await customers.getCustomer(body.Worker, body.CustomerId) } };
      }
      default:
        throw new AppError(
          'UNKNOWN_LOCATION',
          `Unknown Location "${body.Location.slice(0, 100)}": this callback answers GetCustomersList and GetCustomerDetailsByCustomerId`,
        );
    }
  });
}
