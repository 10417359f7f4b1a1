/**
 * Sender addresses: the Twilio numbers GetProxyAddress hands out (a rep's own number, a number
 * for the customer's country, or the channel's default).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type FieldProblem } from '../api';
import { createSender, deleteSender, listSenders, reorderSenders, type Sender, type SenderInput, updateSender } from '../data';
import { session } from '../session';
import { useSignal } from '../signal';
import { FieldMessage, Notice, OtherProblems } from '../ui/form';
import { CHANNEL_LABELS } from '../ui/text';

interface Draft {
  channel_type: 'sms' | 'whatsapp';
  address: string;
  worker: string;
  countries: string;
}

const EMPTY: Draft = { channel_type: 'sms', address: '', worker: '', countries: '' };

function toInput(d: Draft): SenderInput {
  const countries = d.countries
    .split(/[\s,]+/)
    .map((c) => c.trim().toUpperCase())
    .filter(Boolean);
  return {
    channel_type: d.channel_type,
    address: d.address.trim(),
    ...(d.worker.trim() ? { worker: d.worker.trim() } : {}),
    ...(countries.length ? { countries } : {}),
  };
}

export function Senders() {
  const me = useSignal(session);
  const readOnly = me?.readOnly ?? true;
  const [senders, setSenders] = useState<Sender[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [editing, setEditing] = useState<{ id: string | undefined; draft: Draft } | undefined>();
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | undefined>();

  const load = () =>
    listSenders().then(setSenders, (err: ApiError) => {
      setSenders([]);
      setError(err.message);
    });
  useEffect(() => {
    void load();
  }, []);

  async function save(event: Event) {
    event.preventDefault();
    if (!editing) return;
    setProblems([]);
    setMessage(undefined);
    try {
      if (editing.id === undefined) await createSender(toInput(editing.draft));
      else await updateSender(editing.id, toInput(editing.draft));
      setEditing(undefined);
      setMessage({ tone: 'ok', text: 'Saved.' });
      await load();
    } catch (err) {
      const e = err as ApiError;
      setProblems([...e.problems]);
      setMessage({ tone: 'error', text: e.message });
    }
  }

  async function remove(sender: Sender) {
    try {
      await deleteSender(sender.address);
      setMessage({ tone: 'ok', text: `${sender.address} was deleted.` });
      await load();
    } catch (err) {
      setMessage({ tone: 'error', text: (err as ApiError).message });
    }
  }

  /** Among equal candidates the first wins: moving an address up or down changes which one GetProxyAddress answers. */
  async function move(index: number, delta: number) {
    if (!senders) return;
    const to = index + delta;
    if (to < 0 || to >= senders.length) return;
    const next = [...senders];
    const [item] = next.splice(index, 1);
    next.splice(to, 0, item as Sender);
    setSenders(next);
    try {
      await reorderSenders(next.map((s) => s.address));
      setMessage({ tone: 'ok', text: `${item?.address} moved to position ${to + 1} of ${next.length}.` });
    } catch (err) {
      setMessage({ tone: 'error', text: (err as ApiError).message });
    }
    await load();
    document.querySelector<HTMLElement>(`[data-move="${item?.address}:${delta < 0 ? 'up' : 'down'}"]`)?.focus();
  }

  const set = (patch: Partial<Draft>) => editing && setEditing({ ...editing, draft: { ...editing.draft, ...patch } });
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;

  return (
    <>
      <div class="page-head">
        <h1>Sender addresses</h1>
        <span class="muted">The numbers GetProxyAddress answers: a rep's own, else one for the customer's country, else the default; among equals, the first listed.</span>
        <div class="actions">
          {!readOnly && !editing && (
            <button type="button" onClick={() => { setProblems([]); setEditing({ id: undefined, draft: EMPTY }); }}>
              New sender address
            </button>
          )}
        </div>
      </div>
      {error && <Notice tone="error">{error}</Notice>}
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      {editing && (
        <form class="panel" onSubmit={save} noValidate aria-label="Sender address">
          <OtherProblems problems={problems} shown={(f) => ['channel_type', 'address', 'worker', 'countries'].includes(f) || f.startsWith('countries[')} />
          <div class="target-form">
            <label>
              Channel
              <select name="channel_type" value={editing.draft.channel_type} onChange={(e) => set({ channel_type: value(e) as Draft['channel_type'] })}>
                <option value="sms">SMS</option>
                <option value="whatsapp">WhatsApp</option>
              </select>
              <FieldMessage problems={problems} field="channel_type" />
            </label>
            <label>
              Address
              <input name="address" value={editing.draft.address} placeholder="+14155550100" onInput={(e) => set({ address: value(e) })} />
              <FieldMessage problems={problems} field="address" />
            </label>
            <label>
              Worker (for a rep's own number)
              <input name="worker" value={editing.draft.worker} onInput={(e) => set({ worker: value(e) })} />
              <FieldMessage problems={problems} field="worker" />
            </label>
            <label>
              Countries (for customers in these countries)
              <input name="countries" value={editing.draft.countries} placeholder="US, CA" onInput={(e) => set({ countries: value(e) })} />
              <FieldMessage problems={problems} field="countries" prefix />
            </label>
            <div class="actions">
              <button type="submit">Save</button>
              <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
                Cancel
              </button>
            </div>
          </div>
        </form>
      )}
      <table class="data" aria-label="Sender addresses">
        <thead>
          <tr>
            <th scope="col">Channel</th>
            <th scope="col">Address</th>
            <th scope="col">Worker</th>
            <th scope="col">Countries</th>
            {!readOnly && <th scope="col"><span class="sr-only">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {senders?.map((s, i) => (
            <tr key={s.address}>
              <td>{CHANNEL_LABELS[s.channel_type] ?? s.channel_type}</td>
              <td class="mono">{s.address}</td>
              <td class="mono wrap">{s.worker ?? <span class="muted">shared</span>}</td>
              <td>{(s.countries ?? []).join(', ') || <span class="muted">any</span>}</td>
              {!readOnly && (
                <td>
                  <span class="actions">
                  <button type="button" class="small secondary icon" data-move={`${s.address}:up`} disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move ${s.address} up`}>
                    ↑
                  </button>
                  <button type="button" class="small secondary icon" data-move={`${s.address}:down`} disabled={i === senders.length - 1} onClick={() => move(i, 1)} aria-label={`Move ${s.address} down`}>
                    ↓
                  </button>
                  <button
                    type="button"
                    class="small secondary"
                    onClick={() => {
                      setProblems([]);
                      setEditing({
                        id: s.address,
                        draft: { channel_type: s.channel_type, address: s.address, worker: s.worker ?? '', countries: (s.countries ?? []).join(', ') },
                      });
                    }}
                  >
                    Edit
                  </button>
                  <button type="button" class="small danger" onClick={() => remove(s)} aria-label={`Delete ${s.address}`}>
                    Delete
                  </button>
                  </span>
                </td>
              )}
            </tr>
          ))}
          {senders?.length === 0 && !error && (
            <tr>
              <td colSpan={5} class="muted">
                No sender addresses: GetProxyAddress falls back to TWILIO_SMS_NUMBER and TWILIO_WHATSAPP_NUMBER.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
