/**
 * The composer's templates menu: the Templates callback's categories for this customer, with
 * WhatsApp-approved templates marked (only those may open a WhatsApp conversation outside the
 * 24-hour window).
 */
import { useEffect, useState } from 'preact/hooks';
import { type Exchange, failureOf, replyJson } from './sim-api';

interface Category {
  display_name: string;
  templates: Array<{ content: string; whatsAppApproved?: boolean }>;
}

export interface TemplatesMenuProps {
  worker: string;
  customerId: string;
  customerName: string;
  conversationSid: string | undefined;
  channelType: string | undefined;
  call: (callback: 'templates', params: Record<string, string>) => Promise<Exchange>;
  onClose: () => void;
}

export function TemplatesMenu({ worker, customerId, customerName, conversationSid, channelType, call, onClose }: TemplatesMenuProps) {
  const [categories, setCategories] = useState<Category[] | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    const params: Record<string, string> = { Location: 'GetTemplatesByCustomerId', Worker: worker, CustomerId: customerId };
    if (conversationSid) params.ConversationSid = conversationSid;
    call('templates', params)
      .then((exchange) => {
        if (!live) return;
        const failure = failureOf(exchange);
        if (failure) return setError(failure);
        const json = replyJson(exchange);
        if (!Array.isArray(json)) return setError('The reply is not a JSON array of categories');
        setCategories(json as Category[]);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [worker, customerId, conversationSid]);

  return (
    <section class="phone-screen" aria-label="Templates">
      <header class="phone-bar">
        <button type="button" class="phone-back" onClick={onClose}>
          ‹ Back
        </button>
        <h3>Templates</h3>
      </header>
      <div class="phone-scroll">
        <p class="phone-note">For {customerName}</p>
        {!categories && !error && <p class="phone-note" role="status">Loading…</p>}
        {error && (
          <p class="phone-error" role="alert">
            {error}
          </p>
        )}
        {categories?.length === 0 && <p class="phone-note">The service offers no templates for this customer.</p>}
        {categories?.map((category, i) => (
          <div class="template-category" key={i}>
            <h4>{String(category.display_name ?? '')}</h4>
            <ul class="template-list">
              {(Array.isArray(category.templates) ? category.templates : []).map((t, j) => {
                const approved = t.whatsAppApproved === true;
                const blocked = channelType === 'whatsapp' && !approved;
                return (
                  <li key={j} class={blocked ? 'template blocked' : 'template'} data-testid="sim-template">
                    <p class="template-content">{String(t.content ?? '')}</p>
                    {approved && <span class="badge badge-ok">WhatsApp approved</span>}
                    {blocked && <span class="badge">Only inside the 24-hour window</span>}
                  </li>
                );
              })}
            </ul>
          </div>
        ))}
      </div>
    </section>
  );
}
