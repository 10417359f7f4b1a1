/**
 * Inbound routing (Frontline's custom routing callback) and the two
 * Conversations webhooks that make a conversation useful in the app:
 * naming it (`onConversationAdd`) and tagging the customer participant with
 * `customer_id` (`onParticipantAdded`). No HTTP here; the routes are thin.
 *
 * The order in which a worker is chosen is documented in docs/routing.md.
 */
import type { Kysely } from 'kysely';
import type { RoutingConfig } from '../../platform/config.js';
import { maskAddress } from '../../kernel/phone.js';
import { createCustomerIfAbsent } from '../customers/customer-create.repository.js';
import { validateCustomer } from '../customers/customer.validate.js';
import type { Database } from '../../platform/db/database.js';
import type { Store } from '../../platform/db/connect.js';
import { METRIC, type Metrics } from '../../platform/metrics.js';
import { type ConversationsClient, TwilioApiError } from '../../platform/twilio/conversations-client.js';
import {
  advanceCursor,
  type CustomerSummary,
  claimConversation,
  findCustomerByAddress,
  finishClaim,
  ownersOf,
  senderOwners,
  setClaimWorker,
} from './routing.repository.js';
import { findWorkers } from '../workers/worker.repository.js';
import { e164Of, lookupAddresses, mergeCustomerAttributes, rankOwners, roundRobin } from './worker-choice.js';

/** The logging the service needs (pino's shape), so it does not depend on Fastify. */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RoutingRequest {
  conversationSid: string;
  /** `MessagingBinding.Address`: the customer (for group MMS, a list: then `authorAddress` is used). */
  address?: string;
  /** `MessagingBinding.AuthorAddress`: the external sender of a group MMS. */
  authorAddress?: string;
  /** `MessagingBinding.ProxyAddress`: the Twilio number that was texted. */
  proxyAddress?: string;
  /** When the request arrived (epoch ms): the Twilio API budget counts from here. */
  receivedAt: number;
  /** `I-Twilio-Idempotency-Token`, for the logs; the claim itself is keyed by the conversation. */
  deliveryId?: string;
}

export type RouteVia = 'owner' | 'sender_address' | 'default_team' | 'earlier_choice' | 'retry_after_reply';

/** Why a rep who came up for a conversation could not take it. */
export type PassOverReason = 'deactivated' | 'unavailable';

/** A rep a rule would have chosen, passed over: the choice went on to the next candidate or rule. */
export interface PassedOver {
  worker: string;
  reason: PassOverReason;
  rule: 'owner' | 'sender_address' | 'default_team';
}

export interface RoutingResult {
  outcome: 'routed' | 'unrouted' | 'failed' | 'duplicate' | 'in_progress';
  worker?: string;
  via?: RouteVia;
  customer_id?: string;
  customer_created?: boolean;
  /** The reps passed over before the choice, in the order they came up; absent when none was. */
  passed_over?: PassedOver[];
}

export interface ParticipantAddedRequest {
  conversationSid: string;
  participantSid: string;
  identity?: string;
  address?: string;
  bindingType?: string;
  receivedAt: number;
}

export type TaggingOutcome = 'updated' | 'unchanged' | 'unknown_customer' | 'skipped' | 'other_customer' | 'unreadable' | 'failed';

/** Name of the round-robin cursor over ROUTING_DEFAULT_WORKERS. */
const DEFAULT_TEAM_CURSOR = 'default_team';
/** A claim outlives the API budget by this margin before another delivery may take it over. */
const LEASE_MARGIN_MS = 2000;
/** Retries after the reply, when the in-budget attempts failed: at d, 2d and 4d after it. */
const RETRIES_AFTER_REPLY = 3;
/** Customer ids given to auto-created customers: the prefix plus the E.164 number. */
export const AUTO_CUSTOMER_PREFIX = 'inbound:';

export class RoutingService {
  /** Pending retries after the reply, cancelled on close. */
  private readonly timers = new Set<NodeJS.Timeout>();

  private readonly db: Kysely<Database>;

  constructor(
    private readonly store: Pick<Store, 'db' | 'write' | 'bulk'>,
    private readonly client: ConversationsClient,
    private readonly metrics: Metrics,
    private readonly options: RoutingConfig & { defaultCountry: string; budgetMs: number },
  ) {
    this.db = store.db;
  }

