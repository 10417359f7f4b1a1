/**
 * What the local stand-ins for Twilio's REST APIs (fake-twilio.ts: Conversations,
 * fake-frontline.ts: Frontline Users) share: a server on 127.0.0.1 at a free
 * port, and one request read the way Twilio's edge reads it (a form body, HTTP
 * Basic credentials) with answers in Twilio's JSON and error shapes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server that answers with `handle`. */
export abstract class LocalTwilioServer {
  private server: Server | undefined;
  url = '';

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export interface TwilioRequest {
  /** The path as sent (percent-encoded), without the query. */
  readonly path: string;
  readonly form: Record<string, string>;
  /** The Basic auth username, or undefined when the header is not Basic auth. */
  readonly username: string | undefined;
  /** Whether Basic auth carries exactly the expected credentials. */
  readonly authorized: boolean;
  /** Answers with JSON; `answered` is told the status. */
  send(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Answers with Twilio's error shape: `{code, message, more_info, status}`. */
  error(status: number, code: number, message: string, headers?: Record<string, string>): void;
}

/** Reads one request whole and gives the ways to answer it. */
export async function readTwilioRequest(
  req: IncomingMessage,
  res: ServerResponse,
  credentials: { username: string; password: string },
  answered: (status: number) => void,
): Promise<TwilioRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
  const auth = req.headers.authorization ?? '';
  const basic = auth.startsWith('Basic ');
  const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString('utf8').split(':');
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    answered(status);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  return {
    path: (req.url ?? '').split('?')[0] as string,
    form,
    username: basic ? user : undefined,
    authorized: basic && user === credentials.username && pass === credentials.password,
    send,
    error: (status, code, message, headers = {}) =>
      send(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers),
  };
}

/** An injected fault's answer (429, 404 or a 5xx), after its delay; false when it has no status (answer normally). */
export async function answerFault(
  request: TwilioRequest,
  fault: { status?: number; code?: number; delayMs?: number; retryAfterSeconds?: number } | undefined,
): Promise<boolean> {
  if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (!fault?.status) return false;
  const { status } = fault;
  request.error(
    status,
    fault.code ?? (status === 429 ? 20429 : status === 404 ? 20404 : 20500),
    status === 429 ? 'Too Many Requests' : status === 404 ? 'The requested resource was not found' : 'Internal Server Error',
    fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {},
  );
  return true;
}
