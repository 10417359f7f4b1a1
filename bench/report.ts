/** The printed table and the JSON results. */
import type { ImportResult } from './dataset.js';
import type { LoadResult } from './load.js';

export interface ScenarioResult extends LoadResult {
  name: string;
  /** The bare node:http server, measured in rounds alternating with the service, with the same requests. */
  ceiling: LoadResult;
  description: string;
  ratio: number;
  target: { ratio: number; p99Ms: number };
  meetsTarget: boolean;
  serviceRssMb: number;
  /** The peaks of RSS's anonymous and file-backed parts, each on its own (one service process only). */
  serviceRssPartsMb?: { anon: number; file: number };
  /** One request at a time (--sequential): latency percentiles. */
  sequential?: { requests: number; p50Ms: number; p95Ms: number; maxMs: number };
  /** `GET /healthz` asked one at a time during the load: the longest any other request waited. */
  stall?: { probes: number; p99Ms: number; maxMs: number };
  /** The service's own event-loop delay during the load (prom-client's monitor, read from /metrics): p99 and maximum. */
  eventLoop?: { p99Ms: number; maxMs: number };
}

/** Fastify answering the ceiling's fixed JSON: the framework's own share of the budget. */
export interface FrameworkReference {
  ceiling: LoadResult;
  fastify: LoadResult;
  ratio: number;
}

export interface BenchResults {
  date: string;
  machine: { cores: number; memoryGb: number; cpu: string; node: string };
  command: string;
  options: Record<string, unknown>;
  seedSeconds: number;
  import: ImportResult;
  scenarios: ScenarioResult[];
  framework: FrameworkReference | undefined;
  serviceRssMb: { idle: number; peakUnderLoad: number };
  totalSeconds: number;
}

/** The targets, on SQLite. */
export function targetFor(name: string): { ratio: number; p99Ms: number } {
  return name.startsWith('search') ? { ratio: 0.35, p99Ms: 25 } : { ratio: 0.5, p99Ms: 15 };
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function table(results: BenchResults): string {
  const rows = [
    ['scenario', 'ceiling req/s', 'req/s', 'p50 ms', 'p99 ms', 'of ceiling', 'target', 'RSS MB', '1-at-a-time p50/p95 ms', 'healthz during load p99/max ms', 'event loop delay p99/max ms'],
    ...results.scenarios.map((s) => [
      s.name,
      num(s.ceiling.requestsPerSecond),
      num(s.requestsPerSecond),
      num(s.p50Ms, 1),
      num(s.p99Ms, 1),
      `${num(s.ratio * 100)}%`,
      `${s.meetsTarget ? 'met' : 'MISSED'} (≥${s.target.ratio * 100}%, p99<${s.target.p99Ms})`,
      num(s.serviceRssMb),
      s.sequential ? `${num(s.sequential.p50Ms, 1)} / ${num(s.sequential.p95Ms, 1)}` : '',
      s.stall ? `${num(s.stall.p99Ms, 1)} / ${num(s.stall.maxMs, 1)}` : '',
      s.eventLoop ? `${num(s.eventLoop.p99Ms, 1)} / ${num(s.eventLoop.maxMs, 1)}` : '',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((cell, c) => pad(cell, widths[c] ?? 0)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const [head, ...body] = rows;
  const i = results.import;
  return [
    line(head as string[]),
    sep,
    ...body.map(line),
    '',
    `import: ${num(i.customers)} customers in ${num(i.seconds, 1)} s = ${num(i.perSecond)} customers/s, one transaction; ` +
      `importer peak RSS ${num(i.peakRssMb)} MB (at 25/50/75% of the run: ${i.rssAtQuartersMb.map((m) => (m === undefined ? '?' : num(m))).join(' / ')} MB)`,
    ...(results.framework
      ? [
          `framework reference: Fastify answering the ceiling's fixed JSON does ${num(results.framework.fastify.requestsPerSecond)} req/s ` +
            `against the ceiling's ${num(results.framework.ceiling.requestsPerSecond)} (${num(results.framework.ratio * 100)}%), ` +
            `p50 ${num(results.framework.fastify.p50Ms, 1)} ms, p99 ${num(results.framework.fastify.p99Ms, 1)} ms`,
        ]
      : []),
    `service RSS: ${num(results.serviceRssMb.idle)} MB after start-up, ${num(results.serviceRssMb.peakUnderLoad)} MB peak under load`,
    `ceiling: a bare node:http server answering a fixed JSON to the same POSTs, measured in rounds alternating with the service; ratios are the median round's; ` +
      `total bench time ${num(results.totalSeconds)} s`,
  ].join('\n');
}
