/**
 * Plays the Frontline app on the wire: POSTs form-encoded string fields,
 * signed with X-Twilio-Signature exactly as Twilio signs them (twilio's own
 * `getExpectedTwilioSignature` over the URL and the sorted fields), and
 * records what came back: status, bytes, time and parsed JSON.
 */
import twilio from 'twilio';

export type Fields = Record<string, string>;

export interface Exchange {
  readonly label: string;
  readonly path: string;
  readonly fields: Fields;
  /** Absent when no reply came (timeout or network error). */
  readonly status?: number;
  readonly contentType?: string;
  readonly ms: number;
  /** Size of the reply body in bytes. */
  readonly bytes: number;
  readonly text: string;
  /** The parsed body; `undefined` when it is not JSON (see `jsonError`). */
  readonly json?: unknown;
  readonly jsonError?: string;
  /** `timeout`: no complete reply within the time limit; `network`: no connection or a broken one. */
  readonly failure?: 'timeout' | 'network';
  readonly failureMessage?: string;
  /** Whether the reply counts towards the size and time checks (probes with deliberately odd input do not). */
  readonly counted: boolean;
}

export interface PostOptions {
  /** A short description for the report, e.g. `GetCustomersList page 3`. */
  label: string;
  /**
   * `signed` (default): a correct signature; `unsigned`: no header; `wrong`: signed with another token;
   * `tampered`: signed over `signedFields`, then `fields` sent instead.
   */
  signing?: 'signed' | 'unsigned' | 'wrong' | 'tampered';
  signedFields?: Fields;
  counted?: boolean;
}

/** A short, printable excerpt of a reply body. */
export function excerpt(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** How an exchange ended, for a report line: `200 (1.2 KB, 14 ms)` or `no reply within 6000 ms`. */
export function describe(ex: Exchange): string {
  if (ex.failure === 'timeout') return `no reply within ${ex.ms} ms`;
  if (ex.failure === 'network') return `no reply (${ex.failureMessage ?? 'network error'})`;
  return `${ex.status} (${formatBytes(ex.bytes)}, ${Math.round(ex.ms)} ms)`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  return `${(n / 1024).toFixed(1)} KB`;
}

export class CallbackClient {
  readonly exchanges: Exchange[] = [];
  /** Set once a request found nobody answering: the service stopped (or never started). */
  downSince: string | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly authToken: string,
    private readonly timeLimitMs: number,
  ) {}

  /** The URL Twilio would call, and sign, for a path. */
  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  async post(path: string, fields: Fields, options: PostOptions): Promise<Exchange> {
    const url = this.url(path);
    const signing = options.signing ?? 'signed';
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (signing !== 'unsigned') {
      const token = signing === 'wrong' ? `${this.authToken}-not-it` : this.authToken;
      const signed = signing === 'tampered' ? (options.signedFields ?? fields) : fields;
      headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(token, url, signed);
    }
    const base = { label: options.label, path, fields, counted: options.counted ?? true };
    if (this.downSince !== undefined) {
      // Once nobody answers, the rest of a check's requests are not sent: each would only wait to fail.
      return { ...base, counted: false, ms: 0, bytes: 0, text: '', failure: 'network', failureMessage: `not sent: the service stopped answering at ${this.downSince}` };
    }
    const started = performance.now();
    let exchange: Exchange;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: new URLSearchParams(fields).toString(),
        signal: AbortSignal.timeout(this.timeLimitMs),
        redirect: 'manual',
      });
      const body = Buffer.from(await res.arrayBuffer());
      const ms = performance.now() - started;
      const text = body.toString('utf8');
      let json: unknown;
      let jsonError: string | undefined;
      try {
        json = JSON.parse(text);
      } catch (err) {
        jsonError = err instanceof Error ? err.message : String(err);
      }
      exchange = {
        ...base,
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        ms,
        bytes: body.length,
        text,
        ...(jsonError === undefined ? { json } : { jsonError }),
      };
    } catch (err) {
      const ms = performance.now() - started;
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      exchange = {
        ...base,
        ms: timedOut ? this.timeLimitMs : ms,
        bytes: 0,
        text: '',
        failure: timedOut ? 'timeout' : 'network',
        failureMessage: timedOut ? `no reply within ${this.timeLimitMs} ms` : networkMessage(err),
      };
      if (!timedOut && this.downSince === undefined) this.downSince = options.label;
    }
    this.exchanges.push(exchange);
    return exchange;
  }
}

/** `connect ECONNREFUSED 127.0.0.1:9` rather than undici's bare `fetch failed`. */
function networkMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: string }).code;
    return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return err.message;
}
