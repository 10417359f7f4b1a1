/**
 * A small local stand-in for Twilio's Frontline API v1 User resource
 * (twilio-oai `twilio_frontline_v1.json`), speaking its wire format:
 *   GET  /v1/Users/{Sid}                                              -> 200 user | 404
 *   POST /v1/Users/{Sid}  (form: FriendlyName, Avatar, State, IsAvailable) -> 200 user | 400 | 404
 * `{Sid}` is the `US…` SID or the identity. HTTP Basic auth is checked (401
 * otherwise); a POST must be form-encoded and carry only the four documented
 * fields, with `State` active|deactivated and `IsAvailable` true|false (400
 * otherwise). A user exists only once "signed in" (`signIn`). Faults (5xx,
 * 429, slow answers) are injected per request, optionally for one path only,
 * and every call is recorded.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerFault, LocalTwilioServer, readTwilioRequest } from './twilio-wire.js';

export interface FakeFrontlineUser {
  sid: string;
  identity: string;
  friendly_name: string | null;
  avatar: string | null;
  state: 'active' | 'deactivated';
  is_available: boolean;
  url: string;
}

export interface FrontlineCall {
  method: string;
  /** The path as sent (percent-encoded). */
  path: string;
  /** The `{Sid}` segment, decoded. */
  target: string;
  form: Record<string, string>;
  contentType: string | undefined;
  username: string | undefined;
  at: number;
  status: number;
}

export interface FrontlineFault {
  status?: number;
  delayMs?: number;
  retryAfterSeconds?: number;
  /** Only requests for this SID or identity meet the fault. */
  target?: string;
}

const UPDATE_FIELDS = ['FriendlyName', 'Avatar', 'State', 'IsAvailable'];

export class FakeFrontline extends LocalTwilioServer {
  readonly calls: FrontlineCall[] = [];
  private readonly users = new Map<string, FakeFrontlineUser>();
  private faults: FrontlineFault[] = [];
  private persistent: FrontlineFault[] = [];

  constructor(private readonly credentials: { username: string; password: string }) {
    super();
  }

  /** The next matching requests, one fault each, in order. */
  inject(...faults: FrontlineFault[]): void {
    this.faults.push(...faults);
  }

  /** Every matching request meets this fault until reset. */
  always(fault: FrontlineFault): void {
    this.persistent.push(fault);
  }

  reset(): void {
    this.calls.length = 0;
    this.faults = [];
    this.persistent = [];
    this.users.clear();
  }

  /** The rep signs in to the app for the first time: Frontline creates their user (not available, as the API's default). */
  signIn(identity: string, fields: Partial<Omit<FakeFrontlineUser, 'sid' | 'identity' | 'url'>> = {}): FakeFrontlineUser {
    const sid = `US${randomBytes(16).toString('hex')}`;
    const user: FakeFrontlineUser = {
      sid,
      identity,
      friendly_name: identity,
      avatar: null,
      state: 'active',
      is_available: false,
      url: `https://frontline-api.twilio.com/v1/Users/${sid}`,
      ...fields,
    };
    this.users.set(sid, user);
    return user;
  }

  user(identity: string): FakeFrontlineUser | undefined {
    return [...this.users.values()].find((u) => u.identity === identity);
  }

  writes(): FrontlineCall[] {
    return this.calls.filter((c) => c.method === 'POST');
  }

  private find(target: string): FakeFrontlineUser | undefined {
    return this.users.get(target) ?? this.user(target);
  }

  private takeFault(target: string): FrontlineFault | undefined {
    const matches = (f: FrontlineFault) => f.target === undefined || f.target === target || this.find(target)?.identity === f.target;
    const i = this.faults.findIndex(matches);
    if (i >= 0) return this.faults.splice(i, 1)[0];
    return this.persistent.find(matches);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // `answered` runs only once the call below is recorded.
    const request = await readTwilioRequest(req, res, this.credentials, (status) => (call.status = status));
    const { path, form, send, error } = request;
    const m = /^\/v1\/Users\/([^/]+)$/.exec(path);
    let target = '';
    try {
      target = m ? decodeURIComponent(m[1] as string) : '';
    } catch {
      target = '';
    }
    const call: FrontlineCall = {
      method: req.method ?? '',
      path,
      target,
      form,
      contentType: req.headers['content-type'],
      username: request.username,
      at: Date.now(),
      status: 0,
    };
    this.calls.push(call);
    if (!request.authorized) return error(401, 20003, 'Authenticate');
    if (await answerFault(request, this.takeFault(target))) return;

    if (!m || target === '') return error(404, 20404, 'The requested resource was not found');
    const found = this.find(target);
    if (!found) return error(404, 20404, `The requested resource /Users/${target} was not found`);
    if (req.method === 'GET') return send(200, found);
    if (req.method !== 'POST') return error(405, 20004, 'Method not allowed');

    if (!(call.contentType ?? '').startsWith('application/x-www-form-urlencoded')) {
      return error(400, 20001, 'Expected application/x-www-form-urlencoded');
    }
    const unknown = Object.keys(form).filter((k) => !UPDATE_FIELDS.includes(k));
    if (unknown.length > 0) return error(400, 20001, `Unknown parameter(s): ${unknown.join(', ')}`);
    if (form.State !== undefined && form.State !== 'active' && form.State !== 'deactivated') {
      return error(400, 20001, `State must be active or deactivated, got ${form.State}`);
    }
    if (form.IsAvailable !== undefined && form.IsAvailable !== 'true' && form.IsAvailable !== 'false') {
      return error(400, 20001, `IsAvailable must be true or false, got ${form.IsAvailable}`);
    }
    if (form.FriendlyName !== undefined) found.friendly_name = form.FriendlyName;
    if (form.Avatar !== undefined) found.avatar = form.Avatar;
    if (form.State !== undefined) found.state = form.State as FakeFrontlineUser['state'];
    if (form.IsAvailable !== undefined) found.is_available = form.IsAvailable === 'true';
    return send(200, found);
  }
}
