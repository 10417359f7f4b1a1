/**
 * `POST /callbacks/crm`: the My Customers list and Customer Details screens.
 * Thin: validated input in, one service call, the reply shaped by schema.
 */
import type { FastifyInstance } from 'fastify';
import fastJson from 'fast-json-stringify';
import type { Static } from 'typebox';
import { type CustomerService, PAGE_SIZE } from '../../../domains/customers/customer.service.js';
import { AppError } from '../../../kernel/errors.js';
import {
  CrmRequestSchema,
  CustomerDetailsReplySchema,
  CustomersListReplySchema,
} from '../schemas/crm.schema.js';

const serializeList = fastJson(CustomersListReplySchema);
const serializeDetails = fastJson(CustomerDetailsReplySchema);

type CrmRequest = Static<typeof CrmRequestSchema>;

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
  app.post<{ Body: CrmRequest }>('/callbacks/crm', { schema: { body: CrmRequestSchema } }, async (request, reply) => {
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
        const objects = { customers: page.customers, searchable: true, next_page_token: page.nextPageToken };
        return reply.type('application/json; charset=utf-8').serializer(serializeList).send({ objects });
      }
      case 'GetCustomerDetailsByCustomerId': {
        if (!body.CustomerId) throw new AppError('BAD_REQUEST', 'CustomerId is required for GetCustomerDetailsByCustomerId');
        const customer = await customers.getCustomer(body.Worker, body.CustomerId);
        return reply.type('application/json; charset=utf-8').serializer(serializeDetails).send({ objects: { customer } });
      }
      default:
        throw new AppError(
          'UNKNOWN_LOCATION',
          `Unknown Location "${body.Location.slice(0, 100)}": this callback answers GetCustomersList and GetCustomerDetailsByCustomerId`,
        );
    }
  });
}
