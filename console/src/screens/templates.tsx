/**
 * Templates by category, in the order the app shows them: drag a template or a category by its
 * handle to reorder (or focus the handle and press ↑/↓), edit in place, and see the templates
 * filled in for a chosen customer and worker, exactly as the templates callback answers them.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type FieldProblem } from '../api';
import {
  type Category,
  createCategory,
  createTemplate,
  type CustomerRecord,
  deleteCategory,
  deleteTemplate,
  listCategories,
  listCustomers,
  listWorkerIdentities,
  previewDraft,
  previewTemplates,
  type PreviewCategory,
  reorderCategories,
  reorderTemplates,
  renameCategory,
  type Template,
  updateTemplate,
} from '../data';
import { session } from '../session';
import { useSignal } from '../signal';
import { FieldMessage, Notice } from '../ui/form';

/** `list` with the item at `from` moved to `to`. */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item as T);
  return out;
}

type Drag = { kind: 'category'; from: number } | { kind: 'template'; category: string; from: number };

export function Templates() {
  const me = useSignal(session);
  const readOnly = me?.readOnly ?? true;
  const [categories, setCategories] = useState<Category[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [message, setMessage] = useState<{ tone: 'ok' | 'error'; text: string } | undefined>();
  const [announce, setAnnounce] = useState('');
  const [version, setVersion] = useState(0);
  const [newCategory, setNewCategory] = useState('');
  const [problems, setProblems] = useState<FieldProblem[]>([]);
  const [listEtag, setListEtag] = useState<string | undefined>();
  const [previewFor, setPreviewFor] = useState<PreviewTarget | undefined>();
  const [newFirst, setNewFirst] = useState('');
  const drag = useRef<Drag | undefined>(undefined);
  const [dropAt, setDropAt] = useState<string | undefined>();

  const load = () =>
    listCategories().then(
      (list) => {
        setCategories(list.categories);
        setListEtag(list.etag);
        setVersion((v) => v + 1);
      },
      (err: ApiError) => {
        setCategories((c) => c ?? []);
        setError(err.message);
      },
    );
  useEffect(() => {
    void load();
  }, []);

  async function act(what: () => Promise<unknown>, ok?: string) {
    setMessage(undefined);
    setProblems([]);
    try {
      await what();
      if (ok) setMessage({ tone: 'ok', text: ok });
      await load();
      return true;
    } catch (err) {
      const e = err as ApiError;
      setProblems([...e.problems]);
      setMessage({ tone: 'error', text: e.message });
      await load();
      return false;
    }
  }

  function moveCategory(from: number, to: number, focus = false) {
    if (!categories || to < 0 || to >= categories.length || from === to) return;
    const next = moved(categories, from, to);
    setCategories(next);
    setAnnounce(`Category ${next[to]?.display_name} moved to position ${to + 1} of ${next.length}`);
    void act(() => reorderCategories(next.map((c) => c.id), listEtag)).then(() => {
      if (focus) document.querySelector<HTMLElement>(`[data-handle="category:${next[to]?.id}"]`)?.focus();
    });
  }

  function moveTemplate(categoryId: string, from: number, to: number, focus = false) {
    const category = categories?.find((c) => c.id === categoryId);
    if (!categories || !category || to < 0 || to >= category.templates.length || from === to) return;
    const templates = moved(category.templates, from, to);
    setCategories(categories.map((c) => (c.id === categoryId ? { ...c, templates } : c)));
    setAnnounce(`Template moved to position ${to + 1} of ${templates.length} in ${category.display_name}`);
    void act(() => reorderTemplates(categoryId, templates.map((t) => t.id))).then(() => {
      if (focus) document.querySelector<HTMLElement>(`[data-handle="template:${templates[to]?.id}"]`)?.focus();
    });
  }

  function onHandleKey(event: KeyboardEvent, move: (delta: number) => void) {
    if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
      event.preventDefault();
      move(event.key === 'ArrowUp' ? -1 : 1);
    }
  }

  /** Where a drop lands: before or after the row under the pointer. */
  function dropPosition(event: DragEvent, index: number): number {
    const rect = (event.currentTarget as HTMLElement).getBoundingClientRect();
    return event.clientY < rect.top + rect.height / 2 ? index : index + 1;
  }

  return (
    <>
      <div class="page-head">
        <h1>Templates</h1>
        <span class="muted">In the order the app lists them. Drag a handle (⠿), or focus it and press ↑ or ↓, to reorder.</span>
      </div>
      <p class="sr-only" aria-live="polite">
        {announce}
      </p>
      {error && <Notice tone="error">{error}</Notice>}
      {message && <Notice tone={message.tone}>{message.text}</Notice>}
      <div class="templates-layout">
        <div>
          {categories?.map((category, ci) => (
            <section
              key={category.id}
              class={`category${dropAt === `c:${ci}:before` ? ' drop-before' : dropAt === `c:${ci}:after` ? ' drop-after' : ''}`}
              aria-label={`Category ${category.display_name}`}
              data-category-id={category.id}
              onDragOver={(e) => {
                if (drag.current?.kind !== 'category') return;
                e.preventDefault();
                setDropAt(`c:${ci}:${dropPosition(e, ci) === ci ? 'before' : 'after'}`);
              }}
              onDragLeave={() => setDropAt(undefined)}
              onDrop={(e) => {
                const d = drag.current;
                if (d?.kind !== 'category') return;
                e.preventDefault();
                setDropAt(undefined);
                let to = dropPosition(e, ci);
                if (to > d.from) to--;
                moveCategory(d.from, to);
              }}
            >
              <header class="category-head">
                <button
                  type="button"
                  class="handle"
                  draggable={!readOnly}
                  disabled={readOnly}
                  data-handle={`category:${category.id}`}
                  aria-label={`Reorder category ${category.display_name}, position ${ci + 1} of ${categories.length}: press up or down`}
                  onDragStart={(e) => {
                    drag.current = { kind: 'category', from: ci };
                    e.dataTransfer?.setData('text/plain', category.id);
                    if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
                  }}
                  onDragEnd={() => {
                    drag.current = undefined;
                    setDropAt(undefined);
                  }}
                  onKeyDown={(e) => onHandleKey(e, (d) => moveCategory(ci, ci + d, true))}
                >
                  ⠿
                </button>
                <CategoryName
                  key={`${category.id}:${version}`}
                  category={category}
                  readOnly={readOnly}
                  problems={problems}
                  onRename={(name) => act(() => renameCategory(category.id, name), 'Category renamed.')}
                />
                {!readOnly && (
                  <button
                    type="button"
                    class="small danger"
                    onClick={() => act(() => deleteCategory(category.id), `Category ${category.display_name} deleted.`)}
                    aria-label={`Delete category ${category.display_name}`}
                  >
                    Delete
                  </button>
                )}
              </header>
              <ol class="template-items">
                {category.templates.map((template, ti) => (
                  <li
                    key={template.id}
                    class={`template-item${dropAt === `t:${category.id}:${ti}:before` ? ' drop-before' : dropAt === `t:${category.id}:${ti}:after` ? ' drop-after' : ''}`}
                    data-template-id={template.id}
                    onDragOver={(e) => {
                      const d = drag.current;
                      if (d?.kind !== 'template' || d.category !== category.id) return;
                      e.preventDefault();
                      e.stopPropagation();
                      setDropAt(`t:${category.id}:${ti}:${dropPosition(e, ti) === ti ? 'before' : 'after'}`);
                    }}
                    onDrop={(e) => {
                      const d = drag.current;
                      if (d?.kind !== 'template' || d.category !== category.id) return;
                      e.preventDefault();
                      e.stopPropagation();
                      setDropAt(undefined);
                      let to = dropPosition(e, ti);
                      if (to > d.from) to--;
                      moveTemplate(category.id, d.from, to);
                    }}
                  >
                    <button
                      type="button"
                      class="handle"
                      draggable={!readOnly}
                      disabled={readOnly}
                      data-handle={`template:${template.id}`}
                      aria-label={`Reorder template ${ti + 1} of ${category.templates.length} in ${category.display_name}: press up or down`}
                      onDragStart={(e) => {
                        e.stopPropagation();
                        drag.current = { kind: 'template', category: category.id, from: ti };
                        e.dataTransfer?.setData('text/plain', template.id);
                        if (e.dataTransfer) e.dataTransfer.effectAllowed = 'move';
                      }}
                      onDragEnd={() => {
                        drag.current = undefined;
                        setDropAt(undefined);
                      }}
                      onKeyDown={(e) => onHandleKey(e, (d) => moveTemplate(category.id, ti, ti + d, true))}
                    >
                      ⠿
                    </button>
                    <TemplateRow
                      key={`${template.id}:${version}`}
                      template={template}
                      readOnly={readOnly}
                      previewFor={previewFor}
                      onSave={(t) => act(() => updateTemplate(template.id, t), 'Template saved.')}
                      onDelete={() => act(() => deleteTemplate(template.id), 'Template deleted.')}
                    />
                  </li>
                ))}
                {category.templates.length === 0 && <li class="template-item muted">No templates in this category.</li>}
              </ol>
              {!readOnly && (
                <NewTemplate onAdd={(t) => act(() => createTemplate(category.id, t), 'Template added.')} />
              )}
            </section>
          ))}
          {categories?.length === 0 && !error && <p class="muted">No templates yet.</p>}
          {!readOnly && (
            <form
              class="toolbar"
              onSubmit={(e) => {
                e.preventDefault();
                void act(() => createCategory(newCategory.trim(), { content: newFirst, whatsAppApproved: false }), 'Category added.').then(
                  (ok) => {
                    if (!ok) return;
                    setNewCategory('');
                    setNewFirst('');
                  },
                );
              }}
            >
              <label>
                New category
                <input name="new_category" value={newCategory} onInput={(e) => setNewCategory((e.currentTarget as HTMLInputElement).value)} />
                <FieldMessage problems={problems} field="display_name" />
              </label>
              <label>
                Its first template
                <input name="new_category_template" value={newFirst} onInput={(e) => setNewFirst((e.currentTarget as HTMLInputElement).value)} />
                <FieldMessage problems={problems} field="templates[0].content" />
              </label>
              <button type="submit">Add category</button>
            </form>
          )}
        </div>
        <Preview version={version} onTarget={setPreviewFor} />
      </div>
    </>
  );
}

