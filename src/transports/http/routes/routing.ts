/**
 * `POST /callbacks/routing` (Frontline custom routing) and
 * `POST /callbacks/conversations` (alias `/callbacks/twilio-conversations`,
 * the Conversations pre/post-event webhooks).
 *
 * Status policy (docs/routing.md): once the signature and input are good, the
 * reply is 200 whatever Twilio's API did. A failed API call is logged, counted
 * and left for a redelivery to retry; it never turns into a 5xx or a late
 * answer, because every API call shares one budget (TWILIO_API_BUDGET_MS)
 * counted from the request's arrival.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Static } from 'typebox';
import type { RoutingService } from '../../../domains/routing/routing.service.js';
import {
  ConversationAddReplySchema,
  ConversationsWebhookSchema,
  RoutingReplySchema,
  RoutingRequestSchema,
} from '../schemas/routing.schema.js';

type RoutingBody = Static<typeof RoutingRequestSchema>;
type WebhookBody = Static<typeof ConversationsWebhookSchema>;

/**
 * When the request arrived, in whole epoch ms: the API budget counts from here,
 * not from the handler. `elapsedTime` has a fraction (performance.now()).
 */
const receivedAt = (reply: FastifyReply) => Math.floor(Date.now() - reply.elapsedTime);

const singleHeader = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value)?.slice(0, 200);

export function routingRoutes(app: FastifyInstance, routing: RoutingService): void {
  app.post<{ Body: RoutingBody; Reply: Static<typeof RoutingReplySchema> }>(
    '/callbacks/routing',
    { schema: { body: RoutingRequestSchema, response: { 200: RoutingReplySchema } } },
    async (request, reply) => {
      const body = request.body;
      const result = await routing.route(
        {
          conversationSid: body.ConversationSid,
          address: body['MessagingBinding.Address'],
          authorAddress: body['MessagingBinding.AuthorAddress'],
          proxyAddress: body['MessagingBinding.ProxyAddress'],
          receivedAt: receivedAt(reply),
          deliveryId: singleHeader(request.headers['i-twilio-idempotency-token']),
        },
        request.log,
      );
      return result;
    },
  );

  const conversations = async (request: { body: WebhookBody; log: FastifyInstance['log'] }, reply: FastifyReply) => {
    const body = request.body;
    switch (body.EventType) {
      case 'onConversationAdd': {
        const named = await routing.conversationAdd(body['MessagingBinding.Address'], request.log);
        if (!named) return reply.status(200).send();
        return reply.send(named);
      }
      case 'onParticipantAdded': {
        if (body.ConversationSid && body.ParticipantSid) {
          await routing.participantAdded(
            {
              conversationSid: body.ConversationSid,
              participantSid: body.ParticipantSid,
              identity: body.Identity,
              address: body['MessagingBinding.Address'],
              bindingType: body['MessagingBinding.Type'],
              receivedAt: receivedAt(reply),
            },
            request.log,
          );
        }
        return reply.status(200).send();
      }
      default:
        // Other events (filters set wider than needed): acknowledged, nothing done.
        return reply.status(200).send();
    }
  };
  for (const path of ['/callbacks/conversations', '/callbacks/twilio-conversations']) {
    app.post<{ Body: WebhookBody }>(
      path,
      // The reply names a new conversation (onConversationAdd), or is empty.
      { schema: { body: ConversationsWebhookSchema, response: { 200: ConversationAddReplySchema } } },
      conversations,
    );
  }
}
