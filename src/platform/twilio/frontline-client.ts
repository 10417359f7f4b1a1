/**
 * Frontline API v1, User resource (twilio-oai `twilio_frontline_v1.json`):
 *   GET  /v1/Users/{Sid}                                   -> 200 user
 *   POST /v1/Users/{Sid}  (form: FriendlyName, Avatar, State, IsAvailable) -> 200 user
 * `{Sid}` is the user's `US…` SID or their identity (the spec accepts both).
 * A user exists only once the rep has signed in to the app: before that, 404.
 * Same Basic auth, deadline and retries as the Conversations API (the shared
 * loop in conversations-client.ts), at TWILIO_FRONTLINE_API_BASE_URL.
 */
import { type CallOptions, TwilioRestClient } from './conversations-client.js';

export type FrontlineUserState = 'active' | 'deactivated';

/** A Frontline user, as the API returns it (the fields we use). */
export interface FrontlineUser {
  sid: string;
  identity: string | null;
  friendly_name: string | null;
  avatar: string | null;
  state: FrontlineUserState | null;
  is_available: boolean | null;
}

/** The update's form fields; only those given are sent. */
export interface FrontlineUserUpdate {
  FriendlyName?: string;
  Avatar?: string;
  State?: FrontlineUserState;
  IsAvailable?: boolean;
}

export class FrontlineClient extends TwilioRestClient {
  /** The user by SID or identity. A 404 (never signed in) is not retried: it throws a TwilioApiError with status 404. */
  async fetchUser(sidOrIdentity: string, options: CallOptions): Promise<FrontlineUser> {
    return (await this.request('GET', `/v1/Users/${encodeURIComponent(sidOrIdentity)}`, undefined, options)) as FrontlineUser;
  }

  async updateUser(sidOrIdentity: string, update: FrontlineUserUpdate, options: CallOptions): Promise<FrontlineUser> {
    const form: Record<string, string> = {};
    if (update.FriendlyName !== undefined) form.FriendlyName = update.FriendlyName;
    if (update.Avatar !== undefined) form.Avatar = update.Avatar;
    if (update.State !== undefined) form.State = update.State;
    // Twilio reads form booleans as the words true and false.
    if (update.IsAvailable !== undefined) form.IsAvailable = update.IsAvailable ? 'true' : 'false';
    return (await this.request('POST', `/v1/Users/${encodeURIComponent(sidOrIdentity)}`, form, options)) as FrontlineUser;
  }
}
