/**
 * A small local stand-in for Twilio's Conversations REST API, speaking its wire
 * format for the three calls the service makes:
 *   POST /v1/Conversations/{CH}/Participants          (form: Identity)       -> 201 participant
 *   GET  /v1/Conversations/{CH}/Participants/{MB}                           -> 200 participant
 *   POST /v1/Conversations/{CH}/Participants/{MB}     (form: Attributes)     -> 200 participant
 * Requests are form-encoded with HTTP Basic auth; answers are JSON shaped like
 * Twilio's (snake_case, `attributes` a JSON string); errors are
 * `{"code", "message", "more_info", "status"}`. Faults (429, 500, 404, slow
 * answers) are injected per request, and every call is recorded.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerFault, LocalTwilioServer, readTwilioRequest } from './twilio-wire.js';

export const FAKE_ACCOUNT_SID = `AC${'0'.repeat(31)}1`;

export interface FakeParticipant {
  sid: string;
  account_sid: string;
  conversation_sid: string;
  identity: string | null;
  attributes: string;
  messaging_binding: { type: string; address: string; proxy_address: string } | null;
  role_sid: string;
  date_created: string;
  date_updated: string;
  url: string;
}

export interface RecordedCall {
  method: string;
  path: string;
  form: Record<string, string>;
  /** Username of the Basic auth header (undefined when missing). */
  username: string | undefined;
  /** Epoch ms when the request arrived. */
  at: number;
  /** The status answered (0 if the client went away first). */
  status: number;
}

/** What to do with one request instead of (or before) answering it normally. */
export interface Fault {
  status?: number;
  code?: number;
  /** Answer only after this long (a slow Twilio); with no status the normal answer follows. */
  delayMs?: number;
  retryAfterSeconds?: number;
}

export const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export class FakeTwilio extends LocalTwilioServer {
  readonly calls: RecordedCall[] = [];
  private readonly conversations = new Map<string, Map<string, FakeParticipant>>();
  private readonly faults: Fault[] = [];
  private persistent: Fault | undefined;

  constructor(private readonly credentials: { username: string; password: string }) {
    super();
  }

  /** The next requests, one fault each, in order. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Every request meets this fault until cleared. */
  always(fault: Fault | undefined): void {
    this.persistent = fault;
  }

  reset(): void {
    this.calls.length = 0;
    this.faults.length = 0;
    this.persistent = undefined;
  }

  createConversation(conversationSid = sid('CH')): string {
    this.conversations.set(conversationSid, new Map());
    return conversationSid;
  }

  /** A customer (SMS/WhatsApp) participant, as Twilio creates it for the inbound message. */
  addCustomerParticipant(conversationSid: string, address: string, attributes = '{}'): FakeParticipant {
    const p = this.participant(conversationSid, null, attributes, {
      type: address.startsWith('whatsapp:') ? 'whatsapp' : 'sms',
      address,
      proxy_address: address.startsWith('whatsapp:') ? 'whatsapp:+15550000000' : '+15550000000',
    });
    return p;
  }

  participants(conversationSid: string): FakeParticipant[] {
    return [...(this.conversations.get(conversationSid)?.values() ?? [])];
  }

  callsTo(pattern: RegExp, method?: string): RecordedCall[] {
    return this.calls.filter((c) => pattern.test(c.path) && (method === undefined || c.method === method));
  }

  private participant(
    conversationSid: string,
    identity: string | null,
    attributes: string,
    binding: FakeParticipant['messaging_binding'],
  ): FakeParticipant {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const participantSid = sid('MB');
    const p: FakeParticipant = {
      sid: participantSid,
      account_sid: FAKE_ACCOUNT_SID,
      conversation_sid: conversationSid,
      identity,
      attributes,
      messaging_binding: binding,
      role_sid: sid('RL'),
      date_created: now,
      date_updated: now,
      url: `https://conversations.twilio.com/v1/Conversations/${conversationSid}/Participants/${participantSid}`,
    };
    this.conversations.get(conversationSid)?.set(participantSid, p);
    return p;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // `answered` runs only once the call below is recorded.
    const request = await readTwilioRequest(req, res, this.credentials, (status) => (call.status = status));
    const { path, form, send, error } = request;
    const call: RecordedCall = { method: req.method ?? '', path, form, username: request.username, at: Date.now(), status: 0 };
    this.calls.push(call);
    if (!request.authorized) return error(401, 20003, 'Authenticate');
    if (await answerFault(request, this.faults.shift() ?? this.persistent)) return;

    const list = /^\/v1\/Conversations\/([^/]+)\/Participants$/.exec(path);
    const one = /^\/v1\/Conversations\/([^/]+)\/Participants\/([^/]+)$/.exec(path);
    const conversation = this.conversations.get(decodeURIComponent((list ?? one)?.[1] ?? ''));
    if ((!list && !one) || !conversation) return error(404, 20404, 'The requested resource was not found');

    if (list && req.method === 'POST') {
      const identity = form.Identity;
      if (!identity) return error(400, 50400, 'Either Identity or MessagingBinding.Address is required');
      if ([...conversation.values()].some((p) => p.identity === identity)) {
        return error(409, 50433, 'Participant already exists');
      }
      return send(201, this.participant(list[1] as string, identity, form.Attributes ?? '{}', null));
    }
    const participant = one ? conversation.get(decodeURIComponent(one[2] as string)) : undefined;
    if (!participant) return error(404, 20404, 'The requested resource was not found');
    if (req.method === 'GET') return send(200, participant);
    if (req.method === 'POST') {
      if (form.Attributes !== undefined) {
        try {
          JSON.parse(form.Attributes);
        } catch {
          return error(400, 50216, 'Invalid attributes: not JSON');
        }
        participant.attributes = form.Attributes;
      }
      participant.date_updated = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      return send(200, participant);
    }
    return error(405, 20004, 'Method not allowed');
  }
}
