/**
 * Prometheus metrics (prom-client), exposed at `GET /metrics`.
 *
 * Each app has its own registry (tests run several apps in one process); the
 * process-wide metrics (CPU, memory, event loop, GC: prom-client's defaults)
 * live in one shared registry, added to every scrape. Each instance counts what
 * it handled; Prometheus sums over instances. The processes of one instance
 * (SERVE_PROCESSES) answer with their sum: the worker that gets the scrape asks
 * the primary for every worker's `snapshot()` (cluster.ts) and renders their
 * aggregate (prom-client's AggregatorRegistry: counters and histograms summed).
 *
 * No label ever carries customer data: routes are route patterns, Locations
 * are the documented ones (anything else is `other`), statuses are numbers.
 */
import { AggregatorRegistry, collectDefaultMetrics, Counter, Histogram, type LabelValues, Registry } from 'prom-client';

/** One process's metrics, as prom-client serialises them: what a worker sends to be summed. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Counter names that other code increments by name, in one place. */
export const METRIC = {
  routing: 'fis_routing_total',
  twilioApi: 'fis_twilio_api_attempts_total',
  participantTagging: 'fis_participant_tagging_total',
  routingPassedOver: 'fis_routing_passed_over_total',
  frontlineUserSync: 'fis_frontline_user_sync_total',
} as const;

type CounterName = (typeof METRIC)[keyof typeof METRIC];

/** Locations of the CRM, outgoing-conversation and templates callbacks: the only values the `location` label takes. */
const KNOWN_LOCATIONS = new Set([
  'GetCustomerDetailsByCustomerId',
  'GetCustomersList',
  'GetProxyAddress',
  'GetTemplates',
  'GetTemplatesByCustomerId',
]);

let processRegistry: Registry | undefined;
/** prom-client's default process metrics, registered once per process. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BYTES_BUCKETS = [256, 1024, 4096, 16_384, 32_768, 49_152, 65_536, 131_072, 1_048_576];

export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<CounterName, Counter<string>>();
  private readonly requests: Counter<'route' | 'location' | 'status'>;
  private readonly duration: Histogram<'route' | 'location'>;
  private readonly replyBytes: Histogram<'route' | 'location'>;
  private readonly storeErrors: Counter<'kind'>;
  private readonly importRuns: Counter<'kind' | 'outcome'>;
  /** Labelled children per (route, location, status), cached: label lookups are the costly part of an observation. */
  private readonly children = new Map<
    string,
    { count: Counter.Internal; duration: Histogram.Internal<'route' | 'location'>; bytes: Histogram.Internal<'route' | 'location'> }
  >();

  constructor() {
    const registers = [this.registry];
    const counter = (name: CounterName, help: string, labelNames: string[]) =>
      this.counters.set(name, new Counter({ name, help, labelNames, registers }));
    counter(METRIC.routing, 'Routing callbacks by outcome (routed, unrouted, failed, duplicate, in_progress) and by how the worker was chosen.', ['outcome', 'via']);
    counter(METRIC.twilioApi, 'Conversations REST API attempts by outcome (ok, retry_<status>, retry_timeout, retry_network, error_<status>, budget_exhausted).', ['outcome']);
    counter(METRIC.participantTagging, 'onParticipantAdded handling by outcome (updated, unchanged, unknown_customer, skipped, failed).', ['outcome']);
    counter(
      METRIC.routingPassedOver,
      'Reps passed over by inbound routing, by reason (deactivated, unavailable) and by the rule that named them (owner, sender_address, default_team).',
      ['reason', 'rule'],
    );
    counter(METRIC.frontlineUserSync, "Reps synced to Frontline's User resource, by outcome (updated, unchanged, not_signed_in, unknown, failed).", ['outcome']);
    // Unrouted conversations are worth an alert at zero too: present from the start.
    this.inc(METRIC.routing, { outcome: 'unrouted', via: 'none' }, 0);

    this.requests = new Counter({
      name: 'fis_http_requests_total',
      help: 'HTTP requests answered, by route pattern, Location (callbacks that have one) and status.',
      labelNames: ['route', 'location', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'fis_http_request_duration_seconds',
      help: 'Time from request to reply, by route pattern and Location.',
      labelNames: ['route', 'location'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.replyBytes = new Histogram({
      name: 'fis_http_reply_bytes',
      help: 'Reply body sizes in bytes, by route pattern and Location (Frontline refuses replies over 65536).',
      labelNames: ['route', 'location'],
      buckets: BYTES_BUCKETS,
      registers,
    });
    this.storeErrors = new Counter({
      name: 'fis_store_errors_total',
      help: 'Requests that failed in the store: unavailable (answered 503) or error (answered 500).',
      labelNames: ['kind'],
      registers,
    });
    this.storeErrors.inc({ kind: 'unavailable' }, 0);
    this.storeErrors.inc({ kind: 'error' }, 0);
    this.importRuns = new Counter({
      name: 'fis_import_runs_total',
      help: 'Imports run by this process, by kind (customers, workers, senders, templates) and outcome (ok, rejected, failed).',
      labelNames: ['kind', 'outcome'],
      registers,
    });
  }

  inc(name: CounterName, labels: LabelValues<string> = {}, by = 1): void {
    const counter = this.counters.get(name);
    if (!counter) throw new Error(`metric ${name} is not defined`);
    counter.inc(labels, by);
  }

  /** One answered request. `location` is kept only when it is a documented one. */
  request(route: string, location: string | undefined, status: number, seconds: number, bytes: number | undefined): void {
    const loc = location === undefined ? '' : KNOWN_LOCATIONS.has(location) ? location : 'other';
    const key = `${route}\u0000${loc}\u0000${status}`;
    let child = this.children.get(key);
    if (!child) {
      child = {
        count: this.requests.labels(route, loc, String(status)),
        duration: this.duration.labels(route, loc),
        bytes: this.replyBytes.labels(route, loc),
      };
      this.children.set(key, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
    if (bytes !== undefined) child.bytes.observe(bytes);
  }

  storeError(kind: 'unavailable' | 'error'): void {
    this.storeErrors.inc({ kind });
  }

  importRun(kind: string, outcome: 'ok' | 'rejected' | 'failed'): void {
    this.importRuns.inc({ kind, outcome });
  }

  /** This app's and this process's metrics, to be summed with the other workers'. */
  async snapshot(): Promise<MetricsSnapshot> {
    return [...(await this.registry.getMetricsAsJSON()), ...(await processMetrics().getMetricsAsJSON())];
  }

  /** Prometheus text format: this process's metrics, or the aggregate of `snapshots` (every worker's, this one's included). */
  async render(snapshots?: MetricsSnapshot[]): Promise<string> {
    if (snapshots === undefined) return Registry.merge([this.registry, processMetrics()]).metrics();
    return AggregatorRegistry.aggregate(snapshots).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export function createMetrics(): Metrics {
  return new Metrics();
}
