/**
 * A real service on a real port, and a client that speaks to it the way
 * Twilio does: form-encoded string bodies signed with X-Twilio-Signature.
 */
import type { FastifyServerOptions } from 'fastify';
import twilio from 'twilio';
import { type App, type AppOptions, buildApp } from '../../src/transports/http/app.js';
import type { Config } from '../../src/platform/config.js';
import { openStore, type Store } from '../../src/platform/db/connect.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { after, before } from 'node:test';
import { AUTH_TOKEN, createTestDatabase, type StoreKind, type TestDatabase, testConfig } from './stores.js';

export type Params = Record<string, string | string[]>;

export interface WireResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint: test responses are inspected loosely
  json: any;
}

export interface TestService {
  readonly url: string;
  readonly config: Config;
  readonly store: Store;
  readonly app: App;
  /** POSTs a signed form, as Twilio would. */
  post(path: string, params: Params, options?: PostOptions): Promise<WireResponse>;
  get(path: string): Promise<WireResponse>;
  close(): Promise<void>;
}

export interface PostOptions {
  /** A signature to send instead of the correct one; `false` sends none. */
  signature?: string | false;
  headers?: Record<string, string>;
  /** A raw body sent as is (the signature is then computed over `params`). */
  body?: string | Uint8Array;
  authToken?: string;
  /** The base URL to sign for, when it differs from where the request goes (PUBLIC_URL). */
  signedBase?: string;
}

export function encodeForm(params: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v);
  }
  return search.toString();
}

export function sign(url: string, params: Params, authToken = AUTH_TOKEN): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params as Record<string, string>);
}

/** A fetch response read whole: status, headers, text, and the JSON when it parses. */
export async function toWire(res: Response): Promise<WireResponse> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function postForm(baseUrl: string, path: string, params: Params, options: PostOptions = {}) {
  const url = `${baseUrl}${path}`;
  const signedUrl = `${options.signedBase ?? baseUrl}${path}`;
  const signature = options.signature === undefined ? sign(signedUrl, params, options.authToken) : options.signature;
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    ...(signature === false ? {} : { 'x-twilio-signature': signature }),
    ...options.headers,
  };
  const res = await fetch(url, { method: 'POST', headers, body: options.body ?? encodeForm(params) });
  return toWire(res);
}

export interface StartOptions {
  /**
   * The service's logger; default none (`false`). Pass pino options (e.g. a
   * `stream` to capture lines) to run the service as production does, with a logger.
   */
  logger?: FastifyServerOptions['logger'];
  /** Runs the configured logger (LOG_LEVEL, redaction, masking) into this stream: the lines production writes. */
  logStream?: { write(line: string): void };
  /** How the admin API slows down repeated authentication failures (tests shorten it). */
  adminThrottle?: AppOptions['adminThrottle'];
}

export async function startService(db: TestDatabase, env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestService> {
  const config = testConfig(db, env);
  const store = openStore(config);
  await migrateToLatest(store);
  const app = await buildApp({
    config,
    store,
    ...(options.logStream ? { logStream: options.logStream } : { logger: options.logger ?? false }),
    ...(options.adminThrottle ? { adminThrottle: options.adminThrottle } : {}),
  });
  const address = await app.http.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    config,
    store,
    app,
    // PUBLIC_URL is what Twilio signs; without it the service reconstructs the URL from the request.
    post: (path, params, options) => postForm(address, path, params, { signedBase: config.publicUrl, ...options }),
    get: async (path) => toWire(await fetch(`${address}${path}`)),
    async close() {
      await app.http.close();
      await store.close();
    },
  };
}

export interface ServiceFixture {
  readonly db: TestDatabase;
  readonly service: TestService;
}

/**
 * For the enclosing suite: a fresh test database and a running service on it
 * (before), closed and dropped afterwards (after). `setup` seeds it.
 */
export function useService(
  kind: StoreKind,
  options: { env?: Record<string, string>; setup?: (service: TestService) => Promise<unknown> } = {},
): ServiceFixture {
  const fixture = {} as { db: TestDatabase; service: TestService };
  before(async () => {
    fixture.db = await createTestDatabase(kind);
    fixture.service = await startService(fixture.db, options.env);
    await options.setup?.(fixture.service);
  });
  after(async () => {
    await fixture.service?.close();
    await fixture.db?.drop();
  });
  return fixture;
}
