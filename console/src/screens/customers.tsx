/**
 * Customers: search (the CRM callback's matching: name fragments, ids, e-mail, phone digits),
 * filter by owner, page by the API's cursor. The search and filter live in the URL.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { type CustomerRecord, listCustomers, listWorkerIdentities } from '../data';
import { linkProps, navigate, seg, useRoute } from '../router';
import { session } from '../session';
import { useSignal } from '../signal';
import { Avatar } from '../ui/avatar';
import { Notice } from '../ui/form';
import { CHANNEL_LABELS } from '../ui/text';

export const CUSTOMERS_PAGE_SIZE = 25;

export function Customers() {
  const me = useSignal(session);
  const route = useRoute();
  const query = route.query.get('q') ?? '';
  const owner = route.query.get('owner') ?? '';
  const [typed, setTyped] = useState(query);
  const [typedOwner, setTypedOwner] = useState(owner);
  const [workers, setWorkers] = useState<string[]>([]);
  const [rows, setRows] = useState<CustomerRecord[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Tokens of the pages before this one (the first page has none), and of the next page.
  const [tokens, setTokens] = useState<Array<string | undefined>>([undefined]);
  const [next, setNext] = useState<string | undefined>();
  const generation = useRef(0);

  useEffect(() => {
    listWorkerIdentities().then(setWorkers, () => setWorkers([]));
  }, []);

  async function load(pageToken: string | undefined) {
    const gen = ++generation.current;
    setError(undefined);
    try {
      const page = await listCustomers({ query: query || undefined, owner: owner || undefined, pageSize: CUSTOMERS_PAGE_SIZE, pageToken });
      if (gen !== generation.current) return;
      setRows(page.items);
      setNext(page.next);
    } catch (err) {
      if (gen !== generation.current) return;
      setRows([]);
      setNext(undefined);
      setError((err as ApiError).message);
    }
  }

  useEffect(() => {
    setTyped(query);
    setTypedOwner(owner);
    setTokens([undefined]);
    setRows(undefined);
    void load(undefined);
  }, [query, owner]);

  function search(event: Event) {
    event.preventDefault();
    const params = new URLSearchParams();
    if (typed.trim()) params.set('q', typed.trim());
    if (typedOwner.trim()) params.set('owner', typedOwner.trim());
    const s = params.toString();
    navigate(`/customers${s ? `?${s}` : ''}`);
  }

  const pageNumber = tokens.length;
  return (
    <>
      <div class="page-head">
        <h1>Customers</h1>
        <div class="actions">
          {!me?.readOnly && (
            <a class="button" {...linkProps('/customers/new')}>
              New customer
            </a>
          )}
        </div>
      </div>
      <form class="toolbar" role="search" onSubmit={search}>
        <label>
          Search
          <input
            type="search"
            name="q"
            value={typed}
            placeholder="Name, id, e-mail or phone"
            onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Owner
          <input
            type="text"
            name="owner"
            list="owners"
            value={typedOwner}
            placeholder="Any worker"
            onInput={(e) => setTypedOwner((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <datalist id="owners">
          {workers.map((w) => (
            <option key={w} value={w} />
          ))}
        </datalist>
        <button type="submit">Search</button>
        {(query || owner) && (
          <button type="button" class="secondary" onClick={() => navigate('/customers')}>
            Clear
          </button>
        )}
      </form>
      {error && <Notice tone="error">{error}</Notice>}
      <table class="data" aria-label="Customers" aria-busy={rows === undefined}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Customer id</th>
            <th scope="col">Owners</th>
            <th scope="col">Channels</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((c) => (
            <tr key={c.customer_id} data-customer-id={c.customer_id}>
              <td>
                <span class="cell-name">
                  <Avatar name={c.display_name} url={c.avatar} />
                  <a {...linkProps(`/customers/${seg(c.customer_id)}`)}>{c.display_name}</a>
                </span>
              </td>
              <td class="wrap mono">{c.customer_id}</td>
              <td class="wrap">{c.workers.join(', ')}</td>
              <td class="wrap">
                {(c.channels ?? []).map((ch, i) => (
                  <div key={i}>
                    <span class="muted">{CHANNEL_LABELS[ch.type] ?? ch.type}</span> {ch.value}
                  </div>
                ))}
              </td>
            </tr>
          ))}
          {rows?.length === 0 && !error && (
            <tr>
              <td colSpan={4} class="muted">
                {query || owner ? 'No customer matches.' : 'No customers yet.'}
              </td>
            </tr>
          )}
          {rows === undefined && (
            <tr>
              <td colSpan={4} class="muted">
                Loading…
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          class="secondary"
          disabled={pageNumber <= 1}
          onClick={() => {
            const previous = tokens.slice(0, -1);
            setTokens(previous);
            void load(previous[previous.length - 1]);
          }}
        >
          ‹ Previous
        </button>
        <span class="muted">Page {pageNumber}</span>
        <button
          type="button"
          class="secondary"
          disabled={!next}
          onClick={() => {
            setTokens([...tokens, next]);
            void load(next);
          }}
        >
          Next ›
        </button>
      </nav>
    </>
  );
}
