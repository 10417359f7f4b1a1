/**
 * Starting a conversation from Customer Details: the app asks the Outgoing Conversations
 * callback (GetProxyAddress) which Twilio address to text from, then opens the conversation.
 * The simulator shows the address the service chose, or its refusal.
 */
import { useEffect, useState } from 'preact/hooks';
import { CHANNEL_LABELS } from '../ui/text';
import { type Channel, type CustomerDto, showAddress } from './customer-details';
import { type Exchange, failureOf, replyJson } from './sim-api';

export interface ConversationProps {
  worker: string;
  customer: CustomerDto;
  channel: Channel;
  mask: boolean;
  call: (callback: 'outgoing', params: Record<string, string>) => Promise<Exchange>;
  onBack: () => void;
  onTemplates: () => void;
}

export function Conversation({ worker, customer, channel, mask, call, onBack, onTemplates }: ConversationProps) {
  const [proxy, setProxy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    let live = true;
    call('outgoing', {
      Location: 'GetProxyAddress',
      Worker: worker,
      CustomerId: customer.customer_id,
      ChannelType: channel.type,
      ChannelValue: channel.value,
    })
      .then((exchange) => {
        if (!live) return;
        const failure = failureOf(exchange);
        if (failure) return setError(failure);
        const address = (replyJson(exchange) as { proxy_address?: unknown } | undefined)?.proxy_address;
        if (typeof address !== 'string' || address === '') return setError('The reply has no proxy_address');
        setProxy(address);
      })
      .catch((err: Error) => live && setError(err.message));
    return () => {
      live = false;
    };
  }, [worker, customer.customer_id, channel.type, channel.value]);

  return (
    <section class="phone-screen" aria-label="Conversation">
      <header class="phone-bar">
        <button type="button" class="phone-back" onClick={onBack}>
          ‹ {String(customer.display_name ?? '')}
        </button>
      </header>
      <div class="phone-scroll conversation">
        <dl class="conversation-meta">
          <dt>Channel</dt>
          <dd>{CHANNEL_LABELS[channel.type] ?? channel.type}</dd>
          <dt>To</dt>
          <dd data-testid="conversation-to">{showAddress(channel, mask)}</dd>
          <dt>From</dt>
          <dd data-testid="proxy-address">{proxy ?? (error ? '—' : 'asking the service…')}</dd>
        </dl>
        {error && (
          <div class="phone-error" role="alert" data-testid="proxy-error">
            <p>The service gave no sender address, so the app cannot start this conversation.</p>
            <p>{error}</p>
          </div>
        )}
        {proxy && <p class="phone-note">Conversation started from {proxy}.</p>}
      </div>
      <footer class="composer">
        <button type="button" class="secondary" onClick={onTemplates} disabled={!proxy}>
          Templates
        </button>
        <input type="text" aria-label="Message" placeholder="Messages are not sent by the simulator" disabled />
      </footer>
    </section>
  );
}
