/** The simulator's server half: signed callbacks sent by the service, and where they go. */
import { request } from '../api';

export type CallbackName = 'crm' | 'outgoing' | 'templates';

export interface Exchange {
  readonly callback: CallbackName;
  readonly target: 'self' | 'remote';
  readonly request: { method: string; url: string; headers: Record<string, string>; body: string };
  readonly response?: { status: number; headers: Record<string, string>; body: string; size_bytes: number; truncated: boolean };
  readonly error?: { message: string };
  readonly duration_ms: number;
  readonly budget_ms: number;
  readonly size_limit_bytes: number;
}

export interface TargetView {
  readonly mode: 'self' | 'remote';
  readonly base_url: string;
  readonly paths: Record<CallbackName, string>;
  readonly signed: boolean;
  readonly auth_token_hint?: string;
  /** Why the stored target cannot be used (its token was sealed under another key). */
  readonly problem?: string;
  readonly updated_at?: string;
  readonly updated_by?: string | null;
}

/** A logged exchange, numbered in the order it was sent. */
export interface LoggedExchange extends Exchange {
  readonly seq: number;
  readonly at: Date;
}

export async function sendCallback(callback: CallbackName, params: Record<string, string>): Promise<Exchange> {
  return (await request<Exchange>('POST', '/simulator/callback', { body: { callback, params } })).data;
}

export async function getTarget(): Promise<TargetView> {
  return (await request<TargetView>('GET', '/simulator/target')).data;
}

export async function setTarget(input: { base_url: string; auth_token: string; paths: Record<CallbackName, string> }): Promise<TargetView> {
  return (await request<TargetView>('PUT', '/simulator/target', { body: input })).data;
}

export async function clearTarget(): Promise<void> {
  await request('DELETE', '/simulator/target');
}

/** The reply's JSON, when it is JSON. */
export function replyJson(exchange: Exchange): unknown {
  if (!exchange.response) return undefined;
  try {
    return JSON.parse(exchange.response.body);
  } catch {
    return undefined;
  }
}

/** A short reason for a failed exchange: the service's error message, else its status. */
export function failureOf(exchange: Exchange): string | undefined {
  if (exchange.error) return exchange.error.message;
  const res = exchange.response;
  if (!res) return 'no reply';
  if (res.status >= 200 && res.status < 300) return undefined;
  const json = replyJson(exchange) as { error?: { code?: string; message?: string } | string; message?: string } | undefined;
  const err = json?.error;
  const message =
    typeof err === 'object' && err ? [err.code, err.message].filter(Boolean).join(': ') : typeof err === 'string' ? err : json?.message;
  return `HTTP ${res.status}${message ? ` — ${message}` : res.body ? ` — ${res.body.slice(0, 200)}` : ''}`;
}
