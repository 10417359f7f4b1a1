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
  const o = r.options as { store: string; customers: number; workers: number; heavyWorkers: number; heavySize: number; deepAt: number };
  const i = r.import;
  return [
    `### ${o.store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${num(o.customers)} customers`,
    '',
    `\`${r.command}\` — ${r.date}, ${num(o.workers)} workers, ${o.heavyWorkers} heavy workers × ${num(o.heavySize)} ` +
      `(deep pages start ${num(o.deepAt)} in), total run ${num(r.totalSeconds)} s`,
    '',
    '| scenario | ceiling req/s | req/s | p50 ms | p99 ms | of ceiling | target | service RSS MB |',
    '|---|---:|---:|---:|---:|---:|---|---:|',
    ...r.scenarios.map(
      (s) =>
        `| ${s.name} | ${num(s.ceiling.requestsPerSecond)} | ${num(s.requestsPerSecond)} | ${num(s.p50Ms)} | ${num(s.p99Ms)} | ` +
        `${num(s.ratio * 100)}% | ${s.meetsTarget ? 'met' : '**missed**'} (≥${s.target.ratio * 100}%, p99 < ${s.target.p99Ms} ms) | ${num(s.serviceRssMb)} |`,
    ),
    '',
    `- Import: ${num(i.customers)} customers in ${num(i.seconds, 1)} s = **${num(i.perSecond)} customers/s** (one transaction, ` +
      `whole CLI process incl. start-up and migrations); importer peak RSS ${num(i.peakRssMb)} MB, at 25/50/75% of the run ` +
      `${i.rssAtQuartersMb.map((m) => (m === undefined ? '?' : num(m))).join(' / ')} MB.`,
    `- Service RSS: ${num(r.serviceRssMb.idle)} MB after start-up, **${num(r.serviceRssMb.peakUnderLoad)} MB** peak under load.`,
    '',
  ].join('\n');
}

for (const file of process.argv.slice(2)) {
  process.stdout.write(`${section(JSON.parse(readFileSync(file, 'utf8')) as BenchResults)}\n`);
}
