/** Admin tokens made as `fis tokens create` makes them, and JSON requests that carry one. */
import { TokenService } from '../../src/domains/access/token.service.js';
import type { Store } from '../../src/platform/db/connect.js';
import { toWire, type WireResponse } from './service.js';

export async function createAdminToken(store: Store, name: string, readOnly = false): Promise<string> {
  const created = await new TokenService(store.db).create(name, { readOnly });
  if (!created.ok) throw new Error(created.reason);
  return created.token;
}

export async function adminCall(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  const res = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return toWire(res);
}
