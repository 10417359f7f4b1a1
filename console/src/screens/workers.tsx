/** Workers (reps): who they are to the service, and a way into each one's book of customers. */
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { listWorkers, type Worker } from '../data';
import { linkProps, seg } from '../router';
import { session } from '../session';
import { useSignal } from '../signal';
import { Avatar } from '../ui/avatar';
import { Notice } from '../ui/form';

export function Workers() {
  const me = useSignal(session);
  const [workers, setWorkers] = useState<Worker[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [filter, setFilter] = useState('');

  useEffect(() => {
    listWorkers().then(setWorkers, (err: ApiError) => {
      setWorkers([]);
      setError(err.message);
    });
  }, []);

  const needle = filter.trim().toLocaleLowerCase();
  const shown = (workers ?? []).filter(
    (w) => needle === '' || w.identity.toLocaleLowerCase().includes(needle) || (w.display_name ?? '').toLocaleLowerCase().includes(needle),
  );

  return (
    <>
      <div class="page-head">
        <h1>Workers</h1>
        <span class="muted">{workers ? `${workers.length} worker${workers.length === 1 ? '' : 's'}` : ''}</span>
        <div class="actions">
          {!me?.readOnly && (
            <a class="button" {...linkProps('/workers/new')}>
              New worker
            </a>
          )}
        </div>
      </div>
      <div class="toolbar">
        <label>
          Filter
          <input type="search" value={filter} placeholder="Identity or name" onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
        </label>
      </div>
      {error && <Notice tone="error">{error}</Notice>}
      <table class="data" aria-label="Workers">
        <thead>
          <tr>
            <th scope="col">Worker</th>
            <th scope="col">Identity</th>
            <th scope="col">Book</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((w) => (
            <tr key={w.identity}>
              <td>
                <span class="cell-name">
                  <Avatar name={w.display_name || w.identity} url={w.avatar} />
                  <a {...linkProps(`/workers/${seg(w.identity)}`)}>{w.display_name || w.identity}</a>
                </span>
              </td>
              <td class="wrap mono">{w.identity}</td>
              <td>
                <a {...linkProps(`/customers?owner=${encodeURIComponent(w.identity)}`)}>Customers</a>
              </td>
            </tr>
          ))}
          {workers === undefined && (
            <tr>
              <td colSpan={3} class="muted">
                Loading…
              </td>
            </tr>
          )}
          {workers !== undefined && shown.length === 0 && !error && (
            <tr>
              <td colSpan={3} class="muted">
                No workers.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
