/**
 * Which integration service the simulator plays the app against: this one, or another one an
 * admin configured (its URL, the token its callbacks are signed with, its paths), so a company
 * can look at the service it runs today before switching. A read-only token uses the setting
 * but cannot change it.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { FieldMessage } from '../ui/form';
import { type CallbackName, clearTarget, getTarget, setTarget, type TargetView } from './sim-api';

const EMPTY_PATHS: Record<CallbackName, string> = { crm: '', outgoing: '', templates: '' };

export function TargetSettings({ readOnly, onChange }: { readOnly: boolean; onChange: () => void }) {
  const [target, setTargetView] = useState<TargetView | undefined>();
  const [editing, setEditing] = useState(false);
  const [baseUrl, setBaseUrl] = useState('');
  const [token, setToken] = useState('');
  const [paths, setPaths] = useState<Record<CallbackName, string>>(EMPTY_PATHS);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);

  const load = () =>
    getTarget()
      .then(setTargetView)
      .catch((err: ApiError) => setError(err));
  useEffect(() => {
    void load();
  }, []);

  function edit() {
    setBaseUrl(target?.mode === 'remote' ? target.base_url : '');
    setPaths(target?.mode === 'remote' ? { ...target.paths } : EMPTY_PATHS);
    setToken('');
    setError(undefined);
    setEditing(true);
  }

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setTargetView(await setTarget({ base_url: baseUrl, auth_token: token, paths }));
      setEditing(false);
      onChange();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  async function useThisService() {
    setBusy(true);
    try {
      await clearTarget();
      await load();
      setEditing(false);
      onChange();
    } catch (err) {
      setError(err as ApiError);
    } finally {
      setBusy(false);
    }
  }

  const problems = error?.problems ?? [];
  return (
    <section class="sim-target" aria-label="Target service">
      <p>
        <strong>Target:</strong>{' '}
        {target ? (
          <>
            <span data-testid="sim-target-url">{target.base_url || 'this service'}</span>{' '}
            <span class="muted">
              ({target.mode === 'self' ? 'this service' : `another service, token ${target.auth_token_hint ?? ''}`}
              {target.signed ? ', requests signed' : target.problem ? '' : ', requests unsigned: INSECURE_DEV_MODE'})
            </span>
          </>
        ) : (
          '…'
        )}
        {!readOnly && !editing && (
          <>
            {' '}
            <button type="button" class="small secondary" onClick={edit}>
              Point at another service…
            </button>
          </>
        )}
        {!readOnly && !editing && target?.mode === 'remote' && (
          <>
            {' '}
            <button type="button" class="small secondary" onClick={useThisService} disabled={busy}>
              Use this service
            </button>
          </>
        )}
      </p>
      {target?.problem && (
        <p class="error-text" role="alert" data-testid="sim-target-problem">
          {target.problem}
        </p>
      )}
      {error && !editing && <p class="error-text" role="alert">{error.message}</p>}
      {editing && (
        <form class="target-form" onSubmit={save}>
          <label>
            Base URL
            <input type="url" required value={baseUrl} placeholder="https://fis.example.com" onInput={(e) => setBaseUrl((e.currentTarget as HTMLInputElement).value)} />
            <FieldMessage problems={problems} field="base_url" />
          </label>
          <label>
            Its Twilio auth token
            <input type="password" required autocomplete="off" value={token} onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
            <FieldMessage problems={problems} field="auth_token" />
          </label>
          {(['crm', 'outgoing', 'templates'] as const).map((name) => (
            <label key={name}>
              {name === 'crm' ? 'CRM path' : name === 'outgoing' ? 'Outgoing conversations path' : 'Templates path'}
              <input
                type="text"
                value={paths[name]}
                placeholder={name === 'crm' ? '/callbacks/crm' : name === 'outgoing' ? '/callbacks/outgoing-conversation' : '/callbacks/templates'}
                onInput={(e) => setPaths({ ...paths, [name]: (e.currentTarget as HTMLInputElement).value })}
              />
              <FieldMessage problems={problems} field={`paths.${name}`} />
            </label>
          ))}
          {error && problems.length === 0 && <p class="error-text" role="alert">{error.message}</p>}
          <div class="actions">
            <button type="submit" disabled={busy}>
              Save target
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
