/**
 * Every callback the simulator sent, as it went over the wire: the signed request, the reply,
 * its time against Frontline's 6-second budget (error 48005) and its size against the 64 KB
 * limit (error 48003). Newest first.
 */
import { formatBytes, formatMs } from '../ui/text';
import type { LoggedExchange } from './sim-api';

const WARN_MS = 3000;
const WARN_BYTES = 48 * 1024;

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function formFields(body: string): Array<[string, string]> {
  return [...new URLSearchParams(body).entries()];
}

function verdict(e: LoggedExchange): { label: string; tone: 'ok' | 'warn' | 'bad' } {
  if (e.error) return { label: 'no reply', tone: 'bad' };
  const res = e.response;
  if (!res) return { label: 'no reply', tone: 'bad' };
  if (e.duration_ms > e.budget_ms) return { label: `${res.status} · over 6 s`, tone: 'bad' };
  if (res.size_bytes > e.size_limit_bytes) return { label: `${res.status} · over 64 KB`, tone: 'bad' };
  if (res.status >= 400) return { label: String(res.status), tone: 'bad' };
  if (e.duration_ms > WARN_MS || res.size_bytes > WARN_BYTES) return { label: String(res.status), tone: 'warn' };
  return { label: String(res.status), tone: 'ok' };
}

export function WirePanel({ exchanges, onClear }: { exchanges: LoggedExchange[]; onClear: () => void }) {
  return (
    <section class="wire" aria-label="Wire">
      <header class="wire-head">
        <h2>On the wire</h2>
        <span class="muted">{exchanges.length} request{exchanges.length === 1 ? '' : 's'}</span>
        <button type="button" class="small secondary" onClick={onClear} disabled={exchanges.length === 0}>
          Clear
        </button>
      </header>
      {exchanges.length === 0 && <p class="muted">The callbacks the simulator sends appear here.</p>}
      <ol class="wire-list" reversed>
        {[...exchanges].reverse().map((e) => {
          const fields = formFields(e.request.body);
          const location = fields.find(([k]) => k === 'Location')?.[1] ?? '';
          const v = verdict(e);
          return (
            <li key={e.seq} class={`wire-item tone-${v.tone}`} data-testid="wire-item">
              <details>
                <summary>
                  <span class="wire-seq">#{e.seq}</span>
                  <span class="wire-location">{location}</span>
                  <span class={`wire-status tone-${v.tone}`}>{v.label}</span>
                  <span class="wire-time" title="Time to the reply's last byte, against the app's 6-second budget">
                    {formatMs(e.duration_ms)}
                  </span>
                  <meter
                    class="wire-meter"
                    min={0}
                    max={e.budget_ms}
                    low={WARN_MS}
                    high={e.budget_ms * 0.999}
                    optimum={0}
                    value={Math.min(e.duration_ms, e.budget_ms)}
                    aria-label={`${formatMs(e.duration_ms)} of the ${e.budget_ms / 1000}-second budget`}
                  />
                  {e.response && <span class="wire-size">{formatBytes(e.response.size_bytes)}</span>}
                </summary>
                <div class="wire-body">
                  <h4>Request</h4>
                  <p class="mono">
                    {e.request.method} {e.request.url}
                  </p>
                  <table class="kv">
                    <tbody>
                      {Object.entries(e.request.headers).map(([k, val]) => (
                        <tr key={k}>
                          <th>{k}</th>
                          <td class="mono">{val}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <table class="kv">
                    <caption>Form fields</caption>
                    <tbody>
                      {fields.map(([k, val], i) => (
                        <tr key={i}>
                          <th>{k}</th>
                          <td class="mono">{val}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <pre class="wire-raw">{e.request.body}</pre>
                  <h4>Reply</h4>
                  {e.error && <p class="error-text">{e.error.message}</p>}
                  {e.response && (
                    <>
                      <p class="mono">
                        HTTP {e.response.status} · {formatBytes(e.response.size_bytes)} of {formatBytes(e.size_limit_bytes)} ·{' '}
                        {formatMs(e.duration_ms)} of {formatMs(e.budget_ms)}
                        {e.response.truncated ? ' · body cut, too large to keep' : ''}
                      </p>
                      <table class="kv">
                        <tbody>
                          {Object.entries(e.response.headers).map(([k, val]) => (
                            <tr key={k}>
                              <th>{k}</th>
                              <td class="mono">{val}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                      <pre class="wire-raw">{pretty(e.response.body)}</pre>
                    </>
                  )}
                </div>
              </details>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
