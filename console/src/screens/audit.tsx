/** The audit trail: every write through the admin API, newest first (who, when, what; never values). */
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { type AuditEntry, listAudit } from '../data';
import { Notice } from '../ui/form';
import { formatTime } from '../ui/text';

export function Audit() {
  const [rows, setRows] = useState<AuditEntry[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);

  async function load(token: string | undefined) {
    setLoading(true);
    try {
      const page = await listAudit(token);
      setRows((r) => (token ? [...(r ?? []), ...page.items] : page.items));
      setNext(page.next);
    } catch (err) {
      setError((err as ApiError).message);
      setRows((r) => r ?? []);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load(undefined);
  }, []);

  return (
    <>
      <div class="page-head">
        <h1>Audit trail</h1>
        <span class="muted">Every change made through the admin API and the console, newest first.</span>
      </div>
      {error && <Notice tone="error">{error}</Notice>}
      <table class="data" aria-label="Audit trail">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Token</th>
            <th scope="col">Action</th>
            <th scope="col">What</th>
            <th scope="col">Fields changed</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.at)}</td>
              <td class="mono">{e.token}</td>
              <td class="mono">{e.action}</td>
              <td class="wrap mono">{e.resource_id ?? ''}</td>
              <td>
                <span class="fields">
                  {(e.fields ?? []).map((f) => (
                    <span class="badge" key={f}>
                      {f}
                    </span>
                  ))}
                  {e.summary &&
                    Object.entries(e.summary).map(([k, v]) => (
                      <span class="badge" key={k}>
                        {k}: {String(v)}
                      </span>
                    ))}
                </span>
              </td>
            </tr>
          ))}
          {rows?.length === 0 && !error && (
            <tr>
              <td colSpan={5} class="muted">
                Nothing has been changed through the admin API yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div class="pager">
        {next && (
          <button type="button" class="secondary" disabled={loading} onClick={() => load(next)}>
            Older entries
          </button>
        )}
        {loading && <span class="muted">Loading…</span>}
      </div>
    </>
  );
}
