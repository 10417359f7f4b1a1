/**
 * Customer Details, as the app shows it: the avatar (initials when none), the channels with a
 * button to start a conversation on each, the links (only https: and mailto: open, as in the web
 * app), and the details section with its line breaks kept.
 */
import { useEffect, useState } from 'preact/hooks';
import { Avatar } from '../ui/avatar';
import { CHANNEL_LABELS, maskPhone, openableLink } from '../ui/text';
import { type Exchange, failureOf, replyJson } from './sim-api';

export interface Channel {
  type: string;
  value: string;
}

export interface CustomerDto {
  customer_id: string;
  display_name: string;
  channels?: Channel[];
  links?: Array<{ type: string; value: string; display_name?: string }>;
  details?: { title: string; content: string };
  avatar?: string;
}

export interface DetailsProps {
  worker: string;
  customerId: string;
  mask: boolean;
  call: (callback: 'crm', params: Record<string, string>) => Promise<Exchange>;
  onBack: () => void;
  onStart: (customer: CustomerDto, channel: Channel) => void;
  onTemplates: (customer: CustomerDto) => void;
}

/** Channels a conversation can be started on from Customer Details. */
const STARTABLE = new Set(['sms', 'whatsapp', 'chat']);

export function showAddress(channel: Channel, mask: boolean): string {
  return mask && (channel.type === 'sms' || channel.type === 'whatsapp') ? maskPhone(channel.value) : channel.value;
}

export function CustomerDetails({ worker, customerId, mask, call, onBack, onStart, onTemplates }: DetailsProps) {
  const [customer, setCustomer] = useState<CustomerDto | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    setCustomer(undefined);
    setError(undefined);
    call('crm', { Location: 'GetCustomerDetailsByCustomerId', CustomerId: customerId, Worker: worker })
      .then((exchange) => {
        if (!live) return;
        const failure = failureOf(exchange);
        if (failure) return setError(failure);
        const dto = (replyJson(exchange) as { objects?: { customer?: CustomerDto } } | undefined)?.objects?.customer;
        if (!dto || typeof dto !== 'object') return setError('The reply has no objects.customer');
        setCustomer(dto);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [worker, customerId]);

  return (
    <section class="phone-screen" aria-label="Customer Details">
      <header class="phone-bar">
        <button type="button" class="phone-back" onClick={onBack}>
          ‹ My Customers
        </button>
      </header>
      <div class="phone-scroll">
        {!customer && !error && <p class="phone-note" role="status">Loading…</p>}
        {error && (
          <p class="phone-error" role="alert">
            {error}
          </p>
        )}
        {customer && (
          <div class="details">
            <div class="details-head">
              <Avatar name={String(customer.display_name ?? '')} url={customer.avatar} size="large" />
              <h3 class="details-name" data-testid="details-name">
                {String(customer.display_name ?? '')}
              </h3>
              <button type="button" class="secondary" onClick={() => onTemplates(customer)}>
                Templates
              </button>
            </div>
            {customer.channels && customer.channels.length > 0 && (
              <div class="details-section">
                <h4>Channels</h4>
                <ul class="details-list">
                  {customer.channels.map((channel, i) => (
                    <li key={i} class="channel">
                      <span class="channel-type">{CHANNEL_LABELS[channel.type] ?? String(channel.type)}</span>
                      <span class="channel-value" data-testid="channel-value">
                        {showAddress(channel, mask)}
                      </span>
                      {STARTABLE.has(channel.type) && (
                        <button
                          type="button"
                          class="small"
                          aria-label={`Message on ${CHANNEL_LABELS[channel.type] ?? channel.type} ${showAddress(channel, mask)}`}
                          onClick={() => onStart(customer, channel)}
                        >
                          Message
                        </button>
                      )}
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {customer.links && customer.links.length > 0 && (
              <div class="details-section">
                <h4>Links</h4>
                <ul class="details-list">
                  {customer.links.map((link, i) => {
                    const href = openableLink(String(link.value));
                    const label = String(link.display_name || link.value);
                    return (
                      <li key={i} class="link">
                        <span class="link-type">{String(link.type)}</span>
                        {href ? (
                          <a href={href} target="_blank" rel="noopener noreferrer">
                            {label}
                          </a>
                        ) : (
                          <span title="The Frontline web app opens only https: and mailto: links">{label}</span>
                        )}
                      </li>
                    );
                  })}
                </ul>
              </div>
            )}
            {customer.details && (
              <div class="details-section">
                <h4>{String(customer.details.title ?? '')}</h4>
                <p class="details-content" data-testid="details-content">
                  {String(customer.details.content ?? '')}
                </p>
              </div>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
