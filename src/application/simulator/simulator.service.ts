/**
 * The simulator's server half (/console/simulator): it plays the Frontline app against an
 * integration service by sending the app's callbacks as Twilio does, form-encoded and signed
 * with X-Twilio-Signature, and reports each exchange as it happened on the wire with its time.
 *
 * The signing key never leaves the server: for this service it is TWILIO_AUTH_TOKEN, for another
 * service the token an admin stored with its URL (see domains/simulator). A browser only ever
 * sees the request it asked for, its signature and the reply.
 */
import twilio from 'twilio';
import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/database.js';
import {
  DEFAULT_CALLBACK_PATHS,
  type RemoteTarget,
  type RemoteTargetInput,
  secretHint,
  type SimulatorCallback,
} from '../../domains/simulator/simulator-target.js';
import { deleteRemoteTarget, findRemoteTarget, saveRemoteTarget } from '../../domains/simulator/simulator-target.repository.js';
import { recordAudit } from '../../domains/audit/audit.repository.js';
import { AppError } from '../../kernel/errors.js';
import type { SecretBox } from '../../kernel/sealed-secret.js';

/** Who changes the target (the admin token's name, for the audit trail) and in which request. */
export interface ChangeContext {
  readonly token: string;
  readonly requestId?: string | undefined;
}

/** Frontline drops a callback reply that takes longer than this (Twilio error 48005). */
export const CALLBACK_BUDGET_MS = 6000;
/** Frontline rejects a callback reply larger than this (Twilio error 48003). */
export const CALLBACK_SIZE_LIMIT_BYTES = 64 * 1024;
/** The simulator waits longer than the app would, so that a slow reply is shown with its time. */
export const SIMULATOR_TIMEOUT_MS = 15_000;
/** Replies are kept up to this size; the rest is counted, not kept. */
export const SIMULATOR_MAX_BODY_BYTES = 1024 * 1024;

export interface SimulatorOptions {
  /** The base URL this service's own callbacks are signed for (PUBLIC_URL), when configured. */
  readonly publicUrl: string | undefined;
  /** TWILIO_AUTH_TOKEN; undefined in insecure development mode (requests then go unsigned). */
  readonly authToken: string | undefined;
  /** Seals the remote target's auth token in the store (derived from config.pageTokenSecret). */
  readonly sealing: SecretBox;
}

/** Where the simulator sends its callbacks, as an admin may see it (never the token itself). */
export interface TargetView {
  /** `self`: this service; `remote`: another integration service an admin configured. */
  readonly mode: 'self' | 'remote';
  readonly base_url: string;
  readonly paths: Readonly<Record<SimulatorCallback, string>>;
  /** Whether requests carry an X-Twilio-Signature. */
  readonly signed: boolean;
  /** The last characters of the remote service's token, to recognise it by. */
  readonly auth_token_hint?: string;
  /** Why the target cannot be used as stored (its token was sealed under another key): set it again. */
  readonly problem?: string;
  readonly updated_at?: string;
  readonly updated_by?: string | null;
}

export interface WireRequest {
  readonly method: 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The whole body's size, even when only the first SIMULATOR_MAX_BODY_BYTES were kept. */
  readonly size_bytes: number;
  readonly truncated: boolean;
}

/** One callback as it went over the wire. */
export interface Exchange {
  readonly callback: SimulatorCallback;
  readonly target: 'self' | 'remote';
  readonly request: WireRequest;
  /** Absent when no reply came (refused connection, timeout). */
  readonly response?: WireResponse;
  readonly error?: { readonly message: string };
  /** From sending the request to the reply's last byte. */
  readonly duration_ms: number;
  readonly budget_ms: number;
  readonly size_limit_bytes: number;
}

interface ResolvedTarget {
  readonly mode: 'self' | 'remote';
  /** The base URL the callbacks are signed for (what Twilio would call). */
  readonly baseUrl: string;
  /** Where they are sent: the same, except for this service, which is reached at its own listening address. */
  readonly deliverTo: string;
  readonly authToken: string | undefined;
  readonly paths: Readonly<Record<SimulatorCallback, string>>;
  readonly remote?: RemoteTarget;
}

