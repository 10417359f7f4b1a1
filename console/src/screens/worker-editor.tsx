/**
 * One worker: display name and avatar (what templates fill in as {{worker.…}}), state and
 * availability (what routing and Frontline's User resource read), and their book:
 * the customers they own, paged, with assign and unassign.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type FieldProblem } from '../api';
import {
  assignCustomer,
  createWorker,
  type CustomerRecord,
  deleteWorker,
  getWorker,
  listCustomers,
  replaceWorker,
  unassignCustomer,
} from '../data';
import { linkProps, navigate, seg } from '../router';
import { session } from '../session';
import { useSignal } from '../signal';
import { Avatar } from '../ui/avatar';
import { FieldMessage, Notice, OtherProblems } from '../ui/form';

const BOOK_PAGE_SIZE = 25;

export function WorkerEditor({ identity }: { identity: string | undefined }) {
  const me = useSignal(session);
  const readOnly = me?.readOnly ?? true;
  const isNew = identity === undefined;
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [avatar, setAvatar] = useState('');
  const [state, setState] = useState<'active' | 'deactivated'>('active');
  const [available, setAvailable] = useState(true);
  const [etag, setEtag] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(isNew);
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (isNew) return;
    getWorker(identity).then(
      (res) => {
        setName(res.data.display_name ?? '');
        setAvatar(res.data.avatar ?? '');
        setState(res.data.state ?? 'active');
        setAvailable(res.data.available ?? true);
        setEtag(res.etag);
        setLoaded(true);
      },
      (err: ApiError) => setMessage({ tone: 'error', text: err.status === 404 ? `There is no worker "${identity}".` : err.message }),
    );
  }, [identity]);

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblems([]);
    setMessage(undefined);
    const body = {
      ...(name.trim() ? { display_name: name } : {}),
      ...(avatar.trim() ? { avatar: avatar.trim() } : {}),
      state,
      available,
    };
    try {
      if (isNew) {
        await createWorker({ identity: id, ...body });
        navigate(`/workers/${seg(id)}`, { replace: true });
        return;
      }
      const res = await replaceWorker(identity, body, etag);
      setEtag(res.etag);
      setMessage({ tone: 'ok', text: 'Saved.' });
    } catch (err) {
      const e = err as ApiError;
      setProblems([...e.problems]);
      setMessage({ tone: 'error', text: e.status === 412 ? 'Someone changed this worker after you opened it; reload the page.' : e.message });
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await deleteWorker(identity as string, etag);
      navigate('/workers');
    } catch (err) {
      setMessage({ tone: 'error', text: (err as ApiError).message });
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p>
        <a {...linkProps('/workers')}>‹ Workers</a>
      </p>
      <div class="page-head">
        <h1>{isNew ? 'New worker' : name || identity}</h1>
        {!isNew && <span class="muted mono">{identity}</span>}
      </div>
      {readOnly && <Notice>This token is read-only: you can look, but not change anything.</Notice>}
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      {loaded && (
        <form class="editor" onSubmit={save} noValidate aria-label="Worker">
          <fieldset class="plain" disabled={readOnly || busy}>
            <OtherProblems problems={problems} shown={(f) => ['identity', 'display_name', 'avatar', 'state', 'available'].includes(f)} />
            <fieldset>
              <legend>Worker</legend>
              {isNew && (
                <label>
                  Identity (as the Frontline app signs in: usually the e-mail address)
                  <input name="identity" value={id} onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
                  <FieldMessage problems={problems} field="identity" />
                </label>
              )}
              <label>
                Display name
                <input name="display_name" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
                <FieldMessage problems={problems} field="display_name" />
              </label>
              <label>
                Avatar URL
                <input name="avatar" type="url" value={avatar} onInput={(e) => setAvatar((e.currentTarget as HTMLInputElement).value)} />
                <FieldMessage problems={problems} field="avatar" />
              </label>
              <label>
                State
                <select name="state" value={state} onChange={(e) => setState((e.currentTarget as HTMLSelectElement).value as 'active' | 'deactivated')}>
                  <option value="active">Active: routed to</option>
                  <option value="deactivated">Deactivated: keeps their customers, never routed to</option>
                </select>
                <FieldMessage problems={problems} field="state" />
              </label>
              <label class="checkbox">
                <input name="available" type="checkbox" checked={available} onChange={(e) => setAvailable((e.currentTarget as HTMLInputElement).checked)} />
                Available (Frontline's IsAvailable)
                <FieldMessage problems={problems} field="available" />
              </label>
            </fieldset>
            {!readOnly && (
              <div class="actions">
                <button type="submit">{isNew ? 'Create worker' : 'Save'}</button>
                {!isNew && (
                  <button type="button" class="danger" onClick={remove}>
                    Delete worker
                  </button>
                )}
              </div>
            )}
          </fieldset>
          <aside class="side-card">
            <Avatar name={name || identity || id || '?'} url={avatar} size="large" />
            <p>{name || identity || id}</p>
          </aside>
        </form>
      )}
      {!isNew && loaded && <Book identity={identity} readOnly={readOnly} />}
    </>
  );
}

/** The worker's customers, paged, with assign and unassign. */
function Book({ identity, readOnly }: { identity: string; readOnly: boolean }) {
  const [rows, setRows] = useState<CustomerRecord[] | undefined>();
  const [tokens, setTokens] = useState<Array<string | undefined>>([undefined]);
  const [next, setNext] = useState<string | undefined>();
  const [assignId, setAssignId] = useState('');
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | undefined>();
  const generation = useRef(0);

  async function load(token: string | undefined) {
    const gen = ++generation.current;
    try {
      const page = await listCustomers({ owner: identity, pageSize: BOOK_PAGE_SIZE, pageToken: token });
      if (gen !== generation.current) return;
      setRows(page.items);
      setNext(page.next);
    } catch (err) {
      setRows([]);
      setMessage({ tone: 'error', text: (err as ApiError).message });
    }
  }

  useEffect(() => {
    void load(undefined);
  }, [identity]);

  async function assign(event: Event) {
    event.preventDefault();
    const id = assignId.trim();
    if (!id) return;
    try {
      await assignCustomer(identity, id);
      setAssignId('');
      setMessage({ tone: 'ok', text: `Customer ${id} is now in this worker's book.` });
      setTokens([undefined]);
      await load(undefined);
    } catch (err) {
      const e = err as ApiError;
      setMessage({ tone: 'error', text: e.status === 404 ? `There is no customer "${id}".` : e.message });
    }
  }

  async function unassign(id: string) {
    try {
      await unassignCustomer(identity, id);
      setMessage({ tone: 'ok', text: `Customer ${id} was removed from this worker's book.` });
      await load(tokens[tokens.length - 1]);
    } catch (err) {
      setMessage({ tone: 'error', text: (err as ApiError).message });
    }
  }

  return (
    <section aria-label="Book" class="panel">
      <h2>Book</h2>
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      {!readOnly && (
        <form class="toolbar" onSubmit={assign}>
          <label>
            Assign a customer by id
            <input name="assign" value={assignId} onInput={(e) => setAssignId((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <button type="submit">Assign</button>
        </form>
      )}
      <table class="data" aria-label="Customers in this book">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Customer id</th>
            <th scope="col">Other owners</th>
            {!readOnly && <th scope="col"><span class="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows?.map((c) => (
            <tr key={c.customer_id}>
              <td>
                <a {...linkProps(`/customers/${seg(c.customer_id)}`)}>{c.display_name}</a>
              </td>
              <td class="mono wrap">{c.customer_id}</td>
              <td class="wrap">{c.workers.filter((w) => w !== identity).join(', ')}</td>
              {!readOnly && (
                <td>
                  <button type="button" class="small secondary" onClick={() => unassign(c.customer_id)} aria-label={`Unassign ${c.display_name}`}>
                    Unassign
                  </button>
                </td>
              )}
            </tr>
          ))}
          {rows?.length === 0 && (
            <tr>
              <td colSpan={4} class="muted">
                No customers in this book.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <nav class="pager" aria-label="Book pages">
        <button
          type="button"
          class="secondary"
          disabled={tokens.length <= 1}
          onClick={() => {
            const previous = tokens.slice(0, -1);
            setTokens(previous);
            void load(previous[previous.length - 1]);
          }}
        >
          ‹ Previous
        </button>
        <span class="muted">Page {tokens.length}</span>
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
    </section>
  );
}
