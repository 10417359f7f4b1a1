/**
 * My Customers, paged exactly as the Frontline app pages: PageSize 30; the next page asked for by
 * the `next_page_token` the service gave (as NextPageToken), else by the last customer's id (as
 * Anchor); an empty page ends the list. Typing in the search box starts over with `Query`.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Avatar } from '../ui/avatar';
import { type Exchange, failureOf, replyJson } from './sim-api';

export const APP_PAGE_SIZE = 30;
const SEARCH_DELAY_MS = 300;

interface ListItem {
  customer_id: string;
  display_name: string;
  avatar?: string;
}

interface ListState {
  items: ListItem[];
  seen: Set<string>;
  token: string | undefined;
  loading: boolean;
  ended: boolean;
  requests: number;
  error: string | undefined;
  warning: string | undefined;
  searchable: boolean | undefined;
}

const fresh = (): ListState => ({
  items: [],
  seen: new Set(),
  token: undefined,
  loading: false,
  ended: false,
  requests: 0,
  error: undefined,
  warning: undefined,
  searchable: undefined,
});

export interface CustomersListProps {
  worker: string;
  hidden: boolean;
  call: (callback: 'crm', params: Record<string, string>) => Promise<Exchange>;
  onOpen: (customer: ListItem) => void;
}

export function CustomersList({ worker, hidden, call, onOpen }: CustomersListProps) {
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const state = useRef<ListState>(fresh());
  const generation = useRef(0);
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useState(0);
  const update = () => rerender((n) => n + 1);

  useEffect(() => {
    const timer = setTimeout(() => setQuery(typed.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [typed]);

  async function loadNext() {
    const s = state.current;
    if (s.loading || s.ended || s.error || !worker) return;
    const gen = generation.current;
    s.loading = true;
    update();
    const params: Record<string, string> = { Location: 'GetCustomersList', Worker: worker, PageSize: String(APP_PAGE_SIZE) };
    if (query) params.Query = query;
    if (s.token) params.NextPageToken = s.token;
    else if (s.items.length > 0) params.Anchor = (s.items[s.items.length - 1] as ListItem).customer_id;
    let exchange: Exchange;
    try {
      exchange = await call('crm', params);
    } catch (err) {
      if (gen !== generation.current) return;
      s.loading = false;
      s.error = (err as Error).message;
      update();
      return;
    }
    if (gen !== generation.current) return;
    s.loading = false;
    s.requests++;
    const failure = failureOf(exchange);
    if (failure) {
      s.error = failure;
      update();
      return;
    }
    const json = replyJson(exchange) as { objects?: { customers?: unknown; next_page_token?: unknown; searchable?: unknown } } | unknown[];
    // Some services answer a bare [] to end the list; the app takes it as an empty page.
    const objects = Array.isArray(json) ? { customers: json } : (json?.objects ?? {});
    const customers = Array.isArray(objects.customers) ? (objects.customers as ListItem[]) : [];
    s.searchable = typeof objects.searchable === 'boolean' ? objects.searchable : undefined;
    s.token = typeof objects.next_page_token === 'string' && objects.next_page_token !== '' ? objects.next_page_token : undefined;
    const added = customers.filter((c) => c && typeof c.customer_id === 'string' && !s.seen.has(c.customer_id));
    for (const c of added) s.seen.add(c.customer_id);
    s.items = s.items.concat(added);
    if (customers.length === 0) s.ended = true;
    else if (added.length === 0) {
      s.ended = true;
      s.warning = 'The service answered only customers already listed: the app would loop here. Paging stopped.';
    } else if (added.length < customers.length) {
      s.warning = `The service repeated ${customers.length - added.length} customer(s) already listed.`;
    }
    update();
  }

  // A new worker or a new query starts the list over.
  useEffect(() => {
    generation.current++;
    state.current = fresh();
    update();
    if (worker) void loadNext();
  }, [worker, query]);

  // After each page: if the end of the list is still in view, ask for the next one, as the app does.
  useEffect(() => {
    if (!hidden) nearEnd();
  });

  function nearEnd() {
    const el = scroller.current;
    if (!el) return;
    if (el.scrollTop + el.clientHeight >= el.scrollHeight - 120) void loadNext();
  }

  const s = state.current;
  return (
    <section class="phone-screen" hidden={hidden} aria-label="My Customers">
      <header class="phone-bar">
        <h3>My Customers</h3>
      </header>
      <div class="phone-search">
        <input
          type="search"
          aria-label="Search customers"
          placeholder="Search"
          value={typed}
          onInput={(e) => setTyped((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <div class="phone-scroll" ref={scroller} onScroll={nearEnd} data-testid="customer-scroll">
        {!worker && <p class="phone-note">Choose a worker to see their customers.</p>}
        <ul class="phone-list" aria-label="Customers">
          {s.items.map((c) => (
            <li key={c.customer_id}>
              <button type="button" class="phone-row" data-customer-id={c.customer_id} onClick={() => onOpen(c)}>
                <Avatar name={String(c.display_name ?? '')} url={c.avatar} />
                <span class="phone-row-name">{String(c.display_name ?? '')}</span>
              </button>
            </li>
          ))}
        </ul>
        {s.loading && <p class="phone-note" role="status">Loading…</p>}
        {s.error && (
          <div class="phone-error" role="alert">
            <p>{s.error}</p>
            <button
              type="button"
              onClick={() => {
                s.error = undefined;
                void loadNext();
              }}
            >
              Retry
            </button>
          </div>
        )}
        {s.warning && <p class="phone-warning">{s.warning}</p>}
        {s.ended && (
          <p class="phone-end" data-testid="list-end">
            {s.items.length === 0 ? (query ? 'No customers match.' : 'No customers.') : `End of list: ${s.items.length} customers`} ·{' '}
            {s.requests} request{s.requests === 1 ? '' : 's'}
          </p>
        )}
      </div>
      {s.searchable === false && <p class="phone-note">The service did not say it is searchable: the app filters the loaded list itself.</p>}
    </section>
  );
}
