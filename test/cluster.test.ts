/**
 * `fis serve --processes N` (SERVE_PROCESSES): one port served by several
 * processes. Connections are spread over them, /metrics answers for all of
 * them, a crashed one is replaced, a signal stops them all cleanly, and a
 * worker that cannot start stops the whole service instead of a fork loop.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { processTree } from '../bench/processes.js';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { type ServeProcess, serveProcess } from './helpers/cli.js';
import { encodeForm, type Params, sign } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, openTestStore, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

/** The pids of a primary's worker processes (tsx's own helper process left out). */
function childrenOf(pid: number): number[] {
  return processTree(pid)
    .slice(1)
    .filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('\0serve\0');
      } catch {
        return false; // Exited while we looked.
      }
    });
}

/** One request on a connection of its own, so that the cluster hands each to the next worker. */
function request(base: string, method: 'GET' | 'POST', path: string, params?: Params) {
  const url = new URL(path, base);
  const body = params ? encodeForm(params) : undefined;
  const headers: Record<string, string> = params
    ? { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sign(url.href, params) }
    : {};
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const listening = (output: string) => output.match(/Server listening at/g)?.length ?? 0;
const UNROUTED = /^fis_routing_total\{outcome="unrouted",via="none"\} (\d+)$/m;

for (const kind of storeKinds()) {
  describe(`fis serve --processes 2 on ${kind}`, () => {
    let db: TestDatabase;
    let service: ServeProcess;
    const records = [...generateCustomers({ customers: 60, workers: 2, seed: 9 })];

    before(async () => {
      db = await createTestDatabase(kind);
      const store = await openTestStore(db);
      await seed(store, records);
      await store.close();
      // PUBLIC_URL unset: the signature is checked against the URL as received.
      service = await serveProcess({ ...db.env, TWILIO_AUTH_TOKEN: AUTH_TOKEN }, ['--processes', '2']);
      await waitFor('both workers to listen', () => listening(service.output()) === 2);
    });
    after(async () => {
      await service?.stop();
      await db.drop();
    });

    test('two worker processes answer signed callbacks on one port', async () => {
      assert.equal(childrenOf(service.pid).length, 2);
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(service.url, 'POST', '/callbacks/crm', { Location: 'GetCustomersList', Worker: workerIdentity(0), PageSize: '5' }),
        ),
      );
      for (const reply of replies) {
        assert.equal(reply.status, 200, reply.text);
        assert.equal(JSON.parse(reply.text).objects.customers.length, 5);
      }
    });

    test('/metrics answers for every process, whichever gets the scrape', async () => {
      const count = async () => Number(UNROUTED.exec((await request(service.url, 'GET', '/metrics')).text)?.[1]);
      const before = await count();
      // Each on its own connection: the cluster hands them to the workers in turn.
      for (let i = 0; i < 6; i++) {
        const res = await request(service.url, 'POST', '/callbacks/routing', {
          ConversationSid: `CH${String(i).padStart(32, '0')}`,
          'MessagingBinding.Address': `+1555999${String(1000 + i)}`,
          'MessagingBinding.ProxyAddress': '+15550000000',
        });
        assert.equal(res.status, 200, res.text);
        assert.equal(JSON.parse(res.text).outcome, 'unrouted');
      }
      for (let i = 0; i < 4; i++) assert.equal(await count(), before + 6, `scrape ${i + 1}`);
      // The per-request counter and histograms are summed over the workers too, series by series.
      const routing = 'route="/callbacks/routing",location=""';
      for (let i = 0; i < 4; i++) {
        const text = (await request(service.url, 'GET', '/metrics')).text;
        const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}+.*?()[\]^$|\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
        assert.equal(value(`fis_http_requests_total{${routing},status="200"}`), 6, `scrape ${i + 1}`);
        assert.equal(value(`fis_http_request_duration_seconds_count{${routing}}`), 6);
        assert.equal(value(`fis_http_request_duration_seconds_bucket{le="+Inf",${routing}}`), 6);
        assert.equal(value(`fis_http_reply_bytes_count{${routing}}`), 6);
        assert.ok(value(`fis_http_reply_bytes_sum{${routing}}`) > 6 * 10);
      }
    });

    test('a worker that dies is replaced, and the port keeps answering', async () => {
      const [victim] = childrenOf(service.pid);
      assert.ok(victim);
      process.kill(victim, 'SIGKILL');
      await waitFor('a replacement worker', () => listening(service.output()) === 3);
      assert.equal(childrenOf(service.pid).length, 2);
      assert.ok(!childrenOf(service.pid).includes(victim));
      const res = await request(service.url, 'POST', '/callbacks/crm', {
        Location: 'GetCustomerDetailsByCustomerId',
        Worker: workerIdentity(0),
        CustomerId: records.find((r) => r.workers.includes(workerIdentity(0)))?.customer_id as string,
      });
      assert.equal(res.status, 200, res.text);
    });

    test('SIGTERM closes every worker and the primary exits 0', async () => {
      const workers = childrenOf(service.pid);
      process.kill(service.pid, 'SIGTERM');
      assert.equal(await service.exited, 0);
      for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
    });
  });
}

describe('fis serve --processes 2 that cannot listen', () => {
  let db: TestDatabase;
  let blocker: net.Server;
  before(async () => {
    db = await createTestDatabase('sqlite');
    await (await openTestStore(db)).close();
    blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    blocker.close();
    await db.drop();
  });

  test('stops with exit code 1 instead of forking again and again', async () => {
    const port = String((blocker.address() as net.AddressInfo).port);
    const started = serveProcess({ ...db.env, TWILIO_AUTH_TOKEN: AUTH_TOKEN, PORT: port }, ['--processes', '2']);
    await assert.rejects(started, (err: Error) => {
      assert.match(err.message, /exited with 1/);
      assert.match(err.message, /before it was serving; stopping/);
      return true;
    });
  });
});
