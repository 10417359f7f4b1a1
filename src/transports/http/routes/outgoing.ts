/**
 * `POST /callbacks/outgoing-conversation` (GetProxyAddress) and `POST /callbacks/templates`
 * (GetTemplatesByCustomerId): the reference implementation's URLs, so a Frontline console
 * configured for it keeps working. Thin: validated input in, one service call, the reply shaped by its schema.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { maskAddress } from '../../../kernel/phone.js';
import { AppError } from '../../../kernel/errors.js';
import type { SenderService } from '../../../domains/senders/sender.service.js';
import type { TemplateService } from '../../../domains/templates/template.service.js';
import {
  OutgoingRequestSchema,
  ProxyAddressReplySchema,
  TemplatesReplySchema,
  TemplatesRequestSchema,
} from '../schemas/outgoing.schema.js';

/** The named fields, or a 400 naming every one that is missing. */
function required<K extends string>(body: Partial<Record<K, string>>, names: readonly K[], location: string): Record<K, string> {
  const missing = names.filter((n) => !body[n]);
  if (missing.length > 0) throw new AppError('BAD_REQUEST', `${location} needs ${missing.join(', ')}`);
  return body as Record<K, string>;
}

function unknownLocation(location: string, expected: string): AppError {
  return new AppError('UNKNOWN_LOCATION', `Unknown Location "${location.slice(0, 100)}": this callback answers ${expected}`);
}

export function outgoingRoutes(app: FastifyInstance, senders: SenderService, templates: TemplateService): void {
  app.post<{ Body: Static<typeof OutgoingRequestSchema>; Reply: Static<typeof ProxyAddressReplySchema> }>(
    '/callbacks/outgoing-conversation',
    { schema: { body: OutgoingRequestSchema, response: { 200: ProxyAddressReplySchema } } },
    async (request) => {
      const body = request.body;
      if (body.Location !== 'GetProxyAddress') throw unknownLocation(body.Location, 'GetProxyAddress');
      const fields = required(body, ['Worker', 'CustomerId', 'ChannelType'] as const, 'GetProxyAddress');
      const chosen = await senders.proxyAddress({
        worker: fields.Worker,
        customerId: fields.CustomerId,
        channelType: fields.ChannelType,
        channelValue: body.ChannelValue,
      });
      request.log.debug({ rule: chosen.rule, country: chosen.country, proxy: maskAddress(chosen.address) }, 'proxy address chosen');
      return { proxy_address: chosen.address };
    },
  );

  app.post<{ Body: Static<typeof TemplatesRequestSchema>; Reply: Static<typeof TemplatesReplySchema> }>(
    '/callbacks/templates',
    { schema: { body: TemplatesRequestSchema, response: { 200: TemplatesReplySchema } } },
    async (request) => {
      const body = request.body;
      if (body.Location !== 'GetTemplatesByCustomerId') throw unknownLocation(body.Location, 'GetTemplatesByCustomerId');
      const fields = required(body, ['Worker', 'CustomerId'] as const, 'GetTemplatesByCustomerId');
      const result = await templates.templatesFor(fields.Worker, fields.CustomerId);
      if (result.omitted > 0) {
        request.log.info({ omitted: result.omitted }, 'templates left out: a placeholder has no value for this customer');
      }
      return result.categories;
    },
  );
}
