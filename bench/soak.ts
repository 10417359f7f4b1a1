/**
 * `npm run soak`: mixed, signed Twilio traffic against a real `fis serve` for a
 * set time, on SQLite or PostgreSQL, optionally with the PostgreSQL connections
 * cut in the middle (a TCP proxy between the service and the database refuses
 * and drops every connection for --outage seconds). Not part of `npm test`.
 *
 *   npm run soak -- --store sqlite --duration 60
 *   npm run soak -- --store postgres --duration 60 --outage 5
 *
 * It runs the compiled service (`dist/`, built first, as in production; `--cli src` runs the sources
 * through tsx, whose transpiler's memory then counts in the service's). After a warm-up at full
 * load (`--warmup`, default 30 s, not counted), it reports: requests, answers by class (2xx, 4xx, 5xx inside / outside the
 * outage), network errors, p50/p99/max latency, recovery time (end of the
 * outage to the first 2xx after which no 5xx follows), resident memory of the
 * service (its process tree) after warm-up and at the end. Prints a JSON
 * document on stdout, a summary on stderr.
 *
 * The Twilio Conversations API is the local stand-in of the tests
 * (test/helpers/fake-twilio.ts); the database proxy is test/helpers/tcp-proxy.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import twilio from 'twilio';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { openStore } from '../src/platform/db/connect.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { loadConfig } from '../src/platform/config.js';
import { importCustomers } from '../src/application/files/import.service.js';
import { asSourceRecords } from '../src/application/files/seed.js';
import { FAKE_ACCOUNT_SID, FakeTwilio } from '../test/helpers/fake-twilio.js';
import { startTcpProxy } from '../test/helpers/tcp-proxy.js';
import { freePort, run, start, stop, treeResidentMb, waitForHttp } from './processes.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    duration: { type: 'string', default: '60' },
    outage: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '16' },
    processes: { type: 'string', default: '1' },
    customers: { type: 'string', default: '3000' },
    'pg-url': { type: 'string', default: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    warmup: { type: 'string', default: '30' },
    cli: { type: 'string', default: 'dist' },
  },
});
const store = args.store as 'sqlite' | 'postgres';
if (store !== 'sqlite' && store !== 'postgres') throw new Error('--store is sqlite or postgres');
const durationS = Number(args.duration);
const outageS = Number(args.outage);
if (outageS > 0 && store !== 'postgres') throw new Error('--outage needs --store postgres (SQLite has no connection to cut)');
const concurrency = Number(args.concurrency);
const say = (m: string) => process.stderr.write(`${m}\n`);

const AUTH_TOKEN = randomBytes(16).toString('hex');
const WORKERS = 8;
const WARM_UP_MS = Number(args.warmup) * 1000;
if (!(WARM_UP_MS >= 0)) throw new Error('--warmup is a number of seconds');
if (args.cli !== 'dist' && args.cli !== 'src') throw new Error('--cli is dist or src');

interface Sample {
  at: number;
  ms: number;
  status: number; // 0: network error
  kind: string;
}

async function main() {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'fis-soak-'));
  const schema = `soak_${randomBytes(4).toString('hex')}`;
  const fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
  const pgTarget = new URL(args['pg-url'] as string);
  const proxy = store === 'postgres' ? await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) }) : undefined;
  const viaProxy = () => {
    const url = new URL(pgTarget);
    url.hostname = '127.0.0.1';
    url.port = String(proxy?.port);
    return url.toString();
  };
  const storeEnv: Record<string, string> =
    store === 'sqlite' ? { DATABASE_URL: `sqlite:${path.join(workDir, 'soak.sqlite')}` } : { DATABASE_URL: viaProxy(), DATABASE_SCHEMA: schema };

  say(`soak: ${store}, ${durationS} s, ${concurrency} clients, ${args.processes} process(es), outage ${outageS} s; ${os.availableParallelism()} cores (shared)`);
  const records = [...generateCustomers({ customers: Number(args.customers), workers: WORKERS, seed: 14 })];
  {
    const config = loadConfig({ ...storeEnv, LOG_LEVEL: 'silent' }, { requireAuthToken: false });
    const s = openStore(config);
    await migrateToLatest(s);
    await importCustomers(s, asSourceRecords(records), { prune: false, defaultCountry: 'US' });
    await s.close();
  }

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  if (args.cli === 'dist') {
    say('building (tsc)…');
    await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')]);
  }
  const serviceArgs =
    args.cli === 'dist'
      ? [path.join(ROOT, 'dist/src/transports/cli/main.js'), 'serve']
      : ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/transports/cli/main.ts'), 'serve'];
  const service = start(process.execPath, serviceArgs, {
    cwd: workDir,
    env: {
      ...storeEnv,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
      TWILIO_API_BASE_URL: fake.url,
      TWILIO_SMS_NUMBER: '+15550000000',
      ROUTING_DEFAULT_WORKERS: workerIdentity(0),
      ROUTING_AUTO_CREATE_CUSTOMERS: 'true',
      ROUTING_RETRY_AFTER_REPLY_MS: '0',
      DATABASE_TIMEOUT_MS: '1500',
      SERVE_PROCESSES: String(args.processes),
      LOG_LEVEL: 'warn',
    },
  });
  const samples: Sample[] = [];
  let outageStart = 0;
  let outageEnd = 0;
  try {
    await waitForHttp(`${baseUrl}/healthz`, service);
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const withPhones = records.filter((r) => r.channels?.some((c) => c.type === 'sms'));
    let n = 0;
    /** One mixed request: the callbacks in proportions like a working day's. */
    const next = (): { kind: string; path: string; params: Record<string, string> } => {
      const i = n++;
      const worker = workerIdentity(i % WORKERS);
      const r = records[i % records.length] as (typeof records)[number];
      const phone = (withPhones[i % withPhones.length]?.channels?.find((c) => c.type === 'sms')?.value as string) ?? '+15551230001';
      switch (i % 20) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
          return { kind: 'crm_list', path: '/callbacks/crm', params: { Location: 'GetCustomersList', Worker: worker, PageSize: '30' } };
        case 6:
        case 7:
        case 8:
          return { kind: 'crm_search', path: '/callbacks/crm', params: { Location: 'GetCustomersList', Worker: worker, Query: r.display_name.slice(0, 4) } };
        case 9:
        case 10:
        case 11:
          return { kind: 'crm_details', path: '/callbacks/crm', params: { Location: 'GetCustomerDetailsByCustomerId', Worker: r.workers[0] as string, CustomerId: r.customer_id } };
        case 12:
        case 13: {
          const ch = fake.createConversation();
          fake.addCustomerParticipant(ch, i % 4 === 0 ? `+1555${String(1_000_000 + (i % 9_000_000)).padStart(7, '0')}` : phone);
          return { kind: 'routing', path: '/callbacks/routing', params: { ConversationSid: ch, 'MessagingBinding.Address': phone, 'MessagingBinding.ProxyAddress': '+15550000000' } };
        }
        case 14:
          return { kind: 'conversation_add', path: '/callbacks/conversations', params: { EventType: 'onConversationAdd', 'MessagingBinding.Address': phone } };
        case 15:
        case 16:
          return {
            kind: 'proxy_address',
            path: '/callbacks/outgoing-conversation',
            params: { Location: 'GetProxyAddress', Worker: r.workers[0] as string, CustomerId: r.customer_id, ChannelType: 'sms', ChannelValue: phone },
          };
        case 17:
          return { kind: 'templates', path: '/callbacks/templates', params: { Location: 'GetTemplatesByCustomerId', Worker: r.workers[0] as string, CustomerId: r.customer_id } };
        case 18:
          // A bad request now and then: must be a 4xx, never a 5xx.
          return { kind: 'bad_input', path: '/callbacks/crm', params: { Location: 'GetCustomersList', Worker: worker, PageSize: 'lots' } };
        default:
          return { kind: 'crm_list_page2', path: '/callbacks/crm', params: { Location: 'GetCustomersList', Worker: worker, PageSize: '50', Anchor: r.customer_id } };
      }
    };
    const send = (kind: string, p: string, params: Record<string, string>) =>
      new Promise<Sample>((resolve) => {
        const body = new URLSearchParams(params).toString();
        const started = performance.now();
        const at = Date.now();
        const req = http.request(
          `${baseUrl}${p}`,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
              'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${baseUrl}${p}`, params),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ at, ms: performance.now() - started, status: res.statusCode ?? 0, kind }));
          },
        );
        req.on('error', () => resolve({ at, ms: performance.now() - started, status: 0, kind }));
        req.end(body);
      });

    // Warm-up at full load (JIT, pools, caches), then the memory baseline.
    const warmUntil = Date.now() + WARM_UP_MS;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < warmUntil) {
          const r = next();
          await send(r.kind, r.path, r.params);
        }
      }),
    );
    const heapUsedMb = async () => {
      const text = await (await fetch(`${baseUrl}/metrics`)).text();
      return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? 0) / 2 ** 20;
    };
    const rssStart = treeResidentMb(service.child.pid as number) ?? 0;
    const heapStart = await heapUsedMb();
    const rssSeries: number[] = [Math.round(rssStart)];
    const heapSeries: number[] = [Math.round(heapStart)];
    const sampler = setInterval(() => {
      rssSeries.push(Math.round(treeResidentMb(service.child.pid as number) ?? 0));
      heapUsedMb().then(
        (mb) => heapSeries.push(Math.round(mb)),
        () => heapSeries.push(-1), // during an outage /metrics still answers; -1 marks a failed probe
      );
    }, 5000);
    const started = Date.now();
    const endAt = started + durationS * 1000;
    if (proxy && outageS > 0) {
      const mid = started + (durationS * 1000) / 2 - (outageS * 1000) / 2;
      setTimeout(() => {
        outageStart = Date.now();
        say(`outage: refusing and cutting every database connection for ${outageS} s`);
        proxy.setMode('refuse');
        proxy.cutAll();
        setTimeout(() => {
          proxy.setMode('pass');
          outageEnd = Date.now();
          say('outage over');
        }, outageS * 1000);
      }, mid - Date.now());
    }
    let lastReport = started;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < endAt) {
          const r = next();
          samples.push(await send(r.kind, r.path, r.params));
          if (Date.now() - lastReport > 10_000) {
            lastReport = Date.now();
            say(`  ${Math.round((lastReport - started) / 1000)} s: ${samples.length} requests`);
          }
        }
      }),
    );
    clearInterval(sampler);
    const rssEnd = treeResidentMb(service.child.pid as number) ?? 0;
    rssSeries.push(Math.round(rssEnd));
    const heapEnd = await heapUsedMb();
    agent.destroy();

    // Figures.
    // A request belongs to the outage when its answer came during it (requests in flight when the connections were cut included).
    const answeredAt = (s: Sample) => s.at + s.ms;
    const inOutage = (s: Sample) => outageStart > 0 && answeredAt(s) >= outageStart && (outageEnd === 0 || s.at < outageEnd);
    const fiveXx = samples.filter((s) => s.status >= 500);
    let recoveryMs: number | undefined;
    if (outageEnd > 0) {
      const after = samples.filter((s) => s.at >= outageEnd).sort((a, b) => a.at - b.at);
      const lastBad = after.filter((s) => s.status >= 500 || s.status === 0).at(-1);
      const firstGoodAfterBad = after.find((s) => s.status >= 200 && s.status < 300 && (!lastBad || s.at > lastBad.at));
      recoveryMs = firstGoodAfterBad ? firstGoodAfterBad.at + firstGoodAfterBad.ms - outageEnd : undefined;
    }
    const recoveredAt = outageEnd > 0 && recoveryMs !== undefined ? outageEnd + recoveryMs : 0;
    const outside = samples.filter((s) => !inOutage(s) && !(outageEnd > 0 && s.at >= outageEnd && answeredAt(s) <= recoveredAt));
    const fiveXxCodes: Record<string, number> = {};
    for (const s of fiveXx) fiveXxCodes[s.status] = (fiveXxCodes[s.status] ?? 0) + 1;
    const lat = samples.map((s) => s.ms).sort((a, b) => a - b);
    const pct = (p: number) => Math.round((lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0) * 10) / 10;
    const byKind: Record<string, Record<string, number>> = {};
    for (const s of samples) {
      const cls = s.status === 0 ? 'network' : `${Math.floor(s.status / 100)}xx`;
      byKind[s.kind] ??= {};
      (byKind[s.kind] as Record<string, number>)[cls] = ((byKind[s.kind] as Record<string, number>)[cls] ?? 0) + 1;
    }
    const report = {
      store,
      processes: Number(args.processes),
      durationSeconds: durationS,
      concurrency,
      customers: records.length,
      machine: { cores: os.availableParallelism(), node: process.version, note: 'shared 2-core machine, other work running' },
      requests: samples.length,
      perSecond: Math.round(samples.length / durationS),
      classes: {
        '2xx': samples.filter((s) => s.status >= 200 && s.status < 300).length,
        '4xx': samples.filter((s) => s.status >= 400 && s.status < 500).length,
        '5xx': fiveXx.length,
        '5xxOutsideOutage': outside.filter((s) => s.status >= 500).length,
        '503DuringOutage': samples.filter((s) => inOutage(s) && s.status === 503).length,
        fiveXxByStatus: fiveXxCodes,
        network: samples.filter((s) => s.status === 0).length,
      },
      byKind,
      latencyMs: { p50: pct(50), p99: pct(99), max: Math.round((lat.at(-1) ?? 0) * 10) / 10 },
      outage: outageS > 0 ? { seconds: outageS, recoveryMs: recoveryMs === undefined ? null : Math.round(recoveryMs) } : null,
      residentMb: {
        start: Math.round(rssStart),
        end: Math.round(rssEnd),
        growthPercent: Math.round(((rssEnd - rssStart) / rssStart) * 1000) / 10,
        // Two samples fall wherever the V8 heap's sawtooth happens to be (it swings by 100 MB between
        // major collections under this load): the medians of the first and last thirds of the run say
        // whether the level itself moved.
        firstThirdMedian: medianOf(rssSeries.slice(0, Math.ceil(rssSeries.length / 3))),
        lastThirdMedian: medianOf(rssSeries.slice(-Math.ceil(rssSeries.length / 3))),
        everyFiveSeconds: rssSeries,
      },
      heapUsedMb: { start: Math.round(heapStart), end: Math.round(heapEnd), everyFiveSeconds: heapSeries },
      warmupSeconds: WARM_UP_MS / 1000,
      cli: args.cli,
    };
    const { firstThirdMedian, lastThirdMedian } = report.residentMb;
    const levelGrowth = Math.round(((lastThirdMedian - firstThirdMedian) / firstThirdMedian) * 1000) / 10;
    process.stdout.write(`${JSON.stringify({ ...report, residentMb: { ...report.residentMb, levelGrowthPercent: levelGrowth } }, null, 2)}\n`);
    say(
      `soak ${store}: ${report.requests} requests (${report.perSecond}/s), 2xx ${report.classes['2xx']}, 4xx ${report.classes['4xx']}, ` +
        `5xx ${report.classes['5xx']} (outside the outage ${report.classes['5xxOutsideOutage']}), network ${report.classes.network}; ` +
        `p99 ${report.latencyMs.p99} ms; RSS ${report.residentMb.start} → ${report.residentMb.end} MB (${report.residentMb.growthPercent}%), ` +
        `median of the first and last thirds ${firstThirdMedian} → ${lastThirdMedian} MB (${levelGrowth}%); heap ${report.heapUsedMb.start} → ${report.heapUsedMb.end} MB` +
        (report.outage ? `; recovery ${report.outage.recoveryMs} ms after the outage` : ''),
    );
    if (report.classes['5xxOutsideOutage'] > 0) process.exitCode = 1;
  } finally {
    await stop(service);
    await fake.close();
    await proxy?.close();
    if (store === 'postgres') {
      const client = new pg.Client({ connectionString: args['pg-url'] as string });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    }
    rmSync(workDir, { recursive: true, force: true });
  }
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

main().catch((err: unknown) => {
  say(`soak failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
