/**
 * In-process counters, exposed at `GET /metrics` in the Prometheus text format.
 * Each instance counts what it handled; Prometheus sums over instances.
 * Deliberately tiny: a few counters do not justify a metrics library.
 */

interface CounterDef {
  readonly help: string;
  readonly values: Map<string, number>;
}

export class Metrics {
  private readonly counters = new Map<string, CounterDef>();

  /** Declares a counter so it appears (at zero for `preset` label values) before anything happens. */
  define(name: string, help: string, preset: Record<string, string>[] = []): void {
    const def: CounterDef = { help, values: new Map() };
    for (const labels of preset) def.values.set(labelText(labels), 0);
    this.counters.set(name, def);
  }

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const def = this.counters.get(name);
    if (!def) throw new Error(`metric ${name} is not defined`);
    const key = labelText(labels);
    def.values.set(key, (def.values.get(key) ?? 0) + by);
  }

  value(name: string, labels: Record<string, string> = {}): number {
    return this.counters.get(name)?.values.get(labelText(labels)) ?? 0;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, def] of this.counters) {
      lines.push(`# HELP ${name} ${def.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of def.values) lines.push(`${name}${labels} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function labelText(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${escape(labels[k] as string)}"`).join(',')}}`;
}

/** Counter names, in one place. */
export const METRIC = {
  routing: 'fis_routing_total',
  twilioApi: 'fis_twilio_api_attempts_total',
  participantTagging: 'fis_participant_tagging_total',
} as const;

export function createMetrics(): Metrics {
  const metrics = new Metrics();
  metrics.define(
    METRIC.routing,
    'Routing callbacks by outcome (routed, unrouted, failed, duplicate, in_progress) and by how the worker was chosen.',
    [{ outcome: 'unrouted', via: 'none' }],
  );
  metrics.define(METRIC.twilioApi, 'Conversations REST API attempts by outcome (ok, retry_<status>, error_<status>, budget_exhausted).');
  metrics.define(
    METRIC.participantTagging,
    'onParticipantAdded handling by outcome (updated, unchanged, unknown_customer, skipped, failed).',
  );
  return metrics;
}
