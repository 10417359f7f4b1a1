/**
 * In-process counters, exposed at `GET /metrics` in the Prometheus text format.
 * Each instance counts what it handled; Prometheus sums over instances. The
 * processes of one instance (SERVE_PROCESSES) answer with their sum, which
 * the cluster's primary gathers (see cluster.ts).
 * Deliberately tiny: a few counters do not justify a metrics library.
 */

/** Counter values by name, then by label text: what a process sends to be summed. */
export type MetricsSnapshot = Record<string, Record<string, number>>;

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

  snapshot(): MetricsSnapshot {
    const out: MetricsSnapshot = {};
    for (const [name, def] of this.counters) out[name] = Object.fromEntries(def.values);
    return out;
  }

  /**
   * Prometheus text exposition format 0.0.4, of this process's counters, or of
   * the sum of `snapshots` (every process of the instance, this one included).
   */
  render(snapshots: MetricsSnapshot[] = [this.snapshot()]): string {
    const lines: string[] = [];
    for (const [name, def] of this.counters) {
      const sums = new Map<string, number>();
      for (const snapshot of snapshots) {
        for (const [labels, value] of Object.entries(snapshot[name] ?? {})) sums.set(labels, (sums.get(labels) ?? 0) + value);
      }
      lines.push(`# HELP ${name} ${def.help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of sums) lines.push(`${name}${labels} ${value}`);
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
  routingPassedOver: 'fis_routing_passed_over_total',
  frontlineUserSync: 'fis_frontline_user_sync_total',
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
  metrics.define(
    METRIC.routingPassedOver,
    'Reps passed over by inbound routing, by reason (deactivated, unavailable) and by the rule that named them (owner, sender_address, default_team).',
  );
  metrics.define(
    METRIC.frontlineUserSync,
    'Reps synced to Frontline\'s User resource, by outcome (updated, unchanged, not_signed_in, unknown, failed).',
  );
  return metrics;
}
