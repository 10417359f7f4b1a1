/**
 * The dataset side of the benchmark: `fis seed --out` writes it, `fis import`
 * loads it (timed, memory watched), and a sparse pass over the file picks the
 * workers and customers the load is spread over.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BenchOptions } from './options.js';
import { RssSampler, start } from './processes.js';

export interface ImportResult {
  customers: number;
  seconds: number;
  perSecond: number;
  peakRssMb: number;
  /** Resident memory at 25%, 50%, 75% of the import: flat when memory does not grow with the file. */
  rssAtQuartersMb: Array<number | undefined>;
}

/** A customer the load uses: an ordinary (not heavy) worker's customer. */
export interface Sample {
  worker: string;
  customerId: string;
  displayName: string;
  phoneDigits: string;
}

export interface Cli {
  command: string;
  args: string[];
}

export async function seedFile(cli: Cli, options: BenchOptions, file: string, cwd: string): Promise<number> {
  const started = performance.now();
  const p = start(cli.command, [
    ...cli.args,
    'seed',
    '--out',
    file,
    '--customers',
    String(options.customers),
    '--workers',
    String(options.workers),
    '--seed',
    String(options.seed),
    '--heavy-workers',
    String(options.heavyWorkers),
    '--heavy-size',
    String(options.heavySize),
  ], { cwd });
  if ((await p.exited) !== 0) throw new Error(`fis seed failed:\n${p.output()}`);
  return (performance.now() - started) / 1000;
}

export async function importFile(
  cli: Cli,
  env: Record<string, string>,
  file: string,
  customers: number,
  cwd: string,
): Promise<ImportResult> {
  const started = performance.now();
  const p = start(cli.command, [...cli.args, 'import', file], { env, cwd });
  const rss = new RssSampler(p.child.pid as number, 100);
  const code = await p.exited;
  rss.stop();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`fis import failed:\n${p.output()}`);
  return {
    customers,
    seconds,
    perSecond: customers / seconds,
    peakRssMb: Math.max(rss.peakMb, rss.max()),
    rssAtQuartersMb: [0.25, 0.5, 0.75].map((f) => rss.at(f)),
  };
}

/**
 * Reads about `wanted` customers spread over the whole file (every k-th line),
 * skipping the heavy workers' books: those are loaded by the deep-page scenarios.
 */
export async function sampleCustomers(file: string, options: BenchOptions, heavy: Set<string>, wanted = 4000): Promise<Sample[]> {
  const every = Math.max(1, Math.floor(options.customers / wanted));
  const samples: Sample[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const line of lines) {
    if (n++ % every !== 0) continue;
    const record = JSON.parse(line) as {
      customer_id: string;
      display_name: string;
      workers: string[];
      channels?: Array<{ type: string; value: string }>;
    };
    const worker = record.workers[0];
    const sms = record.channels?.find((c) => c.type === 'sms');
    if (worker === undefined || heavy.has(worker) || !sms) continue;
    samples.push({
      worker,
      customerId: record.customer_id,
      displayName: record.display_name,
      phoneDigits: sms.value.replace(/\D/g, ''),
    });
  }
  if (samples.length === 0) throw new Error('the dataset has no customers of ordinary workers to sample');
  return samples;
}
