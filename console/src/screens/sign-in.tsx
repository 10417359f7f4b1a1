/**
 * Sign in with an admin token (`fis tokens create NAME`; `npm run demo` prints one). The token
 * stays in this tab's session storage and goes out only as `Authorization: Bearer`.
 */
import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { whoAmI } from '../data';
import { signIn, signOutReason } from '../session';
import { useSignal } from '../signal';

export function SignIn() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const reason = useSignal(signOutReason);

  async function submit(event: Event) {
    event.preventDefault();
    const value = token.trim();
    if (!value) return setError('Paste an admin token.');
    setBusy(true);
    setError(undefined);
    try {
      const me = await whoAmI(value);
      signOutReason.set(undefined);
      signIn({ token: value, name: me.name, readOnly: me.readOnly });
    } catch (err) {
      const e = err as ApiError;
      setError(e.status === 401 ? 'The service does not know this token (or it was revoked).' : e.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Frontline Integration Service</h1>
        <p class="muted">Sign in to the console with an admin token.</p>
        {reason && <p class="notice notice-info">{reason}</p>}
        <label>
          Admin token
          <input
            type="password"
            name="token"
            autocomplete="off"
            autoFocus
            value={token}
            onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)}
            aria-describedby="token-help"
          />
        </label>
        <p id="token-help" class="hint">
          Create one with <code>fis tokens create NAME</code> (add <code>--read-only</code> for a token that can look but not change).
          It is kept in this tab only, until you sign out or close it.
        </p>
        {error && (
          <p class="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
