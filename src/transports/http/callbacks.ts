/**
 * Every Twilio-facing callback, in one encapsulated scope: form bodies only,
 * and the signature checked before anything reads the input.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../application/services.js';
import { acceptOnlyForms } from './form-body.js';
import { crmRoutes } from './routes/crm.js';
import { outgoingRoutes } from './routes/outgoing.js';
import { routingRoutes } from './routes/routing.js';
import { type SignatureOptions, verifyTwilioSignature } from './twilio-signature.js';

/** Twilio's callback bodies are a few hundred bytes; anything near this is not from Twilio. */
export const CALLBACK_BODY_LIMIT = 64 * 1024;

export async function callbacks(app: FastifyInstance, opts: { services: Services; signature: SignatureOptions }) {
  acceptOnlyForms(app, CALLBACK_BODY_LIMIT);
  app.addHook('preValidation', verifyTwilioSignature(opts.signature));
  crmRoutes(app, opts.services.customers);
  outgoingRoutes(app, opts.services.senders, opts.services.templates);
  routingRoutes(app, opts.services.routing);
}
