/** `/api/v1/senders`: the Twilio addresses GetProxyAddress hands out, in order. */
import type { FastifyInstance } from 'fastify';
import type {} from '@fastify/swagger';
import { Type, type Static } from 'typebox';
import type { AdminServices } from '../../../application/admin/admin.services.js';
import { errors, IfMatchHeaders } from './schemas.js';
import { sendTagged, writeContext } from './reply.js';

const TAG = ['senders'];

const senderFields = {
  channel_type: Type.String({ enum: ['sms', 'whatsapp'] }),
  address: Type.String({ description: '+E.164 for sms; whatsapp:+E.164 (or +E.164) for whatsapp' }),
  worker: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'the rep this address belongs to; absent: shared' })),
  countries: Type.Optional(Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'ISO 3166 codes it serves' })),
};
const SenderCreate = Type.Object(
  { ...senderFields, position: Type.Optional(Type.Integer({ minimum: 0, description: 'place in the order (default: last)' })) },
  { additionalProperties: false },
);
const SenderReplace = Type.Object(
  { ...senderFields, channel_type: Type.Optional(senderFields.channel_type), address: Type.Optional(senderFields.address) },
  { additionalProperties: false },
);
export const SenderSchema = Type.Object(
  { channel_type: Type.String(), address: Type.String(), worker: Type.Optional(Type.String()), countries: Type.Optional(Type.Array(Type.String())) },
  { $id: 'Sender' },
);
const senderRef = Type.Ref('Sender');
const SendersSchema = Type.Object({ senders: Type.Array(senderRef) });
const AddressParams = Type.Object({ address: Type.String({ minLength: 1, maxLength: 64, description: 'as listed, e.g. +14155550100 or whatsapp:+14155550100' }) });
const Order = Type.Object({ addresses: Type.Array(Type.String(), { description: 'every address, once, in the new order' }) }, { additionalProperties: false });

export function senderRoutes(app: FastifyInstance, admin: AdminServices): void {
  const problemsOf = admin.senders.problemsOf;

  app.get('/senders', {
    schema: { tags: TAG, summary: 'Every sender address, in order (with the list’s ETag)', response: { 200: SendersSchema, ...errors() } },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.list()));

  app.post<{ Body: Static<typeof SenderCreate> }>('/senders', {
    schema: { tags: TAG, summary: 'Add a sender address (409 when it exists)', body: SenderCreate, response: { 201: senderRef, ...errors(400, 403, 409, 413, 415) } },
    config: { problemsOf },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.create(request.body, writeContext(request)), 201));

  app.put<{ Body: Static<typeof Order> }>('/senders/order', {
    schema: { tags: TAG, summary: 'Reorder the sender addresses (If-Match: the list’s ETag)', headers: IfMatchHeaders, body: Order, response: { 200: SendersSchema, ...errors(400, 403, 409, 412, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.order(request.body.addresses, writeContext(request))));

  app.get<{ Params: Static<typeof AddressParams> }>('/senders/:address', {
    schema: { tags: TAG, summary: 'Read a sender address', params: AddressParams, response: { 200: senderRef, ...errors(404) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.get(request.params.address)));

  app.put<{ Params: Static<typeof AddressParams>; Body: Static<typeof SenderReplace> }>('/senders/:address', {
    schema: { tags: TAG, summary: 'Replace a sender address’s rep and countries (If-Match: its ETag)', params: AddressParams, headers: IfMatchHeaders, body: SenderReplace, response: { 200: senderRef, ...errors(400, 403, 404, 409, 412, 413, 415) } },
    config: { problemsOf },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.update(request.params.address, request.body, false, writeContext(request))));

  app.patch<{ Params: Static<typeof AddressParams>; Body: Static<typeof SenderReplace> }>('/senders/:address', {
    schema: { tags: TAG, summary: 'Change a sender address’s rep or countries: JSON Merge Patch (If-Match: its ETag)', params: AddressParams, headers: IfMatchHeaders, body: SenderReplace, response: { 200: senderRef, ...errors(400, 403, 404, 409, 412, 413, 415) } },
  }, async (request, reply) => sendTagged(request, reply, await admin.senders.update(request.params.address, request.body, true, writeContext(request))));

  app.delete<{ Params: Static<typeof AddressParams> }>('/senders/:address', {
    schema: { tags: TAG, summary: 'Delete a sender address (If-Match: its ETag)', params: AddressParams, headers: IfMatchHeaders, response: { 204: { type: 'null', description: 'deleted' }, ...errors(403, 404, 412) } },
  }, async (request, reply) => {
    await admin.senders.delete(request.params.address, writeContext(request));
    return reply.status(204).send();
  });
}
