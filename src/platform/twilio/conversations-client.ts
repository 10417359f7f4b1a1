/**
 * The three Conversations REST API calls the service makes: add a chat
 * participant, fetch a participant, update a participant's attributes.
 *
 * Why not the official `twilio` client (a dependency, used for signatures):
 * - its domains have fixed base URLs; `region`/`edge` only rewrite Twilio
 *   host names, so reaching an arbitrary `TWILIO_API_BASE_URL` (a local test
 *   server) needs a custom RequestClient that rewrites every URI;
 * - its `autoRetry` covers 429 only (not 5xx, network errors or the
 *   "conversation not ready yet" 404), and neither it nor its per-request
 *   `timeout` knows about a total deadline.
 * Every call here runs inside a webhook that must answer within Twilio's 5 s,
 * so we need one deadline shared by all attempts, a per-attempt timeout, and
 * those retries. That is a small fetch loop, tested against a local fake of
 * the wire format (test/helpers/fake-twilio.ts).
 */
import type { TwilioApiConfig } from '../config.js';

/** A participant resource, as Twilio returns it (the fields we use). */
export interface Participant {
  sid: string;
  conversation_sid: string;
  identity: string | null;
  /** A JSON document, as a string. */
  attributes: string;
  messaging_binding: { type?: string; address?: string; proxy_address?: string } | null;
}

/** Twilio's error code for "Participant already exists" (HTTP 409). */
export const PARTICIPANT_EXISTS = 50433;

export class TwilioApiError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 when no answer came (network error, timeout, budget exhausted). */
    readonly status: number,
    /** Twilio's error code from the body, when there was one. */
    readonly twilioCode?: number,
  ) {
    super(message);
    this.name = 'TwilioApiError';
  }
}

/** Counts what the client saw; the metrics endpoint reads it. */
export interface ApiObserver {
  attempt(outcome: string): void;
}