  /** The routing callback: choose a worker and add them to the conversation. Never throws for an API failure. */
  async route(req: RoutingRequest, log: Log): Promise<RoutingResult> {
    const now = Date.now();
    const claim = await claimConversation(this.db, req.conversationSid, now, this.options.budgetMs + LEASE_MARGIN_MS);
    if (!claim.owned) {
      const outcome = claim.state === 'pending' ? 'in_progress' : 'duplicate';
      this.metrics.inc(METRIC.routing, { outcome, via: 'none' });
      log.info(
        { conversationSid: req.conversationSid, deliveryId: req.deliveryId, state: claim.state },
        'routing: repeated delivery, already handled',
      );
      return { outcome, ...(claim.worker ? { worker: claim.worker } : {}) };
    }

    const sender = req.authorAddress ?? req.address;
    const customer = await findCustomerByAddress(this.db, lookupAddresses(sender, this.options.defaultCountry));
    const { choice, passedOver } = claim.worker
      ? { choice: { worker: claim.worker, via: 'earlier_choice' as const }, passedOver: [] }
      : await this.chooseWorker(customer, req);
    for (const p of passedOver) this.metrics.inc(METRIC.routingPassedOver, { reason: p.reason, rule: p.rule });
    const passed = passedOver.length > 0 ? { passed_over: passedOver } : {};
    if (!choice) {
      await finishClaim(this.db, req.conversationSid, 'unrouted', Date.now());
      this.metrics.inc(METRIC.routing, { outcome: 'unrouted', via: 'none' });
      log.warn(
        { conversationSid: req.conversationSid, sender: sender ? maskAddress(sender) : undefined, customerId: customer?.customer_id, ...passed },
        passedOver.length > 0
          ? 'routing: no worker found (every candidate was passed over, see passed_over); conversation left unrouted'
          : 'routing: no worker found (no owner, no per-rep number, no ROUTING_DEFAULT_WORKERS); conversation left unrouted',
      );
      return { outcome: 'unrouted', ...(customer ? { customer_id: customer.customer_id } : {}), ...passed };
    }
    await setClaimWorker(this.db, req.conversationSid, choice.worker, Date.now());

    const created = customer ? undefined : await this.autoCreate(sender, choice.worker, log);
    const result: RoutingResult = {
      outcome: 'routed',
      worker: choice.worker,
      via: choice.via,
      ...(customer
        ? { customer_id: customer.customer_id }
        : created
          ? { customer_id: created.customerId, ...(created.outcome === 'created' ? { customer_created: true } : {}) }
          : {}),
      ...passed,
    };

    try {
      const added = await this.client.addChatParticipant(req.conversationSid, choice.worker, {
        deadline: req.receivedAt + this.options.budgetMs,
        retryNotFound: true,
      });
      await finishClaim(this.db, req.conversationSid, 'routed', Date.now());
      this.metrics.inc(METRIC.routing, { outcome: 'routed', via: choice.via });
      log.info({ conversationSid: req.conversationSid, worker: choice.worker, via: choice.via, added, ...passed }, 'routing: worker added');
      return result;
    } catch (err) {
      if (!(err instanceof TwilioApiError)) throw err;
      // A redelivery of this callback may take the claim over and try again, with the same worker.
      await finishClaim(this.db, req.conversationSid, 'failed', Date.now());
      this.metrics.inc(METRIC.routing, { outcome: 'failed', via: choice.via });
      log.error(
        { conversationSid: req.conversationSid, worker: choice.worker, status: err.status, twilioCode: err.twilioCode, err },
        'routing: could not add the worker to the conversation',
      );
      this.retryAfterReply(req.conversationSid, 1, log);
      return { ...result, outcome: 'failed' };
    }
  }

