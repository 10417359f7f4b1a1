/** The console's frame: sign-in, navigation, and the screen the path names. */
import { useEffect } from 'preact/hooks';
import { linkProps, navigate, useRoute } from './router';
import { session, signOut } from './session';
import { useSignal } from './signal';
import { SignIn } from './screens/sign-in';
import { Customers } from './screens/customers';
import { CustomerEditor } from './screens/customer-editor';
import { Workers } from './screens/workers';
import { WorkerEditor } from './screens/worker-editor';
import { Templates } from './screens/templates';
import { Senders } from './screens/senders';
import { Audit } from './screens/audit';
import { Simulator } from './simulator/simulator';

const NAV = [
  { to: '/customers', label: 'Customers' },
  { to: '/workers', label: 'Workers' },
  { to: '/templates', label: 'Templates' },
  { to: '/senders', label: 'Sender addresses' },
  { to: '/audit', label: 'Audit trail' },
  { to: '/simulator', label: 'Simulator' },
];

export function App() {
  const me = useSignal(session);
  const route = useRoute();
  const [first, second] = route.segments;

  useEffect(() => {
    if (me && route.segments.length === 0) navigate('/customers', { replace: true });
  }, [me, route.path]);

  useEffect(() => {
    const title = NAV.find((n) => n.to === `/${first ?? ''}`)?.label;
    document.title = `${title ? `${title} · ` : ''}Frontline Integration Service`;
  }, [first]);

  if (!me) return <SignIn />;

  let screen;
  switch (first) {
    case 'customers':
      screen = second === undefined ? <Customers /> : <CustomerEditor key={second} customerId={second === 'new' ? undefined : second} />;
      break;
    case 'workers':
      screen = second === undefined ? <Workers /> : <WorkerEditor key={second} identity={second === 'new' ? undefined : second} />;
      break;
    case 'templates':
      screen = <Templates />;
      break;
    case 'senders':
      screen = <Senders />;
      break;
    case 'audit':
      screen = <Audit />;
      break;
    case 'simulator':
      screen = <Simulator />;
      break;
    case undefined:
      screen = null;
      break;
    default:
      screen = (
        <div class="page-head">
          <h1>Not found</h1>
          <p>
            There is no page here. <a {...linkProps('/customers')}>Go to the customers.</a>
          </p>
        </div>
      );
  }

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" {...linkProps('/customers')}>
          Frontline Integration Service
        </a>
        <nav aria-label="Console">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <a {...linkProps(n.to)} aria-current={`/${first ?? ''}` === n.to ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="whoami">
          <span title="The admin token this tab signed in with">{me.name || 'admin token'}</span>
          {me.readOnly && (
            <span class="badge" data-testid="read-only-badge">
              read-only
            </span>
          )}
          <button type="button" class="small secondary" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {screen}
      </main>
    </div>
  );
}
