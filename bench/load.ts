/** Drives two servers with autocannon: an unmeasured warm-up each, then measured rounds in turn. */
import autocannon, { type Result } from 'autocannon';
import type { SignedRequest } from './scenarios.js';

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  connections: number;
  duration: number;
  warmup: number;
}

async function once(url: string, requests: SignedRequest[], connections: number, duration: number) {
  return autocannon({
    url,
    connections,
    duration,
    timeout: 10,
    // autocannon pre-builds each static request once per connection and cycles through them.
    requests: requests.map((r) => ({ ...r })),
  });
}

/** One run's figures; several rounds of one server add up to one result. */
function resultOf(r: Result): LoadResult {
  return {
    requestsPerSecond: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

function combine(rounds: Array<{ result: LoadResult; seconds: number }>): LoadResult {
  const requests = rounds.reduce((n, r) => n + r.result.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  return {
    requestsPerSecond: requests / seconds,
    // Percentiles do not add up: the median round's p50, the worst round's p99.
    p50Ms: median(rounds.map((r) => r.result.p50Ms)),
    p99Ms: Math.max(...rounds.map((r) => r.result.p99Ms)),
    requests,
    errors: rounds.reduce((n, r) => n + r.result.errors, 0),
    non2xx: rounds.reduce((n, r) => n + r.result.non2xx, 0),
  };
}

export interface Comparison {
  reference: LoadResult;
  subject: LoadResult;
  /** The median over rounds of subject/reference throughput, each round's pair measured back to back. */
  ratio: number;
}

/**
 * Measures two servers with the same requests in alternating rounds (reference, then subject),
 * `duration` seconds each in all, so that a burst of load from the machine's other tenants moves
 * one round's pair rather than a whole side. Each server is warmed up once first.
 */
export async function compare(
  requests: SignedRequest[],
  urls: { reference: string; subject: string },
  options: LoadOptions & { rounds: number; pause: number },
): Promise<Comparison> {
  const seconds = options.duration / options.rounds;
  const rest = () => new Promise((resolve) => setTimeout(resolve, options.pause * 1000));
  if (options.warmup > 0) {
    await once(urls.reference, requests, options.connections, options.warmup);
    await once(urls.subject, requests, options.connections, options.warmup);
    await rest();
  }
  const reference: Array<{ result: LoadResult; seconds: number }> = [];
  const subject: Array<{ result: LoadResult; seconds: number }> = [];
  for (let i = 0; i < options.rounds; i++) {
    const a = await once(urls.reference, requests, options.connections, seconds);
    reference.push({ result: resultOf(a), seconds: a.duration });
    await rest();
    const b = await once(urls.subject, requests, options.connections, seconds);
    subject.push({ result: resultOf(b), seconds: b.duration });
    await rest();
  }
  return {
    reference: combine(reference),
    subject: combine(subject),
    ratio: median(subject.map((s, i) => s.result.requestsPerSecond / (reference[i] as (typeof reference)[number]).result.requestsPerSecond)),
  };
}
