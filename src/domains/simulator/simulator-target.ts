/**
 * The simulator's target: which integration service /console/simulator plays the Frontline app
 * against. None stored: this service itself. Stored: another service's base URL, the Twilio auth
 * token its callbacks are signed with, and its three callback paths. Pure.
 */
import { checkKeys, isObject, type Problem as DocProblem } from '../../kernel/problems.js';
import { singleLine } from '../../kernel/rules.js';

export const SIMULATOR_CALLBACKS = ['crm', 'outgoing', 'templates'] as const;
export type SimulatorCallback = (typeof SIMULATOR_CALLBACKS)[number];

/** The reference implementation's paths (and ours), the defaults for any service. */
export const DEFAULT_CALLBACK_PATHS: Readonly<Record<SimulatorCallback, string>> = Object.freeze({
  crm: '/callbacks/crm',
  outgoing: '/callbacks/outgoing-conversation',
  templates: '/callbacks/templates',
});

export interface RemoteTarget {
  /** Absolute http(s) base URL, no trailing slash: what the other service's signatures are computed for. */
  readonly baseUrl: string;
  /** Undefined when the stored token cannot be opened: sealed under another key (the configuration changed). */
  readonly authToken: string | undefined;
  readonly paths: Readonly<Record<SimulatorCallback, string>>;
  readonly updatedAt: string;
  readonly updatedBy: string | null;
}

export interface RemoteTargetInput {
  readonly baseUrl: string;
  readonly authToken: string;
  readonly paths: Readonly<Record<SimulatorCallback, string>>;
}

export type RemoteTargetResult = { ok: true; target: RemoteTargetInput } | { ok: false; problems: DocProblem[] };

/** Validates `{base_url, auth_token, paths?: {crm?, outgoing?, templates?}}`. */
export function validateRemoteTarget(input: unknown): RemoteTargetResult {
  const problems: DocProblem[] = [];
  if (!isObject(input)) return { ok: false, problems: [{ path: [], message: 'must be an object {base_url, auth_token, paths}' }] };
  checkKeys(input, ['base_url', 'auth_token', 'paths'], [], problems);
  const baseUrl = serviceUrl(input.base_url, problems);
  const authToken = singleLine(input.auth_token, ['auth_token'], problems, 256);
  const paths: Record<SimulatorCallback, string> = { ...DEFAULT_CALLBACK_PATHS };
  if (input.paths !== undefined && input.paths !== null) {
    if (!isObject(input.paths)) problems.push({ path: ['paths'], message: 'must be an object {crm, outgoing, templates}' });
    else {
      checkKeys(input.paths, SIMULATOR_CALLBACKS, ['paths'], problems);
      for (const name of SIMULATOR_CALLBACKS) {
        const value = input.paths[name];
        if (value === undefined || value === null || value === '') continue;
        const path = callbackPath(value, ['paths', name], problems);
        if (path !== undefined) paths[name] = path;
      }
    }
  }
  if (problems.length > 0 || baseUrl === undefined || authToken === undefined) return { ok: false, problems };
  return { ok: true, target: { baseUrl, authToken, paths } };
}

function serviceUrl(value: unknown, problems: DocProblem[]): string | undefined {
  const path = ['base_url'];
  const raw = singleLine(value, path, problems, 2000);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push({ path, message: 'must be an absolute URL such as https://fis.example.com' });
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push({ path, message: 'must be an http(s) URL' });
  else if (url.username !== '' || url.password !== '') problems.push({ path, message: 'must not carry a user name or password' });
  else if (url.search !== '' || url.hash !== '') problems.push({ path, message: 'must not have a query or fragment; set the paths instead' });
  else return raw.replace(/\/+$/, '');
  return undefined;
}

function callbackPath(value: unknown, path: Array<string | number>, problems: DocProblem[]): string | undefined {
  const raw = singleLine(value, path, problems, 500);
  if (raw === undefined) return undefined;
  if (!raw.startsWith('/') || raw.startsWith('//')) {
    problems.push({ path, message: 'must be a path starting with /, such as /callbacks/crm' });
    return undefined;
  }
  if (/\s|#/.test(raw)) {
    problems.push({ path, message: 'must not contain white space or #' });
    return undefined;
  }
  return raw;
}

/** The last four characters of a secret, for a person to recognise it by. */
export function secretHint(secret: string): string {
  return secret.length <= 8 ? '…' : `…${secret.slice(-4)}`;
}
