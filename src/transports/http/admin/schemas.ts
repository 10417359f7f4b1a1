/**
 * Wire shapes of the admin API. They validate the requests (structure: types,
 * required fields, no unknown fields), shape the replies (a leak filter), and
 * are what /api/v1/openapi.json is generated from. What a value means (a phone
 * number, a URL, a placeholder) is checked by the domain validators the files
 * use, and reported in the same problem shape.
 */
import { type TSchema, Type } from 'typebox';
import { LIMITS as CUSTOMER_LIMITS } from '../../../domains/customers/customer.validate.js';
import { PAGE_SIZE, MAX_QUERY_LENGTH } from '../../../domains/customers/customer.service.js';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ProblemSchema = Type.Object({
  position: Type.Optional(Type.String({ description: '`body`, `query`, `path`, `header`, or `line N` of an NDJSON body' })),
  field: Type.Optional(Type.String({ description: 'e.g. `channels[0].value`' })),
  message: Type.String(),
});

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable; see docs/errors.md' }),
      message: Type.String(),
      problems: Type.Optional(Type.Array(ProblemSchema, { description: 'every bad field (INVALID_FIELDS, IMPORT_REJECTED)' })),
      total_problems: Type.Optional(Type.Integer()),
    }),
  },
  { $id: 'AdminError' },
);

const errorRef = Type.Ref('AdminError');

/** The error replies a route can give, by status. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [401, ...statuses]) out[s] = errorRef;
  return out;
}

// --- customers ---------------------------------------------------------------------------------

const ChannelIn = Type.Object(
  { type: Type.String({ enum: ['sms', 'whatsapp', 'chat', 'email'] }), value: Type.String() },
  { additionalProperties: false },
);
const LinkIn = Type.Object(
  { type: Type.String(), value: Type.String({ description: 'https, http, mailto or tel URL' }), display_name: Type.Optional(nullable(Type.String())) },
  { additionalProperties: false },
);
const DetailIn = Type.Object({ title: Type.String(), content: Type.String() }, { additionalProperties: false });

const customerFields = {
  customer_id: Type.Union([Type.String({ maxLength: CUSTOMER_LIMITS.customerId }), Type.Number()]),
  display_name: Type.String(),
  workers: nullable(Type.Array(Type.String(), { description: 'identities of the reps who own the customer' })),
  channels: nullable(Type.Array(ChannelIn)),
  links: nullable(Type.Array(LinkIn)),
  details: nullable(DetailIn),
  avatar: nullable(Type.String({ description: 'https or http image URL' })),
};

/** POST and PUT: one line of the import (docs/import-format.md). */
export const CustomerBodySchema = Type.Object(
  {
    customer_id: customerFields.customer_id,
    display_name: customerFields.display_name,
    workers: Type.Optional(customerFields.workers),
    channels: Type.Optional(customerFields.channels),
    links: Type.Optional(customerFields.links),
    details: Type.Optional(customerFields.details),
    avatar: Type.Optional(customerFields.avatar),
  },
  { additionalProperties: false, description: 'A customer record, as one line of the import' },
);

/** PUT: the path names the customer; the body may leave customer_id out. */
export const CustomerReplaceSchema = Type.Object(
  { ...CustomerBodySchema.properties, customer_id: Type.Optional(customerFields.customer_id) },
  { additionalProperties: false, description: 'A customer record, as one line of the import; customer_id may be left out' },
);

/** PATCH: RFC 7396; `null` removes a field. */
export const CustomerPatchSchema = Type.Object(
  {
    customer_id: Type.Optional(customerFields.customer_id),
    display_name: Type.Optional(customerFields.display_name),
    workers: Type.Optional(customerFields.workers),
    channels: Type.Optional(customerFields.channels),
    links: Type.Optional(customerFields.links),
    details: Type.Optional(nullable(Type.Object({ title: Type.Optional(Type.String()), content: Type.Optional(Type.String()) }, { additionalProperties: false }))),
    avatar: Type.Optional(customerFields.avatar),
  },
  { additionalProperties: false, description: 'A JSON Merge Patch (RFC 7396) of a customer record' },
);

