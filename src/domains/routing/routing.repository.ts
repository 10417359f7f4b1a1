/**
 * Reads and writes for inbound routing. Only this module (and the other
 * repositories) use Kysely; every function takes the db or a transaction first.
 * The customer record routing creates for an unknown sender is written by the
 * customers domain (customer-create.repository.ts).
 */
import { type Kysely, sql } from 'kysely';
import type { Database, RoutingClaimState } from '../../platform/db/database.js';

type Db = Kysely<Database>;

export interface CustomerSummary {
  pk: number;
  customer_id: string;
  display_name: string;
  avatar: string | null;
}

/**
 * The customer reachable at one of `addresses` (normalised forms, tried in
 * order). Two records sharing an address: the lowest customer_id wins, so
 * every instance answers the same.
 */
export async function findCustomerByAddress(db: Db, addresses: string[]): Promise<CustomerSummary | undefined> {
  for (const address of addresses) {
    const row = await db
      .selectFrom('customer_addresses as a')
      .innerJoin('customers as c', 'c.pk', 'a.customer_pk')
      .select(['c.pk', 'c.customer_id', 'c.display_name', 'c.avatar'])
      .where('a.address', '=', address)
      .orderBy('c.customer_id')
      .limit(1)
      .executeTakeFirst();
    if (row) return row;
  }
  return undefined;
}

export async function ownersOf(db: Db, customerPk: number): Promise<string[]> {
  const rows = await db
    .selectFrom('customer_owners')
    .select('worker')
    .where('customer_pk', '=', customerPk)
    .orderBy('worker')
    .execute();
  return rows.map((r) => r.worker);
}

/** The reps who own the Twilio number `e164` (a per-rep number, sms and whatsapp), by file position; usually one. */
export async function senderOwners(db: Db, e164: string): Promise<string[]> {
  const rows = await db
    .selectFrom('sender_addresses')
    .select('worker')
    .where('e164', '=', e164)
    .where('worker', 'is not', null)
    .orderBy('position')
    .execute();
  return [...new Set(rows.map((r) => r.worker).filter((w): w is string => w !== null))];
}

/**
 * Advances the round-robin cursor `name` and returns its new value (1, 2, …).
 * One statement, so it is atomic on both stores: concurrent callers on any
 * number of instances each get a different value.
 */
export async function advanceCursor(db: Db, name: string): Promise<number> {
  const row = await db
    .insertInto('routing_cursors')
    .values({ name, next: 1 })
    .onConflict((oc) => oc.column('name').doUpdateSet({ next: sql`routing_cursors.next + 1` }))
    .returning('next')
    .executeTakeFirstOrThrow();
  return Number(row.next);
}

export interface Claim {
  /** True when this caller now owns the routing of the conversation. */
  owned: boolean;
  state: RoutingClaimState;
  worker: string | null;
}

/**
 * Claims the routing of a conversation for `leaseMs`. A first delivery inserts
 * the claim; a redelivery finds it and owns it again only if the earlier
 * attempt failed or its lease ran out (the instance died mid-way). The
 * conditional update makes the take-over atomic across instances.
 */
export async function claimConversation(db: Db, conversationSid: string, now: number, leaseMs: number): Promise<Claim> {
  const inserted = await db
    .insertInto('routing_claims')
    .values({ conversation_sid: conversationSid, worker: null, state: 'pending', lease_until: now + leaseMs, attempts: 1, updated_at: now })
    .onConflict((oc) => oc.column('conversation_sid').doNothing())
    .returning('conversation_sid')
    .executeTakeFirst();
  if (inserted) return { owned: true, state: 'pending', worker: null };

  const taken = await db
    .updateTable('routing_claims')
    .set({ state: 'pending', lease_until: now + leaseMs, attempts: sql`attempts + 1`, updated_at: now })
    .where('conversation_sid', '=', conversationSid)
    .where((eb) => eb.or([eb('state', '=', 'failed'), eb.and([eb('state', '=', 'pending'), eb('lease_until', '<=', now)])]))
    .returning(['state', 'worker'])
    .executeTakeFirst();
  if (taken) return { owned: true, state: 'pending', worker: taken.worker };

  const row = await db
    .selectFrom('routing_claims')
    .select(['state', 'worker'])
    .where('conversation_sid', '=', conversationSid)
    .executeTakeFirstOrThrow();
  return { owned: false, state: row.state, worker: row.worker };
}

/** Records the worker chosen for a claimed conversation, before calling Twilio, so a retry reuses it. */
export async function setClaimWorker(db: Db, conversationSid: string, worker: string, now: number): Promise<void> {
  await db.updateTable('routing_claims').set({ worker, updated_at: now }).where('conversation_sid', '=', conversationSid).execute();
}

export async function finishClaim(db: Db, conversationSid: string, state: Exclude<RoutingClaimState, 'pending'>, now: number) {
  await db
    .updateTable('routing_claims')
    .set({ state, lease_until: now, updated_at: now })
    .where('conversation_sid', '=', conversationSid)
    .execute();
}
