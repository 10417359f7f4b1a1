/**
 * SIGTERM under load (issue 14 item 5), on both stores, with one process and
 * with SERVE_PROCESSES=2: a real `fis serve`, keep-alive clients sending signed
 * callbacks without pause, and slow requests in flight (routing waits on a
 * Twilio API that takes 1.5 s). Then SIGTERM:
 * - every request in flight gets its answer (200), none a 5xx;
 * - requests on open keep-alive connections get an answer (with
 *   `Connection: close`) or find the connection cleanly closed; none is reset;
 *   a new connection may be refused (nobody listens any more);
 * - every worker exits and the service exits 0, within a bound.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { generateCustomers, workerIdentity } from '../src/application/files/seed.js';
import { serveProcess } from './helpers/cli.js';
import { FAKE_ACCOUNT_SID, FakeTwilio } from './helpers/fake-twilio.js';
import { encodeForm, type Params, sign } from './helpers/service.js';
import { AUTH_TOKEN, createTestDatabase, openTestStore, seed, storeKinds, type TestDatabase } from './helpers/stores.js';

/** SIGTERM to exit, at most: the drain bound (10 s) is far off when nothing hangs; a loaded 2-core machine is slow. */
const EXIT_WITHIN_MS = 15_000;
const CLIENTS = 6;

interface Outcome {
  status?: number;
  connection?: string;
  error?: string;
  /** Sent on a kept-alive connection (not one opened for it). */
  reused?: boolean;
  /** Sent after SIGTERM. */
  late: boolean;
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function send(agent: http.Agent, base: string, path: string, params: Params): Promise<Omit<Outcome, 'late'>> {
  const url = new URL(path, base);
  const body = encodeForm(params);
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-twilio-signature': sign(url.href, params),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: String(res.headers.connection) }));
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, reused: req.reusedSocket }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, reused: req.reusedSocket }));
    req.end(body);
  });
}

const listening = (output: string) => output.match(/Server listening at/g)?.length ?? 0;

for (const kind of storeKinds()) {
  for (const processes of [1, 2]) {
    describe(`SIGTERM under load, ${processes} process(es), on ${kind}`, () => {
      let db: TestDatabase;
      let fake: FakeTwilio;
      const records = [...generateCustomers({ customers: 80, workers: 2, seed: 3 })];

      before(async () => {
        db = await createTestDatabase(kind);
        const store = await openTestStore(db);
        await seed(store, records);
        await store.close();
        fake = await new FakeTwilio({ username: FAKE_ACCOUNT_SID, password: AUTH_TOKEN }).start();
      });
      after(async () => {
        await fake?.close();
        await db?.drop();
      });

      test('no in-flight request fails, no keep-alive connection is reset, every process exits 0 in bounded time', async () => {
        const service = await serveProcess(
          {
            ...db.env,
            TWILIO_AUTH_TOKEN: AUTH_TOKEN,
            TWILIO_ACCOUNT_SID: FAKE_ACCOUNT_SID,
            TWILIO_API_BASE_URL: fake.url,
            ROUTING_DEFAULT_WORKERS: workerIdentity(0),
            ROUTING_RETRY_AFTER_REPLY_MS: '0',
            LOG_LEVEL: 'warn',
          },
          processes > 1 ? ['--processes', String(processes)] : [],
        );
        const deadline = Date.now() + 20_000;
        while (listening(service.output()) < processes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        const workers = processes > 1 ? childrenOf(service.pid) : [];
        assert.equal(workers.length, processes > 1 ? processes : 0);

        const outcomes: Outcome[] = [];
        let sigtermAt = 0;
        let stop = false;
        const agents: http.Agent[] = [];
        const loops = Array.from({ length: CLIENTS }, async (_, c) => {
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          agents.push(agent);
          while (!stop) {
            const late = sigtermAt > 0;
            const result = await send(agent, service.url, '/callbacks/crm', { Location: 'GetCustomersList', Worker: workerIdentity(c % 2), PageSize: '10' });
            outcomes.push({ ...result, late });
            if (result.error) await new Promise((r) => setTimeout(r, 20));
          }
        });

        await new Promise((r) => setTimeout(r, 1500));
        // Slow requests in flight when SIGTERM arrives: the API answers each after 1.5 s.
        fake.reset();
        fake.always({ delayMs: 1500 });
        const slowAgent = new http.Agent({ keepAlive: true });
        agents.push(slowAgent);
        const slow = Array.from({ length: 4 }, (_, i) => {
          const ch = fake.createConversation();
          return send(slowAgent, service.url, '/callbacks/routing', {
            ConversationSid: ch,
            'MessagingBinding.Address': `+1555777${String(1000 + i)}`,
            'MessagingBinding.ProxyAddress': '+15550000000',
          });
        });
        // Really in flight: the service has them and is waiting on the API (not merely queued for accept on a loaded machine).
        const inFlightBy = Date.now() + 10_000;
        while (fake.callsTo(/\/Participants$/, 'POST').length < slow.length && Date.now() < inFlightBy) await new Promise((r) => setTimeout(r, 20));
        assert.equal(fake.callsTo(/\/Participants$/, 'POST').length, slow.length, 'the slow requests reached the service');
        const before = outcomes.length;
        sigtermAt = Date.now();
        process.kill(service.pid, 'SIGTERM');
        const code = await Promise.race([service.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), EXIT_WITHIN_MS))]);
        const exitMs = Date.now() - sigtermAt;
        stop = true;
        await Promise.all(loops);
        const slowResults = await Promise.all(slow);
        fake.always(undefined);
        for (const agent of agents) agent.destroy();
        if (code === 'timeout') await service.stop();

        assert.equal(code, 0, `exit code ${code} after ${exitMs} ms\n${service.output().slice(-2000)}`);
        assert.ok(exitMs < EXIT_WITHIN_MS, `exited after ${exitMs} ms`);
        for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);

        // The load really ran, before and after the signal.
        assert.ok(before > 20, `only ${before} requests before SIGTERM`);
        const answered = outcomes.filter((o) => o.status !== undefined);
        assert.ok(answered.every((o) => o.status === 200), `statuses ${[...new Set(answered.map((o) => o.status))].join(',')}`);
        // In flight at SIGTERM: answered in full.
        for (const r of slowResults) assert.equal(r.status, 200, JSON.stringify(r));
        // After SIGTERM: answers carry Connection: close. What may fail is only a new connection that nobody
        // accepts any more: refused, or reset by the kernel when the listening socket closes with it in the backlog.
        const late = outcomes.filter((o) => o.late);
        assert.ok(late.some((o) => o.status === 200 && o.connection === 'close'), 'keep-alive requests after SIGTERM were answered, with Connection: close');
        const failed = outcomes.filter((o) => o.error !== undefined);
        const onKeptAlive = failed.filter((o) => o.reused !== false);
        assert.deepEqual(
          onKeptAlive.map((o) => o.error),
          [],
          'no request on an open keep-alive connection failed (reset or hung up)',
        );
        assert.deepEqual([...new Set(failed.map((o) => o.error))].filter((e) => e !== 'ECONNREFUSED' && e !== 'ECONNRESET'), []);
        assert.ok(failed.every((o) => o.late), 'nothing failed before SIGTERM');
      });
    });
  }
}
