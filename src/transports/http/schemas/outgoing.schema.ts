/** Wire shapes of the Outgoing Conversations and Templates callbacks (docs/outgoing-and-templates.md). */
import { Type } from 'typebox';
import { MAX_IDENTITY } from '../../../kernel/rules.js';

/** A worker identity, as long as the kernel's identity rule allows. */
const identity = Type.String({ minLength: 1, maxLength: MAX_IDENTITY });
const customerId = Type.String({ minLength: 1, maxLength: 255 });

/**
 * Form fields of `POST /callbacks/outgoing-conversation`. Only `Location` is required by the
 * schema, so that an unknown Location is a 422 before its fields are checked (400).
 */
export const OutgoingRequestSchema = Type.Object(
  {
    Location: Type.String({ minLength: 1, maxLength: 100 }),
    Worker: Type.Optional(identity),
    CustomerId: Type.Optional(customerId),
    ChannelType: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    ChannelValue: Type.Optional(Type.String({ maxLength: 320 })),
  },
  { additionalProperties: true },
);

export const ProxyAddressReplySchema = Type.Object({ proxy_address: Type.String() });

/** Form fields of `POST /callbacks/templates`. */
export const TemplatesRequestSchema = Type.Object(
  {
    Location: Type.String({ minLength: 1, maxLength: 100 }),
    Worker: Type.Optional(identity),
    CustomerId: Type.Optional(customerId),
    ConversationSid: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);

/** A bare JSON array of categories, not wrapped in `objects`; `whatsAppApproved` spelled exactly so. */
export const TemplatesReplySchema = Type.Array(
  Type.Object({
    display_name: Type.String(),
    templates: Type.Array(Type.Object({ content: Type.String(), whatsAppApproved: Type.Boolean() })),
  }),
);