export class SimulatorService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: SimulatorOptions,
  ) {}

  /**
   * `selfBase` is how this process is reached from itself (its listening address): callbacks to
   * this service go there, signed for PUBLIC_URL as Twilio's would be (PUBLIC_URL usually names a
   * proxy in front of the service, which the service itself may not be able to reach).
   */
  async target(selfBase: string): Promise<TargetView> {
    return view(await this.resolve(selfBase));
  }

  /** Points the simulator at another service; the change and its audit record commit together. */
  async setRemote(input: RemoteTargetInput, ctx: ChangeContext): Promise<TargetView> {
    await this.db.transaction().execute(async (trx) => {
      const before = await findRemoteTarget(trx, this.options.sealing);
      await saveRemoteTarget(trx, this.options.sealing, input, ctx.token, new Date());
      const fields = [
        ...(before?.baseUrl !== input.baseUrl ? ['base_url'] : []),
        ...(before?.authToken !== input.authToken ? ['auth_token'] : []),
        ...(JSON.stringify(before?.paths) !== JSON.stringify(input.paths) ? ['paths'] : []),
      ];
      await recordAudit(trx, { token: ctx.token, action: 'simulator.target.set', resourceId: null, fields, requestId: ctx.requestId });
    });
    return view(await this.resolve(''));
  }

  /** Back to this service; returns whether another service was configured. */
  async clearRemote(ctx: ChangeContext): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const deleted = await deleteRemoteTarget(trx);
      if (deleted) {
        await recordAudit(trx, { token: ctx.token, action: 'simulator.target.clear', resourceId: null, fields: [], requestId: ctx.requestId });
      }
      return deleted;
    });
  }

  /** Sends one signed callback and reports the exchange; a failure to connect is reported, not thrown. */
  async send(callback: SimulatorCallback, params: Record<string, string>, selfBase: string): Promise<Exchange> {
    const target = await this.resolve(selfBase);
    if (target.remote && target.authToken === undefined) throw new AppError('CONFLICT', UNREADABLE_TOKEN);
    const url = target.baseUrl + target.paths[callback];
    const deliverTo = target.deliverTo + target.paths[callback];
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'TwilioProxy/1.1 (fis simulator)',
    };
    if (target.authToken !== undefined) {
      headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(target.authToken, url, params);
    }
    const request: WireRequest = { method: 'POST', url, headers, body: new URLSearchParams(params).toString() };
    const common = { callback, target: target.mode, request, budget_ms: CALLBACK_BUDGET_MS, size_limit_bytes: CALLBACK_SIZE_LIMIT_BYTES };
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      const res = await fetch(deliverTo, {
        method: 'POST',
        headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(SIMULATOR_TIMEOUT_MS),
      });
      const body = await readCapped(res, SIMULATOR_MAX_BODY_BYTES);
      return {
        ...common,
        response: { status: res.status, headers: Object.fromEntries(res.headers), ...body },
        duration_ms: elapsed(),
      };
    } catch (err) {
      return { ...common, error: { message: describeFailure(err) }, duration_ms: elapsed() };
    }
  }

  private async resolve(selfBase: string): Promise<ResolvedTarget> {
    const remote = await findRemoteTarget(this.db, this.options.sealing);
    if (remote !== undefined) {
      return { mode: 'remote', baseUrl: remote.baseUrl, deliverTo: remote.baseUrl, authToken: remote.authToken, paths: remote.paths, remote };
    }
    return {
      mode: 'self',
      baseUrl: this.options.publicUrl ?? selfBase,
      deliverTo: selfBase,
      authToken: this.options.authToken,
      paths: DEFAULT_CALLBACK_PATHS,
    };
  }
}

const UNREADABLE_TOKEN =
  "The target's auth token was stored under another key (PAGE_TOKEN_SECRET, or TWILIO_AUTH_TOKEN when it is unset, " +
  'has changed since): point the simulator at the service again, with its token';

function view(target: ResolvedTarget): TargetView {
  return {
    mode: target.mode,
    base_url: target.baseUrl,
    paths: target.paths,
    signed: target.authToken !== undefined,
    ...(target.remote
      ? {
          ...(target.remote.authToken === undefined ? { problem: UNREADABLE_TOKEN } : { auth_token_hint: secretHint(target.remote.authToken) }),
          updated_at: target.remote.updatedAt,
          updated_by: target.remote.updatedBy,
        }
      : {}),
  };
}

async function readCapped(res: Response, max: number): Promise<{ body: string; size_bytes: number; truncated: boolean }> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let size = 0;
  if (res.body) {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (kept < max) {
        const part = chunk.byteLength <= max - kept ? chunk : chunk.subarray(0, max - kept);
        chunks.push(part);
        kept += part.byteLength;
      }
    }
  }
  return { body: Buffer.concat(chunks).toString('utf8'), size_bytes: size, truncated: size > kept };
}

/** A person-readable reason a request got no reply: undici hides the useful part in `cause`. */
function describeFailure(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no reply within ${SIMULATOR_TIMEOUT_MS / 1000} s`;
  const cause = e.cause;
  if (cause?.code) return `${cause.code}: ${cause.message ?? e.message ?? 'request failed'}`;
  return e.message ?? String(err);
}
