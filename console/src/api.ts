/**
 * The admin API, as the console calls it: JSON over fetch with `Authorization: Bearer`, the
 * token from this tab's session. A 401 ends the session; a 400's problem list is kept, field by
 * field, for the forms to show next to their inputs.
 */
import { session, signOut } from './session';

export interface FieldProblem {
  /** `display_name`, `channels[0].value`, … (empty for the record as a whole). */
  readonly field: string;
  readonly message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResult<T> {
  readonly data: T;
  readonly etag: string | undefined;
  readonly status: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly ifMatch?: string;
  /** Use this token instead of the session's (signing in). */
  readonly token?: string;
  readonly signal?: AbortSignal;
}

export const API = '/api/v1';

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResult<T>> {
  const token = options.token ?? session.get()?.token;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let res: Response;
  try {
    res = await fetch(API + path, { method, headers, body, signal: options.signal, credentials: 'omit', cache: 'no-store' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'The service did not answer; check that it is running.');
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text === '' ? undefined : JSON.parse(text);
  } catch {
    data = text;
  }
  if (!res.ok) {
    const error = toApiError(res.status, data);
    if (res.status === 401 && options.token === undefined) signOut('The service no longer accepts this token. Sign in again.');
    throw error;
  }
  return { data: data as T, etag: res.headers.get('etag') ?? undefined, status: res.status };
}

export const get = <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options);

function toApiError(status: number, data: unknown): ApiError {
  const envelope = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const err = (envelope.error && typeof envelope.error === 'object' ? envelope.error : envelope) as Record<string, unknown>;
  const code = typeof err.code === 'string' ? err.code : `HTTP_${status}`;
  const message = typeof err.message === 'string' ? err.message : typeof data === 'string' && data ? data : `HTTP ${status}`;
  const list = (err.problems ?? envelope.problems ?? err.errors ?? envelope.errors) as unknown;
  const problems: FieldProblem[] = [];
  if (Array.isArray(list)) {
    for (const p of list) {
      if (!p || typeof p !== 'object') continue;
      const item = p as Record<string, unknown>;
      problems.push({ field: fieldOf(item.field ?? item.path ?? item.pointer), message: String(item.message ?? 'is invalid') });
    }
  }
  return new ApiError(status, code, message, problems);
}

/** `channels[0].value` from `channels[0].value`, `['channels', 0, 'value']` or `/channels/0/value`. */
export function fieldOf(raw: unknown): string {
  if (Array.isArray(raw)) {
    let out = '';
    for (const part of raw) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
    return out;
  }
  if (typeof raw !== 'string') return '';
  if (raw.startsWith('/')) return fieldOf(raw.slice(1).split('/').map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~'))));
  return raw;
}

/** `?a=1&b=2`, leaving out empty values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}
