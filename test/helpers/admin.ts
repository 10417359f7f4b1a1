/** An admin API client over real HTTP, and tokens made the way `fis tokens create` makes them. */
import { TokenService } from '../../src/domains/access/token.service.js';
import { type TestService, toWire, type WireResponse } from './service.js';

export interface AdminRequest {
  token?: string | undefined;
  /** A JSON value (sent as application/json unless `contentType` says otherwise) or a raw string. */
  body?: unknown;
  raw?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

export async function adminCall(service: TestService, method: string, path: string, req: AdminRequest = {}): Promise<WireResponse> {
  const headers: Record<string, string> = { ...(req.token ? { authorization: `Bearer ${req.token}` } : {}), ...req.headers };
  let body: string | Uint8Array | undefined;
  if (req.raw !== undefined) body = req.raw;
  else if (req.body !== undefined) body = JSON.stringify(req.body);
  if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  const res = await fetch(`${service.url}/api/v1${path}`, { method, headers, body });
  return toWire(res);
}

export async function makeToken(service: TestService, name: string, readOnly = false): Promise<string> {
  const result = await new TokenService(service.store.db).create(name, { readOnly });
  if (!result.ok) throw new Error(result.reason);
  return result.token;
}

/** A client bound to one token. */
export function adminClient(service: TestService, token: string) {
  const call = (method: string, path: string, req: Omit<AdminRequest, 'token'> = {}) => adminCall(service, method, path, { ...req, token });
  return {
    get: (path: string, req?: Omit<AdminRequest, 'token'>) => call('GET', path, req),
    post: (path: string, body?: unknown, req?: Omit<AdminRequest, 'token'>) => call('POST', path, { ...req, body }),
    put: (path: string, body?: unknown, req?: Omit<AdminRequest, 'token'>) => call('PUT', path, { ...req, body }),
    patch: (path: string, body?: unknown, req?: Omit<AdminRequest, 'token'>) => call('PATCH', path, { contentType: 'application/merge-patch+json', ...req, body }),
    delete: (path: string, req?: Omit<AdminRequest, 'token'>) => call('DELETE', path, req),
    call,
  };
}
