/**
 * The admin token lives in this tab's sessionStorage: it survives a reload, is gone when the tab
 * closes, and is never a cookie, so no other site can make the browser use it (no CSRF).
 */
import { signal } from './signal';

const KEY = 'fis.console.token';

export interface Session {
  readonly token: string;
  /** The token's name, as the service knows it. */
  readonly name: string;
  readonly readOnly: boolean;
}

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Partial<Session>;
    if (typeof parsed.token !== 'string' || parsed.token === '') return undefined;
    return { token: parsed.token, name: String(parsed.name ?? ''), readOnly: parsed.readOnly === true };
  } catch {
    return undefined;
  }
}

export const session = signal<Session | undefined>(load());

export function signIn(value: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(value));
  session.set(value);
}

export function signOut(reason?: string): void {
  sessionStorage.removeItem(KEY);
  signOutReason.set(reason);
  session.set(undefined);
}

/** Why the last session ended, shown on the sign-in screen. */
export const signOutReason = signal<string | undefined>(undefined);
