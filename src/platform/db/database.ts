/**
 * The tables, as Kysely sees them. Repositories are the only modules that
 * import Kysely; everything above them works with domain types.
 *
 * Column types are the same on both stores: JSON documents are stored as text,
 * keys and ordering columns are compared byte-wise (PostgreSQL `COLLATE "C"`,
 * SQLite's default BINARY), so both stores order identically.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export interface CustomersTable {
  pk: Generated<number>;
  customer_id: string;
  display_name: string;
  /** `foldForSort(display_name)`: what the list is ordered by. */
  sort_key: string;
  avatar: string | null;
  /** JSON `Channel[]`. */
  channels: string;
  /** JSON `Link[]`. */
  links: string;
  /** JSON `Detail`, or null. */
  details: string | null;
  /** Folded name and e-mail addresses, one per line: what `Query` matches as text. */
  search_text: string;
  /** Digits of every phone address, space separated: what `Query` matches as a number. */
  phone_digits: string;
  /** The import run that last wrote the row (duplicate detection and `--prune`). */
  import_seq: number;
}

/**
 * One row per (worker, customer): the worker's book, kept in list order.
 * Denormalised from `customers` so that a page or a search of one worker's book
 * is a single range scan of this table's primary key.
 */
export interface CustomerOwnersTable {
  worker: string;
  customer_pk: number;
  customer_id: string;
  sort_key: string;
  display_name: string;
  avatar: string | null;
  search_text: string;
  phone_digits: string;
}

/** Normalised contact addresses (E.164 phone numbers, lower-case e-mails) for lookups by address. */
export interface CustomerAddressesTable {
  address: string;
  customer_pk: number;
}

/** A rep, as far as the service knows them (identity = the Frontline/SSO identity). */
export interface WorkersTable {
  identity: string;
  display_name: string | null;
  avatar: string | null;
  /** `active` or `deactivated` (migration 20261202T0300): a deactivated rep is never routed to. */
  state: Generated<'active' | 'deactivated'>;
  /** 0 or 1 (SQLite has no boolean); the repository maps it to a boolean. Frontline's `is_available`. */
  available: Generated<number>;
}

/** A Twilio address the service can hand out as `proxy_address` (see migration 0002). */
export interface SenderAddressesTable {
  pk: Generated<number>;
  channel_type: 'sms' | 'whatsapp';
  /** As sent in `proxy_address`: `+E164` or `whatsapp:+E164`. */
  address: string;
  /** The bare E.164 number. */
  e164: string;
  /** The rep this address belongs to; null for a shared address. */
  worker: string | null;
  /** JSON array of ISO country codes served; `[]` for none in particular. */
  countries: string;
  position: number;
}

/** A template category; `position` is its place in the company's order (0-based). */
export interface TemplateCategoriesTable {
  /** Stable id (migration 20261202T0202), named by the admin API. */
  id: string;
  position: number;
  display_name: string;
}

/** A template, as loaded (placeholders unfilled). */
export interface TemplatesTable {
  /** Stable id (migration 20261202T0202), named by the admin API. */
  id: string;
  category_position: number;
  position: number;
  content: string;
  /** 0 or 1 (SQLite has no boolean); the repository maps it to a boolean. */
  whatsapp_approved: number;
}

/** Round-robin position over a configured team (migration 0200). */
export interface RoutingCursorsTable {
  name: string;
  /** bigint: PostgreSQL returns it as a string, so readers convert with `Number`. */
  next: number | string;
}

export type RoutingClaimState = 'pending' | 'routed' | 'unrouted' | 'failed';

/** One row per conversation the routing callback has seen (migration 0200). */
export interface RoutingClaimsTable {
  conversation_sid: string;
  worker: string | null;
  state: RoutingClaimState;
  lease_until: number | string;
  attempts: number;
  updated_at: number | string;
}

/** An admin API bearer token (migration 20261202T0201); only its SHA-256 is stored. */
export interface AdminTokensTable {
  name: string;
  token_hash: string;
  /** 0 or 1. */
  read_only: number;
  /** Milliseconds since the epoch (bigint: PostgreSQL returns a string). */
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

/** One write through the admin API (migration 20261202T0201). */
export interface AdminAuditTable {
  id: Generated<number | string>;
  at: number | string;
  token_name: string;
  action: string;
  resource_id: string | null;
  /** JSON array of field names. */
  fields: string;
  /** JSON object, or null. */
  summary: string | null;
  request_id: string | null;
}

/** The simulator's other integration service (at most one row, id 1); see migration 20261202T0500. */
export interface SimulatorTargetTable {
  id: number;
  base_url: string;
  auth_token: string;
  crm_path: string;
  outgoing_path: string;
  templates_path: string;
  /** ISO 8601. */
  updated_at: string;
  /** The admin token's name that set it. */
  updated_by: string | null;
}

export interface Database {
  customers: CustomersTable;
  customer_owners: CustomerOwnersTable;
  customer_addresses: CustomerAddressesTable;
  workers: WorkersTable;
  sender_addresses: SenderAddressesTable;
  template_categories: TemplateCategoriesTable;
  templates: TemplatesTable;
  routing_cursors: RoutingCursorsTable;
  routing_claims: RoutingClaimsTable;
  admin_tokens: AdminTokensTable;
  admin_audit: AdminAuditTable;
  simulator_target: SimulatorTargetTable;
}

export type CustomerRow = Selectable<CustomersTable>;
export type NewCustomerRow = Insertable<CustomersTable>;
export type CustomerOwnerRow = Selectable<CustomerOwnersTable>;