export const CustomerSchema = Type.Object(
  {
    customer_id: Type.String(),
    display_name: Type.String(),
    workers: Type.Array(Type.String()),
    channels: Type.Optional(Type.Array(Type.Object({ type: Type.String(), value: Type.String() }))),
    links: Type.Optional(
      Type.Array(Type.Object({ type: Type.String(), value: Type.String(), display_name: Type.Optional(Type.String()) })),
    ),
    details: Type.Optional(Type.Object({ title: Type.String(), content: Type.String() })),
    avatar: Type.Optional(Type.String()),
  },
  { $id: 'Customer' },
);
const customerRef = Type.Ref('Customer');

export const CustomerIdParams = Type.Object({ customer_id: Type.String({ minLength: 1, maxLength: CUSTOMER_LIMITS.customerId }) });

export const CustomerListQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: MAX_QUERY_LENGTH, description: 'search, as the CRM callback: name, id, e-mail, phone digits' })),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "only this rep's customers" })),
    page_size: Type.Optional(Type.Integer({ minimum: PAGE_SIZE.min, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default })),
    page_token: Type.Optional(Type.String({ maxLength: 2048, description: 'next_page_token of the previous page' })),
  },
  { additionalProperties: false },
);

export const CustomerPageSchema = Type.Object({
  customers: Type.Array(customerRef),
  next_page_token: Type.Optional(Type.String()),
});

export const ImportQuery = Type.Object(
  { prune: Type.Optional(Type.Boolean({ description: 'also delete the customers missing from the body' })) },
  { additionalProperties: false },
);

export const ImportReportSchema = Type.Object({
  records: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  pruned: Type.Integer(),
});

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the ETag read; a write that lost a race is answered 412' })),
});

export { customerRef };

// --- workers -----------------------------------------------------------------------------------

/**
 * The fields of a rep, as in the workers file. Issue 15 adds `state` and `available` here
 * (and in worker.validate.ts / worker.repository.ts): the routes take whatever this lists.
 */
export const WorkerFieldsSchema = {
  display_name: Type.Optional(nullable(Type.String({ description: 'shown in the app and in templates' }))),
  avatar: Type.Optional(nullable(Type.String({ description: 'https or http image URL' }))),
  state: Type.Optional(
    nullable(Type.String({ enum: ['active', 'deactivated'], description: 'a deactivated rep is never routed to (docs/workers.md); default active' })),
  ),
  available: Type.Optional(nullable(Type.Boolean({ description: 'passed over by routing when false and ROUTING_SKIP_UNAVAILABLE=true; default true' }))),
};

const identityString = Type.String({ minLength: 1, maxLength: 255 });

export const WorkerCreateSchema = Type.Object(
  { identity: identityString, ...WorkerFieldsSchema },
  { additionalProperties: false, description: 'A rep, as one entry of the workers file' },
);
export const WorkerReplaceSchema = Type.Object(
  { identity: Type.Optional(identityString), ...WorkerFieldsSchema },
  { additionalProperties: false, description: 'A rep; identity may be left out' },
);
export const WorkerSchema = Type.Object(
  {
    identity: Type.String(),
    display_name: Type.Optional(Type.String()),
    avatar: Type.Optional(Type.String()),
    state: Type.String({ enum: ['active', 'deactivated'] }),
    available: Type.Boolean(),
  },
  { $id: 'Worker', additionalProperties: true },
);
export const workerRef = Type.Ref('Worker');

export const WorkerParams = Type.Object({ identity: identityString });
export const WorkerCustomerParams = Type.Object({
  identity: identityString,
  customer_id: Type.String({ minLength: 1, maxLength: CUSTOMER_LIMITS.customerId }),
});