  /** Cancels the retries still waiting (the app is closing). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Not fire-and-forget: a failed routing is retried after the reply, because
   * Twilio does not redeliver a callback we answered 200. Each retry goes
   * through the claim, so a redelivery or another instance that got there
   * first wins, and the worker stays the one chosen at first.
   */
  private retryAfterReply(conversationSid: string, attempt: number, log: Log): void {
    const base = this.options.retryAfterReplyMs;
    if (base === 0 || attempt > RETRIES_AFTER_REPLY) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.retryNow(conversationSid, attempt, log).catch((err: unknown) =>
        log.error({ conversationSid, err }, 'routing: retry after the reply failed'),
      );
    }, base * 2 ** (attempt - 1));
    timer.unref();
    this.timers.add(timer);
  }

  private async retryNow(conversationSid: string, attempt: number, log: Log): Promise<void> {
    const start = Date.now();
    const claim = await claimConversation(this.db, conversationSid, start, this.options.budgetMs + LEASE_MARGIN_MS);
    if (!claim.owned) return; // routed by a redelivery or another instance meanwhile
    if (!claim.worker) {
      await finishClaim(this.db, conversationSid, 'failed', Date.now());
      return;
    }
    try {
      await this.client.addChatParticipant(conversationSid, claim.worker, { deadline: start + this.options.budgetMs, retryNotFound: true });
      await finishClaim(this.db, conversationSid, 'routed', Date.now());
      this.metrics.inc(METRIC.routing, { outcome: 'routed', via: 'retry_after_reply' });
      log.info({ conversationSid, worker: claim.worker, attempt }, 'routing: worker added on a retry after the reply');
    } catch (err) {
      if (!(err instanceof TwilioApiError)) throw err;
      await finishClaim(this.db, conversationSid, 'failed', Date.now());
      this.metrics.inc(METRIC.routing, { outcome: 'failed', via: 'retry_after_reply' });
      log.error({ conversationSid, worker: claim.worker, attempt, status: err.status, err }, 'routing: retry after the reply failed');
      this.retryAfterReply(conversationSid, attempt + 1, log);
    }
  }

  /**
   * Owner of the customer, else owner of the number texted, else the default
   * team in turn; at each step a rep who cannot take the conversation
   * (deactivated; unavailable with ROUTING_SKIP_UNAVAILABLE) is passed over
   * and the choice goes on. A rep the store does not know is taken as active
   * and available (a customer file may name reps no workers file lists).
   */
  private async chooseWorker(
    customer: CustomerSummary | undefined,
    req: RoutingRequest,
  ): Promise<{ choice: { worker: string; via: RouteVia } | undefined; passedOver: PassedOver[] }> {
    const passedOver: PassedOver[] = [];
    const firstAble = async (candidates: readonly string[], rule: PassedOver['rule']) => {
      if (candidates.length === 0) return undefined;
      const blocked = await this.passOverReasons(candidates);
      for (const worker of candidates) {
        const reason = blocked.get(worker);
        if (reason === undefined) return worker;
        passedOver.push({ worker, reason, rule });
      }
      return undefined;
    };

    if (customer) {
      const owner = await firstAble(rankOwners(customer.customer_id, await ownersOf(this.db, customer.pk)), 'owner');
      if (owner) return { choice: { worker: owner, via: 'owner' }, passedOver };
    }
    const proxy = e164Of(req.proxyAddress, this.options.defaultCountry);
    if (proxy) {
      const rep = await firstAble(await senderOwners(this.db, proxy), 'sender_address');
      if (rep) return { choice: { worker: rep, via: 'sender_address' }, passedOver };
    }
    const team = this.options.defaultWorkers;
    if (team.length > 0) {
      // One slot per conversation: a team of one needs no shared cursor. The turn goes round the reps
      // who can take a conversation, so they share the work evenly; the rep whose turn it would have
      // been in the whole team is the one reported as passed over (every one when nobody is left).
      const n = team.length === 1 ? 1 : await advanceCursor(this.db, DEFAULT_TEAM_CURSOR);
      const blocked = await this.passOverReasons(team);
      const able = team.filter((w) => !blocked.has(w));
      const due = roundRobin(team, n) as string;
      const rotation = Array.from({ length: team.length }, (_, k) => team[(n - 1 + k) % team.length] as string);
      for (const w of able.length === 0 ? rotation : [due]) {
        const reason = blocked.get(w);
        if (reason !== undefined) passedOver.push({ worker: w, reason, rule: 'default_team' });
      }
      const worker = roundRobin(able, n);
      if (worker) return { choice: { worker, via: 'default_team' }, passedOver };
    }
    return { choice: undefined, passedOver };
  }

  /** The reps among `identities` who cannot take a conversation now, and why. */
  private async passOverReasons(identities: readonly string[]): Promise<Map<string, PassOverReason>> {
    const reasons = new Map<string, PassOverReason>();
    for (const w of await findWorkers(this.db, identities)) {
      if (w.state === 'deactivated') reasons.set(w.identity, 'deactivated');
      else if (!w.available && this.options.skipUnavailable) reasons.set(w.identity, 'unavailable');
    }
    return reasons;
  }

  /** ROUTING_AUTO_CREATE_CUSTOMERS: a record for the unknown sender, owned by the chosen worker. */
  private async autoCreate(
    sender: string | undefined,
    worker: string,
    log: Log,
  ): Promise<{ customerId: string; outcome: 'created' | 'exists' } | undefined> {
    if (!this.options.autoCreateCustomers || sender === undefined) return undefined;
    const e164 = e164Of(sender, this.options.defaultCountry);
    if (!e164) return undefined;
    const whatsapp = /^whatsapp:/i.test(sender.trim());
    const validated = validateCustomer(
      {
        customer_id: `${AUTO_CUSTOMER_PREFIX}${e164}`,
        display_name: e164,
        workers: [worker],
        channels: [{ type: whatsapp ? 'whatsapp' : 'sms', value: whatsapp ? `whatsapp:${e164}` : e164 }],
      },
      { defaultCountry: this.options.defaultCountry },
    );
    if (!validated.ok) {
      log.warn({ problems: validated.problems }, 'routing: could not build a customer record for the unknown sender');
      return undefined;
    }
    const outcome = await this.store.write((trx) => createCustomerIfAbsent(trx, this.store.bulk, validated.value));
    const customerId = validated.value.record.customer_id;
    log.info({ customerId, worker, outcome }, 'routing: customer record for unknown sender');
    return { customerId, outcome };
  }

  /**
   * `onConversationAdd`: the name (and avatar) of the new conversation. The
   * customer's name when known, the sender's address otherwise; undefined when
   * the event carries no address (not an inbound message): reply empty.
   */
  async conversationAdd(
    address: string | undefined,
    log: Log,
  ): Promise<{ friendly_name: string; attributes: string } | undefined> {
    if (address === undefined || address.trim() === '') return undefined;
    let customer: CustomerSummary | undefined;
    try {
      customer = await findCustomerByAddress(this.db, lookupAddresses(address, this.options.defaultCountry));
    } catch (err) {
      // A failing pre-hook stops Twilio creating the conversation: answer with the address instead.
      log.error({ err }, 'onConversationAdd: customer lookup failed; naming the conversation after the address');
    }
    if (!customer) return { friendly_name: address.trim(), attributes: '{}' };
    return {
      friendly_name: customer.display_name,
      attributes: JSON.stringify(customer.avatar ? { avatar: customer.avatar } : {}),
    };
  }

  /** `onParticipantAdded`: tag a customer participant with its customer_id, name and avatar. */
  async participantAdded(req: ParticipantAddedRequest, log: Log): Promise<TaggingOutcome> {
    const outcome = await this.tagParticipant(req, log);
    this.metrics.inc(METRIC.participantTagging, { outcome });
    return outcome;
  }

  private async tagParticipant(req: ParticipantAddedRequest, log: Log): Promise<TaggingOutcome> {
    // Customer participants have a messaging binding and no identity; chat participants (workers) are left alone.
    if (req.identity || !req.address) return 'skipped';
    if (req.bindingType && !['sms', 'whatsapp'].includes(req.bindingType.toLowerCase())) return 'skipped';
    const customer = await findCustomerByAddress(this.db, lookupAddresses(req.address, this.options.defaultCountry));
    if (!customer) {
      log.info({ conversationSid: req.conversationSid, address: maskAddress(req.address) }, 'onParticipantAdded: no customer at this address');
      return 'unknown_customer';
    }
    const call = { deadline: req.receivedAt + this.options.budgetMs, retryNotFound: true };
    try {
      const participant = await this.client.fetchParticipant(req.conversationSid, req.participantSid, call);
      const merged = mergeCustomerAttributes(participant.attributes, customer);
      if (merged.kind === 'other_customer' || merged.kind === 'unreadable') {
        log.warn({ conversationSid: req.conversationSid, participantSid: req.participantSid, merged }, 'onParticipantAdded: attributes left as they are');
        return merged.kind;
      }
      if (merged.kind === 'unchanged') return 'unchanged';
      await this.client.updateParticipantAttributes(req.conversationSid, req.participantSid, merged.attributes, call);
      log.info({ conversationSid: req.conversationSid, participantSid: req.participantSid, customerId: customer.customer_id }, 'onParticipantAdded: participant tagged');
      return 'updated';
    } catch (err) {
      if (!(err instanceof TwilioApiError)) throw err;
      log.error(
        { conversationSid: req.conversationSid, participantSid: req.participantSid, status: err.status, twilioCode: err.twilioCode, err },
        'onParticipantAdded: could not tag the customer participant',
      );
      return 'failed';
    }
  }
}