export interface CallOptions {
  /** Epoch milliseconds after which no attempt starts and the running one is aborted (a fraction is rounded down). */
  readonly deadline: number;
  /** Retry a 404: the conversation may still be initialising when its webhooks fire. */
  readonly retryNotFound?: boolean;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 1000;
/** Not worth starting an attempt with less time than this left. */
const MIN_ATTEMPT_MS = 50;

/**
 * The deadline-and-retry loop every Twilio REST client here shares (this
 * one, and frontline-client.ts): Basic auth, form bodies, JSON answers, one
 * deadline for all attempts. Subclasses add the resource calls.
 */
export class TwilioRestClient {
  constructor(
    private readonly config: TwilioApiConfig,
    private readonly observer: ApiObserver = { attempt() {} },
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get configured(): boolean {
    return this.config.credentials !== undefined;
  }

  /** Starts the deadline for one webhook: now plus the configured budget. */
  deadlineFrom(start: number): number {
    return start + this.config.budgetMs;
  }

  /** One call, retried with capped exponential backoff (full jitter) until it succeeds, fails for good, or the deadline. */
  protected async request(
    method: 'GET' | 'POST',
    path: string,
    form: Record<string, string> | undefined,
    options: CallOptions,
  ): Promise<unknown> {
    const credentials = this.config.credentials;
    if (!credentials) {
      throw new TwilioApiError('Twilio API credentials are not configured (TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN, or an API key)', 0);
    }
    const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const url = `${this.config.baseUrl}${path}`;
    let last: TwilioApiError | undefined;

    for (let attempt = 0; ; attempt++) {
      // Whole milliseconds: AbortSignal.timeout throws on a fraction, and a deadline may carry one.
      const remaining = Math.floor(options.deadline - Date.now());
      if (remaining < MIN_ATTEMPT_MS) {
        this.observer.attempt('budget_exhausted');
        throw new TwilioApiError(
          `${method} ${path}: time budget exhausted after ${attempt} attempt(s)${last ? `; last: ${last.message}` : ''}`,
          last?.status ?? 0,
          last?.twilioCode,
        );
      }
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(url, {
          method,
          headers: {
            authorization,
            accept: 'application/json',
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: form ? new URLSearchParams(form).toString() : undefined,
          signal: AbortSignal.timeout(Math.min(this.config.attemptTimeoutMs, remaining)),
        });
        const text = await res.text();
        if (res.ok) {
          this.observer.attempt('ok');
          return text === '' ? {} : JSON.parse(text);
        }
        const body = parseError(text);
        last = new TwilioApiError(
          `${method} ${path}: HTTP ${res.status}${body.code ? ` code ${body.code}` : ''}${body.message ? `: ${body.message}` : ''}`,
          res.status,
          body.code,
        );
        const retryable = res.status === 429 || res.status >= 500 || (res.status === 404 && options.retryNotFound === true);
        this.observer.attempt(retryable ? `retry_${res.status}` : `error_${res.status}`);
        if (!retryable) throw last;
        retryAfterMs = retryAfter(res.headers.get('retry-after'));
      } catch (err) {
        // Only a final answer (4xx other than the retryable ones) is thrown as a TwilioApiError above.
        if (err instanceof TwilioApiError) throw err;
        // Network error or the attempt's timeout: worth another try while time is left.
        const reason = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
        this.observer.attempt(`retry_${reason}`);
        last = new TwilioApiError(`${method} ${path}: ${reason}: ${(err as Error).message}`, 0);
      }
      const backoff = Math.max(retryAfterMs ?? 0, Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      const left = options.deadline - Date.now();
      // Sleeping past the deadline is pointless: give up now with the last error.
      if (backoff > left - MIN_ATTEMPT_MS) {
        this.observer.attempt('budget_exhausted');
        throw new TwilioApiError(
          `${method} ${path}: gave up after ${attempt + 1} attempt(s), no time left for another; last: ${last?.message}`,
          last?.status ?? 0,
          last?.twilioCode,
        );
      }
      await this.sleep(backoff);
    }
  }
}

function parseError(text: string): { code?: number; message?: string } {
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'number' ? body.code : undefined,
      message: typeof body.message === 'string' ? body.message.slice(0, 300) : undefined,
    };
  } catch {
    return {};
  }
}

/** `Retry-After` in seconds (Twilio sends seconds); undefined when absent or not a number. */
function retryAfter(raw: string | null): number | undefined {
  if (raw === null || !/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
  return Number(raw) * 1000;
}

/** Path segment: SIDs are alphanumeric, but never let input shape the path. */
function seg(value: string): string {
  return encodeURIComponent(value);
}

/** The Conversations REST API calls the service makes (see the top of this file). */
export class ConversationsClient extends TwilioRestClient {
  /**
   * Adds `identity` as a chat participant. Resolves `'exists'` when Twilio
   * says the participant is already there (a retried delivery, or another
   * instance): the outcome we wanted.
   */
  async addChatParticipant(conversationSid: string, identity: string, options: CallOptions): Promise<'added' | 'exists'> {
    try {
      await this.request('POST', `/v1/Conversations/${seg(conversationSid)}/Participants`, { Identity: identity }, options);
      return 'added';
    } catch (err) {
      if (err instanceof TwilioApiError && err.status === 409 && err.twilioCode === PARTICIPANT_EXISTS) return 'exists';
      throw err;
    }
  }

  async fetchParticipant(conversationSid: string, participantSid: string, options: CallOptions): Promise<Participant> {
    return (await this.request(
      'GET',
      `/v1/Conversations/${seg(conversationSid)}/Participants/${seg(participantSid)}`,
      undefined,
      options,
    )) as Participant;
  }

  async updateParticipantAttributes(
    conversationSid: string,
    participantSid: string,
    attributes: string,
    options: CallOptions,
  ): Promise<Participant> {
    return (await this.request(
      'POST',
      `/v1/Conversations/${seg(conversationSid)}/Participants/${seg(participantSid)}`,
      { Attributes: attributes },
      options,
    )) as Participant;
  }
}
