/**
 * `npm run bench`: generates a dataset with the CLI, imports it with the CLI,
 * starts the real service, and drives it with signed CRM callbacks from
 * autocannon, next to a bare node:http server (the ceiling) measured in the
 * same run. See BENCHMARKS.md for results and `npm run bench -- --help`.
 *
 * Only 127.0.0.1 is ever contacted.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { workerIdentity } from '../src/application/files/seed.js';
import { type Cli, importFile, sampleCustomers, seedFile } from './dataset.js';
import { compare } from './load.js';
import { HELP, type BenchOptions, parseOptions } from './options.js';
import { RssSampler, freePort, run, start, stop, treeResidentMb, waitForHttp } from './processes.js';
import { type BenchResults, type FrameworkReference, type ScenarioResult, table, targetFor } from './report.js';
import { type DeepPoints, type Params, buildScenarios, buildSearchScenarios, CRM_PATH, encode, signed } from './scenarios.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (message: string) => process.stderr.write(`${message}\n`);

/** The Node flags `npm start` gives the service (package.json): the bench measures the service as it is started. */
const START_NODE_FLAGS: readonly string[] = (
  JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((word) => word.startsWith('--'));

function cliFor(options: BenchOptions): Cli {
  return options.cli === 'dist'
    ? { command: process.execPath, args: [path.join(ROOT, 'dist/src/transports/cli/main.js')] }
    : // Resolved here: the children run in the work directory, where `tsx` alone would not resolve.
      { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/transports/cli/main.ts')] };
}

/** A fresh, empty store for this size: a new SQLite file, or a dropped and recreated PostgreSQL schema. */
async function freshStore(options: BenchOptions, workDir: string): Promise<Record<string, string>> {
  if (options.store === 'sqlite') {
    const file = path.join(workDir, `bench-${options.customers}.sqlite`);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    return { DATABASE_URL: `sqlite:${file}` };
  }
  const schema = options.pgSchema;
  const client = new pg.Client({ connectionString: options.pgUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
  return { DATABASE_URL: options.pgUrl, DATABASE_SCHEMA: schema };
}

/**
 * After a PostgreSQL import, writes the import's dirty pages out (CHECKPOINT) before anything is measured:
 * otherwise the first scenarios run while the server flushes a million rows' worth of pages, and measured
 * list first at half its settled rate (BENCHMARKS.md, ninth round). Needs a superuser or pg_checkpoint;
 * without the privilege the bench says so and goes on unsettled.
 */
async function settleStore(options: BenchOptions): Promise<void> {
  if (options.store !== 'postgres') return;
  const client = new pg.Client({ connectionString: options.pgUrl });
  await client.connect();
  try {
    const started = performance.now();
    await client.query('checkpoint');
    say(`  checkpoint after the import: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    say(`  no checkpoint after the import (${(error as Error).message}): the store may still be writing while measured`);
  } finally {
    await client.end();
  }
}

async function post(baseUrl: string, authToken: string, params: Params) {
  const req = signed(authToken, baseUrl, params);
  const res = await fetch(`${baseUrl}${CRM_PATH}`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${encode(params)} -> ${res.status} ${text}`);
  return JSON.parse(text) as { objects: { customers: Array<{ customer_id: string }>; next_page_token?: string } };
}

/** Walks each heavy worker's book to `deepAt`, then collects tokens and anchors of the pages after it. */
async function deepPoints(baseUrl: string, authToken: string, options: BenchOptions, pagesEach = 34): Promise<DeepPoints> {
  const points: DeepPoints = { tokens: [], anchors: [] };
  for (let w = 0; w < options.heavyWorkers; w++) {
    const worker = workerIdentity(w);
    let token: string | undefined;
    let lastId: string | undefined;
    for (let seen = 0; seen < options.deepAt; ) {
      const size = Math.min(200, options.deepAt - seen);
      const page = await post(baseUrl, authToken, {
        Location: 'GetCustomersList',
        Worker: worker,
        PageSize: String(size),
        ...(token ? { NextPageToken: token } : {}),
      });
      seen += page.objects.customers.length;
      token = page.objects.next_page_token;
      lastId = page.objects.customers.at(-1)?.customer_id;
      if (!token) throw new Error(`${worker}'s book ended after ${seen} customers, before ${options.deepAt}`);
    }
    for (let i = 0; i < pagesEach && token && lastId; i++) {
      points.tokens.push({ worker, token });
      points.anchors.push({ worker, anchor: lastId });
      const page = await post(baseUrl, authToken, { Location: 'GetCustomersList', Worker: worker, PageSize: '30', NextPageToken: token });
      token = page.objects.next_page_token;
      lastId = page.objects.customers.at(-1)?.customer_id;
    }
  }
  return points;
}

/**
 * What the event loop's stalls cost the other requests: while a scenario's load
 * runs, `GET /healthz` is asked one at a time (every 20 ms) and its latency
 * recorded. A search that blocks the service's event loop (SQLite reads are
 * synchronous) shows up here as the longest wait any other request had.
 */
function stallProbe(url: string) {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await (await fetch(url)).text();
        times.push(performance.now() - t0);
      } catch {
        // A refused probe is not a latency.
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      times.sort((a, b) => a - b);
      return {
        probes: times.length,
        p99Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0,
        maxMs: times.at(-1) ?? 0,
      };
    },
  };
}

/**
 * The service's event-loop delay since the last read: prom-client's monitor (node's
 * monitorEventLoopDelay) starts over each time /metrics is read, so a read before a scenario and
 * one after it give the scenario's p99 and maximum, as the service itself saw them (the /healthz
 * probe also counts this process's own pauses, and the network's).
 */
async function eventLoopDelay(baseUrl: string): Promise<{ p99Ms: number; maxMs: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const seconds = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { p99Ms: seconds('nodejs_eventloop_lag_p99_seconds') * 1000, maxMs: seconds('nodejs_eventloop_lag_max_seconds') * 1000 };
}

/** `count` requests of `params`, one at a time: latency percentiles as the client sees them. */
async function oneAtATime(baseUrl: string, authToken: string, params: Params[], count: number) {
  if (count === 0) return undefined;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = params[Math.floor((i * params.length) / count)] as Params;
    const req = signed(authToken, baseUrl, p);
    const t0 = performance.now();
    const res = await fetch(`${baseUrl}${CRM_PATH}`, { method: 'POST', headers: req.headers, body: req.body });
    await res.text();
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${encode(p)} -> ${res.status}`);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return { requests: count, p50Ms: at(0.5), p95Ms: at(0.95), maxMs: times.at(-1) as number };
}

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(HELP);
    return;
  }
  const options = parsed;
  const started = performance.now();
  const workDir = path.resolve(ROOT, options.workDir);
  mkdirSync(workDir, { recursive: true });
  const machine = {
    cores: os.availableParallelism(),
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
  say(`bench: ${options.store}, ${options.customers} customers, ${options.workers} workers, ` +
    `${options.heavyWorkers} heavy workers × ${options.heavySize}; ${machine.cores} cores, ${machine.memoryGb} GB`);
  const extraEnv = Object.entries(options.serviceEnv).map(([name, value]) => `${name}=${value}`);
  if (extraEnv.length > 0) say(`  the service's environment also has ${extraEnv.join(' ')}`);

  const cli = cliFor(options);
  if (options.cli === 'dist') {
    say('building (tsc)…');
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')]);
  }

  const file = path.join(workDir, `customers-${options.customers}-seed${options.seed}.ndjson`);
  say('generating the dataset (fis seed --out)…');
  const seedSeconds = await seedFile(cli, options, file, workDir);

  const storeEnv = await freshStore(options, workDir);
  say('importing (fis import)…');
  // Children run in the work directory so that a developer's ./.env cannot change what is measured.
  const imported = await importFile(cli, storeEnv, file, options.customers, workDir);
  say(`  ${Math.round(imported.perSecond)} customers/s, peak RSS ${Math.round(imported.peakRssMb)} MB`);
  await settleStore(options);

  const authToken = randomBytes(16).toString('hex');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const profile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profile)}`] : [];
  const service = start(cli.command, [...profile, ...START_NODE_FLAGS, ...cli.args, 'serve'], {
    cwd: workDir,
    env: {
      ...storeEnv,
      TWILIO_AUTH_TOKEN: authToken,
      PORT: String(port),
      HOST: '127.0.0.1',
      // The URL Twilio would sign; the bench signs the same one.
      PUBLIC_URL: baseUrl,
      LOG_LEVEL: options.logLevel,
      SERVE_PROCESSES: String(options.processes),
      CUSTOMER_VISIBILITY: options.visibility,
      ...options.serviceEnv,
    },
  });
  const ceilingPort = await freePort();
  const ceiling = start(process.execPath, [path.join(ROOT, 'bench/ceiling-server.mjs'), String(ceilingPort)]);
  const referencePort = await freePort();
  const reference = start(process.execPath, [path.join(ROOT, 'bench/fastify-reference.mjs'), String(referencePort)]);
  const results: ScenarioResult[] = [];
  let framework: FrameworkReference | undefined;
  let idleRss = 0;
  let peakRss = 0;
  try {
    await waitForHttp(`${baseUrl}/healthz`, service);
    await waitForHttp(`http://127.0.0.1:${ceilingPort}/`, ceiling);
    await waitForHttp(`http://127.0.0.1:${referencePort}/`, reference);
    // With SERVE_PROCESSES > 1, the primary and its workers together.
    idleRss = treeResidentMb(service.child.pid as number) ?? 0;

    say('walking the heavy workers’ books and sampling customers…');
    const heavy = new Set(Array.from({ length: options.heavyWorkers }, (_, i) => workerIdentity(i)));
    const deep = await deepPoints(baseUrl, authToken, options);
    const samples = await sampleCustomers(file, options, heavy);
    const searchers = options.visibility === 'all' ? [...new Set(samples.map((s) => s.worker))] : [...heavy];
    const mix = options.searchMix ? buildSearchScenarios(samples, searchers) : [];
    const scenarios = [...buildScenarios(samples, deep), ...mix].filter(
      (s) => !options.only || options.only.test(s.name),
    );
    for (const s of scenarios) {
      const json = await post(baseUrl, authToken, s.params[0] as Params);
      if (!s.check(json)) throw new Error(`${s.name}: unexpected answer ${JSON.stringify(json).slice(0, 300)}`);
    }

    const load = {
      connections: options.connections,
      duration: options.duration,
      warmup: options.warmup,
      rounds: options.rounds,
      pause: options.pause,
    };
    {
      // Where the framework's share ends and ours begins: Fastify answering the ceiling's fixed
      // JSON, in rounds alternating with the ceiling, with the first scenario's requests.
      const first = scenarios[0] as (typeof scenarios)[number];
      const requests = first.params.map((p) => signed(authToken, baseUrl, p));
      say('measuring the ceiling and Fastify answering the same fixed JSON (framework reference)…');
      const c = await compare(requests, { reference: `http://127.0.0.1:${ceilingPort}`, subject: `http://127.0.0.1:${referencePort}` }, load);
      framework = { ceiling: c.reference, fastify: c.subject, ratio: c.ratio };
      say(`  ceiling ${Math.round(c.reference.requestsPerSecond)} req/s; Fastify ${Math.round(c.subject.requestsPerSecond)} req/s (${Math.round(c.ratio * 100)}%)`);
    }
    for (const s of scenarios) {
      const requests = s.params.map((p) => signed(authToken, baseUrl, p));
      // The ceiling is measured in rounds alternating with the service, with the same form POSTs
      // (the bare server ignores what they say): the machine is shared, so only adjacent runs compare.
      say(`measuring the ceiling and ${s.name} (${s.params.length} distinct requests), ${options.rounds} alternating rounds…`);
      const rss = new RssSampler(service.child.pid as number, 200, options.processes > 1);
      await eventLoopDelay(baseUrl);
      const probe = stallProbe(`${baseUrl}/healthz`);
      const c = await compare(requests, { reference: `http://127.0.0.1:${ceilingPort}`, subject: baseUrl }, load);
      rss.stop();
      const stall = await probe.stop();
      const eventLoop = await eventLoopDelay(baseUrl);
      const [top, r, ratio] = [c.reference, c.subject, c.ratio];
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${s.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      peakRss = Math.max(peakRss, rss.max());
      const sequential = await oneAtATime(baseUrl, authToken, s.params, options.sequential);
      const target = targetFor(s.name);
      results.push({
        ...r,
        name: s.name,
        description: s.description,
        ceiling: top,
        ratio,
        target,
        meetsTarget: ratio >= target.ratio && r.p99Ms < target.p99Ms,
        serviceRssMb: rss.max(),
        ...(rss.peakParts ? { serviceRssPartsMb: { ...rss.peakParts } } : {}),
        ...(sequential ? { sequential } : {}),
        stall,
        eventLoop,
      });
      say(
        `  ceiling ${Math.round(top.requestsPerSecond)} req/s; service ${Math.round(r.requestsPerSecond)} req/s ` +
          `(${Math.round(ratio * 100)}%), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, RSS ${Math.round(rss.max())} MB` +
          (rss.peakParts ? ` (peaks: anonymous ${Math.round(rss.peakParts.anon)} MB, file ${Math.round(rss.peakParts.file)} MB)` : '') +
          `; /healthz during the load: p99 ${stall.p99Ms.toFixed(1)} ms, max ${stall.maxMs.toFixed(1)} ms` +
          `; the service's event-loop delay: p99 ${eventLoop.p99Ms.toFixed(1)} ms, max ${eventLoop.maxMs.toFixed(1)} ms` +
          (sequential ? `; one at a time p50 ${sequential.p50Ms.toFixed(1)} ms, p95 ${sequential.p95Ms.toFixed(1)} ms, max ${sequential.maxMs.toFixed(1)} ms` : ''),
      );
    }
  } finally {
    await stop(service);
    await stop(ceiling);
    await stop(reference);
  }

  const out: BenchResults = {
    date: new Date().toISOString(),
    machine,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    options: { ...options, pgUrl: options.store === 'postgres' ? options.pgUrl : undefined },
    seedSeconds,
    import: imported,
    scenarios: results,
    framework,
    serviceRssMb: { idle: idleRss, peakUnderLoad: peakRss },
    totalSeconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`\n${table(out)}\n`);
  if (options.json) writeFileSync(options.json, `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  say(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