function CategoryName({
  category,
  readOnly,
  problems,
  onRename,
}: {
  category: Category;
  readOnly: boolean;
  problems: readonly FieldProblem[];
  onRename: (name: string) => Promise<boolean>;
}) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(category.display_name);
  if (!editing) {
    return (
      <>
        <span class="name">{category.display_name}</span>
        {!readOnly && (
          <button type="button" class="small secondary" onClick={() => setEditing(true)} aria-label={`Rename category ${category.display_name}`}>
            Rename
          </button>
        )}
      </>
    );
  }
  return (
    <form
      class="actions name"
      onSubmit={(e) => {
        e.preventDefault();
        void onRename(name).then((ok) => ok && setEditing(false));
      }}
    >
      <input aria-label="Category name" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      <FieldMessage problems={problems} field="display_name" />
      <button type="submit" class="small">
        Save
      </button>
      <button type="button" class="small secondary" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

/** Whom the preview fills templates in for. */
interface PreviewTarget {
  customerId: string;
  customerName: string;
  worker: string;
}

/** A draft filled in as the callback would fill it, while it is typed. */
function DraftPreview({ content, target }: { content: string; target: PreviewTarget | undefined }) {
  const [filled, setFilled] = useState<string | null | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!target || content.trim() === '') return setFilled(undefined);
    let live = true;
    const timer = setTimeout(() => {
      previewDraft(content, target.customerId, target.worker).then(
        (text) => {
          if (!live) return;
          setError(undefined);
          setFilled(text);
        },
        (err: ApiError) => live && setError(err.problems.map((p) => p.message).join('; ') || err.message),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [content, target?.customerId, target?.worker]);
  if (!target) return null;
  return (
    <div class="draft-preview" aria-live="polite">
      <span class="muted">
        As {target.customerName} would receive it from {target.worker}:
      </span>
      {error ? (
        <p class="error-text">{error}</p>
      ) : filled === null ? (
        <p class="muted">Left out for this customer: a placeholder has no value.</p>
      ) : (
        filled !== undefined && (
          <p class="preview-template" data-testid="draft-preview">
            {filled}
          </p>
        )
      )}
    </div>
  );
}

function TemplateRow({
  template,
  readOnly,
  previewFor,
  onSave,
  onDelete,
}: {
  template: Template;
  readOnly: boolean;
  previewFor: PreviewTarget | undefined;
  onSave: (t: { content: string; whatsAppApproved: boolean }) => Promise<boolean>;
  onDelete: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [content, setContent] = useState(template.content);
  const [approved, setApproved] = useState(template.whatsAppApproved);
  if (!editing) {
    return (
      <>
        <span class="text" data-testid="template-content">
          {template.content}
        </span>
        {template.whatsAppApproved && <span class="badge badge-ok">WhatsApp approved</span>}
        {!readOnly && (
          <span class="actions">
            <button type="button" class="small secondary" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="small danger" onClick={onDelete}>
              Delete
            </button>
          </span>
        )}
      </>
    );
  }
  return (
    <form
      class="template-edit"
      onSubmit={(e) => {
        e.preventDefault();
        void onSave({ content, whatsAppApproved: approved }).then((ok) => ok && setEditing(false));
      }}
    >
      <label>
        <span class="sr-only">Template text</span>
        <textarea name="content" rows={3} value={content} onInput={(e) => setContent((e.currentTarget as HTMLTextAreaElement).value)} />
      </label>
      <p class="hint">
        Placeholders: <code>{'{{customer.display_name}}'}</code>, <code>{'{{customer.first_name}}'}</code>, <code>{'{{worker.display_name}}'}</code>…
      </p>
      <DraftPreview content={content} target={previewFor} />
      <div class="actions">
        <label class="inline">
          <input type="checkbox" checked={approved} onChange={(e) => setApproved((e.currentTarget as HTMLInputElement).checked)} />
          WhatsApp approved
        </label>
        <button type="submit" class="small">
          Save template
        </button>
        <button type="button" class="small secondary" onClick={() => setEditing(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function NewTemplate({ onAdd }: { onAdd: (t: { content: string; whatsAppApproved: boolean }) => Promise<boolean> }) {
  const [open, setOpen] = useState(false);
  const [content, setContent] = useState('');
  const [approved, setApproved] = useState(false);
  if (!open) {
    return (
      <p class="actions template-item">
        <button type="button" class="small secondary" onClick={() => setOpen(true)}>
          Add template
        </button>
      </p>
    );
  }
  return (
    <form
      class="template-item template-edit"
      onSubmit={(e) => {
        e.preventDefault();
        void onAdd({ content, whatsAppApproved: approved }).then((ok) => {
          if (ok) {
            setContent('');
            setApproved(false);
            setOpen(false);
          }
        });
      }}
    >
      <div class="template-edit">
        <label>
          New template
          <textarea rows={3} value={content} onInput={(e) => setContent((e.currentTarget as HTMLTextAreaElement).value)} />
        </label>
        <div class="actions">
          <label class="inline">
            <input type="checkbox" checked={approved} onChange={(e) => setApproved((e.currentTarget as HTMLInputElement).checked)} />
            WhatsApp approved
          </label>
          <button type="submit" class="small">
            Add
          </button>
          <button type="button" class="small secondary" onClick={() => setOpen(false)}>
            Cancel
          </button>
        </div>
      </div>
    </form>
  );
}

/** The templates filled in for one customer and one worker, as the templates callback answers; refreshed after every change. */
function Preview({ version, onTarget }: { version: number; onTarget: (target: PreviewTarget | undefined) => void }) {
  const [workers, setWorkers] = useState<string[]>([]);
  const [worker, setWorker] = useState('');
  const [search, setSearch] = useState('');
  const [matches, setMatches] = useState<CustomerRecord[]>([]);
  const [customer, setCustomer] = useState<CustomerRecord | undefined>();
  const [preview, setPreview] = useState<PreviewCategory[] | undefined>();
  const [omitted, setOmitted] = useState(0);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    listWorkerIdentities().then((list) => {
      setWorkers(list);
      setWorker((w) => w || list[0] || '');
    }, () => setWorkers([]));
  }, []);

  // The worker's own customers: the templates callback answers a worker only about their book.
  useEffect(() => {
    if (!worker) return;
    const q = search.trim();
    const timer = setTimeout(() => {
      listCustomers({ query: q || undefined, owner: worker, pageSize: 8 }).then(
        (page) => {
          setMatches(page.items);
          setCustomer((c) => (c && c.workers.includes(worker) ? c : page.items[0]));
        },
        () => setMatches([]),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [search, worker]);

  useEffect(() => {
    onTarget(customer && worker ? { customerId: customer.customer_id, customerName: customer.display_name, worker } : undefined);
  }, [customer?.customer_id, worker]);

  useEffect(() => {
    if (!customer || !worker) return;
    let live = true;
    setError(undefined);
    previewTemplates(customer.customer_id, worker).then(
      (result) => {
        if (!live) return;
        setPreview(result.categories);
        setOmitted(result.omitted);
      },
      (err: ApiError) => {
        if (!live) return;
        setPreview(undefined);
        setError(err.message);
      },
    );
    return () => {
      live = false;
    };
  }, [customer?.customer_id, worker, version]);

  return (
    <aside class="side-card preview" aria-label="Preview">
      <h2>Preview</h2>
      <p class="hint">What the app offers this worker when writing to this customer.</p>
      <label>
        Worker
        <select name="preview_worker" value={worker} onChange={(e) => setWorker((e.currentTarget as HTMLSelectElement).value)}>
          {workers.map((w) => (
            <option key={w} value={w}>
              {w}
            </option>
          ))}
        </select>
      </label>
      <label>
        Customer (of this worker)
        <input type="search" name="preview_search" value={search} placeholder="Search this worker's customers" onInput={(e) => setSearch((e.currentTarget as HTMLInputElement).value)} />
      </label>
      <label>
        <span class="sr-only">Matching customers</span>
        <select
          name="preview_customer"
          value={customer?.customer_id ?? ''}
          onChange={(e) => setCustomer(matches.find((m) => m.customer_id === (e.currentTarget as HTMLSelectElement).value))}
        >
          {customer && !matches.some((m) => m.customer_id === customer.customer_id) && <option value={customer.customer_id}>{customer.display_name}</option>}
          {matches.map((m) => (
            <option key={m.customer_id} value={m.customer_id}>
              {m.display_name} ({m.customer_id})
            </option>
          ))}
        </select>
      </label>
      {error && <p class="error-text">{error}</p>}
      <div data-testid="preview">
        {preview?.map((category, i) => (
          <div key={i}>
            <h4>{category.display_name}</h4>
            {category.templates.map((t, j) => (
              <p key={j} class="preview-template" data-testid="preview-template">
                {t.content}
                {t.whatsAppApproved && (
                  <>
                    {' '}
                    <span class="badge badge-ok">WhatsApp approved</span>
                  </>
                )}
              </p>
            ))}
          </div>
        ))}
        {preview?.length === 0 && <p class="muted">No template can be filled in for this customer.</p>}
        {omitted > 0 && (
          <p class="hint">
            {omitted} template{omitted === 1 ? ' is' : 's are'} left out for this customer: a placeholder has no value.
          </p>
        )}
      </div>
    </aside>
  );
}
