/**
 * Turns result files written by `npm run bench -- --json FILE` into the
 * Markdown tables of BENCHMARKS.md:
 *   node --import tsx bench/markdown.ts results-a.json results-b.json …
 */
import { readFileSync } from 'node:fs';
import type { BenchResults } from './report.js';

const num = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function section(r: BenchResults): string {
  const o = r.options as {
    store: string;
    customers: number;
    workers: number;
    heavyWorkers: number;
    heavySize: number;
    deepAt: number;
    processes?: number;
  };
  const i = r.import;
  return [
    `### ${o.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${num(o.customers)} customers` +
      ((o.processes ?? 1) > 1 ? `, SERVE_PROCESSES=${o.processes}` : ''),
    '',
    `\`${r.command}\` — ${r.date}, ${num(o.workers)} workers, ${o.heavyWorkers} heavy workers × ${num(o.heavySize)} ` +
      `(deep pages start ${num(o.deepAt)} in), total run ${num(r.totalSeconds)} s`,
    '',
    '| scenario | ceiling req/s | req/s | p50 ms | p99 ms | of ceiling | target | service RSS MB |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
    ...r.scenarios.map(
      (s) =>
        `| ${s.name} | ${num(s.ceiling.requestsPerSecond)} | ${num(s.requestsPerSecond)} | ${num(s.p50Ms)} | ${num(s.p99Ms)} | ` +
        `${num(s.ratio * 100)}% | ${s.meetsTarget ? 'met' : '**missed**'} (≥${s.target.ratio * 100}%, p99 < ${s.target.p99Ms} ms) | ${num(s.serviceRssMb)}${s.serviceRssPartsMb ? ` (anon ${num(s.serviceRssPartsMb.anon)}, file ${num(s.serviceRssPartsMb.file)})` : ''} |`,
    ),
    '',
    `- Import: ${num(i.customers)} customers in ${num(i.seconds, 1)} s = **${num(i.perSecond)} customers/s** (one transaction, ` +
      `whole CLI process incl. start-up and migrations); importer peak RSS ${num(i.peakRssMb)} MB, at 25/50/75% of the run ` +
      `${i.rssAtQuartersMb.map((m) => (m === undefined ? '?' : num(m))).join(' / ')} MB.`,
    ...(r.framework
      ? [
          `- Framework reference: Fastify answering the ceiling's fixed JSON to the list-first-page POSTs did ` +
            `${num(r.framework.fastify.requestsPerSecond)} req/s against the ceiling's ${num(r.framework.ceiling.requestsPerSecond)} ` +
            `(**${num(r.framework.ratio * 100)}%**), p99 ${num(r.framework.fastify.p99Ms)} ms.`,
        ]
      : []),
    `- Service RSS: ${num(r.serviceRssMb.idle)} MB after start-up, **${num(r.serviceRssMb.peakUnderLoad)} MB** peak under load.`,
    '',
  ].join('\n');
}

type Run = BenchResults & { options: { store: string; customers: number } };
const runs = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, 'utf8')) as Run);
for (const r of runs) process.stdout.write(`${section(r)}\n`);

/** The one-process run of a store and size (the ceiling is one process too). */
const find = (store: string, customers: number) =>
  runs.find(
    (r) =>
      r.options.store === store && r.options.customers === customers && ((r.options as { processes?: number }).processes ?? 1) === 1,
  );
const pct = (n: number) => `${n >= 0 ? '+' : ''}${num(n * 100)}%`;

/** 10,000 → 1,000,000 on each store: raw req/s, and as a share of the ceiling measured next to it. */
for (const store of ['sqlite', 'postgres']) {
  const [small, large] = [find(store, 10_000), find(store, 1_000_000)];
  if (!small || !large) continue;
  process.stdout.write(
    [
      `#### ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: 10,000 → 1,000,000 customers`,
      '',
      '| scenario | req/s at 10k | req/s at 1M | change | share of ceiling at 10k → 1M |',
      '|---|---:|---:|---:|---:|',
      ...small.scenarios.map((s, i) => {
        const l = large.scenarios[i] as (typeof large.scenarios)[number];
        return `| ${s.name} | ${num(s.requestsPerSecond)} | ${num(l.requestsPerSecond)} | ${pct(l.requestsPerSecond / s.requestsPerSecond - 1)} | ${num(s.ratio * 100)}% → ${num(l.ratio * 100)}% |`;
      }),
      '',
      '',
    ].join('\n'),
  );
}

/** PostgreSQL against SQLite at each size. */
for (const customers of [10_000, 1_000_000]) {
  const [lite, pgRun] = [find('sqlite', customers), find('postgres', customers)];
  if (!lite || !pgRun) continue;
  process.stdout.write(
    [
      `#### PostgreSQL against SQLite, ${num(customers)} customers`,
      '',
      '| scenario | SQLite req/s | PostgreSQL req/s | PostgreSQL / SQLite | same, by share of ceiling |',
      '|---|---:|---:|---:|---:|',
      ...lite.scenarios.map((s, i) => {
        const p = pgRun.scenarios[i] as (typeof pgRun.scenarios)[number];
        return `| ${s.name} | ${num(s.requestsPerSecond)} | ${num(p.requestsPerSecond)} | ${num((p.requestsPerSecond / s.requestsPerSecond) * 100)}% | ${num((p.ratio / s.ratio) * 100)}% |`;
      }),
      '',
      '',
    ].join('\n'),
  );
}
