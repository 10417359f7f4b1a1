/**
 * Configuration: read once from the environment, validated, frozen, then passed
 * to whatever needs it. Nothing else in the code base reads `process.env`.
 *
 * Every variable is documented in `.env.example`; `test/config.test.ts` checks
 * that the two lists agree.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { FieldPath, Problem } from '../kernel/problems.js';
import { countryCode, identity, phoneNumber, url } from '../kernel/rules.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** One variable: how to read it from its string form, and its default. */
interface VarSpec<T> {
  readonly parse: (raw: string) => T;
  readonly fallback: () => T;
}

const text = (fallback?: string): VarSpec<string | undefined> => ({
  parse: (raw) => raw,
  fallback: () => fallback,
});

const integer = (fallback: number, min: number, max: number): VarSpec<number> => ({
  parse: (raw) => {
    if (!/^\d+$/.test(raw)) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be from ${min} to ${max}, got ${n}`);
    return n;
  },
  fallback: () => fallback,
});

const flag = (fallback: boolean): VarSpec<boolean> => ({
  parse: (raw) => {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  },
  fallback: () => fallback,
});

const oneOf = <T extends string>(values: readonly T[], fallback: T): VarSpec<T> => ({
  parse: (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    }
    return raw as T;
  },
  fallback: () => fallback,
});

/** A kernel rule (src/kernel/rules.ts) as a variable's parser: what it reports is the variable's error. */
function byRule<T>(
  rule: (value: unknown, path: FieldPath, problems: Problem[]) => T | undefined,
  raw: string,
  message = (reason: string) => `${reason}, got "${raw}"`,
): T {
  const problems: Problem[] = [];
  const value = rule(raw, [], problems);
  if (value === undefined) throw new Error(message(problems[0]?.message ?? 'is invalid'));
  return value;
}

const httpUrl = (): VarSpec<string | undefined> => ({
  parse: (raw) => byRule((v, path, problems) => url(v, path, problems, ['https', 'http']), raw).replace(/\/+$/, ''),
  fallback: () => undefined,
});

const country = (fallback: string): VarSpec<string> => ({
  parse: (raw) => byRule(countryCode, raw, (reason) => reason),
  fallback: () => fallback,
});

/**
 * A Twilio sender number in international form (`+14155550100`); for WhatsApp
 * also `whatsapp:+14155550100`. Returned as sent in `proxy_address`.
 */
const senderNumber = (channel: 'sms' | 'whatsapp'): VarSpec<string | undefined> => ({
  parse: (raw) => {
    const example = channel === 'whatsapp' ? 'whatsapp:+14155550100 or +14155550100' : '+14155550100';
    const e164 = byRule(
      (v, path, problems) => phoneNumber(v, path, problems, { channel }),
      raw,
      () => `must be a phone number in international (E.164) form such as ${example}, got "${raw}"`,
    );
    return channel === 'whatsapp' ? `whatsapp:${e164}` : e164;
  },
  fallback: () => undefined,
});

/** How many processes serve: a number, or `auto` for one per core this process may use. */
const processCount = (): VarSpec<number> => ({
  parse: (raw) => {
    if (raw === 'auto') return availableParallelism();
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64) {
      throw new Error(`must be auto or a whole number from 1 to 64, got "${raw}"`);
    }
    return Number(raw);
  },
  fallback: () => 1,
});

/** A comma-separated list of worker identities; blanks dropped, duplicates kept once, order kept. */
const identityList = (): VarSpec<readonly string[]> => ({
  parse: (raw) => {
    const items = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
    for (const item of items) {
      byRule(identity, item, (reason) => `has an invalid identity "${item.slice(0, 40)}" (${reason})`);
    }
    return items;
  },
  fallback: () => [],
});

/** proxy-addr's names for address ranges, spelled out as CIDR blocks. */
const PROXY_RANGE_NAMES: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/**
 * Addresses of the proxies whose X-Forwarded-* headers are believed: IPs,
 * CIDR blocks, or `loopback`, `linklocal`, `uniquelocal`; comma separated.
 * Returned as CIDR blocks.
 */
const proxyList = (): VarSpec<readonly string[]> => ({
  parse: (raw) => {
    const out: string[] = [];
    for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const named = PROXY_RANGE_NAMES[item.toLowerCase()];
      if (named) {
        out.push(...named);
        continue;
      }
      const [address, prefix, extra] = item.split('/');
      const family = isIP(address ?? '');
      const max = family === 4 ? 32 : 128;
      if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d+$/.test(prefix) || Number(prefix) > max))) {
        throw new Error(`must list IP addresses or CIDR blocks (or loopback, linklocal, uniquelocal), got "${item}"`);
      }
      out.push(prefix === undefined ? `${address}/${max}` : `${address}/${Number(prefix)}`);
    }
    return [...new Set(out)];
  },
  fallback: () => [],
});

/**
 * SQLite's page cache per connection and the read connection's memory map, in MB, and the threads that
 * run searches off the event loop (platform/db/reader-threads.ts), unless configured. A page cache of
 * 8 MB rather than 64 keeps a process serving 1,000,000 customers about 130 MB smaller under search
 * load, for the same throughput (the pages are in the OS's cache anyway; BENCHMARKS.md, issue 11); a
 * bulk import takes more for its own connection (store-options.ts, forBulkImport). No memory map: at
 * 1,000,000 customers all visible it cost 260 MB of RSS for 3–8% on list pages alone (eleventh round).
 */
export const SQLITE_DEFAULTS = { cacheMb: 8, mmapMb: 0, readThreads: 1 } as const;

/** The variables, their types and defaults. The `Config` type is derived from this table. */
const SPEC = {
  PORT: integer(5001, 0, 65535),
  HOST: text('0.0.0.0'),
  SERVE_PROCESSES: processCount(),
  PUBLIC_URL: httpUrl(),
  TRUSTED_PROXIES: proxyList(),
  DATABASE_URL: text(),
  DATABASE_SCHEMA: text(),
  DATABASE_POOL_SIZE: integer(10, 1, 500),
  DATABASE_TIMEOUT_MS: integer(3000, 100, 60000),
  SQLITE_CACHE_MB: integer(SQLITE_DEFAULTS.cacheMb, 1, 65536),
  SQLITE_MMAP_MB: integer(SQLITE_DEFAULTS.mmapMb, 0, 1048576),
  SQLITE_READ_THREADS: integer(SQLITE_DEFAULTS.readThreads, 0, 16),
  MIGRATE_ON_START: flag(false),
  TWILIO_AUTH_TOKEN: text(),
  TWILIO_ACCOUNT_SID: text(),
  TWILIO_API_KEY_SID: text(),
  TWILIO_API_KEY_SECRET: text(),
  TWILIO_API_BASE_URL: httpUrl(),
  TWILIO_API_BUDGET_MS: integer(4000, 200, 4500),
  TWILIO_API_ATTEMPT_TIMEOUT_MS: integer(1500, 100, 4500),
  ROUTING_DEFAULT_WORKERS: identityList(),
  ROUTING_AUTO_CREATE_CUSTOMERS: flag(false),
  ROUTING_RETRY_AFTER_REPLY_MS: integer(10000, 0, 600000),
  ROUTING_SKIP_UNAVAILABLE: flag(false),
  TWILIO_FRONTLINE_API_BASE_URL: httpUrl(),
  FRONTLINE_USER_SYNC: flag(false),
  FRONTLINE_USER_SYNC_BUDGET_MS: integer(10000, 500, 120000),
  INSECURE_DEV_MODE: flag(false),
  PAGE_TOKEN_SECRET: text(),
  CUSTOMER_VISIBILITY: oneOf(['owner', 'all'] as const, 'owner'),
  DEFAULT_COUNTRY: country('US'),
  TWILIO_SMS_NUMBER: senderNumber('sms'),
  TWILIO_WHATSAPP_NUMBER: senderNumber('whatsapp'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
} satisfies Record<string, VarSpec<unknown>>;

export type ConfigVariable = keyof typeof SPEC;
export const CONFIG_VARIABLES = Object.keys(SPEC) as ConfigVariable[];

type RawConfig = { [K in ConfigVariable]: ReturnType<(typeof SPEC)[K]['fallback']> };

export type StoreUrl =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Processes `fis serve` runs, sharing the port (node:cluster); 1 serves in the CLI's own process. */
  readonly serveProcesses: number;
  /** Base URL Twilio calls us at, e.g. `https://fis.example.com`; used to check signatures. */
  readonly publicUrl: string | undefined;
  /**
   * CIDR blocks of the proxies whose X-Forwarded-Proto/Host/For are believed
   * (TRUSTED_PROXIES); empty: none, the headers are ignored. Without PUBLIC_URL,
   * the signed URL is rebuilt from what these proxies forward.
   */
  readonly trustedProxies: readonly string[];
  readonly store: StoreUrl;
  readonly databasePoolSize: number;
  /** Upper bound on any one database operation; keeps callbacks inside the app's ~7 s budget. */
  readonly databaseTimeoutMs: number;
  /** SQLite only: each connection's page cache, and the read connection's memory map (0: none), in MB. */
  readonly sqlite: { readonly cacheMb: number; readonly mmapMb: number; readonly readThreads: number };
  readonly migrateOnStart: boolean;
  /** `undefined` only in insecure development mode. */
  readonly twilioAuthToken: string | undefined;
  readonly twilioAccountSid: string | undefined;
  readonly insecureDevMode: boolean;
  /**
   * Key that signs `next_page_token`s; identical on every instance. The key that seals secrets kept in
   * the store (the simulator's target's auth token: kernel/sealed-secret.ts) is derived from it too.
   */
  readonly pageTokenSecret: string;
  /** `owner`: a worker sees the customers assigned to them; `all`: every worker sees everyone. */
  readonly customerVisibility: 'owner' | 'all';
  readonly defaultCountry: string;
  /**
   * Per-channel default sender (the reference implementation's TWILIO_SMS_NUMBER and
   * TWILIO_WHATSAPP_NUMBER): used by GetProxyAddress when the store has no default address.
   */
  readonly defaultSenders: { readonly sms: string | undefined; readonly whatsapp: string | undefined };
  /** How the service reaches Twilio's Conversations REST API (routing, participant attributes). */
  readonly twilioApi: TwilioApiConfig;
  readonly routing: RoutingConfig;
  /** Frontline's User resource kept in step with the workers in the store (docs/workers.md). */
  readonly frontlineUsers: FrontlineUsersConfig;
  readonly logLevel: RawConfig['LOG_LEVEL'];
}

export interface TwilioApiConfig {
  /** Default `https://conversations.twilio.com`; tests and regional edges override it. */
  readonly baseUrl: string;
  /** Basic-auth credentials: an API key (sid, secret) or the account (sid, auth token); undefined when not configured. */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** Total time the API calls of one webhook may take, retries included; keeps replies inside Twilio's 5 s. */
  readonly budgetMs: number;
  /** Upper bound on one HTTP attempt. */
  readonly attemptTimeoutMs: number;
}

export interface RoutingConfig {
  /** Fallback workers, served round-robin, when neither an owner nor a per-rep number decides. */
  readonly defaultWorkers: readonly string[];
  /** Create a customer record, owned by the chosen worker, for an unknown sender. */
  readonly autoCreateCustomers: boolean;
  /**
   * When adding the worker failed within the webhook's budget, try again this
   * long after the reply (then twice more, doubling); 0 disables. The claim in
   * the database keeps this safe with several instances and redeliveries.
   */
  readonly retryAfterReplyMs: number;
  /** Pass over reps whose `available` is false (deactivated reps are always passed over). */
  readonly skipUnavailable: boolean;
}

export interface FrontlineUsersConfig {
  /** The Frontline API (default `https://frontline-api.twilio.com`), with the Conversations API's credentials and attempt timeout. */
  readonly api: TwilioApiConfig;
  /** Sync a rep to Frontline after every change of them (FRONTLINE_USER_SYNC). */
  readonly syncOnChange: boolean;
}

export const DEFAULT_TWILIO_API_BASE_URL = 'https://conversations.twilio.com';
export const DEFAULT_FRONTLINE_API_BASE_URL = 'https://frontline-api.twilio.com';

export const DEFAULT_SQLITE_FILE = path.join('data', 'fis.sqlite');

export function parseStoreUrl(raw: string | undefined, schema: string | undefined, cwd: string): StoreUrl {
  if (raw === undefined || raw === '') {
    return { kind: 'sqlite', file: path.resolve(cwd, DEFAULT_SQLITE_FILE) };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new Error('sqlite: URL needs a file path, e.g. sqlite:./data/fis.sqlite');
    return { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(cwd, file) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(`DATABASE_SCHEMA must be a lower-case SQL identifier, got "${schema}"`);
    }
    return { kind: 'postgres', url: raw, schema: schema ?? 'public' };
  }
  throw new Error(`must start with sqlite: or postgres://, got "${raw.replace(/:[^:@/]*@/, ':***@')}"`);
}

/** Reads and validates the configuration; throws a `ConfigError` naming every bad variable. */
export function loadConfig(
  env: Env,
  options: { cwd?: string; requireAuthToken?: boolean } = {},
): Config {
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const raw = {} as Record<ConfigVariable, unknown>;
  for (const name of CONFIG_VARIABLES) {
    const value = env[name];
    const spec: VarSpec<unknown> = SPEC[name];
    if (value === undefined || value === '') {
      raw[name] = spec.fallback();
      continue;
    }
    try {
      raw[name] = spec.parse(value);
    } catch (err) {
      problems.push(`${name} ${(err as Error).message}`);
    }
  }
  const r = raw as RawConfig;

  let store: StoreUrl | undefined;
  try {
    store = parseStoreUrl(r.DATABASE_URL, r.DATABASE_SCHEMA, cwd);
  } catch (err) {
    problems.push(`DATABASE_URL ${(err as Error).message}`);
  }

  // Data commands (migrate, import, export, seed) never see a callback and need no token.
  if ((options.requireAuthToken ?? true) && !r.INSECURE_DEV_MODE && !r.TWILIO_AUTH_TOKEN) {
    problems.push(
      'TWILIO_AUTH_TOKEN is required: every callback is checked against the X-Twilio-Signature it computes. ' +
        'For local experiments only, set INSECURE_DEV_MODE=true to accept unsigned requests.',
    );
  }
  // The URL a signature is checked against must not come from the caller's own headers (issue 14 item 9).
  if ((options.requireAuthToken ?? true) && !r.INSECURE_DEV_MODE && !r.PUBLIC_URL && (r.TRUSTED_PROXIES ?? []).length === 0) {
    problems.push(
      'PUBLIC_URL is required: signatures are checked against the URL Twilio calls, and without it that URL would be ' +
        'taken from the request\'s own Host and X-Forwarded-* headers, so a request signed for another URL of the same ' +
        'Twilio account would pass. Set PUBLIC_URL to the base URL configured in the Frontline console, or name the ' +
        'proxies whose X-Forwarded-* headers are trusted in TRUSTED_PROXIES.',
    );
  }
  if (r.PAGE_TOKEN_SECRET !== undefined && r.PAGE_TOKEN_SECRET.length < 16) {
    problems.push('PAGE_TOKEN_SECRET must be at least 16 characters long');
  }
  if ((r.TWILIO_API_KEY_SID === undefined) !== (r.TWILIO_API_KEY_SECRET === undefined)) {
    problems.push('TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together: set both or neither');
  }
  if (r.TWILIO_API_ATTEMPT_TIMEOUT_MS > r.TWILIO_API_BUDGET_MS) {
    problems.push('TWILIO_API_ATTEMPT_TIMEOUT_MS must not exceed TWILIO_API_BUDGET_MS');
  }
  if (r.FRONTLINE_USER_SYNC && twilioCredentials(r) === undefined) {
    problems.push('FRONTLINE_USER_SYNC=true needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or an API key) to reach the Frontline API');
  }
  if (problems.length > 0 || store === undefined) throw new ConfigError(problems);

  // Page tokens must verify on every instance: derive the key from shared configuration, never per process.
  const pageTokenSecret =
    r.PAGE_TOKEN_SECRET ??
    createHmac('sha256', r.TWILIO_AUTH_TOKEN ?? 'insecure-dev-mode').update('fis:page-token:v1').digest('hex');

  return Object.freeze({
    port: r.PORT,
    host: r.HOST ?? '0.0.0.0',
    serveProcesses: r.SERVE_PROCESSES,
    publicUrl: r.PUBLIC_URL,
    trustedProxies: r.TRUSTED_PROXIES,
    store,
    databasePoolSize: r.DATABASE_POOL_SIZE,
    databaseTimeoutMs: r.DATABASE_TIMEOUT_MS,
    sqlite: Object.freeze({ cacheMb: r.SQLITE_CACHE_MB, mmapMb: r.SQLITE_MMAP_MB, readThreads: r.SQLITE_READ_THREADS }),
    migrateOnStart: r.MIGRATE_ON_START,
    twilioAuthToken: r.TWILIO_AUTH_TOKEN,
    twilioAccountSid: r.TWILIO_ACCOUNT_SID,
    insecureDevMode: r.INSECURE_DEV_MODE,
    pageTokenSecret,
    customerVisibility: r.CUSTOMER_VISIBILITY,
    defaultCountry: r.DEFAULT_COUNTRY,
    defaultSenders: Object.freeze({ sms: r.TWILIO_SMS_NUMBER, whatsapp: r.TWILIO_WHATSAPP_NUMBER }),
    twilioApi: Object.freeze({
      baseUrl: r.TWILIO_API_BASE_URL ?? DEFAULT_TWILIO_API_BASE_URL,
      credentials: twilioCredentials(r),
      budgetMs: r.TWILIO_API_BUDGET_MS,
      attemptTimeoutMs: r.TWILIO_API_ATTEMPT_TIMEOUT_MS,
    }),
    routing: Object.freeze({
      defaultWorkers: r.ROUTING_DEFAULT_WORKERS,
      autoCreateCustomers: r.ROUTING_AUTO_CREATE_CUSTOMERS,
      retryAfterReplyMs: r.ROUTING_RETRY_AFTER_REPLY_MS,
      skipUnavailable: r.ROUTING_SKIP_UNAVAILABLE,
    }),
    frontlineUsers: Object.freeze({
      api: Object.freeze({
        baseUrl: r.TWILIO_FRONTLINE_API_BASE_URL ?? DEFAULT_FRONTLINE_API_BASE_URL,
        credentials: twilioCredentials(r),
        // Not inside a webhook: one rep's read, write and retries share this budget.
        budgetMs: r.FRONTLINE_USER_SYNC_BUDGET_MS,
        attemptTimeoutMs: r.TWILIO_API_ATTEMPT_TIMEOUT_MS,
      }),
      syncOnChange: r.FRONTLINE_USER_SYNC,
    }),
    logLevel: r.LOG_LEVEL,
  });
}

/** An API key when one is configured (revocable, preferred), else the account SID and auth token. */
function twilioCredentials(r: RawConfig): TwilioApiConfig['credentials'] {
  if (r.TWILIO_API_KEY_SID && r.TWILIO_API_KEY_SECRET) {
    return { username: r.TWILIO_API_KEY_SID, password: r.TWILIO_API_KEY_SECRET };
  }
  if (r.TWILIO_ACCOUNT_SID && r.TWILIO_AUTH_TOKEN) return { username: r.TWILIO_ACCOUNT_SID, password: r.TWILIO_AUTH_TOKEN };
  return undefined;
}
