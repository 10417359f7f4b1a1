/**
 * Wire shapes of the routing callback and the Conversations webhooks
 * (docs/routing.md; https://www.twilio.com/docs/frontline/handle-incoming-conversations). Field names contain dots and stay
 * flat. Twilio adds fields over time, so unknown ones are allowed.
 */
import { Type } from 'typebox';

const sid = Type.String({ pattern: '^[A-Z]{2}[0-9a-fA-F]{32}$' });
const address = Type.String({ maxLength: 2048 });

export const RoutingRequestSchema = Type.Object(
  {
    ConversationSid: sid,
    'MessagingBinding.Address': Type.Optional(address),
    'MessagingBinding.AuthorAddress': Type.Optional(address),
    'MessagingBinding.ProxyAddress': Type.Optional(address),
  },
  { additionalProperties: true },
);

export const RoutingReplySchema = Type.Object({
  outcome: Type.String(),
  worker: Type.Optional(Type.String()),
  via: Type.Optional(Type.String()),
  customer_id: Type.Optional(Type.String()),
  customer_created: Type.Optional(Type.Boolean()),
  passed_over: Type.Optional(
    Type.Array(Type.Object({ worker: Type.String(), reason: Type.String(), rule: Type.String() })),
  ),
});

export const ConversationsWebhookSchema = Type.Object(
  {
    EventType: Type.String({ minLength: 1, maxLength: 100 }),
    ConversationSid: Type.Optional(sid),
    ParticipantSid: Type.Optional(sid),
    Identity: Type.Optional(Type.String({ maxLength: 255 })),
    'MessagingBinding.Address': Type.Optional(address),
    'MessagingBinding.Type': Type.Optional(Type.String({ maxLength: 50 })),
  },
  { additionalProperties: true },
);

/** The pre-event reply that names a new conversation: `attributes` is a JSON string. */
export const ConversationAddReplySchema = Type.Object({
  friendly_name: Type.String(),
  attributes: Type.String(),
});
