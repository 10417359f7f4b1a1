/** Drives one server with autocannon: an unmeasured warm-up, then the measured run. */
import autocannon from 'autocannon';
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
  url: string;
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

export async function measure(requests: SignedRequest[], options: LoadOptions): Promise<LoadResult> {
  if (options.warmup > 0) await once(options.url, requests, options.connections, options.warmup);
  const r = await once(options.url, requests, options.connections, options.duration);
  return {
    requestsPerSecond: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
