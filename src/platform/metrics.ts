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
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, type LabelValues, type Metric, Registry } from 'prom-client';

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
  private readonly requests: RecordedCounter;
  private readonly duration: RecordedHistogram;
  private readonly replyBytes: RecordedHistogram;
  private readonly storeErrors: Counter<'kind'>;
  private readonly importRuns: Counter<'kind' | 'outcome'>;
  /** Series per (route, location, status), cached: one request is then three additions. */
  private readonly children = new Map<string, { count: Series; duration: Series; bytes: Series }>();

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

    this.requests = new RecordedCounter(
      'fis_http_requests_total',
      'HTTP requests answered, by route pattern, Location (callbacks that have one) and status.',
      this.registry,
    );
    this.duration = new RecordedHistogram(
      'fis_http_request_duration_seconds',
      'Time from request to reply, by route pattern and Location.',
      SECONDS_BUCKETS,
      this.registry,
    );
    this.replyBytes = new RecordedHistogram(
      'fis_http_reply_bytes',
      'Reply body sizes in bytes, by route pattern and Location (Frontline refuses replies over 65536).',
      BYTES_BUCKETS,
      this.registry,
    );
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
        count: this.requests.series({ route, location: loc, status: String(status) }),
        duration: this.duration.series({ route, location: loc }),
        bytes: this.replyBytes.series({ route, location: loc }),
      };
      this.children.set(key, child);
    }
    child.count.count += 1;
    child.duration.observe(seconds);
    if (bytes !== undefined) child.bytes.observe(bytes);
  }

  /** Reports how many searches are on the SQLite reader threads (platform/db/reader-threads.ts), read at each scrape. */
  watchReaderThreads(threads: { readonly tasks: number }): void {
    new Gauge({
      name: 'fis_search_thread_tasks',
      help: 'Searches running or waiting on the SQLite reader threads; steadily above SQLITE_READ_THREADS means searches queue.',
      registers: [this.registry],
      collect() {
        this.set(threads.tasks);
      },
    });
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

/**
 * One labelled series of a recorded metric: its count, and for a histogram its sum and the count
 * of observations per bucket (not cumulative; exposition adds them up).
 */
class Series {
  count = 0;
  sum = 0;
  readonly buckets: number[];

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.buckets = bounds.map(() => 0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) this.buckets[i] = (this.buckets[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

/**
 * The per-request metrics, recorded in plain series and read by prom-client's registry at scrape
 * time, in the format prom-client's own Counter and Histogram give it (so `/metrics`, its text and
 * the cluster's aggregation are unchanged). prom-client's `observe` checks and hashes the labels on
 * every call: for the three per-request metrics that was 6% of a details request's instructions
 * (18,000 of 296,000, counted by bench/instructions.mjs); here a request costs three additions on
 * series looked up once per (route, Location, status).
 */
abstract class RecordedMetric {
  readonly aggregator = 'sum';
  protected readonly all: Series[] = [];
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    // The registry reads a metric through get() / getForPromString() alone.
    registry.registerMetric(this as unknown as Metric);
  }

  protected add(series: Series): Series {
    this.all.push(series);
    return series;
  }

  protected abstract values(splay: boolean): Array<{ labels: Record<string, string | number>; sharedLabels?: Record<string, string>; value: number; metricName?: string }>;

  /** For the text exposition (labels of a bucket: `le` first, then the series' own). */
  async getForPromString() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(false), aggregator: this.aggregator };
  }

  /** For getMetricsAsJSON (the cluster's snapshots): every value with all its labels. */
  async get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values(true), aggregator: this.aggregator };
  }
}

class RecordedCounter extends RecordedMetric {
  readonly type = 'counter';

  series(labels: Record<string, string>): Series {
    return this.add(new Series(labels, []));
  }

  protected values() {
    return this.all.map((s) => ({ labels: { ...s.labels }, value: s.count }));
  }
}

class RecordedHistogram extends RecordedMetric {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, registry);
  }

  series(labels: Record<string, string>): Series {
    return this.add(new Series(labels, this.bounds));
  }

  protected values(splay: boolean) {
    const bucket = `${this.name}_bucket`;
    const out: Array<{ labels: Record<string, string | number>; sharedLabels?: Record<string, string>; value: number; metricName: string }> = [];
    const value = (labels: Record<string, string | number>, v: number, metricName: string, shared: Record<string, string>) =>
      out.push(splay ? { labels: { ...labels, ...shared }, value: v, metricName } : { labels, sharedLabels: { ...shared }, value: v, metricName });
    for (const s of this.all) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        value({ le }, cumulative, bucket, s.labels);
      });
      value({ le: '+Inf' }, s.count, bucket, s.labels);
      value({}, s.sum, `${this.name}_sum`, s.labels);
      value({}, s.count, `${this.name}_count`, s.labels);
    }
    return out;
  }
}

export function createMetrics(): Metrics {
  return new Metrics();
}
