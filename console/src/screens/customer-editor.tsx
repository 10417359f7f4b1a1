/**
 * One customer: name, owners, channels, links, details, avatar. Saving sends the whole record
 * (PUT with If-Match, or POST for a new one); the API's 400 problem list is shown next to the
 * fields it names. A read-only token sees the same form, disabled, and no save.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type FieldProblem } from '../api';
import {
  type CustomerRecord,
  createCustomer,
  deleteCustomer,
  getCustomer,
  listWorkerIdentities,
  replaceCustomer,
} from '../data';
import { linkProps, navigate, seg } from '../router';
import { session } from '../session';
import { useSignal } from '../signal';
import { Avatar } from '../ui/avatar';
import { FieldMessage, Notice, OtherProblems } from '../ui/form';

const CHANNEL_TYPES = ['sms', 'whatsapp', 'chat', 'email'] as const;

interface Draft {
  customer_id: string;
  display_name: string;
  avatar: string;
  workers: string[];
  channels: Array<{ type: string; value: string }>;
  links: Array<{ type: string; value: string; display_name: string }>;
  detailsTitle: string;
  detailsContent: string;
}

const EMPTY: Draft = {
  customer_id: '',
  display_name: '',
  avatar: '',
  workers: [],
  channels: [],
  links: [],
  detailsTitle: '',
  detailsContent: '',
};

function toDraft(c: CustomerRecord): Draft {
  return {
    customer_id: c.customer_id,
    display_name: c.display_name,
    avatar: c.avatar ?? '',
    workers: [...c.workers],
    channels: (c.channels ?? []).map((ch) => ({ ...ch })),
    links: (c.links ?? []).map((l) => ({ type: l.type, value: l.value, display_name: l.display_name ?? '' })),
    detailsTitle: c.details?.title ?? '',
    detailsContent: c.details?.content ?? '',
  };
}

/** The record as the API takes it: empty optional parts left out, never sent as "". */
function toRecord(d: Draft): CustomerRecord {
  const record: CustomerRecord = { customer_id: d.customer_id, display_name: d.display_name, workers: d.workers.filter((w) => w !== '') };
  if (d.channels.length > 0) record.channels = d.channels;
  if (d.links.length > 0) record.links = d.links.map((l) => (l.display_name === '' ? { type: l.type, value: l.value } : l));
  if (d.detailsTitle !== '' || d.detailsContent !== '') record.details = { title: d.detailsTitle, content: d.detailsContent };
  if (d.avatar.trim() !== '') record.avatar = d.avatar.trim();
  return record;
}

