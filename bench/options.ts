/**
 * Command-line options of `npm run bench`. Sizes left out are derived from
 * `--customers` so that a small run has the same shape as the default one:
 * about 100 customers per worker, and a few heavy workers with large books.
 */
import { parseArgs } from 'node:util';

export type StoreKind = 'sqlite' | 'postgres';

export interface BenchOptions {
  store: StoreKind;
  customers: number;
  workers: number;
  heavyWorkers: number;
  heavySize: number;
  /** How deep the deep-page scenarios start, in customers (40,000 at the default size). */
  deepAt: number;
  seed: number;
  /** Seconds measured per scenario. */
  duration: number;
  /** Alternating ceiling/service rounds the measured seconds are split into. */
  rounds: number;
  /** Seconds of unmeasured load before each measurement. */
  warmup: number;
  /** Seconds of rest between runs, so one run's tail does not eat into the next. */
  pause: number;
  connections: number;
  /** The service's SERVE_PROCESSES. */
  processes: number;
  pgUrl: string;
  /** PostgreSQL schema the benchmark recreates (default bench_<customers>). */
  pgSchema: string;
  logLevel: 'warn' | 'info';
  /** `dist`: build with tsc and run the compiled CLI (as in production); `src`: run the sources through tsx. */
  cli: 'dist' | 'src';
  workDir: string;
  /** Write the results as JSON here too. */
  json: string | undefined;
  /** Write a V8 CPU profile of the service (node --cpu-prof) into this directory. */
  profile: string | undefined;
  /** The service's CUSTOMER_VISIBILITY. */
  visibility: 'owner' | 'all';
  /** Only the scenarios whose name matches (a regular expression). */
  only: RegExp | undefined;
  /** Sequential requests per scenario for the one-at-a-time latencies (0: none). */
  sequential: number;
  /** Also run issue 11's search query mix (the `search mix: …` scenarios). */
  searchMix: boolean;
  /** More of the service's environment (`--service-env SQLITE_MMAP_MB=64`), e.g. to measure a setting. */
  serviceEnv: Record<string, string>;
}

const HELP = `npm run bench -- [options]

  --store sqlite|postgres   store to measure (default sqlite)
  --customers N             customers in the dataset (default 1000000)
  --workers N               workers (default customers/100, at most 10000)
  --heavy-workers N         workers owning --heavy-size customers each (default 3)
  --heavy-size N            customers per heavy worker (default min(50000, 5% of customers))
  --seed N                  dataset seed (default 1)
  --duration S              seconds measured per scenario (default 10)
  --rounds N                alternating ceiling/service rounds the measured time is split into (default 3)
  --warmup S                seconds of warm-up load before each scenario (default 3)
  --pause S                 seconds of rest between runs (default 1)
  --connections N           concurrent connections (default 50)
  --processes N             the service's SERVE_PROCESSES: processes serving the port (default 1)
  --pg-url URL              PostgreSQL server for --store postgres (default postgres://postgres@127.0.0.1:5432/test)
  --pg-schema NAME          schema to drop and recreate (default bench_<customers>)
  --log-level warn|info     the service's LOG_LEVEL (default warn)
  --cli dist|src            run the compiled CLI (default; builds first) or the sources via tsx
  --work-dir DIR            where datasets and SQLite files go (default bench/.work)
  --json FILE               also write the results as JSON
  --profile DIR             write a CPU profile of the service (node --cpu-prof) to DIR
  --visibility owner|all    the service's CUSTOMER_VISIBILITY (default owner)
  --only REGEX              run only the scenarios whose name matches (e.g. 'list first|search mix')
  --sequential N            also send N requests one at a time per scenario: p50/p95 latency (default 0)
  --search-mix              also run the search query mix (issue 11): one scenario per query form, by the
                            heavy workers (or anyone with --visibility all)
  --service-env NAME=VALUE  one more variable of the service's environment (repeatable), e.g. SQLITE_MMAP_MB=64
`;

function number(raw: string | undefined, name: string, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: 'string' },
      customers: { type: 'string' },
      workers: { type: 'string' },
      'heavy-workers': { type: 'string' },
      'heavy-size': { type: 'string' },
      seed: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      pause: { type: 'string' },
      connections: { type: 'string' },
      processes: { type: 'string' },
      'pg-url': { type: 'string' },
      'pg-schema': { type: 'string' },
      'log-level': { type: 'string' },
      cli: { type: 'string' },
      'work-dir': { type: 'string' },
      json: { type: 'string' },
      profile: { type: 'string' },
      visibility: { type: 'string' },
      only: { type: 'string' },
      sequential: { type: 'string' },
      'search-mix': { type: 'boolean' },
      'service-env': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const store = values.store ?? 'sqlite';
  if (store !== 'sqlite' && store !== 'postgres') throw new Error(`--store must be sqlite or postgres, got "${store}"`);
  const logLevel = values['log-level'] ?? 'warn';
  if (logLevel !== 'warn' && logLevel !== 'info') throw new Error(`--log-level must be warn or info`);
  const cli = values.cli ?? 'dist';
  if (cli !== 'dist' && cli !== 'src') throw new Error(`--cli must be dist or src`);
  if (values['pg-schema'] !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(values['pg-schema'])) {
    throw new Error('--pg-schema must be a lower-case SQL identifier');
  }

  const customers = Math.floor(number(values.customers, 'customers', 1_000_000, 100));
  const heavyWorkers = Math.floor(number(values['heavy-workers'], 'heavy-workers', 3, 1));
  const heavySize = Math.floor(
    number(values['heavy-size'], 'heavy-size', Math.min(50_000, Math.floor(customers * 0.05)), 10),
  );
  if (heavyWorkers * heavySize > customers) throw new Error('--heavy-workers × --heavy-size exceeds --customers');
  const workers = Math.floor(
    number(values.workers, 'workers', Math.max(heavyWorkers + 10, Math.min(10_000, Math.round(customers / 100))), 1),
  );
  if (workers <= heavyWorkers) throw new Error('--workers must exceed --heavy-workers');
  return {
    store,
    customers,
    workers,
    heavyWorkers,
    heavySize,
    deepAt: Math.floor(heavySize * 0.8),
    seed: Math.floor(number(values.seed, 'seed', 1, 1)),
    duration: number(values.duration, 'duration', 10, 0.5),
    rounds: Math.floor(number(values.rounds, 'rounds', 3, 1)),
    warmup: number(values.warmup, 'warmup', 3),
    pause: number(values.pause, 'pause', 1),
    connections: Math.floor(number(values.connections, 'connections', 50, 1)),
    processes: Math.floor(number(values.processes, 'processes', 1, 1)),
    pgUrl: values['pg-url'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    pgSchema: values['pg-schema'] ?? `bench_${customers}`,
    logLevel,
    cli,
    workDir: values['work-dir'] ?? 'bench/.work',
    json: values.json,
    profile: values.profile,
    visibility: values.visibility === 'all' ? 'all' : 'owner',
    only: values.only === undefined ? undefined : new RegExp(values.only),
    sequential: Math.floor(number(values.sequential, 'sequential', 0)),
    searchMix: values['search-mix'] ?? false,
    serviceEnv: Object.fromEntries(
      (values['service-env'] ?? []).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--service-env must be NAME=VALUE, got "${pair}"`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
}

export { HELP };
