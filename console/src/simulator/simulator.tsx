/**
 * /console/simulator: the Frontline app's screens, driven by real signed callbacks that the
 * service sends on the simulator's behalf (the browser never holds the Twilio token), with every
 * exchange shown on the wire.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { session } from '../session';
import { useSignal } from '../signal';
import { listWorkerIdentities } from '../data';
import { Conversation } from './conversation';
import { type Channel, CustomerDetails, type CustomerDto } from './customer-details';
import { CustomersList } from './customers-list';
import { type CallbackName, type LoggedExchange, sendCallback } from './sim-api';
import { TargetSettings } from './target-settings';
import { TemplatesMenu } from './templates-menu';
import { WirePanel } from './wire-panel';

type Screen =
  | { kind: 'list' }
  | { kind: 'details'; customerId: string }
  | { kind: 'conversation'; customer: CustomerDto; channel: Channel; conversationSid: string }
  | { kind: 'templates'; customerId: string; customerName: string; conversationSid?: string; channelType?: string };

const PREFS = 'fis.console.simulator';

function loadPrefs(): { worker: string; mask: boolean } {
  try {
    const raw = JSON.parse(sessionStorage.getItem(PREFS) ?? '{}') as { worker?: unknown; mask?: unknown };
    return { worker: typeof raw.worker === 'string' ? raw.worker : '', mask: raw.mask === true };
  } catch {
    return { worker: '', mask: false };
  }
}

/** A made-up Conversation SID for the simulated conversation (the templates callback carries one). */
function simulatedConversationSid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `CH${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function Simulator() {
  const me = useSignal(session);
  const initial = loadPrefs();
  const [worker, setWorker] = useState(initial.worker);
  const [typedWorker, setTypedWorker] = useState(initial.worker);
  const [mask, setMask] = useState(initial.mask);
  const [workers, setWorkers] = useState<string[]>([]);
  const [stack, setStack] = useState<Screen[]>([{ kind: 'list' }]);
  const [exchanges, setExchanges] = useState<LoggedExchange[]>([]);
  const [targetVersion, setTargetVersion] = useState(0);
  const seq = useRef(0);

  useEffect(() => {
    sessionStorage.setItem(PREFS, JSON.stringify({ worker, mask }));
  }, [worker, mask]);

  useEffect(() => {
    listWorkerIdentities()
      .then(setWorkers)
      .catch(() => setWorkers([]));
  }, []);

  async function call(callback: CallbackName, params: Record<string, string>) {
    const exchange = await sendCallback(callback, params);
    const logged: LoggedExchange = { ...exchange, seq: ++seq.current, at: new Date() };
    setExchanges((list) => [...list, logged].slice(-500));
    return exchange;
  }

  const push = (screen: Screen) => setStack((s) => [...s, screen]);
  const pop = () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));

  function chooseWorker(event: Event) {
    event.preventDefault();
    setStack([{ kind: 'list' }]);
    setWorker(typedWorker.trim());
  }

  const top = stack.length - 1;
  return (
    <div class="simulator">
      <div class="page-head">
        <h1>Simulator</h1>
        <p class="muted">What the Frontline app shows a rep, from real signed callbacks.</p>
      </div>
      <TargetSettings readOnly={me?.readOnly ?? true} onChange={() => {
        setTargetVersion((v) => v + 1);
        setStack([{ kind: 'list' }]);
      }} />
      <form class="sim-controls" onSubmit={chooseWorker}>
        <label>
          Worker
          <input
            type="text"
            name="worker"
            list="sim-workers"
            value={typedWorker}
            placeholder="alice@example.com"
            autocomplete="off"
            onInput={(e) => setTypedWorker((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <datalist id="sim-workers">
          {workers.map((w) => (
            <option key={w} value={w} />
          ))}
        </datalist>
        <button type="submit">Sign in as this worker</button>
        <label class="toggle">
          <input type="checkbox" checked={mask} onChange={(e) => setMask((e.currentTarget as HTMLInputElement).checked)} />
          Mask contact phone numbers
        </label>
      </form>
      <div class="sim-body">
        <div class="phone" aria-label="Simulated app" data-worker={worker}>
          {stack.map((screen, i) => (
            <div key={`${targetVersion}-${i}-${screen.kind}`} class="phone-layer" hidden={i !== top}>
              {screen.kind === 'list' && (
                <CustomersList
                  key={`${targetVersion}:${worker}`}
                  worker={worker}
                  hidden={i !== top}
                  call={call}
                  onOpen={(c) => push({ kind: 'details', customerId: c.customer_id })}
                />
              )}
              {screen.kind === 'details' && (
                <CustomerDetails
                  worker={worker}
                  customerId={screen.customerId}
                  mask={mask}
                  call={call}
                  onBack={pop}
                  onStart={(customer, channel) =>
                    push({ kind: 'conversation', customer, channel, conversationSid: simulatedConversationSid() })
                  }
                  onTemplates={(customer) =>
                    push({ kind: 'templates', customerId: customer.customer_id, customerName: String(customer.display_name ?? '') })
                  }
                />
              )}
              {screen.kind === 'conversation' && (
                <Conversation
                  worker={worker}
                  customer={screen.customer}
                  channel={screen.channel}
                  mask={mask}
                  call={call}
                  onBack={pop}
                  onTemplates={() =>
                    push({
                      kind: 'templates',
                      customerId: screen.customer.customer_id,
                      customerName: String(screen.customer.display_name ?? ''),
                      conversationSid: screen.conversationSid,
                      channelType: screen.channel.type,
                    })
                  }
                />
              )}
              {screen.kind === 'templates' && (
                <TemplatesMenu
                  worker={worker}
                  customerId={screen.customerId}
                  customerName={screen.customerName}
                  conversationSid={screen.conversationSid}
                  channelType={screen.channelType}
                  call={call}
                  onClose={pop}
                />
              )}
            </div>
          ))}
        </div>
        <WirePanel exchanges={exchanges} onClear={() => setExchanges([])} />
      </div>
    </div>
  );
}
