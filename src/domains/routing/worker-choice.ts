/**
 * Pure helpers of the routing decision (no I/O), shared by the service and tests.
 */
import { createHash } from 'node:crypto';
import { stripChannelPrefix, toE164 } from '../../kernel/phone.js';

/**
 * Among several owners of one customer, the one with the highest
 * hash(customer_id, owner) — rendezvous hashing. Stable: the same customer
 * always lands with the same owner, on every instance, whatever the order the
 * owners are stored in. Fair: over many customers each owner wins equally
 * often. Adding or removing an owner only moves the customers that owner wins
 * or won, unlike `hash mod n`, which reshuffles nearly everyone.
 */
export function pickOwner(customerId: string, owners: readonly string[]): string | undefined {
  return rankOwners(customerId, owners)[0];
}

/**
 * The owners in rendezvous order: the first is `pickOwner`'s choice, and
 * passing over a rep who cannot take the conversation (deactivated,
 * unavailable) means taking the next, which is the choice among the others.
 * So a deactivated owner's customers spread over the remaining owners, each
 * customer to the same one every time.
 */
export function rankOwners(customerId: string, owners: readonly string[]): string[] {
  const scored = [...new Set(owners)].map((owner) => ({
    owner,
    score: createHash('sha256').update(customerId).update('\0').update(owner).digest().readBigUInt64BE(0),
  }));
  scored.sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
  return scored.map((s) => s.owner);
}

/** The round-robin slot for cursor value `n` (1, 2, …) over `team`. */
export function roundRobin(team: readonly string[], n: number): string | undefined {
  if (team.length === 0) return undefined;
  return team[(((n - 1) % team.length) + team.length) % team.length];
}

/**
 * The normalised forms under which an address may be stored in
 * `customer_addresses`: E.164 for phone numbers (national numbers read in
 * `defaultCountry`, `whatsapp:` and `tel:` removed), lower case for e-mails.
 * Never the raw string: `(555) 123-4567`, `+15551234567` and
 * `whatsapp:+15551234567` are the same customer.
 */
export function lookupAddresses(raw: string | undefined, defaultCountry: string): string[] {
  if (raw === undefined) return [];
  const bare = stripChannelPrefix(raw.trim());
  if (bare === '') return [];
  const e164 = toE164(bare, defaultCountry);
  if (e164) return [e164];
  return bare.includes('@') ? [bare.toLowerCase()] : [];
}

/** The E.164 number of a Twilio address (`+1…`, `whatsapp:+1…`), if it is one. */
export function e164Of(raw: string | undefined, defaultCountry: string): string | undefined {
  if (raw === undefined) return undefined;
  return toE164(stripChannelPrefix(raw.trim()), defaultCountry);
}

export type MergeResult =
  | { readonly kind: 'changed'; readonly attributes: string }
  | { readonly kind: 'unchanged' }
  /** The participant already belongs to another customer record: left alone. */
  | { readonly kind: 'other_customer'; readonly customerId: string }
  /** The attributes are not a JSON object; rewriting them would lose data. */
  | { readonly kind: 'unreadable' };

/**
 * Merges the customer's `customer_id`, `display_name` and `avatar` into a
 * participant's attributes (a JSON string). Every key already there is kept;
 * an existing `customer_id` is never overwritten (a different one means the
 * participant is linked to another record, and nothing is touched); the name
 * and avatar are refreshed from the CRM; an avatar the CRM lacks is not removed.
 */
export function mergeCustomerAttributes(
  existing: string | null | undefined,
  customer: { customer_id: string; display_name: string; avatar?: string | null },
): MergeResult {
  let parsed: unknown;
  if (existing === undefined || existing === null || existing.trim() === '') parsed = {};
  else {
    try {
      parsed = JSON.parse(existing);
    } catch {
      return { kind: 'unreadable' };
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'unreadable' };
  const current = parsed as Record<string, unknown>;
  const present = current.customer_id;
  if (present !== undefined && present !== null && String(present) !== customer.customer_id) {
    return { kind: 'other_customer', customerId: String(present) };
  }
  const merged: Record<string, unknown> = { ...current };
  if (present === undefined || present === null) merged.customer_id = customer.customer_id;
  merged.display_name = customer.display_name;
  if (customer.avatar) merged.avatar = customer.avatar;
  const before = JSON.stringify(current);
  const after = JSON.stringify(merged);
  return before === after ? { kind: 'unchanged' } : { kind: 'changed', attributes: after };
}