export function CustomerEditor({ customerId }: { customerId: string | undefined }) {
  const me = useSignal(session);
  const readOnly = me?.readOnly ?? true;
  const isNew = customerId === undefined;
  const [draft, setDraft] = useState<Draft | undefined>(isNew ? EMPTY : undefined);
  const [etag, setEtag] = useState<string | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string; stale?: boolean } | undefined>();
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [workers, setWorkers] = useState<string[]>([]);
  const [newOwner, setNewOwner] = useState('');

  async function load() {
    if (isNew) return;
    setLoadError(undefined);
    try {
      const res = await getCustomer(customerId);
      setDraft(toDraft(res.data));
      setEtag(res.etag);
      setProblems([]);
    } catch (err) {
      setLoadError((err as ApiError).status === 404 ? `There is no customer "${customerId}".` : (err as ApiError).message);
    }
  }

  // After a refused save, the keyboard goes to the first field with a problem.
  useEffect(() => {
    if (problems.length === 0) return;
    const first = document.querySelector('form[aria-label="Customer"] .field-error');
    first?.closest('label, li, .row')?.querySelector<HTMLElement>('input, select, textarea')?.focus();
  }, [problems]);

  useEffect(() => {
    void load();
    listWorkerIdentities().then(setWorkers, () => setWorkers([]));
  }, [customerId]);

  if (loadError) {
    return (
      <>
        <p>
          <a {...linkProps('/customers')}>‹ Customers</a>
        </p>
        <Notice tone="error">{loadError}</Notice>
      </>
    );
  }
  if (!draft) return <p class="muted">Loading…</p>;

  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;

  async function save(event: Event) {
    event.preventDefault();
    if (!draft || readOnly) return;
    setBusy(true);
    setMessage(undefined);
    setProblems([]);
    try {
      const record = toRecord(draft);
      if (isNew) {
        await createCustomer(record);
        navigate(`/customers/${seg(record.customer_id)}`, { replace: true });
        return;
      }
      const res = await replaceCustomer(customerId as string, record, etag);
      setDraft(toDraft(res.data));
      setEtag(res.etag);
      setMessage({ tone: 'ok', text: 'Saved. The app sees the change from its next callback.' });
    } catch (err) {
      const e = err as ApiError;
      setProblems([...e.problems]);
      if (e.status === 412) setMessage({ tone: 'error', text: 'Someone changed this customer after you opened it. Reload to see their version; your edits here are not saved.', stale: true });
      else setMessage({ tone: 'error', text: e.problems.length > 0 ? `Not saved: ${e.message}` : e.message });
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    setBusy(true);
    try {
      await deleteCustomer(customerId as string, etag);
      navigate('/customers');
    } catch (err) {
      setMessage({ tone: 'error', text: (err as ApiError).message, stale: (err as ApiError).status === 412 });
      setConfirmDelete(false);
    } finally {
      setBusy(false);
    }
  }

  function addOwner() {
    const id = newOwner.trim();
    if (!draft || id === '' || draft.workers.includes(id)) return;
    set({ workers: [...draft.workers, id] });
    setNewOwner('');
  }

  const shownFields = (field: string) =>
    ['customer_id', 'display_name', 'avatar', 'workers', 'channels', 'links', 'details', 'details.title', 'details.content'].includes(field) ||
    /^(workers|channels|links)\[\d+\]/.test(field);

  return (
    <>
      <p>
        <a {...linkProps('/customers')}>‹ Customers</a>
      </p>
      <div class="page-head">
        <h1>{isNew ? 'New customer' : draft.display_name || customerId}</h1>
        {!isNew && <span class="muted mono">{customerId}</span>}
      </div>
      {readOnly && <Notice>This token is read-only: you can look, but not change anything.</Notice>}
      {message && (
        <Notice tone={message.tone}>
          {message.text}{' '}
          {message.stale && (
            <button type="button" class="small secondary" onClick={() => void load().then(() => setMessage(undefined))}>
              Reload
            </button>
          )}
        </Notice>
      )}
      <form class="editor" onSubmit={save} noValidate aria-label="Customer">
        <fieldset class="plain" disabled={readOnly || busy}>
          <OtherProblems problems={problems} shown={shownFields} />
          <fieldset>
            <legend>Customer</legend>
            {isNew && (
              <label>
                Customer id
                <input name="customer_id" value={draft.customer_id} onInput={(e) => set({ customer_id: value(e) })} aria-invalid={problems.some((p) => p.field === 'customer_id')} />
                <FieldMessage problems={problems} field="customer_id" />
              </label>
            )}
            <label>
              Display name
              <input name="display_name" value={draft.display_name} onInput={(e) => set({ display_name: value(e) })} aria-invalid={problems.some((p) => p.field === 'display_name')} />
              <FieldMessage problems={problems} field="display_name" />
            </label>
            <label>
              Avatar URL
              <input name="avatar" type="url" value={draft.avatar} placeholder="https://…" onInput={(e) => set({ avatar: value(e) })} aria-invalid={problems.some((p) => p.field === 'avatar')} />
              <FieldMessage problems={problems} field="avatar" />
            </label>
          </fieldset>

          <fieldset>
            <legend>Owners</legend>
            <p class="hint">The workers who see this customer in My Customers.</p>
            <ul class="list-plain" aria-label="Owners">
              {draft.workers.map((w, i) => (
                <li key={`${w}-${i}`} class="row row-owner">
                  <span data-testid="owner">{w}</span>
                  <button type="button" class="small secondary" aria-label={`Remove owner ${w}`} onClick={() => set({ workers: draft.workers.filter((_, j) => j !== i) })}>
                    Remove
                  </button>
                  <FieldMessage problems={problems} field={`workers[${i}]`} />
                </li>
              ))}
            </ul>
            <FieldMessage problems={problems} field="workers" />
            <div class="row row-owner">
              <label>
                <span class="sr-only">Add an owner</span>
                <input
                  name="new_owner"
                  list="editor-workers"
                  value={newOwner}
                  placeholder="Worker identity"
                  onInput={(e) => setNewOwner(value(e))}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      addOwner();
                    }
                  }}
                />
              </label>
              <button type="button" class="secondary" onClick={addOwner}>
                Add owner
              </button>
            </div>
            <datalist id="editor-workers">
              {workers.map((w) => (
                <option key={w} value={w} />
              ))}
            </datalist>
          </fieldset>

          <fieldset>
            <legend>Channels</legend>
            {draft.channels.map((ch, i) => (
              <div class="row row-channel" key={i}>
                <label>
                  <span class="sr-only">Channel {i + 1} type</span>
                  <select
                    name={`channels[${i}].type`}
                    value={ch.type}
                    onChange={(e) => set({ channels: draft.channels.map((c, j) => (j === i ? { ...c, type: value(e) } : c)) })}
                  >
                    {CHANNEL_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                  <FieldMessage problems={problems} field={`channels[${i}].type`} />
                </label>
                <label>
                  <span class="sr-only">Channel {i + 1} address</span>
                  <input
                    name={`channels[${i}].value`}
                    value={ch.value}
                    placeholder={ch.type === 'email' ? 'name@example.com' : ch.type === 'chat' ? 'identity' : '+14155550100'}
                    aria-invalid={problems.some((p) => p.field.startsWith(`channels[${i}]`))}
                    onInput={(e) => set({ channels: draft.channels.map((c, j) => (j === i ? { ...c, value: value(e) } : c)) })}
                  />
                  <FieldMessage problems={problems} field={`channels[${i}].value`} />
                  <FieldMessage problems={problems} field={`channels[${i}]`} />
                </label>
                <button type="button" class="small secondary" aria-label={`Remove channel ${i + 1}`} onClick={() => set({ channels: draft.channels.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              </div>
            ))}
            <FieldMessage problems={problems} field="channels" />
            <p>
              <button type="button" class="small secondary" onClick={() => set({ channels: [...draft.channels, { type: 'sms', value: '' }] })}>
                Add channel
              </button>
            </p>
          </fieldset>

          <fieldset>
            <legend>Links</legend>
            {draft.links.map((l, i) => (
              <div class="row row-link" key={i}>
                <label>
                  <span class="sr-only">Link {i + 1} type</span>
                  <input name={`links[${i}].type`} value={l.type} placeholder="Salesforce" onInput={(e) => set({ links: draft.links.map((x, j) => (j === i ? { ...x, type: value(e) } : x)) })} />
                  <FieldMessage problems={problems} field={`links[${i}].type`} />
                </label>
                <label>
                  <span class="sr-only">Link {i + 1} URL</span>
                  <input name={`links[${i}].value`} value={l.value} placeholder="https://…" onInput={(e) => set({ links: draft.links.map((x, j) => (j === i ? { ...x, value: value(e) } : x)) })} />
                  <FieldMessage problems={problems} field={`links[${i}].value`} />
                  <FieldMessage problems={problems} field={`links[${i}]`} />
                </label>
                <label>
                  <span class="sr-only">Link {i + 1} label</span>
                  <input name={`links[${i}].display_name`} value={l.display_name} placeholder="Label (optional)" onInput={(e) => set({ links: draft.links.map((x, j) => (j === i ? { ...x, display_name: value(e) } : x)) })} />
                  <FieldMessage problems={problems} field={`links[${i}].display_name`} />
                </label>
                <button type="button" class="small secondary" aria-label={`Remove link ${i + 1}`} onClick={() => set({ links: draft.links.filter((_, j) => j !== i) })}>
                  Remove
                </button>
              </div>
            ))}
            <FieldMessage problems={problems} field="links" />
            <p>
              <button type="button" class="small secondary" onClick={() => set({ links: [...draft.links, { type: '', value: '', display_name: '' }] })}>
                Add link
              </button>
            </p>
          </fieldset>

          <fieldset>
            <legend>Details</legend>
            <label>
              Title
              <input name="details.title" value={draft.detailsTitle} onInput={(e) => set({ detailsTitle: value(e) })} />
              <FieldMessage problems={problems} field="details.title" />
            </label>
            <label>
              Content
              <textarea name="details.content" rows={5} value={draft.detailsContent} onInput={(e) => set({ detailsContent: value(e) })} />
              <FieldMessage problems={problems} field="details.content" />
            </label>
            <FieldMessage problems={problems} field="details" />
          </fieldset>

          {!readOnly && (
            <div class="actions">
              <button type="submit" disabled={busy}>
                {isNew ? 'Create customer' : 'Save'}
              </button>
              {!isNew && !confirmDelete && (
                <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
                  Delete…
                </button>
              )}
              {!isNew && confirmDelete && (
                <>
                  <button type="button" class="danger" onClick={remove}>
                    Delete this customer
                  </button>
                  <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>
                    Keep it
                  </button>
                </>
              )}
            </div>
          )}
        </fieldset>
        <aside class="side-card" aria-label="As the app shows it">
          <Avatar name={draft.display_name || '?'} url={draft.avatar} size="large" />
          <h2 class="details-name">{draft.display_name}</h2>
          {draft.detailsTitle && <h4>{draft.detailsTitle}</h4>}
          {draft.detailsContent && <p class="details-content">{draft.detailsContent}</p>}
          <p class="hint">
            To see exactly what a rep's app shows, open the <a {...linkProps('/simulator')}>simulator</a>.
          </p>
        </aside>
      </form>
    </>
  );
}
