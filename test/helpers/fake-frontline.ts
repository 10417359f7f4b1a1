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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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

export class FakeFrontline {
  readonly calls: FrontlineCall[] = [];
  private readonly users = new Map<string, FakeFrontlineUser>();
  private faults: FrontlineFault[] = [];
  private persistent: FrontlineFault[] = [];
  private server!: Server;
  url = '';

  constructor(private readonly credentials: { username: string; password: string }) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').split('?')[0] as string;
    const m = /^\/v1\/Users\/([^/]+)$/.exec(path);
    let target = '';
    try {
      target = m ? decodeURIComponent(m[1] as string) : '';
    } catch {
      target = '';
    }
    const form = Object.fromEntries(new URLSearchParams(raw));
    const call: FrontlineCall = {
      method: req.method ?? '',
      path,
      target,
      form,
      contentType: req.headers['content-type'],
      username: undefined,
      at: Date.now(),
      status: 0,
    };
    this.calls.push(call);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
      send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

    const auth = req.headers.authorization ?? '';
    const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
    call.username = auth.startsWith('Basic ') ? user : undefined;
    if (!auth.startsWith('Basic ') || user !== this.credentials.username || pass !== this.credentials.password) {
      return error(401, 20003, 'Authenticate');
    }

    const fault = this.takeFault(target);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status) {
      return error(
        fault.status,
        fault.status === 429 ? 20429 : 20500,
        fault.status === 429 ? 'Too Many Requests' : 'Internal Server Error',
        fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
      );
    }

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
