/**
 * Wire shapes of the CRM callback (Twilio's Frontline docs: https://www.twilio.com/docs/frontline/my-customers and
 * https://www.twilio.com/docs/frontline/data-transfer-objects).
 */
import { Type } from 'typebox';
import { MAX_IDENTITY } from '../../../kernel/rules.js';

/** A worker identity, as long as the kernel's identity rule allows. */
const identity = Type.String({ minLength: 1, maxLength: MAX_IDENTITY });

/** Form fields of `POST /callbacks/crm`. Twilio may add fields, so unknown ones are allowed. */
export const CrmRequestSchema = Type.Object(
  {
    Location: Type.String({ minLength: 1, maxLength: 100 }),
    Worker: identity,
    PageSize: Type.Optional(Type.String()),
    Anchor: Type.Optional(Type.String({ maxLength: 255 })),
    NextPageToken: Type.Optional(Type.String({ maxLength: 2048 })),
    Query: Type.Optional(Type.String({ maxLength: 1000 })),
    CustomerId: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: true },
);

export const CustomerListItemSchema = Type.Object({
  customer_id: Type.String(),
  display_name: Type.String(),
  avatar: Type.Optional(Type.String()),
});

export const CustomersListReplySchema = Type.Object({
  objects: Type.Object({
    customers: Type.Array(CustomerListItemSchema),
    searchable: Type.Boolean(),
    next_page_token: Type.Optional(Type.String()),
  }),
});

export const ChannelSchema = Type.Object({ type: Type.String(), value: Type.String() });
export const LinkSchema = Type.Object({
  type: Type.String(),
  value: Type.String(),
  display_name: Type.Optional(Type.String()),
});
export const DetailSchema = Type.Object({ title: Type.String(), content: Type.String() });

export const CustomerSchema = Type.Object({
  customer_id: Type.String(),
  display_name: Type.String(),
  channels: Type.Optional(Type.Array(ChannelSchema)),
  links: Type.Optional(Type.Array(LinkSchema)),
  details: Type.Optional(DetailSchema),
  avatar: Type.Optional(Type.String()),
});

export const CustomerDetailsReplySchema = Type.Object({
  objects: Type.Object({ customer: CustomerSchema }),
});

/**
 * The reply of `POST /callbacks/crm`, one schema for both Locations so that
 * Fastify compiles one serializer for the route: `objects` holds the list
 * (GetCustomersList) or the customer (GetCustomerDetailsByCustomerId). A union
 * (anyOf) would make the serializer validate each reply to choose its branch.
 * Optional properties are written only when present, so each reply is byte for
 * byte the one its own schema above gives.
 */
export const CrmReplySchema = Type.Object({
  objects: Type.Object({
    customers: Type.Optional(Type.Array(CustomerListItemSchema)),
    searchable: Type.Optional(Type.Boolean()),
    next_page_token: Type.Optional(Type.String()),
    customer: Type.Optional(CustomerSchema),
  }),
});
